package content

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/dagd/dagd/contracts"
	"github.com/dagd/dagd/crypto"
	"github.com/dagd/dagd/engine/client/contentpay"
)

// TestAuthorizePayment checks a paid put's payment before its body is
// read, against the executed state of a fake ledger: the payer's account
// must exist, hold the fee and not have used the nonce; the transaction
// must be of this chain and epoch, for the declared size, with the fee
// the network asks and a valid signature; the payer's stored bytes in
// flight are bounded. A node that does not execute refuses every payment.
func TestAuthorizePayment(t *testing.T) {
	l := newFakeLedger(t)
	net := newTestNet(t, 4, func(i int, c *Config) {
		if i == 0 {
			c.Ledger = l
			c.Options.MaxAccountUploadBytes = 1 << 20
		}
	})
	s := net.svc[0]
	var seed [crypto.AccountSeedSize]byte
	seed[0] = 1
	payer := crypto.AccountKeyFromSeed(seed)
	seed[0] = 2
	poor := crypto.AccountKeyFromSeed(seed)
	l.commitRaw(t, 1, map[string][]byte{
		string(contracts.AccountKey(payer.Public())): (&contracts.Account{Nonce: 3, Balance: 1 << 40}).Encode(),
		string(contracts.AccountKey(poor.Public())):  (&contracts.Account{Nonce: 0, Balance: 1}).Encode(),
	})
	p := s.Params()
	data := randomContent(8, 100<<10)
	op, err := contentpay.Registration(context.Background(), bytes.NewReader(data), int64(len(data)), p, 0, 0, 3_600_000)
	if err != nil {
		t.Fatal(err)
	}
	expiry := uint64(time.Now().Add(time.Minute).UnixMilli())
	paid := func(key *crypto.AccountPrivateKey, edit func(tx *contracts.Tx, op *contracts.RegisterContent)) *contracts.Tx {
		o := *op
		tx := contracts.NewTx(testChain, 3, 0, expiry, &o)
		tx.Sender = key.Public()
		tx.Fee = contentpay.Fee(p, tx)
		if edit != nil {
			edit(tx, &o)
		}
		tx.Sign(key)
		return tx
	}
	size := int64(len(data))

	good, err := s.authorize(paid(payer, nil), size)
	if err != nil {
		t.Fatalf("good payment: %v", err)
	}
	for name, c := range map[string]struct {
		tx   *contracts.Tx
		size int64
		want string
	}{
		"other chain":      {paid(payer, func(tx *contracts.Tx, _ *contracts.RegisterContent) { tx.ChainID = "other" }), size, "chain"},
		"other epoch":      {paid(payer, func(_ *contracts.Tx, o *contracts.RegisterContent) { o.Epoch = 4 }), size, "epoch"},
		"other size":       {paid(payer, nil), size - 1, "pays for"},
		"fee too low":      {paid(payer, func(tx *contracts.Tx, _ *contracts.RegisterContent) { tx.Fee-- }), size, "below"},
		"nonce used":       {paid(payer, func(tx *contracts.Tx, _ *contracts.RegisterContent) { tx.Nonce = 2 }), size, "is used"},
		"cannot pay":       {paid(poor, nil), size, "holds 1"},
		"no such account":  {paid(crypto.AccountKeyFromSeed([crypto.AccountSeedSize]byte{7}), nil), size, "does not exist"},
		"expired":          {paid(payer, func(tx *contracts.Tx, _ *contracts.RegisterContent) { tx.Expiry = 1 }), size, "expired"},
		"not a content op": {paid(payer, func(tx *contracts.Tx, _ *contracts.RegisterContent) { tx.Op = nil }), size, "not a content registration"},
	} {
		_, err := s.authorize(c.tx, c.size)
		if !errors.Is(err, ErrContentPayment) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want ErrContentPayment naming %q", name, err, c.want)
		}
	}
	bad := paid(payer, nil)
	bad.Signature[0] ^= 1
	if _, err := s.authorize(bad, size); !errors.Is(err, ErrContentPayment) || !strings.Contains(err.Error(), "signature") {
		t.Errorf("bad signature: %v", err)
	}
	// The quota (1 MiB of stored bytes in flight) holds the first put's
	// 200 KiB several times, not without bound.
	var held []*payment
	for {
		p, err := s.authorize(paid(payer, nil), size)
		if errors.Is(err, ErrContentBusy) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, p)
		if len(held) > 10 {
			t.Fatal("the payer's quota never runs out")
		}
	}
	good.release()
	if _, err := s.authorize(paid(payer, nil), size); err != nil {
		t.Fatalf("quota not given back on release: %v", err)
	}
	// A node that does not execute cannot check a payment.
	if _, err := net.svc[1].authorize(paid(payer, nil), size); !errors.Is(err, ErrContentPayment) || !strings.Contains(err.Error(), "does not execute") {
		t.Fatalf("payment on a node without a ledger: %v", err)
	}
}
