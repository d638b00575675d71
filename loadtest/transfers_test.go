package loadtest

import (
	"context"
	"testing"
	"time"

	"github.com/dagd/dagd/contracts"
	"github.com/dagd/dagd/crypto"
)

func testKeys(n int) []*crypto.AccountPrivateKey {
	keys := make([]*crypto.AccountPrivateKey, n)
	for i := range keys {
		var seed [32]byte
		seed[0], seed[1] = byte(i), byte(i>>8)
		keys[i] = crypto.AccountKeyFromSeed(seed)
	}
	return keys
}

// TestTransfersPacing checks the workload's rules without nodes: one
// transaction in flight per account, consecutive nonces, the next one
// only once the previous is committed (or has its receipt), a resend
// byte for byte, signing again only after expiry, and a returned
// transaction offered again first.
func TestTransfersPacing(t *testing.T) {
	w, err := NewTransfers(TransferOptions{Keys: testKeys(3), ChainID: "dagd-test", ResendAfter: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Prepare(context.Background(), 9, 100); err != nil {
		t.Fatal(err)
	}
	decode := func(b []byte) *contracts.Tx {
		t.Helper()
		tx, err := contracts.DecodeTx(b)
		if err != nil || !tx.VerifySignature() {
			t.Fatalf("transaction does not decode or verify: %v", err)
		}
		return tx
	}
	var sent [][]byte
	for seq := range uint64(3) {
		b, node := w.Tx(seq, time.Now(), 2)
		tx := decode(b)
		if tx.Nonce != 0 || node != int(seq)%2 || tx.Sender != w.pubs[seq] || tx.Op.(*contracts.Transfer).To == tx.Sender {
			t.Fatalf("tx %d: nonce %d node %d", seq, tx.Nonce, node)
		}
		if s, ok := w.Identify(b); !ok || s != seq {
			t.Fatalf("identify %d: %d %v", seq, s, ok)
		}
		sent = append(sent, b)
	}
	if b, _ := w.Tx(3, time.Now(), 2); b != nil {
		t.Fatal("an account sent while its transaction was in flight")
	}
	// Account 1's transaction commits: it goes next, with nonce 1 (its
	// receipt, later, changes nothing).
	w.Committed(1)
	b, _ := w.Tx(4, time.Now(), 2)
	if tx := decode(b); tx.Sender != w.pubs[1] || tx.Nonce != 1 {
		t.Fatalf("after a commit: sender %v nonce %d", tx.Sender, tx.Nonce)
	}
	if op, ok := w.Classify(1, "ok"); op != "transfer" || !ok {
		t.Fatalf("classify: %s %v", op, ok)
	}
	w.Executed(1, true, "ok")
	if b, _ := w.Tx(6, time.Now(), 2); b != nil {
		t.Fatal("a receipt after the commit made the account send twice")
	}
	// Account 2's receipt before its commit was seen: it goes next.
	w.Executed(2, true, "ok")
	b, _ = w.Tx(7, time.Now(), 2)
	if tx := decode(b); tx.Sender != w.pubs[2] || tx.Nonce != 1 {
		t.Fatalf("after a receipt: sender %v nonce %d", tx.Sender, tx.Nonce)
	}
	// Account 0's transaction was refused by the node: it goes again, the
	// same bytes, and is identified as the new slot.
	w.Returned([][]byte{sent[0]})
	b, _ = w.Tx(5, time.Now(), 2)
	if string(b) != string(sent[0]) {
		t.Fatal("a returned transaction was not sent again as it was")
	}
	if s, _ := w.Identify(b); s != 5 {
		t.Fatalf("the resent transaction is slot %d, want 5", s)
	}
	// A bad nonce retires the account.
	w.Executed(5, false, contracts.CodeBadNonce.String())
	if dead, resent, _ := w.Stats(); dead != 1 || resent != 1 {
		t.Fatalf("dead %d resent %d", dead, resent)
	}

	// Lost transactions are sent again after ResendAfter; signed again
	// only once long expired.
	w2, _ := NewTransfers(TransferOptions{Keys: testKeys(2), ChainID: "dagd-test", ResendAfter: time.Millisecond,
		Lifetime: time.Millisecond, MaxLifetime: time.Second})
	first, _ := w2.Tx(0, time.Now(), 1)
	w2.Tx(1, time.Now(), 1)
	// ResendAfter passes without a sleep: the sends are made older.
	w2.mu.Lock()
	for a := range w2.accts {
		w2.accts[a].sentAt = w2.accts[a].sentAt.Add(-5 * time.Millisecond)
	}
	w2.lastScan = time.Time{}
	w2.mu.Unlock()
	again, _ := w2.Tx(2, time.Now(), 1)
	if string(again) != string(first) {
		t.Fatal("a lost transaction was not resent as it was")
	}
	w2.mu.Lock()
	w2.accts[0].txExpiry = uint64(time.Now().Add(-expiredFor - time.Second).UnixMilli())
	w2.accts[0].sentAt = time.Time{}
	w2.mu.Unlock()
	w2.lastScan = time.Time{}
	w2.Tx(3, time.Now(), 1) // account 1's resend or account 0's, whichever the scan found first
	w2.lastScan = time.Time{}
	w2.Tx(4, time.Now(), 1)
	if _, _, resigned := w2.Stats(); resigned != 1 {
		t.Fatalf("resigned %d, want 1", resigned)
	}
}
