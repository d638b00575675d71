package shard

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/dagd/dagd/crypto"
	"github.com/dagd/dagd/state"
)

const testChainID = "dagd-shard-test"

func openState(t testing.TB, dir string) *state.Store {
	t.Helper()
	st, err := state.Open(dir, state.Options{NoSync: true, NodeCacheSize: 4096, KeepVersions: 4})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// genOptions shapes a random workload.
type genOptions struct {
	commits, perCommit int
	hot, accounts      int // hot accounts take most transfers
	lifetime           uint64
}

// genWorkload returns random commits of test transactions with heavy
// conflicts (few hot accounts), duplicates within and across commits,
// malformed, expired, too-far and badly signed transactions, and a
// consensus clock that sometimes goes back.
func genWorkload(seed uint64, g genOptions) []Commit {
	r := rand.New(rand.NewPCG(seed, 0xda6d))
	var out []Commit
	var all [][]byte
	now := uint64(1_000_000)
	acct := func() uint16 {
		if r.IntN(10) < 8 {
			return uint16(r.IntN(g.hot))
		}
		return uint16(r.IntN(g.accounts))
	}
	for c := range g.commits {
		if r.IntN(8) == 0 {
			now -= uint64(r.IntN(300))
		} else {
			now += uint64(r.IntN(600))
		}
		cm := Commit{Seq: uint64(c + 1), Time: now}
		n := g.perCommit/2 + r.IntN(g.perCommit)
		for range n {
			if len(all) > 0 && r.IntN(20) == 0 {
				cm.Txs = append(cm.Txs, all[r.IntN(len(all))]) // duplicate
				continue
			}
			if r.IntN(100) == 0 {
				junk := make([]byte, r.IntN(40))
				for i := range junk {
					junk[i] = byte(r.IntN(256))
				}
				cm.Txs = append(cm.Txs, junk)
				continue
			}
			tx := testTx{a: acct(), b: acct(), c: acct(), amount: uint64(r.IntN(400_000)), salt: r.Uint64(),
				signer: byte(r.IntN(testSigners)), expiry: now + 1 + uint64(r.IntN(int(g.lifetime/2)))}
			switch k := r.IntN(10); {
			case k < 6:
				tx.kind = kindTransfer
			case k < 8:
				tx.kind = kindCounter
			default:
				tx.kind = kindSweep
			}
			switch r.IntN(50) {
			case 0:
				tx.expiry = now - 1 - uint64(r.IntN(100))
			case 1:
				tx.expiry = now + g.lifetime + 1 + uint64(r.IntN(1000))
			case 2:
				tx.bad = 1
			case 3, 4, 5:
				tx.expiry = now + uint64(r.IntN(1500)) // soon gone from the window
			}
			raw := tx.encode()
			all = append(all, raw)
			cm.Txs = append(cm.Txs, raw)
		}
		out = append(out, cm)
	}
	return out
}

// execAll runs commits from the executor's position on, returning the
// results.
func execAll[T any](t testing.TB, e *Executor[T], commits []Commit) []*Result {
	t.Helper()
	var out []*Result
	for _, c := range commits {
		res, err := e.Execute(context.Background(), c)
		if err != nil {
			t.Fatalf("commit %d: %v", c.Seq, err)
		}
		out = append(out, res)
	}
	return out
}

// sameResults fails unless two runs gave identical results.
func sameResults(t testing.TB, what string, a, b []*Result) {
	t.Helper()
	if len(a) != len(b) {
		t.Fatalf("%s: %d results vs %d", what, len(a), len(b))
	}
	for i := range a {
		x, y := a[i], b[i]
		if x.Seq != y.Seq || x.Time != y.Time || x.StateRoot != y.StateRoot || x.TxRoot != y.TxRoot ||
			x.ReceiptsRoot != y.ReceiptsRoot || x.Counts != y.Counts || x.Keys != y.Keys {
			t.Fatalf("%s: commit %d differs:\n%s\n%s", what, x.Seq, summary(x), summary(y))
		}
		if len(x.Receipts) != len(y.Receipts) {
			t.Fatalf("%s: commit %d: %d receipts vs %d", what, x.Seq, len(x.Receipts), len(y.Receipts))
		}
		for j := range x.Receipts {
			if x.Txs[j] != y.Txs[j] || !bytes.Equal(x.Receipts[j].Encode(), y.Receipts[j].Encode()) {
				t.Fatalf("%s: commit %d receipt %d differs", what, x.Seq, j)
			}
		}
	}
}

func summary(r *Result) string {
	return fmt.Sprintf("seq %d time %d state %s txs %s receipts %s counts %+v keys %d", r.Seq, r.Time, r.StateRoot.Short(),
		r.TxRoot.Short(), r.ReceiptsRoot.Short(), r.Counts, r.Keys)
}

// execConfig is how a test runs the executor; cache is
// Options.ValueCacheSize (0: default).
type execConfig struct{ shards, workers, cache int }

func (c execConfig) String() string {
	return fmt.Sprintf("shards=%d/workers=%d/cache=%d", c.shards, c.workers, c.cache)
}

var configs = []execConfig{{1, 1, -1}, {64, 4, 0}, {7, 3, -1}, {256, 8, 0}, {1, 4, 0}, {1024, 2, 40}}

func testOptions(c execConfig, lifetime uint64) Options {
	return Options{ChainID: testChainID, Shards: c.shards, Workers: c.workers, VerifyWorkers: c.workers, MaxTxLifetime: lifetime,
		ValueCacheSize: c.cache}
}

// TestParallelEqualsSerial is the scheduler's property: random workloads
// with heavy cross-shard conflicts give the same roots and receipts with
// one shard and one worker (serial execution in consensus order) as with
// many shards and workers.
func TestParallelEqualsSerial(t *testing.T) {
	seeds := 6
	if testing.Short() {
		seeds = 2
	}
	for seed := range uint64(seeds) {
		g := genOptions{commits: 8, perCommit: 300, hot: 3 + int(seed%4), accounts: 200, lifetime: 5_000}
		work := genWorkload(seed, g)
		var ref []*Result
		for _, c := range configs {
			o := testOptions(c, g.lifetime)
			o.Genesis = testGenesis(50)
			st := openState(t, t.TempDir())
			e, err := New[*testTx](st, newTestMachine(), o)
			if err != nil {
				t.Fatal(err)
			}
			res := execAll(t, e, work)
			if err := st.Close(); err != nil {
				t.Fatal(err)
			}
			if ref == nil {
				ref = res
				checkWorkloadCoverage(t, seed, res)
				continue
			}
			sameResults(t, fmt.Sprintf("seed %d, %v vs serial", seed, c), ref, res)
		}
	}
}

// checkWorkloadCoverage makes sure a workload exercised what it should.
func checkWorkloadCoverage(t *testing.T, seed uint64, res []*Result) {
	t.Helper()
	var sum Counts
	cross := 0
	for _, r := range res {
		sum.Malformed += r.Counts.Malformed
		sum.Duplicate += r.Counts.Duplicate
		sum.Expired += r.Counts.Expired
		sum.TooFar += r.Counts.TooFar
		sum.BadSignature += r.Counts.BadSignature
		sum.OK += r.Counts.OK
		sum.Applied += r.Counts.Applied
		sum.Unpaid += r.Counts.Unpaid
		sum.Receipts += r.Counts.Receipts
		cross += r.CrossShard
		c := r.Counts
		if c.Received != c.Malformed+c.Duplicate+c.Expired+c.TooFar+c.BadSignature+c.Applied || c.Applied != c.Receipts+c.Unpaid ||
			int(c.Receipts) != len(r.Txs) || len(r.Txs) != len(r.Receipts) {
			t.Fatalf("seed %d, commit %d: counts do not add up: %+v, %d receipts", seed, r.Seq, c, len(r.Receipts))
		}
		for _, rc := range r.Receipts {
			if !rc.Charged() {
				t.Fatalf("seed %d, commit %d: an unpaid transaction got a receipt", seed, r.Seq)
			}
		}
	}
	if sum.Malformed == 0 || sum.Duplicate == 0 || sum.Expired == 0 || sum.TooFar == 0 || sum.BadSignature == 0 ||
		sum.OK == 0 || sum.OK == sum.Receipts || sum.Unpaid == 0 {
		t.Fatalf("seed %d: workload misses a case: %+v", seed, sum)
	}
}

// TestCrashAndResume executes part of a workload, closes the store as a
// crash after a commit would leave it, reopens it and goes on: the results
// equal those of an uninterrupted run, including the duplicates dropped
// across the restart (the dedup window is read back). A commit whose write
// fails leaves the executor where it was, and executing it again gives the
// uninterrupted result.
func TestCrashAndResume(t *testing.T) {
	g := genOptions{commits: 12, perCommit: 200, hot: 4, accounts: 100, lifetime: 20_000}
	work := genWorkload(42, g)
	o := testOptions(execConfig{16, 3, 0}, g.lifetime)
	o.Genesis = testGenesis(30)
	o.GenesisID = crypto.Hash([]byte("test genesis"))

	st := openState(t, t.TempDir())
	e, err := New[*testTx](st, newTestMachine(), o)
	if err != nil {
		t.Fatal(err)
	}
	ref := execAll(t, e, work)
	_ = st.Close()
	dups := uint32(0)
	for _, r := range ref[5:] {
		dups += r.Counts.Duplicate
	}
	if dups == 0 {
		t.Fatal("workload has no duplicates after the restart point")
	}

	dir := t.TempDir()
	var got []*Result
	for _, stop := range []int{2, 5, 9, 12} {
		st := openState(t, dir)
		e, err := New[*testTx](st, newTestMachine(), o)
		if err != nil {
			t.Fatal(err)
		}
		seq, _ := e.Position()
		if int(seq) != len(got) {
			t.Fatalf("resumed at %d, executed %d", seq, len(got))
		}
		if seq > 0 {
			// The commit executed last is refused: nothing runs twice.
			if _, err := e.Execute(context.Background(), work[seq-1]); !errors.Is(err, ErrOutOfOrder) {
				t.Fatalf("re-executing commit %d: %v", seq, err)
			}
		}
		// A write that fails leaves the executor (and store) unchanged.
		fs := &failingStore{StateStore: st, failAt: seq + 1}
		fe, err := New[*testTx](fs, newTestMachine(), o)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fe.Execute(context.Background(), work[seq]); err == nil {
			t.Fatal("a failing commit succeeded")
		}
		if s, _ := fe.Position(); s != seq || st.Version() != seq {
			t.Fatalf("after a failed commit: position %d, version %d, want %d", s, st.Version(), seq)
		}
		got = append(got, execAll(t, fe, work[seq:stop])...)
		// Records are readable.
		last := got[len(got)-1]
		rec, ok, err := ReadCommitRecord(st, last.Seq)
		if err != nil || !ok || rec.StateRoot != last.StateRoot || rec.TxRoot != last.TxRoot || rec.ReceiptsRoot != last.ReceiptsRoot || rec.Counts != last.Counts {
			t.Fatalf("commit record %d: %+v %v %v", last.Seq, rec, ok, err)
		}
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
	}
	sameResults(t, "resumed vs uninterrupted", ref, got)

	// Another genesis is refused.
	st = openState(t, dir)
	defer st.Close()
	o2 := o
	o2.GenesisID = crypto.Hash([]byte("other"))
	if _, err := New[*testTx](st, newTestMachine(), o2); err == nil {
		t.Fatal("a store of another genesis was accepted")
	}
	// Old state roots come from the records once the store has pruned
	// their versions.
	for _, r := range ref {
		rec, ok, err := ReadCommitRecord(st, r.Seq)
		if err != nil || !ok || rec.StateRoot != r.StateRoot {
			t.Fatalf("commit record %d after reopening: %+v %v %v", r.Seq, rec, ok, err)
		}
	}
	for _, r := range ref[len(ref)-3:] {
		for i, d := range r.Txs {
			rr, ok, err := ReadReceipt(st, d)
			if err != nil || !ok {
				t.Fatalf("receipt of %s: %v %v", d.Short(), ok, err)
			}
			// A transaction may have executed earlier and this copy... no:
			// duplicates get no receipt, so the record is this one.
			if rr.Seq != r.Seq || rr.Index != uint32(i) || !bytes.Equal(rr.Receipt, r.Receipts[i].Encode()) {
				t.Fatalf("receipt of %s: %+v", d.Short(), rr)
			}
		}
	}
}

// failingStore fails the Commit of one version.
type failingStore struct {
	StateStore
	failAt uint64
}

func (f *failingStore) Commit(v uint64, upd *state.Update) (crypto.Digest, error) {
	if v == f.failAt {
		f.failAt = 0
		return crypto.Digest{}, errors.New("disk on fire")
	}
	return f.StateStore.Commit(v, upd)
}

// TestDedupWindow checks that a digest is remembered until its expiry
// passes, dropped as a duplicate meanwhile, dropped as expired after, and
// that its record leaves the store then.
func TestDedupWindow(t *testing.T) {
	st := openState(t, t.TempDir())
	defer st.Close()
	e, err := New[*testTx](st, newTestMachine(), Options{ChainID: testChainID, MaxTxLifetime: 10_000, Genesis: testGenesis(4)})
	if err != nil {
		t.Fatal(err)
	}
	t0 := uint64(50_000)
	a := (&testTx{kind: kindCounter, a: 1, salt: 7, expiry: t0 + 1_000}).encode()
	b := (&testTx{kind: kindCounter, a: 2, salt: 9, expiry: t0 + 5_000}).encode()
	far := (&testTx{kind: kindCounter, a: 2, salt: 9, expiry: t0 + 10_001}).encode()
	edge := (&testTx{kind: kindCounter, a: 3, salt: 1, expiry: t0 + 10_000}).encode()
	steps := []struct {
		time uint64
		txs  [][]byte
		want Counts
		win  int
	}{
		{t0, [][]byte{a, a, b, far, edge}, Counts{Received: 5, Duplicate: 1, TooFar: 1, Receipts: 3, Applied: 3, OK: 3}, 3},
		{t0 + 1_000, [][]byte{a, b}, Counts{Received: 2, Duplicate: 2}, 3},
		{t0 + 1_001, [][]byte{a}, Counts{Received: 1, Expired: 1}, 3}, // commit 1's record lives on (b, edge)
		{t0 + 10_001, [][]byte{a, b, edge}, Counts{Received: 3, Expired: 3}, 0},
	}
	for i, s := range steps {
		res, err := e.Execute(context.Background(), Commit{Seq: uint64(i + 1), Time: s.time, Txs: s.txs})
		if err != nil {
			t.Fatal(err)
		}
		if res.Counts != s.want || e.WindowSize() != s.win {
			t.Fatalf("step %d: counts %+v window %d, want %+v %d", i, res.Counts, e.WindowSize(), s.want, s.win)
		}
	}
	if _, ok, _ := st.GetMeta(windowKey(1)); ok {
		t.Fatal("the window record of commit 1 outlived its expiries")
	}
	// The clock never goes back.
	res, err := e.Execute(context.Background(), Commit{Seq: 5, Time: 3})
	if err != nil || res.Time != t0+10_001 {
		t.Fatalf("time went back: %v %v", res, err)
	}
}

// TestMachineBugsStopExecution: an undeclared key or a panic is an error,
// serial or parallel, and nothing is written.
func TestMachineBugsStopExecution(t *testing.T) {
	for _, c := range []execConfig{{1, 1, 0}, {8, 4, 0}} {
		st := openState(t, t.TempDir())
		e, err := New[*testTx](st, newTestMachine(), testOptions(c, 10_000))
		if err != nil {
			t.Fatal(err)
		}
		var txs [][]byte
		for i := range 200 {
			txs = append(txs, (&testTx{kind: kindCounter, a: uint16(i), salt: uint64(i), expiry: 2_000}).encode())
		}
		txs = append(txs, (&testTx{kind: kindUndeclared, a: 1, b: 2, expiry: 2_000}).encode())
		_, err = e.Execute(context.Background(), Commit{Seq: 1, Time: 1_000, Txs: txs})
		if !errors.Is(err, ErrUndeclaredKey) {
			t.Fatalf("%v: undeclared key: %v", c, err)
		}
		if st.Version() != 0 {
			t.Fatal("a failed commit wrote")
		}
		pm := &panicMachine{newTestMachine()}
		e2, err := New[*testTx](st, pm, testOptions(c, 10_000))
		if err != nil {
			t.Fatal(err)
		}
		if _, err = e2.Execute(context.Background(), Commit{Seq: 1, Time: 1_000, Txs: txs[:150]}); err == nil {
			t.Fatalf("%v: a panicking machine succeeded", c)
		}
		_ = st.Close()
	}
}

type panicMachine struct{ *testMachine }

func (p *panicMachine) Apply(env Env, st Store, tx *testTx) (Receipt, error) {
	if tx.a == 100 {
		panic("boom")
	}
	return p.testMachine.Apply(env, st, tx)
}

func TestBadInput(t *testing.T) {
	st := openState(t, t.TempDir())
	defer st.Close()
	if _, err := New[*testTx](st, newTestMachine(), Options{}); err == nil {
		t.Fatal("no chain id accepted")
	}
	if _, err := New[*testTx](st, newTestMachine(), Options{ChainID: "x", Shards: -1}); err == nil {
		t.Fatal("negative shards accepted")
	}
	if _, err := New[*testTx](nil, newTestMachine(), Options{ChainID: "x"}); err == nil {
		t.Fatal("nil store accepted")
	}
	e, err := New[*testTx](st, newTestMachine(), Options{ChainID: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Execute(context.Background(), Commit{Seq: 2}); !errors.Is(err, ErrOutOfOrder) {
		t.Fatalf("gap: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.Execute(ctx, Commit{Seq: 1}); !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled: %v", err)
	}
	for _, b := range [][]byte{nil, {1}, make([]byte, 24), append([]byte{2}, make([]byte, 24)...)} {
		if _, err := decodePosition(b); !errors.Is(err, ErrMalformed) {
			t.Fatalf("position %x: %v", b, err)
		}
		if _, err := decodeCommitRecord(b); !errors.Is(err, ErrMalformed) {
			t.Fatalf("commit record %x: %v", b, err)
		}
		if _, err := decodeWindowRecord(1, b); !errors.Is(err, ErrMalformed) {
			t.Fatalf("window record %x: %v", b, err)
		}
	}
	// A store whose position record disagrees with its version is refused.
	upd := state.NewUpdate()
	upd.Set([]byte("k"), []byte("v"))
	if _, err := st.Commit(1, upd); err != nil {
		t.Fatal(err)
	}
	if _, err := New[*testTx](st, newTestMachine(), Options{ChainID: "x"}); err == nil {
		t.Fatal("a foreign store accepted")
	}
}
