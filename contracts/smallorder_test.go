package contracts

import (
	"testing"

	"github.com/dagd/dagd/crypto"
)

// smallOrderKeys are small-order account keys: the all-zero key (the
// zero value, "no owner") and the identity point.
func smallOrderKeys() []crypto.AccountPublicKey {
	return []crypto.AccountPublicKey{{}, {1}}
}

// TestSmallOrderSenderForgeryRefused pins issue 13, finding 11: with a
// small-order sender, R = identity and S = 0 verified for any message, on
// the single and the batch paths, so anyone could spend what such an
// account holds.
func TestSmallOrderSenderForgeryRefused(t *testing.T) {
	for _, pk := range smallOrderKeys() {
		tx := &Tx{ChainID: testChain, Sender: pk, Fee: 1000, Expiry: 1 << 62, Op: NewTransfer(crypto.AccountPublicKey{7}, 123)}
		tx.Signature[0] = 1 // R = identity point, S = 0
		dec, err := DecodeTx(tx.Encode())
		if err != nil {
			t.Fatal(err)
		}
		if dec.VerifySignature() {
			t.Fatalf("sender %s: forged signature verifies", pk)
		}
		if v, _ := crypto.VerifyAccountBatch([]crypto.AccountSig{dec.AccountSig(), dec.AccountSig()}, 1); v[0] || v[1] {
			t.Fatalf("sender %s: forged signature verifies in a batch", pk)
		}
	}
}

// TestSmallOrderRecipientRefused: an operation that would give something
// to a small-order key (or let it spend) is rejected with a reason that
// says so, the fee charged and nothing else changed.
func TestSmallOrderRecipientRefused(t *testing.T) {
	f := newFixture(t, Params{})
	token := TokenID(f.pk(0), f.account(f.pk(0)).Nonce)
	f.mustOK(0, NewTokenCreate("Gold", "GLD", 0, 1_000_000))
	f.mustOK(0, NewTokenMint(token, f.pk(0), 1_000))
	for _, pk := range smallOrderKeys() {
		for _, op := range []Op{
			NewTransfer(pk, 5),
			NewTokenMint(token, pk, 5),
			NewTokenTransfer(token, pk, 5),
			NewTokenApprove(token, pk, 5),
			NewTokenTransferFrom(token, f.pk(1), pk, 5),
			NewVestingTransfer(pk, 5, f.env.Time, 1_000, 0),
		} {
			before := f.account(f.pk(0))
			rc := f.mustReject(0, op, CodeInvalid, "small-order key")
			if rc.Fee == 0 || !rc.Charged() {
				t.Fatalf("%s to %s: not charged: %+v", op.Type(), pk, rc)
			}
			if after := f.account(f.pk(0)); after.Nonce != before.Nonce+1 || after.Balance != before.Balance-rc.Fee {
				t.Fatalf("%s to %s: sender %+v -> %+v", op.Type(), pk, before, after)
			}
			if a := f.account(pk); a != (Account{}) {
				t.Fatalf("%s: small-order key %s holds %+v", op.Type(), pk, a)
			}
		}
	}
}
