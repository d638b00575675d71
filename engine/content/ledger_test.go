package content

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/dagd/dagd/contracts"
	"github.com/dagd/dagd/crypto"
	"github.com/dagd/dagd/shard"
	"github.com/dagd/dagd/state"
)

// fakeLedger is an executed state the test writes itself.
type fakeLedger struct {
	st       *state.Store
	executed atomic.Uint64
}

func (l *fakeLedger) Executed() uint64    { return l.executed.Load() }
func (l *fakeLedger) State() *state.Store { return l.st }

func newFakeLedger(t *testing.T) *fakeLedger {
	t.Helper()
	st, err := state.Open(t.TempDir(), state.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return &fakeLedger{st: st}
}

// commit writes the ledger's records of commit seq (the executor's
// job), with the committee present so that the ledger is usable.
func (l *fakeLedger) commit(t *testing.T, seq uint64, recs ...*contracts.Content) {
	t.Helper()
	u := state.NewUpdate()
	u.Set(contracts.CommitteeKey(), []byte{1})
	for _, r := range recs {
		u.Set(contracts.ContentKey(r.CID), r.Encode())
	}
	if _, err := l.st.Commit(seq, u); err != nil {
		t.Fatal(err)
	}
	l.executed.Store(seq)
}

// commitRaw commits raw key/values as version seq, with the committee.
func (l *fakeLedger) commitRaw(t *testing.T, seq uint64, kv map[string][]byte) {
	t.Helper()
	u := state.NewUpdate()
	u.Set(contracts.CommitteeKey(), []byte{1})
	for k, v := range kv {
		u.Set([]byte(k), v)
	}
	if _, err := l.st.Commit(seq, u); err != nil {
		t.Fatal(err)
	}
	l.executed.Store(seq)
}

// txReader is a TxReader of fixed commits; it fails for the others.
type txReader struct {
	txs   map[uint64][][]byte
	reads atomic.Int64
}

func (r *txReader) CommitTxs(seq uint64) ([][]byte, error) {
	r.reads.Add(1)
	txs, ok := r.txs[seq]
	if !ok {
		return nil, fmt.Errorf("commit %d not stored", seq)
	}
	return txs, nil
}

// putWith puts data through svc[0] of net and returns the certificate and
// the signed registration a payer would send for it.
func putWith(t *testing.T, net *testNet, seed uint64) (*Certificate, *contracts.Tx) {
	t.Helper()
	data := randomContent(seed, 3*(64<<10)+5)
	res, err := net.svc[0].Put(context.Background(), bytes.NewReader(data), int64(len(data)), PutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var s [crypto.AccountSeedSize]byte
	s[0] = byte(seed)
	tx := contracts.NewSignedTx(crypto.AccountKeyFromSeed(s), testChain, 0, 1000, 1<<40, res.Certificate.RegisterOp())
	return res.Certificate, tx
}

func recordOf(c *Certificate, tx *contracts.Tx, seq, time, expiry uint64) *contracts.Content {
	return &contracts.Content{Registrant: tx.Sender, CID: c.CID.Bytes(), Size: c.Size, K: uint16(c.K), N: uint16(c.N),
		Manifest: crypto.Digest(c.ManifestDigest), Seq: seq, Time: time, Expiry: expiry}
}

// TestLedgerIndexCatchUpAndExecuted: the index of registrations is
// caught up from the commits executed after its cursor (read back through
// a TxReader, kept only where the state says the registration executed in
// that commit), then follows each executed commit's receipts; a second
// catch-up reads nothing. No node, no executor: a state store and fakes.
func TestLedgerIndexCatchUpAndExecuted(t *testing.T) {
	l := newFakeLedger(t)
	net := newTestNet(t, 4, func(i int, c *Config) {
		if i == 1 {
			c.Ledger = l
		}
	})
	s := net.svc[1]
	c1, tx1 := putWith(t, net, 1)
	c2, tx2 := putWith(t, net, 2)
	if r := s.Inspect().Registration(c1.CID); r.Registered {
		t.Fatalf("registered before any commit: %+v", r)
	}
	// Commit 1 registers c1; commit 2 carries c2's transaction, which the
	// state records at commit 3 (another transaction with its CID in
	// commit 2 did not execute there): only c1 is indexed by commit 2.
	l.commit(t, 1, recordOf(c1, tx1, 1, 1000, 1<<40))
	l.commit(t, 2)
	r := &txReader{txs: map[uint64][][]byte{1: {tx1.Encode()}, 2: {tx2.Encode(), []byte("not a transaction")}}}
	if got := s.Inspect().Registration(c1.CID); !got.Registered || got.Tx != "" {
		t.Fatalf("before the catch-up: %+v, want registered without its transaction", got)
	}
	s.CatchUp(context.Background(), 2, r)
	if got := s.Inspect().Registration(c1.CID); !got.Registered || got.Seq != 1 || got.Tx != tx1.Digest().String() {
		t.Fatalf("after the catch-up: %+v, want commit 1 and tx %s", got, tx1.Digest())
	}
	if got := s.Inspect().Registration(c2.CID); got.Registered {
		t.Fatalf("c2 indexed before its commit: %+v", got)
	}
	reads := r.reads.Load()
	s.CatchUp(context.Background(), 2, r)
	if r.reads.Load() != reads {
		t.Fatal("a second catch-up read the commits again: the cursor did not move")
	}

	// Commit 3 executes c2's registration: the executor hands its result.
	l.commit(t, 3, recordOf(c2, tx2, 3, 2000, 1<<40))
	ev := contracts.Event{Type: contentRegisterEvent, Attrs: []contracts.Attr{
		{Key: "cid", Value: fmt.Sprintf("%x", c2.CID.Bytes())}, {Key: "n", Value: fmt.Sprint(c2.N)}}}
	s.Executed(&shard.Result{Seq: 3, Time: 2000, Txs: []crypto.Digest{tx2.Digest()},
		Receipts: []shard.Receipt{&contracts.Receipt{Tx: tx2.Digest(), Code: contracts.CodeOK, Events: []contracts.Event{ev}}}})
	if got := s.Inspect().Registration(c2.CID); !got.Registered || got.Seq != 3 || got.Tx != tx2.Digest().String() {
		t.Fatalf("after Executed: %+v", got)
	}
	if now := s.Inspect().ConsensusTime(); now != 2000 {
		t.Fatalf("consensus time %d, want 2000", now)
	}
	s.CatchUp(context.Background(), 3, r)
	if r.reads.Load() != reads {
		t.Fatal("the catch-up after Executed read commits: Executed did not move the cursor")
	}
}

// TestRegisterRefusesExpired: a certificate announced again after its
// paid retention is over (in consensus time) is not taken back into the
// registry; before the expiry it is.
func TestRegisterRefusesExpired(t *testing.T) {
	l := newFakeLedger(t)
	net := newTestNet(t, 4, func(i int, c *Config) {
		if i == 3 {
			c.Ledger = l
		}
	})
	net.mu.Lock()
	net.down[3] = true // it hears nothing of the put
	net.mu.Unlock()
	c, tx := putWith(t, net, 3)
	s := net.svc[3]
	l.commit(t, 1, recordOf(c, tx, 1, 1000, 5000))
	s.Executed(&shard.Result{Seq: 1, Time: 6000})
	if _, err := s.register(c.Encode()); !errors.Is(err, ErrExpired) {
		t.Fatalf("expired certificate announced: %v, want ErrExpired", err)
	}
	if _, err := s.Inspect().Certificate(c.CID); err == nil {
		t.Fatal("expired certificate kept")
	}
	s.Executed(&shard.Result{Seq: 2, Time: 4000})
	if _, err := s.register(c.Encode()); err != nil {
		t.Fatalf("certificate within its retention: %v", err)
	}
}
