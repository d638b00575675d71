package engine

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dagd/dagd/engine/store"

	"github.com/cockroachdb/pebble/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/dagd/dagd/contracts"
	"github.com/dagd/dagd/crypto"
	"github.com/dagd/dagd/dag"
	"github.com/dagd/dagd/shard"
	"github.com/dagd/dagd/state"
)

// ExecutionOptions configures the node's executor: the token module run
// by package shard behind consensus, on the state kept in DataDir/state.
// Zero values mean defaults.
type ExecutionOptions struct {
	// Disabled runs consensus only: no state, no receipts. Default false.
	Disabled bool
	// Shards cuts the keyspace for the parallel schedule (shard.Options).
	// It changes no result. Default shard.DefaultShards.
	Shards int
	// Workers apply transactions in parallel. Default GOMAXPROCS.
	Workers int
	// VerifyWorkers batch-verify signatures. Default GOMAXPROCS.
	VerifyWorkers int
	// MaxTxLifetime bounds how far beyond a commit's consensus time a
	// transaction's expiry may be (later: dropped), and so the dedup
	// window. Every validator must use the same value. Default 2 minutes.
	MaxTxLifetime time.Duration
	// KeepVersions is how many recent state versions keep their tree
	// nodes, so that GET /v1/state?seq= can prove values at them.
	// Default 100.
	KeepVersions uint64
	// CacheSize is the state database's pebble block cache in bytes.
	// Default 64 MiB: every transaction reads its accounts and objects
	// through it, and with less the reads of a busy executor go to disk
	// blocks more often than not.
	CacheSize int64
	// MemTableSize is the state database's pebble memtable size in
	// bytes. Default 64 MiB (tree nodes are rewritten at every commit).
	MemTableSize uint64
	// NodeCacheSize is how many internal tree nodes the state keeps in
	// memory (about 300 bytes each; a tree has about 1.45 per key).
	// Default state.DefaultNodeCacheSize (131072, about 40 MB).
	NodeCacheSize int
	// Params are the token module's rules; every validator must use the
	// same. Zero fields take contracts' defaults.
	Params contracts.Params
	// SubscriptionBuffer is the default buffer of an execution
	// subscription (Node.SubscribeExecution). Default 1024 commits.
	SubscriptionBuffer int
	// AdmissionNonceWindow is how far beyond an account's next nonce (in
	// the last executed state) a submitted transaction's nonce may be:
	// one further is refused at admission (nonce_too_far), since it can
	// only be dropped at execution. It must cover how far a client's
	// transactions may run ahead of execution. Default
	// DefaultAdmissionNonceWindow (1024).
	AdmissionNonceWindow uint64 `toml:"admission_nonce_window"`
	// AdmitOpaque lets admission pass submitted bytes that do not decode
	// as a transaction, for consensus benchmarks and tests with opaque
	// load (the devnet sets it): they are ordered, then dropped at
	// execution as malformed, without a receipt. Bytes that decode are
	// checked all the same. Default false: refused (malformed).
	AdmitOpaque bool `toml:"admit_opaque"`

	// testHold, when set, is called before each commit is executed and
	// holds the executor until it returns (tests of an executor that falls
	// behind drive it with a channel, not with a delay).
	testHold func(ctx context.Context, seq uint64) error
}

func (o *ExecutionOptions) ensureDefaults() {
	if o.MaxTxLifetime <= 0 {
		o.MaxTxLifetime = shard.DefaultMaxTxLifetime * time.Millisecond
	}
	if o.KeepVersions == 0 {
		o.KeepVersions = state.DefaultKeepVersions
	}
	if o.CacheSize <= 0 {
		o.CacheSize = 64 << 20
	}
	if o.MemTableSize == 0 {
		o.MemTableSize = 64 << 20
	}
	if o.NodeCacheSize == 0 {
		o.NodeCacheSize = state.DefaultNodeCacheSize
	}
	if o.SubscriptionBuffer <= 0 {
		o.SubscriptionBuffer = 1024
	}
	if o.AdmissionNonceWindow == 0 {
		o.AdmissionNonceWindow = DefaultAdmissionNonceWindow
	}
	o.Params.EnsureDefaults()
}

func (o *ExecutionOptions) validate(chainID string, g *contracts.Genesis) error {
	if o.Disabled {
		return nil
	}
	var errs []error
	if o.MaxTxLifetime < time.Millisecond {
		errs = append(errs, fmt.Errorf("Execution.MaxTxLifetime %v below 1 ms", o.MaxTxLifetime))
	}
	if err := o.Params.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("Execution.Params: %w", err))
	}
	if g != nil {
		if g.ChainID != chainID {
			errs = append(errs, fmt.Errorf("Genesis is for chain %q, the node's is %q", g.ChainID, chainID))
		}
		if err := g.Validate(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// stateDir is where a node keeps its state, beside the consensus store.
func stateDir(dataDir string) string { return filepath.Join(dataDir, "state") }

// executor runs committed transactions behind consensus, on its own
// goroutine, reading each commit back from the node's store by seq (the
// loop only tells it how far consensus has got). See the package
// comment, "Execution".
type executor struct {
	n    *Node
	log  *slog.Logger
	st   *state.Store
	ex   *shard.Executor[*contracts.Tx]
	opts ExecutionOptions
	// verified holds the digests of transactions admission verified, so
	// that execution does not verify them again (admission.go).
	verified *verifiedSet

	target   atomic.Uint64 // last commit the loop persisted
	executed atomic.Uint64 // last commit executed and durable
	root     atomic.Pointer[crypto.Digest]
	txs      atomic.Uint64 // transactions that got a receipt since start
	failure  atomic.Pointer[string]
	wake     chan struct{}
	fatal    chan error // the node stops on an execution failure
	done     chan struct{}
	m        *execMetrics

	// Loop-owned: the batches of commits not executed yet.
	held  map[crypto.Digest]uint64 // batch -> last unexecuted commit that has it
	heldQ []heldCommit

	// Batches the core deleted before their commit was executed, copied
	// into the node's pebble (preservedKey); guarded by presMu.
	presMu    sync.Mutex
	preserved map[crypto.Digest]uint64 // batch -> commit seq
	presTotal atomic.Uint64            // batches preserved since start

	subsMu  sync.Mutex
	subs    map[*ExecSubscription]struct{}
	stopped bool
}

type heldCommit struct {
	seq     uint64
	batches []crypto.Digest
}

type execMetrics struct {
	commits  prometheus.Counter
	txs      *prometheus.CounterVec
	lastSeq  prometheus.Gauge
	lag      prometheus.Gauge
	phases   *prometheus.HistogramVec
	deferred prometheus.Gauge
}

func newExecMetrics(reg *prometheus.Registry) *execMetrics {
	ns := "dagd"
	m := &execMetrics{
		commits: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "executed_commits_total", Help: "Commits executed."}),
		txs: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "executed_txs_total",
			Help: "Committed transactions by execution outcome: ok, rejected (a receipt with an error code, fee charged); dropped without a receipt: bad_signature, unpaid (paid nothing: wrong chain, fee too low, bad nonce, fee not payable), duplicate, expired, too_far, malformed."}, []string{"outcome"}),
		lastSeq:  prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Name: "last_executed_seq", Help: "Sequence number of the last executed commit."}),
		lag:      prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Name: "execution_lag_commits", Help: "Commits persisted by consensus and not executed yet."}),
		phases:   prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: ns, Name: "execute_phase_seconds", Help: "Time of each phase of executing one commit.", Buckets: latencyBuckets()}, []string{"phase"}),
		deferred: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Name: "execution_preserved_batches", Help: "Batches deleted by the core before their commit was executed, kept as copies until it is."}),
	}
	reg.MustRegister(m.commits, m.txs, m.lastSeq, m.lag, m.phases, m.deferred)
	return m
}

// newExecutor opens the node's state, resumes the executor from it and
// holds the batches of the commits it has not executed. The core must be
// restored already.
func newExecutor(n *Node) (*executor, error) {
	o := n.opts.Execution
	params := o.Params
	params.CommitteeEpoch = n.opts.Epoch // certificates of another epoch are refused
	tk := shard.NewTokens(contracts.NewModule(params))
	so := shard.Options{ChainID: n.opts.ChainID, Shards: o.Shards, Workers: o.Workers, VerifyWorkers: o.VerifyWorkers,
		MaxTxLifetime: uint64(o.MaxTxLifetime / time.Millisecond), Logger: n.log.With("component", "executor")}
	verified := newVerifiedSet(verifiedSetSize)
	so.Verified = verified
	if g := n.opts.Genesis; g != nil {
		var err error
		if so.Genesis, so.GenesisID, err = tk.Genesis(g); err != nil {
			return nil, fmt.Errorf("engine: %w", err)
		}
	}
	dir := stateDir(n.opts.DataDir)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("engine: state dir: %w", err)
	}
	po := state.DefaultPebbleOptions()
	cache := pebble.NewCache(o.CacheSize)
	defer cache.Unref()
	po.Cache = cache
	po.MemTableSize = o.MemTableSize
	st, err := state.Open(dir, state.Options{KeepVersions: o.KeepVersions, NoSync: n.opts.NoSync, NodeCacheSize: o.NodeCacheSize,
		// A commit's update holds its writes, one receipt per transaction
		// and its dedup window record: bound them far above any commit.
		MaxValueSize: 64 << 20, MaxUpdateLen: 1 << 24, Logger: n.log.With("component", "state"), Pebble: po})
	if err != nil {
		return nil, fmt.Errorf("engine: open state: %w", err)
	}
	ex, err := shard.New(st, tk, so)
	if err != nil {
		_ = st.Close()
		return nil, fmt.Errorf("engine: executor: %w", err)
	}
	e := &executor{n: n, log: so.Logger, st: st, ex: ex, opts: o, verified: verified, wake: make(chan struct{}, 1), fatal: make(chan error, 1),
		done: make(chan struct{}), held: make(map[crypto.Digest]uint64), preserved: make(map[crypto.Digest]uint64),
		subs: make(map[*ExecSubscription]struct{}), m: newExecMetrics(n.m.reg)}
	seq, _ := ex.Position()
	root := st.Root()
	e.executed.Store(seq)
	e.root.Store(&root)
	committed := n.core.Status().LastCommittedSeq
	e.target.Store(committed)
	if seq > committed {
		_ = st.Close()
		return nil, fmt.Errorf("engine: the state has executed commit %d but consensus has only %d: the state directory %s belongs to another node or chain", seq, committed, dir)
	}
	for s := seq + 1; s <= committed; s++ {
		ci, err := n.store.CommitIndex(s)
		if err != nil {
			_ = st.Close()
			return nil, fmt.Errorf("engine: commit %d to execute: %w", s, err)
		}
		e.holdCommit(ci)
	}
	if err := e.loadPreserved(seq); err != nil {
		_ = st.Close()
		return nil, err
	}
	e.m.lastSeq.Set(float64(seq))
	e.log.Info("executor resumed", "last_executed_seq", seq, "last_committed_seq", committed, "state_root", root.Short())
	return e, nil
}

// holdCommit keeps the batches of commit ci until it is executed
// (loop-owned).
func (e *executor) holdCommit(ci *store.CommitIndex) {
	hc := heldCommit{seq: ci.Seq}
	for _, b := range ci.Batches {
		if e.held[b.Digest] < ci.Seq {
			e.held[b.Digest] = ci.Seq
		}
		hc.batches = append(hc.batches, b.Digest)
	}
	e.heldQ = append(e.heldQ, hc)
}

// hold runs on the loop before each write: it registers the new
// commits' batches and preserves those that the write is about to delete
// while a commit not executed yet still needs them. The core deletes a
// batch RetainRounds after garbage collection; an executor that falls that
// far behind reads the copy instead. The copy is synced before the write
// that deletes the batch, and its key is outside the core's records, so a
// restart neither loses it nor shows it to the core.
func (e *executor) hold(recs []dag.Record, index []*store.CommitIndex) error {
	executed := e.executed.Load()
	for len(e.heldQ) > 0 && e.heldQ[0].seq <= executed {
		for _, d := range e.heldQ[0].batches {
			if e.held[d] <= executed {
				delete(e.held, d)
			}
		}
		e.heldQ = e.heldQ[1:]
	}
	if len(e.heldQ) == 0 {
		e.heldQ = nil // let the backing array go
	}
	for _, ci := range index {
		if ci.Seq > executed {
			e.holdCommit(ci)
		}
	}
	var b *store.WriteBatch
	for _, r := range recs {
		d, isBatch := dag.ParseBatchKey(r.Key)
		if !r.Delete || !isBatch {
			continue
		}
		seq, ok := e.held[d]
		if !ok || seq <= executed {
			continue
		}
		if b == nil {
			b = e.n.store.NewBatch()
			defer b.Close()
		}
		err := e.n.store.GetBatch(d, func(v []byte) error {
			val := binary.BigEndian.AppendUint64(make([]byte, 0, 8+len(v)), seq)
			return b.Set(store.PreservedKey(d), append(val, v...))
		})
		if err != nil {
			return fmt.Errorf("engine: preserve batch %s of commit %d: %w", d.Short(), seq, err)
		}
		e.presTotal.Add(1)
		e.presMu.Lock()
		e.preserved[d] = seq
		e.m.deferred.Set(float64(len(e.preserved)))
		e.presMu.Unlock()
	}
	if b == nil {
		return nil
	}
	if err := b.Commit(true); err != nil {
		return fmt.Errorf("engine: preserve batches: %w", err)
	}
	return nil
}

// loadPreserved reads back the preserved batches at start, dropping those
// of commits already executed.
func (e *executor) loadPreserved(executed uint64) error {
	var stale [][]byte
	err := e.n.store.Scan(store.PreservedPrefix, nil, 0, func(k, v []byte) bool {
		if len(k) != crypto.DigestSize || len(v) < 8 {
			stale = append(stale, append([]byte(store.PreservedPrefix), k...))
			return true
		}
		var d crypto.Digest
		copy(d[:], k)
		if seq := binary.BigEndian.Uint64(v); seq > executed {
			e.preserved[d] = seq
		} else {
			stale = append(stale, store.PreservedKey(d))
		}
		return true
	})
	if err != nil {
		return fmt.Errorf("engine: preserved batches: %w", err)
	}
	for _, k := range stale {
		if err := e.n.store.Del(k, false); err != nil {
			return fmt.Errorf("engine: preserved batches: %w", err)
		}
	}
	e.m.deferred.Set(float64(len(e.preserved)))
	return nil
}

// readBatch calls fn with the encoding of batch d: from the batch log, or
// from its preserved copy.
func (e *executor) readBatch(d crypto.Digest, fn func(v []byte) error) error {
	err := e.n.store.GetBatch(d, fn)
	if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	err = e.n.store.Get(store.PreservedKey(d), func(v []byte) error {
		if len(v) < 8 {
			return fmt.Errorf("engine: preserved batch %s of %d bytes: %w", d.Short(), len(v), dag.ErrMalformed)
		}
		return fn(v[8:])
	})
	return err
}

// release deletes the preserved copies of the batches of commits up to
// seq, once executed. A crash before it leaves copies that loadPreserved
// deletes.
func (e *executor) release(seq uint64) error {
	e.presMu.Lock()
	defer e.presMu.Unlock()
	if len(e.preserved) == 0 {
		return nil
	}
	var done []crypto.Digest
	for d, s := range e.preserved {
		if s <= seq {
			done = append(done, d)
		}
	}
	if len(done) == 0 {
		return nil
	}
	slices.SortFunc(done, func(a, b crypto.Digest) int { return bytes.Compare(a[:], b[:]) })
	b := e.n.store.NewBatch()
	defer b.Close()
	for _, d := range done {
		if err := b.Del(store.PreservedKey(d)); err != nil {
			return fmt.Errorf("engine: release preserved batches: %w", err)
		}
	}
	if err := b.Commit(false); err != nil {
		return fmt.Errorf("engine: release preserved batches: %w", err)
	}
	for _, d := range done {
		delete(e.preserved, d)
	}
	e.m.deferred.Set(float64(len(e.preserved)))
	return nil
}

// committed tells the executor that consensus persisted commits up to seq
// (loop-owned; never blocks).
func (e *executor) committed(seq uint64) {
	e.target.Store(seq)
	e.m.lag.Set(float64(seq - min(seq, e.executed.Load())))
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// run executes commits until ctx ends or execution fails; a failure is
// sent on fatal, which stops the node.
func (e *executor) run(ctx context.Context) {
	defer close(e.done)
	e.n.content.CatchUp(ctx, e.executed.Load(), commitTxs{e})
	for {
		for e.executed.Load() < e.target.Load() {
			if ctx.Err() != nil {
				return
			}
			seq := e.executed.Load() + 1
			if err := e.executeOne(ctx, seq); err != nil {
				if ctx.Err() != nil {
					return
				}
				msg := err.Error()
				e.failure.Store(&msg)
				e.log.Error("execution failed; stopping the node", "seq", seq, "err", err)
				e.fatal <- err
				return
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-e.wake:
		}
	}
}

// executeOne reads commit seq back from the node's store and executes it.
func (e *executor) executeOne(ctx context.Context, seq uint64) error {
	if hold := e.opts.testHold; hold != nil {
		if err := hold(ctx, seq); err != nil {
			return err
		}
	}
	ci, err := e.n.store.CommitIndex(seq)
	if err != nil {
		return fmt.Errorf("engine: read commit %d: %w", seq, err)
	}
	c := shard.Commit{Seq: seq, Time: uint64(ci.Timestamp)}
	for _, b := range ci.Batches {
		err := e.readBatch(b.Digest, func(v []byte) error { return appendTxs(v, 0, &c.Txs) })
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("engine: batch %s of commit %d is no longer stored: this state is behind the node's retained history (state sync is not implemented)", b.Digest.Short(), seq)
		}
		if err != nil {
			return fmt.Errorf("engine: batch %s of commit %d: %w", b.Digest.Short(), seq, err)
		}
	}
	res, err := e.ex.Execute(ctx, c)
	if err != nil {
		return err
	}
	e.n.content.Executed(res)
	e.executed.Store(seq)
	if err := e.release(seq); err != nil {
		return err
	}
	root := res.StateRoot
	e.root.Store(&root)
	e.txs.Add(uint64(res.Counts.Receipts))
	e.observe(res)
	e.deliver(res)
	return nil
}

func (e *executor) observe(res *shard.Result) {
	m := e.m
	m.commits.Inc()
	m.lastSeq.Set(float64(res.Seq))
	m.lag.Set(float64(e.target.Load() - min(e.target.Load(), res.Seq)))
	c := res.Counts
	for _, x := range []struct {
		outcome string
		n       uint32
	}{{"ok", c.OK}, {"rejected", c.Receipts - c.OK}, {"bad_signature", c.BadSignature}, {"unpaid", c.Unpaid}, {"duplicate", c.Duplicate},
		{"expired", c.Expired}, {"too_far", c.TooFar}, {"malformed", c.Malformed}} {
		if x.n > 0 {
			m.txs.WithLabelValues(x.outcome).Add(float64(x.n))
		}
	}
	t := res.Timings
	m.phases.WithLabelValues("decode").Observe(t.Decode.Seconds())
	m.phases.WithLabelValues("verify").Observe(t.Verify.Seconds())
	m.phases.WithLabelValues("apply").Observe(t.Apply.Seconds())
	m.phases.WithLabelValues("commit").Observe(t.Commit.Seconds())
}

// fillStatus adds the executor's progress to a status snapshot.
func (e *executor) fillStatus(s *Status) {
	s.LastExecutedSeq = e.executed.Load()
	s.StateRoot = e.root.Load().String()
	s.ExecutedTxs = e.txs.Load()
	if f := e.failure.Load(); f != nil {
		s.ExecutionError = *f
	}
}

// close waits for run (if started) and closes the state; ctx of run must
// be done.
func (e *executor) close(started bool) error {
	if started {
		<-e.done
	}
	e.subsMu.Lock()
	e.stopped = true
	for s := range e.subs {
		s.end(ErrStopped)
		delete(e.subs, s)
	}
	e.subsMu.Unlock()
	if err := e.st.Close(); err != nil {
		return fmt.Errorf("engine: close state: %w", err)
	}
	return nil
}

// ExecutedCommit is one commit as the executor executed it, delivered by
// an execution subscription. It is shared between subscribers: treat it
// as read-only.
type ExecutedCommit struct {
	// Node is the validator that executed the commit.
	Node dag.ValidatorID
	// Seq is the commit's sequence number.
	Seq uint64
	// Time is the consensus time it executed at (milliseconds).
	Time uint64
	// StateRoot is the state root after the commit.
	StateRoot crypto.Digest
	// TxRoot and ReceiptsRoot are the commit's Merkle roots
	// (shard.MerkleRoot).
	TxRoot, ReceiptsRoot crypto.Digest
	// Counts classifies the commit's transactions.
	Counts shard.Counts
	// Txs are the transactions that got a receipt, in order.
	Txs []ExecutedTx
	// ExecutedAt is when the node finished executing the commit.
	ExecutedAt time.Time
}

// ExecutedTx is the outcome of one executed transaction.
type ExecutedTx struct {
	// Digest names the transaction.
	Digest crypto.Digest
	// Code is its receipt's code (contracts.CodeOK when it did what it
	// asked).
	Code contracts.Code
}

// ExecSubscription receives a node's executed commits, in order and
// without gaps, from the moment it was made until it ends (see Err).
type ExecSubscription struct {
	e   *executor
	c   chan *ExecutedCommit
	err error // guarded by e.subsMu
}

// SubscribeExecution returns a subscription to the commits the node
// executes. buffer is how many may wait for the reader (0:
// ExecutionOptions.SubscriptionBuffer); when it is full the subscription
// ends with ErrLagged rather than slow execution down. On a node without
// execution it ends at once with ErrStopped.
func (n *Node) SubscribeExecution(buffer int) *ExecSubscription {
	if n.exec == nil {
		s := &ExecSubscription{c: make(chan *ExecutedCommit), err: ErrStopped}
		close(s.c)
		return s
	}
	if buffer <= 0 {
		buffer = n.exec.opts.SubscriptionBuffer
	}
	s := &ExecSubscription{e: n.exec, c: make(chan *ExecutedCommit, buffer)}
	n.exec.subsMu.Lock()
	defer n.exec.subsMu.Unlock()
	if n.exec.stopped {
		s.end(ErrStopped)
		return s
	}
	n.exec.subs[s] = struct{}{}
	return s
}

// C returns the channel of executed commits, closed when the subscription
// ends.
func (s *ExecSubscription) C() <-chan *ExecutedCommit { return s.c }

// Err returns why the subscription ended, or nil while it runs.
func (s *ExecSubscription) Err() error {
	if s.e == nil {
		return s.err
	}
	s.e.subsMu.Lock()
	defer s.e.subsMu.Unlock()
	return s.err
}

// Close ends the subscription.
func (s *ExecSubscription) Close() {
	if s.e == nil {
		return
	}
	s.e.subsMu.Lock()
	defer s.e.subsMu.Unlock()
	if _, ok := s.e.subs[s]; ok {
		delete(s.e.subs, s)
		s.end(ErrUnsubscribed)
	}
}

// end closes the channel; e.subsMu is held.
func (s *ExecSubscription) end(err error) {
	if s.err == nil {
		s.err = err
		close(s.c)
	}
}

// deliver hands an executed commit to every subscriber.
func (e *executor) deliver(res *shard.Result) {
	e.subsMu.Lock()
	defer e.subsMu.Unlock()
	if len(e.subs) == 0 {
		return
	}
	ec := &ExecutedCommit{Node: e.n.self, Seq: res.Seq, Time: res.Time, StateRoot: res.StateRoot, TxRoot: res.TxRoot,
		ReceiptsRoot: res.ReceiptsRoot, Counts: res.Counts, Txs: make([]ExecutedTx, len(res.Txs)), ExecutedAt: time.Now()}
	for i, d := range res.Txs {
		ec.Txs[i] = ExecutedTx{Digest: d}
		if r, ok := res.Receipts[i].(*contracts.Receipt); ok {
			ec.Txs[i].Code = r.Code
		}
	}
	for s := range e.subs {
		select {
		case s.c <- ec:
		default:
			e.log.Warn("execution subscriber lagged; subscription ended", "seq", res.Seq, "buffer", cap(s.c))
			delete(e.subs, s)
			s.end(ErrLagged)
		}
	}
}

// ExecutedStateRoot returns the state root after commit seq, and false
// when the node has not executed that commit (or does not execute). It
// reads the executor's commit record, so it answers for every executed
// commit, not only the last KeepVersions.
func (n *Node) ExecutedStateRoot(seq uint64) (crypto.Digest, bool, error) {
	if n.exec == nil {
		return crypto.Digest{}, false, nil
	}
	select {
	case <-n.done:
		return crypto.Digest{}, false, ErrStopped
	default:
	}
	rec, ok, err := shard.ReadCommitRecord(n.exec.st, seq)
	if err != nil || !ok {
		return crypto.Digest{}, false, err
	}
	return rec.StateRoot, true, nil
}
