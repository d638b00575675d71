package execution

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dagd/dagd/contracts"
	"github.com/dagd/dagd/crypto"
	"github.com/dagd/dagd/dag"
	"github.com/dagd/dagd/engine/store"
	"github.com/dagd/dagd/internal/testwait"
	"github.com/dagd/dagd/shard"
)

const testChain = "exec-test"

// commitTime is the consensus time of every test commit (ms); the
// transactions expire a minute after it.
const commitTime = 1_000_000

// testEnv is a node's store on a temp dir with a funded genesis, and the
// commits written to it by hand, as the event loop would (no consensus).
type testEnv struct {
	t       *testing.T
	dir     string
	st      *store.Store
	genesis *contracts.Genesis
	keys    []*crypto.AccountPrivateKey
	nonces  []uint64
	last    uint64              // last commit written
	txs     map[uint64][][]byte // commit seq -> its transactions
	batches map[uint64]crypto.Digest
}

func newTestEnv(t *testing.T) *testEnv {
	t.Helper()
	dir := t.TempDir()
	st, err := store.Open(dir, store.Options{NoSync: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	env := &testEnv{t: t, dir: dir, st: st, genesis: &contracts.Genesis{ChainID: testChain},
		txs: map[uint64][][]byte{}, batches: map[uint64]crypto.Digest{}}
	for i := range 3 {
		k := crypto.AccountKeyFromSeed(crypto.Hash([]byte("execution test account"), []byte{byte(i)}))
		env.keys = append(env.keys, k)
		env.nonces = append(env.nonces, 0)
		env.genesis.Accounts = append(env.genesis.Accounts, contracts.GenesisAccount{PublicKey: k.Public(), Balance: 1 << 40})
	}
	bk, err := crypto.BLSKeyFromSeed(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	v := contracts.GenesisValidator{Stake: 1_000, Operator: env.keys[0].Public()}
	copy(v.BLSPublicKey[:], bk.PublicKey().Bytes())
	copy(v.ProofOfPossession[:], bk.ProofOfPossession())
	env.genesis.Validators = append(env.genesis.Validators, v)
	return env
}

// transfer returns the next transfer of account i, signed.
func (env *testEnv) transfer(i int) []byte {
	tx := contracts.NewSignedTx(env.keys[i], testChain, env.nonces[i], contracts.DefaultMinFee, commitTime+60_000,
		contracts.NewTransfer(env.keys[(i+1)%len(env.keys)].Public(), 7))
	env.nonces[i]++
	return tx.Encode()
}

// commit writes the next commit: one batch of txs (a transfer of each
// account when none are given), as the loop's synced write does.
func (env *testEnv) commit(txs ...[]byte) uint64 {
	env.t.Helper()
	if len(txs) == 0 {
		for i := range env.keys {
			txs = append(txs, env.transfer(i))
		}
	}
	env.last++
	b := &dag.Batch{Author: 1, Transactions: txs}
	enc := b.Encode()
	d := dag.BatchDigest(enc)
	ci := &store.CommitIndex{Seq: env.last, Timestamp: commitTime, Batches: []store.IndexedBatch{{Digest: d, Author: 1, Txs: len(txs)}}}
	if _, err := env.st.Write([]dag.Record{{Key: dag.BatchKey(d), Value: enc}}, []*store.CommitIndex{ci}, nil); err != nil {
		env.t.Fatal(err)
	}
	env.txs[env.last], env.batches[env.last] = txs, d
	return env.last
}

// open opens an executor of env's store at its last commit.
func (env *testEnv) open(cfg Config) *Executor {
	env.t.Helper()
	cfg.Store, cfg.DataDir, cfg.ChainID, cfg.Genesis, cfg.NoSync, cfg.Committed = env.st, env.dir, testChain, env.genesis, true, env.last
	cfg.Registerer = prometheus.NewRegistry()
	cfg.Options.Workers, cfg.Options.VerifyWorkers = 2, 2
	cfg.Options.EnsureDefaults()
	e, err := New(cfg)
	if err != nil {
		env.t.Fatal(err)
	}
	return e
}

// run runs e until the test ends (or stop is called) and closes it.
func run(t *testing.T, e *Executor) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		e.Run(ctx)
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			<-done
			if err := e.Close(); err != nil {
				t.Error(err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// fakeFollower records what the executor tells it, in order.
type fakeFollower struct {
	caughtUp chan uint64 // the executed position CatchUp got
	executed chan *shard.Result
	// read, when set, is what CatchUp reads with the TxReader.
	read func(r TxReader)
}

func newFakeFollower() *fakeFollower {
	return &fakeFollower{caughtUp: make(chan uint64, 4), executed: make(chan *shard.Result, 64)}
}

func (f *fakeFollower) CatchUp(_ context.Context, executed uint64, r TxReader) {
	if f.read != nil {
		f.read(r)
	}
	f.caughtUp <- executed
}

func (f *fakeFollower) Executed(res *shard.Result) { f.executed <- res }

// receive returns the next value of c, failing the test when none comes
// within the (scaled) test timeout.
func receive[T any](t *testing.T, c <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-c:
		return v
	case <-time.After(testwait.Timeout(t, 30*time.Second)):
		t.Fatalf("no %s", what)
		panic("unreachable")
	}
}

// TestExecutorRunsCommitsInOrder writes commits before the executor starts
// and while it runs, and checks that it executes all of them in order,
// tells its follower of each (after CatchUp at the start position), and
// publishes them to a subscription with their receipts' codes.
func TestExecutorRunsCommitsInOrder(t *testing.T) {
	env := newTestEnv(t)
	env.commit()
	env.commit()
	f := newFakeFollower()
	e := env.open(Config{Followers: []Follower{f}, Self: 2})
	sub := e.Subscribe(0)
	defer sub.Close()
	run(t, e)
	if got := receive(t, f.caughtUp, "CatchUp"); got != 0 {
		t.Fatalf("CatchUp at %d on a fresh state, want 0", got)
	}
	env.commit()
	e.Committed(env.commit())
	for seq := uint64(1); seq <= env.last; seq++ {
		res := receive(t, f.executed, fmt.Sprintf("Executed of commit %d", seq))
		if res.Seq != seq || res.Counts.OK != uint32(len(env.keys)) {
			t.Fatalf("follower got commit %d with %+v, want commit %d with %d ok", res.Seq, res.Counts, seq, len(env.keys))
		}
		ec := receive(t, sub.C(), fmt.Sprintf("executed commit %d on the subscription", seq))
		if ec.Seq != seq || ec.Node != 2 || ec.Time != commitTime || ec.StateRoot != res.StateRoot || len(ec.Txs) != len(env.keys) {
			t.Fatalf("subscription got %+v, want commit %d of node 2 with root %s", ec, seq, res.StateRoot.Short())
		}
		for i, tx := range ec.Txs {
			if tx.Digest != crypto.Hash(env.txs[seq][i]) || tx.Code != contracts.CodeOK {
				t.Fatalf("commit %d tx %d: %s code %d", seq, i, tx.Digest.Short(), tx.Code)
			}
		}
	}
	testwait.Until(t, testwait.Timeout(t, 30*time.Second), "the executor's progress to show the last commit", func() bool {
		return e.Progress().LastExecutedSeq == env.last
	})
	p := e.Progress()
	if e.Executed() != env.last || p.ExecutedTxs != uint64(len(env.keys))*env.last || p.Error != "" || p.StateRoot != e.State().Root() {
		t.Fatalf("progress %+v, executed %d, want %d commits", p, e.Executed(), env.last)
	}
	rec, ok, err := shard.ReadReceipt(e.State(), crypto.Hash(env.txs[env.last][0]))
	if err != nil || !ok || rec.Seq != env.last {
		t.Fatalf("receipt of the last commit's first transaction: %+v %v %v", rec, ok, err)
	}
}

// TestExecutorCatchUpAfterRestart stops an executor after two commits and
// restarts it with two more persisted: its follower is caught up from
// commit 2 with a reader of the commits' transactions, then told of commits
// 3 and 4 only.
func TestExecutorCatchUpAfterRestart(t *testing.T) {
	env := newTestEnv(t)
	env.commit()
	env.commit()
	f := newFakeFollower()
	e := env.open(Config{Followers: []Follower{f}})
	stop := run(t, e)
	receive(t, f.caughtUp, "CatchUp")
	receive(t, f.executed, "commit 1")
	receive(t, f.executed, "commit 2")
	stop()

	env.commit()
	env.commit()
	f2 := newFakeFollower()
	var read [][][]byte
	var readErr error
	f2.read = func(r TxReader) {
		for seq := uint64(1); seq <= 2; seq++ {
			txs, err := r.CommitTxs(seq)
			read, readErr = append(read, txs), errors.Join(readErr, err)
		}
	}
	e2 := env.open(Config{Followers: []Follower{f2}})
	if e2.Executed() != 2 {
		t.Fatalf("the restarted executor resumed at %d, want 2", e2.Executed())
	}
	run(t, e2)
	if got := receive(t, f2.caughtUp, "CatchUp after the restart"); got != 2 {
		t.Fatalf("CatchUp at %d after a restart, want 2", got)
	}
	if readErr != nil || len(read) != 2 || !slices.EqualFunc(read[1], env.txs[2], func(a, b []byte) bool { return string(a) == string(b) }) {
		t.Fatalf("CatchUp read %d commits (%v), commit 2 has %d transactions", len(read), readErr, len(env.txs[2]))
	}
	for _, seq := range []uint64{3, 4} {
		if res := receive(t, f2.executed, fmt.Sprintf("commit %d", seq)); res.Seq != seq {
			t.Fatalf("after the restart the follower got commit %d, want %d", res.Seq, seq)
		}
	}
	if _, err := e2.CommitTxs(9); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("CommitTxs of a commit never written: %v", err)
	}
}

// TestExecutorFailsOnMissingBatch: a commit whose batch is neither in the
// batch log nor preserved stops execution with an error that says so.
func TestExecutorFailsOnMissingBatch(t *testing.T) {
	env := newTestEnv(t)
	env.commit()
	env.last++
	lost := crypto.Hash([]byte("a batch that was never stored"))
	if _, err := env.st.Write(nil, []*store.CommitIndex{{Seq: env.last, Timestamp: commitTime, Batches: []store.IndexedBatch{{Digest: lost, Txs: 1}}}}, nil); err != nil {
		t.Fatal(err)
	}
	f := newFakeFollower()
	e := env.open(Config{Followers: []Follower{f}})
	run(t, e)
	err := receive(t, e.Failed(), "execution failure")
	if !strings.Contains(err.Error(), "batch "+lost.Short()+" of commit 2 is no longer stored") {
		t.Fatalf("failure %q does not name the missing batch", err)
	}
	if p := e.Progress(); p.LastExecutedSeq != 1 || p.Error != err.Error() {
		t.Fatalf("progress after the failure: %+v", p)
	}
	if res := receive(t, f.executed, "commit 1"); res.Seq != 1 || len(f.executed) != 0 {
		t.Fatalf("follower told of commit %d and %d more", res.Seq, len(f.executed))
	}
}

// TestExecutorBehindRetention holds the executor (Config.Hold) while the
// core deletes the batches of its commits, restarts it still held, then
// lets it run: it executes every commit from its preserved copies and
// deletes them once executed.
func TestExecutorBehindRetention(t *testing.T) {
	env := newTestEnv(t)
	release := make(chan struct{})
	hold := func(ctx context.Context, _ uint64) error {
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	e := env.open(Config{Hold: hold})
	stop := run(t, e)
	// Commits 1 and 2 arrive through the loop (Hold, write, Committed);
	// then the core deletes their batches.
	for range 2 {
		txs := [][]byte{env.transfer(0), env.transfer(1)}
		b := &dag.Batch{Author: 1, Transactions: txs}
		enc := b.Encode()
		d := dag.BatchDigest(enc)
		env.last++
		env.txs[env.last], env.batches[env.last] = txs, d
		recs := []dag.Record{{Key: dag.BatchKey(d), Value: enc}}
		idx := []*store.CommitIndex{{Seq: env.last, Timestamp: commitTime, Batches: []store.IndexedBatch{{Digest: d, Author: 1, Txs: 2}}}}
		if err := e.Hold(recs, idx); err != nil {
			t.Fatal(err)
		}
		if _, err := env.st.Write(recs, idx, nil); err != nil {
			t.Fatal(err)
		}
		e.Committed(env.last)
	}
	recs := []dag.Record{{Key: dag.BatchKey(env.batches[1]), Delete: true}, {Key: dag.BatchKey(env.batches[2]), Delete: true}}
	if err := e.Hold(recs, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := env.st.Write(recs, nil, nil); err != nil {
		t.Fatal(err)
	}
	if total, kept := e.Preserved(); total != 2 || kept != 2 || e.Executed() != 0 {
		t.Fatalf("held executor at %d preserved %d batches, keeps %d; want 2 and 2", e.Executed(), total, kept)
	}
	stop()

	f := newFakeFollower()
	e2 := env.open(Config{Hold: hold, Followers: []Follower{f}})
	if _, kept := e2.Preserved(); kept != 2 {
		t.Fatalf("the restarted executor read back %d preserved batches, want 2", kept)
	}
	run(t, e2)
	close(release)
	for seq := uint64(1); seq <= 2; seq++ {
		if res := receive(t, f.executed, fmt.Sprintf("commit %d", seq)); res.Seq != seq || res.Counts.OK != 2 {
			t.Fatalf("commit %d executed as %d with %+v", seq, res.Seq, res.Counts)
		}
	}
	testwait.Until(t, testwait.Timeout(t, 30*time.Second), "the preserved copies to go once executed", func() bool {
		_, kept := e2.Preserved()
		return kept == 0
	})
	n := 0
	if err := env.st.Scan(store.PreservedPrefix, nil, 0, func(_, _ []byte) bool { n++; return true }); err != nil || n != 0 {
		t.Fatalf("%d preserved copies left in the store (%v)", n, err)
	}
}

// TestSubscriptionEnds checks the ways a subscription ends: closed by its
// reader, lagged behind, executor closed, no executor.
func TestSubscriptionEnds(t *testing.T) {
	if s := (*Executor)(nil).Subscribe(0); !errors.Is(s.Err(), ErrStopped) {
		t.Fatalf("subscription to no executor: %v", s.Err())
	} else if _, ok := <-s.C(); ok {
		t.Fatal("subscription to no executor delivered a commit")
	}
	env := newTestEnv(t)
	e := env.open(Config{})
	closed := e.Subscribe(0)
	closed.Close()
	if _, ok := <-closed.C(); ok || !errors.Is(closed.Err(), ErrUnsubscribed) {
		t.Fatalf("closed subscription: %v", closed.Err())
	}
	lagging := e.Subscribe(1)
	open := e.Subscribe(0)
	stop := run(t, e)
	env.commit()
	e.Committed(env.commit())
	receive(t, open.C(), "commit 1")
	receive(t, open.C(), "commit 2")
	if ec := receive(t, lagging.C(), "commit 1 on the lagging subscription"); ec.Seq != 1 {
		t.Fatalf("lagging subscription got commit %d first", ec.Seq)
	}
	if _, ok := <-lagging.C(); ok || !errors.Is(lagging.Err(), ErrLagged) {
		t.Fatalf("lagging subscription: %v", lagging.Err())
	}
	if open.Err() != nil {
		t.Fatalf("open subscription ended: %v", open.Err())
	}
	stop()
	if _, ok := <-open.C(); ok || !errors.Is(open.Err(), ErrStopped) {
		t.Fatalf("subscription of a closed executor: %v", open.Err())
	}
	if late := e.Subscribe(0); !errors.Is(late.Err(), ErrStopped) {
		t.Fatalf("subscription made after Close: %v", late.Err())
	}
}
