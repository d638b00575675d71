package execution

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/dagd/dagd/contracts"
	"github.com/dagd/dagd/crypto"
	"github.com/dagd/dagd/dag"
	"github.com/dagd/dagd/engine/store"
	"github.com/dagd/dagd/shard"
	"github.com/dagd/dagd/state"
)

// TxReader reads back the transactions of committed commits.
type TxReader interface {
	// CommitTxs returns the transactions of commit seq, in order. When a
	// batch of it cannot be read it returns those of the others with the
	// error.
	CommitTxs(seq uint64) ([][]byte, error)
}

// Follower is told of every executed commit, in order, on the executor's
// goroutine.
type Follower interface {
	// CatchUp runs before execution starts, given the last executed
	// commit and a reader of committed transactions, for what the
	// follower missed (a crash between state and index).
	CatchUp(ctx context.Context, executed uint64, r TxReader)
	// Executed is called once the state of the commit of res is durable.
	Executed(res *shard.Result)
}

// Config is what an executor is made of.
type Config struct {
	// Store is the node's store: commits and batches are read from it,
	// preserved batches kept in it.
	Store *store.Store
	// Options are the executor's options, with defaults applied.
	Options Options
	// DataDir is the node's data directory; the state is in DataDir/state.
	DataDir string
	// ChainID is the chain's id.
	ChainID string
	// Epoch is the committee's epoch: certificates of another are refused.
	Epoch uint64
	// Genesis, applied with commit 1, sets the initial accounts and
	// committee (nil: none).
	Genesis *contracts.Genesis
	// Self is the validator that executes, named in ExecutedCommit.Node.
	Self dag.ValidatorID
	// NoSync skips the state's fsyncs (tests).
	NoSync bool
	// Committed is the last commit consensus has persisted (after the
	// core's restore).
	Committed uint64
	// Logger receives the executor's log (component executor and state).
	Logger *slog.Logger
	// Registerer takes the executor's metrics.
	Registerer prometheus.Registerer
	// Verified holds the digests of the transactions admission verified
	// (nil: every signature is verified).
	Verified *VerifiedSet
	// Followers are told of every executed commit, in order.
	Followers []Follower
	// Hold, when set, is called before each commit is executed and holds
	// the executor until it returns: tests of an executor that falls
	// behind drive it with a channel, not with a delay.
	Hold func(ctx context.Context, seq uint64) error
}

// Executor runs committed transactions behind consensus, on its own
// goroutine (Run), reading each commit back from the node's store by seq:
// the event loop only tells it how far consensus has got (Committed).
type Executor struct {
	store     *store.Store
	log       *slog.Logger
	st        *state.Store
	ex        *shard.Executor[*contracts.Tx]
	opts      Options
	self      dag.ValidatorID
	verified  *VerifiedSet
	followers []Follower
	testHold  func(ctx context.Context, seq uint64) error

	target   atomic.Uint64 // last commit the loop persisted
	executed atomic.Uint64 // last commit executed and durable
	root     atomic.Pointer[crypto.Digest]
	txs      atomic.Uint64 // transactions that got a receipt since start
	failure  atomic.Pointer[string]
	wake     chan struct{}
	fatal    chan error // the node stops on an execution failure
	done     chan struct{}
	m        *metrics

	runMu   sync.Mutex
	running bool // Run was called: Close waits for it
	closed  bool

	// Loop-owned: the batches of commits not executed yet.
	held  map[crypto.Digest]uint64 // batch -> last unexecuted commit that has it
	heldQ []heldCommit

	// Batches the core deleted before their commit was executed, copied
	// into the node's pebble (store.PreservedKey); guarded by presMu.
	presMu    sync.Mutex
	preserved map[crypto.Digest]uint64 // batch -> commit seq
	presTotal atomic.Uint64            // batches preserved since start

	subsMu  sync.Mutex
	subs    map[*Subscription]struct{}
	stopped bool
}

type heldCommit struct {
	seq     uint64
	batches []crypto.Digest
}

// New opens the node's state, resumes the executor from it and holds the
// batches of the commits it has not executed (up to cfg.Committed).
func New(cfg Config) (*Executor, error) {
	o := cfg.Options
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	reg := cfg.Registerer
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	params := o.Params
	params.CommitteeEpoch = cfg.Epoch // certificates of another epoch are refused
	tk := shard.NewTokens(contracts.NewModule(params))
	so := shard.Options{ChainID: cfg.ChainID, Shards: o.Shards, Workers: o.Workers, VerifyWorkers: o.VerifyWorkers,
		MaxTxLifetime: uint64(o.MaxTxLifetime / time.Millisecond), Logger: logger.With("component", "executor")}
	if cfg.Verified != nil {
		so.Verified = cfg.Verified
	}
	if g := cfg.Genesis; g != nil {
		var err error
		if so.Genesis, so.GenesisID, err = tk.Genesis(g); err != nil {
			return nil, fmt.Errorf("execution: %w", err)
		}
	}
	dir := stateDir(cfg.DataDir)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("execution: state dir: %w", err)
	}
	po := state.DefaultPebbleOptions()
	cache := pebble.NewCache(o.CacheSize)
	defer cache.Unref()
	po.Cache = cache
	po.MemTableSize = o.MemTableSize
	st, err := state.Open(dir, state.Options{KeepVersions: o.KeepVersions, NoSync: cfg.NoSync, NodeCacheSize: o.NodeCacheSize,
		// A commit's update holds its writes, one receipt per transaction
		// and its dedup window record: bound them far above any commit.
		MaxValueSize: 64 << 20, MaxUpdateLen: 1 << 24, Logger: logger.With("component", "state"), Pebble: po})
	if err != nil {
		return nil, fmt.Errorf("execution: open state: %w", err)
	}
	ex, err := shard.New(st, tk, so)
	if err != nil {
		_ = st.Close()
		return nil, fmt.Errorf("execution: executor: %w", err)
	}
	m, err := newMetrics(reg)
	if err != nil {
		_ = st.Close()
		return nil, err
	}
	e := &Executor{store: cfg.Store, log: so.Logger, st: st, ex: ex, opts: o, self: cfg.Self, verified: cfg.Verified,
		followers: cfg.Followers, testHold: cfg.Hold, wake: make(chan struct{}, 1), fatal: make(chan error, 1),
		done: make(chan struct{}), held: make(map[crypto.Digest]uint64), preserved: make(map[crypto.Digest]uint64),
		subs: make(map[*Subscription]struct{}), m: m}
	seq, _ := ex.Position()
	root := st.Root()
	e.executed.Store(seq)
	e.root.Store(&root)
	committed := cfg.Committed
	e.target.Store(committed)
	if seq > committed {
		_ = st.Close()
		return nil, fmt.Errorf("execution: the state has executed commit %d but consensus has only %d: the state directory %s belongs to another node or chain", seq, committed, dir)
	}
	for s := seq + 1; s <= committed; s++ {
		ci, err := e.store.CommitIndex(s)
		if err != nil {
			_ = st.Close()
			return nil, fmt.Errorf("execution: commit %d to execute: %w", s, err)
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

// Executed returns the last executed commit, whose state is durable (0
// before the first).
func (e *Executor) Executed() uint64 { return e.executed.Load() }

// State returns the executed state. It is closed by Close.
func (e *Executor) State() *state.Store { return e.st }

// Verified returns the set where admission puts the digests it verified
// (nil when there is none).
func (e *Executor) Verified() *VerifiedSet { return e.verified }

// Failed returns the channel on which the executor reports the error
// that ended Run: the node must stop.
func (e *Executor) Failed() <-chan error { return e.fatal }

// Progress is the executor's progress, for the node's status.
type Progress struct {
	// LastExecutedSeq is the last executed commit.
	LastExecutedSeq uint64
	// StateRoot is the state root after it.
	StateRoot crypto.Digest
	// ExecutedTxs counts the transactions that got a receipt since start.
	ExecutedTxs uint64
	// Error is why execution failed, empty while it runs.
	Error string
}

// Progress returns the executor's progress.
func (e *Executor) Progress() Progress {
	p := Progress{LastExecutedSeq: e.executed.Load(), StateRoot: *e.root.Load(), ExecutedTxs: e.txs.Load()}
	if f := e.failure.Load(); f != nil {
		p.Error = *f
	}
	return p
}

// Preserved returns how many batches the executor preserved since it
// started (copies of batches the core deleted before their commit was
// executed), and how many copies it keeps now.
func (e *Executor) Preserved() (total uint64, kept int) {
	e.presMu.Lock()
	defer e.presMu.Unlock()
	return e.presTotal.Load(), len(e.preserved)
}

// Committed tells the executor that consensus persisted commits up to seq
// (loop-owned; never blocks).
func (e *Executor) Committed(seq uint64) {
	e.target.Store(seq)
	e.m.lag.Set(float64(seq - min(seq, e.executed.Load())))
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// Run catches up the followers, then executes commits until ctx ends or
// execution fails; a failure is sent on Failed. It runs at most once.
func (e *Executor) Run(ctx context.Context) {
	e.runMu.Lock()
	if e.running || e.closed {
		e.runMu.Unlock()
		return
	}
	e.running = true
	e.runMu.Unlock()
	defer close(e.done)
	for _, f := range e.followers {
		f.CatchUp(ctx, e.executed.Load(), e)
	}
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
func (e *Executor) executeOne(ctx context.Context, seq uint64) error {
	if hold := e.testHold; hold != nil {
		if err := hold(ctx, seq); err != nil {
			return err
		}
	}
	ci, err := e.store.CommitIndex(seq)
	if err != nil {
		return fmt.Errorf("execution: read commit %d: %w", seq, err)
	}
	c := shard.Commit{Seq: seq, Time: uint64(ci.Timestamp)}
	for _, b := range ci.Batches {
		err := e.readBatch(b.Digest, func(v []byte) error { return appendTxs(v, &c.Txs) })
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("execution: batch %s of commit %d is no longer stored: this state is behind the node's retained history (state sync is not implemented)", b.Digest.Short(), seq)
		}
		if err != nil {
			return fmt.Errorf("execution: batch %s of commit %d: %w", b.Digest.Short(), seq, err)
		}
	}
	res, err := e.ex.Execute(ctx, c)
	if err != nil {
		return err
	}
	for _, f := range e.followers {
		f.Executed(res)
	}
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

// CommitTxs implements TxReader: it reads the transactions of commit seq
// back from the store (or from the executor's preserved copies).
func (e *Executor) CommitTxs(seq uint64) ([][]byte, error) {
	ci, err := e.store.CommitIndex(seq)
	if err != nil {
		return nil, fmt.Errorf("execution: read commit %d: %w", seq, err)
	}
	var txs [][]byte
	var errs []error
	for _, b := range ci.Batches {
		if err := e.readBatch(b.Digest, func(v []byte) error { return appendTxs(v, &txs) }); err != nil {
			errs = append(errs, fmt.Errorf("execution: batch %s of commit %d: %w", b.Digest.Short(), seq, err))
		}
	}
	return txs, errors.Join(errs...)
}

// appendTxs appends the transactions of an encoded batch, copying them
// out of v.
func appendTxs(v []byte, out *[][]byte) error {
	err := dag.ScanBatch(v, func(tx []byte) bool {
		*out = append(*out, bytes.Clone(tx))
		return true
	})
	if err != nil {
		return fmt.Errorf("execution: stored batch: %w", err)
	}
	return nil
}

// Close waits for Run (if it was called) and closes the state, ending
// every subscription with ErrStopped; the ctx of Run must be done.
func (e *Executor) Close() error {
	e.runMu.Lock()
	e.closed = true
	running := e.running
	e.runMu.Unlock()
	if running {
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
		return fmt.Errorf("execution: close state: %w", err)
	}
	return nil
}
