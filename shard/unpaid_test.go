package shard

import (
	"context"
	"sync"
	"testing"

	"github.com/dagd/dagd/contracts"
	"github.com/dagd/dagd/crypto"
	"github.com/dagd/dagd/state"
)

// TestUnpaidTransactionsLeaveNoReceipt pins issue 13, finding 8: a
// Byzantine validator may order transactions that pay nothing (bad
// signature, unfunded sender, wrong nonce, fee too low, another chain, a
// small-order sender). Before the fix each got a permanent receipt at fee
// 0 (1,000 such transactions: 1,000 stored receipts, nothing charged).
// Now none is stored, none enters the dedup window or the commit's roots,
// they are counted, and the outcome is the same with one shard as with
// many.
func TestUnpaidTransactionsLeaveNoReceipt(t *testing.T) {
	g := tokenGenesis(t, 4)
	const now = uint64(5_000_000)
	exp := now + 60_000
	var txs [][]byte
	var worthless []crypto.Digest
	add := func(tx *contracts.Tx, paid bool) {
		raw := tx.Encode()
		txs = append(txs, raw)
		if !paid {
			worthless = append(worthless, crypto.Hash(raw))
		}
	}
	fee := uint64(10 * contracts.DefaultMinFee) // above the minimum of any transfer here
	for i := range 1000 {
		k := tokenKey(1000 + i) // unfunded
		tx := contracts.NewSignedTx(k, testChainID, 0, fee, exp, contracts.NewTransfer(tokenKey(1).Public(), 1))
		if i%2 == 1 {
			tx.Signature[5] ^= 1 // not even a valid signature
		}
		add(tx, false)
	}
	funded := tokenKey(1)
	add(contracts.NewSignedTx(funded, testChainID, 7, fee, exp, contracts.NewTransfer(tokenKey(2).Public(), 1)), false)   // wrong nonce
	add(contracts.NewSignedTx(funded, "other-chain", 0, fee, exp, contracts.NewTransfer(tokenKey(2).Public(), 1)), false) // another chain
	add(contracts.NewSignedTx(funded, testChainID, 0, 1, exp, contracts.NewTransfer(tokenKey(2).Public(), 1)), false)     // fee too low
	forged := &contracts.Tx{ChainID: testChainID, Fee: fee, Expiry: exp, Op: contracts.NewTransfer(tokenKey(2).Public(), 1)}
	forged.Signature[0] = 1 // all-zero (small-order) sender, R = identity, S = 0
	add(forged, false)
	// Paid: an accepted transfer and a rejected one that is charged.
	add(contracts.NewSignedTx(funded, testChainID, 0, fee, exp, contracts.NewTransfer(tokenKey(2).Public(), 1)), true)
	add(contracts.NewSignedTx(funded, testChainID, 1, fee, exp, contracts.NewTransfer(tokenKey(2).Public(), 1<<62)), true)

	var ref *Result
	for _, c := range []execConfig{{1, 1, -1}, {64, 4, 0}, {7, 3, -1}} {
		t.Run(c.String(), func(t *testing.T) {
			tk, o := tokenOptions(t, c, g)
			st := openState(t, t.TempDir())
			defer st.Close()
			e, res := executeAfterGenesis(t, st, tk, o, now, txs)
			stored := 0
			for _, d := range worthless {
				if _, ok, err := ReadReceipt(st, d); err != nil {
					t.Fatal(err)
				} else if ok {
					stored++
				}
			}
			if stored != 0 {
				t.Fatalf("%d of %d transactions that paid nothing got a stored receipt", stored, len(worthless))
			}
			want := Counts{Received: uint32(len(txs)), BadSignature: 501, Applied: uint32(len(txs) - 501), Unpaid: 503, Receipts: 2, OK: 1}
			if res.Counts != want {
				t.Fatalf("counts %+v, want %+v", res.Counts, want)
			}
			if len(res.Txs) != 2 || res.Txs[0] != crypto.Hash(txs[len(txs)-2]) || res.Txs[1] != crypto.Hash(txs[len(txs)-1]) {
				t.Fatalf("receipts for %d transactions, want the two that paid", len(res.Txs))
			}
			for i, d := range res.Txs {
				rec, ok, err := ReadReceipt(st, d)
				if err != nil || !ok || rec.Index != uint32(i) {
					t.Fatalf("paid transaction %d: receipt %+v, %v, %v", i, rec, ok, err)
				}
				rc, err := contracts.DecodeReceipt(rec.Receipt)
				if err != nil || rc.Fee != fee {
					t.Fatalf("paid transaction %d: receipt %+v, %v", i, rc, err)
				}
			}
			if n := e.WindowSize(); n != 2 {
				t.Fatalf("dedup window holds %d digests, want the 2 that paid", n)
			}
			cr, ok, err := ReadCommitRecord(st, 2)
			if err != nil || !ok || cr.Counts != want {
				t.Fatalf("commit record counts %+v (%v, %v), want %+v", cr, ok, err, want)
			}
			if ref == nil {
				ref = res
				return
			}
			if res.StateRoot != ref.StateRoot || res.TxRoot != ref.TxRoot || res.ReceiptsRoot != ref.ReceiptsRoot {
				t.Fatalf("roots differ from one shard's: %s vs %s", summary(res), summary(ref))
			}
		})
	}
}

// digestSet is a VerifiedSet over a map, counting takes.
type digestSet struct {
	mu    sync.Mutex
	m     map[crypto.Digest]bool
	taken int
}

func (s *digestSet) Take(d crypto.Digest) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m[d] {
		delete(s.m, d)
		s.taken++
		return true
	}
	return false
}

// TestVerifiedSetChangesNothing: digests the node's admission verified
// are not verified again, and the results equal those of verifying all.
func TestVerifiedSetChangesNothing(t *testing.T) {
	g := tokenGenesis(t, 8)
	const now = uint64(5_000_000)
	fee := uint64(10 * contracts.DefaultMinFee)
	var txs [][]byte
	known := &digestSet{m: map[crypto.Digest]bool{}}
	for i := range 8 {
		tx := contracts.NewSignedTx(tokenKey(i), testChainID, 0, fee, now+60_000, contracts.NewTransfer(tokenKey((i+1)%8).Public(), 5))
		if i == 3 {
			tx.Signature[1] ^= 1 // not verified before: still refused
		}
		raw := tx.Encode()
		txs = append(txs, raw)
		if i != 3 && i%2 == 1 {
			known.m[crypto.Hash(raw)] = true
		}
	}
	run := func(v VerifiedSet) *Result {
		tk, o := tokenOptions(t, execConfig{4, 2, 0}, g)
		o.Verified = v
		st := openState(t, t.TempDir())
		defer st.Close()
		_, res := executeAfterGenesis(t, st, tk, o, now, txs)
		return res
	}
	all, skipped := run(nil), run(known)
	if known.taken != 3 || len(known.m) != 0 {
		t.Fatalf("%d digests taken, %d left; want 3 and 0", known.taken, len(known.m))
	}
	if all.StateRoot != skipped.StateRoot || all.ReceiptsRoot != skipped.ReceiptsRoot || all.Counts != skipped.Counts || all.Counts.BadSignature != 1 {
		t.Fatalf("with verified digests %s, without %s", summary(skipped), summary(all))
	}
}

// executeAfterGenesis runs commit 1 (the genesis) and then commit 2 with
// txs on st, and returns the executor and commit 2's result.
func executeAfterGenesis(t *testing.T, st *state.Store, tk *Tokens, o Options, now uint64, txs [][]byte) (*Executor[*contracts.Tx], *Result) {
	t.Helper()
	e, err := New(st, tk, o)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Execute(context.Background(), Commit{Seq: 1, Time: now}); err != nil {
		t.Fatal(err)
	}
	res, err := e.Execute(context.Background(), Commit{Seq: 2, Time: now + 1, Txs: txs})
	if err != nil {
		t.Fatal(err)
	}
	return e, res
}
