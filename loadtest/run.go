package loadtest

import (
	"context"
	crand "crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Target is what the load goes to: a committee of nodes.
type Target interface {
	// Nodes returns the number of nodes transactions can be sent to.
	Nodes() int
	// Submit sends transactions to node and returns how many were
	// accepted (a prefix of txs). A refusal is reported as a
	// *SubmitError.
	Submit(ctx context.Context, node int, txs [][]byte) (int, error)
	// Follow starts reporting every node's commits to fn, possibly from
	// several goroutines, and returns once it is following: commits
	// delivered from then on are reported. stop ends it.
	Follow(ctx context.Context, fn func(Observation)) (stop func(), err error)
	// Round returns the highest round the nodes reached.
	Round(ctx context.Context) (uint64, error)
}

// Observation is one commit as one node delivered it.
type Observation struct {
	Node   int
	Seq    uint64
	Digest [32]byte
	// Txs are committed transactions, or at least their first HeaderSize
	// bytes; a target may report each transaction at one node only.
	Txs [][]byte
	// At is when the commit was observed.
	At time.Time
	// StateRoot is the node's state root after the commit, when HasState
	// (the node had executed the commit when it was observed).
	StateRoot [32]byte
	HasState  bool
}

// SubmitError is a refusal by a target.
type SubmitError struct {
	// Reason is the node's reason code (queue_full, node_busy...).
	Reason string
	// Busy says the node was overloaded, not the input wrong.
	Busy bool
	// Accepted counts the transactions accepted before the refusal.
	Accepted int
	// Err is the underlying error.
	Err error
}

// Error implements error.
func (e *SubmitError) Error() string {
	return fmt.Sprintf("loadtest: refused (%s) after %d accepted: %v", e.Reason, e.Accepted, e.Err)
}

// Unwrap returns the underlying error.
func (e *SubmitError) Unwrap() error { return e.Err }

// Options configures Run. Zero values mean defaults.
type Options struct {
	// Rate is the arrival rate in transactions per second. Required.
	Rate float64
	// TxSize is each transaction's size in bytes. Default 512, at least
	// HeaderSize.
	TxSize int
	// Duration of the load; 0 runs until ctx ends.
	Duration time.Duration
	// Tick is the generator's granularity: every tick it sends the
	// transactions that fell due. Default 2 ms.
	Tick time.Duration
	// Concurrency is the number of concurrent submissions per node.
	// Default 4.
	Concurrency int
	// QueuePerNode bounds the requests waiting for a sender per node;
	// transactions due when it is full are counted as dropped by the
	// client, never delayed. Default 256.
	QueuePerNode int
	// MaxTxsPerRequest bounds one submission. Default 5000.
	MaxTxsPerRequest int
	// Drain is how long to wait after the load for accepted transactions
	// to commit. Default 5 s.
	Drain time.Duration
	// DrainQuiet ends the drain early once none of the run's
	// transactions committed for this long (a batch of an orphaned
	// certificate commits late, once its author proposes it again after
	// garbage collection: on a loaded machine that can take longer).
	// Default 5 s.
	DrainQuiet time.Duration
	// ReportEvery is the interval of live snapshots. Default 1 s.
	ReportEvery time.Duration
	// OnSnapshot, when set, receives a live snapshot every ReportEvery.
	OnSnapshot func(Snapshot)
	// RunID tags this run's transactions. Default random.
	RunID uint32
	// Workload makes the transactions (see Workload). Default nil: opaque
	// transactions of TxSize bytes.
	Workload Workload
	// Logger. Default: discard.
	Logger *slog.Logger
}

// EnsureDefaults fills zero fields with their defaults and returns o.
func (o *Options) EnsureDefaults() *Options {
	if o.TxSize <= 0 {
		o.TxSize = 512
	}
	o.TxSize = max(o.TxSize, HeaderSize)
	if o.Tick <= 0 {
		o.Tick = 2 * time.Millisecond
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 4
	}
	if o.QueuePerNode <= 0 {
		o.QueuePerNode = 256
	}
	if o.MaxTxsPerRequest <= 0 {
		o.MaxTxsPerRequest = 5000
	}
	if o.Drain <= 0 {
		o.Drain = 5 * time.Second
	}
	if o.DrainQuiet <= 0 {
		o.DrainQuiet = 5 * time.Second
	}
	if o.ReportEvery <= 0 {
		o.ReportEvery = time.Second
	}
	if o.RunID == 0 {
		var b [4]byte
		_, _ = crand.Read(b[:])
		o.RunID = binary.BigEndian.Uint32(b[:]) | 1
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Workload == nil {
		o.Workload = opaqueWorkload{run: o.RunID, size: o.TxSize}
	}
	return o
}

// Validate reports settings that cannot work.
func (o *Options) Validate() error {
	if !(o.Rate > 0) || o.Rate > 1e8 {
		return fmt.Errorf("loadtest: rate %v: want a positive rate up to 1e8 tx/s", o.Rate)
	}
	if o.Duration < 0 {
		return fmt.Errorf("loadtest: negative duration %v", o.Duration)
	}
	return nil
}

// Snapshot is the live state of a run.
type Snapshot struct {
	Elapsed time.Duration
	// Cumulative counts.
	Offered, Accepted, Rejected, Failed, Dropped, Committed uint64
	// Pending is accepted but not yet committed.
	Pending uint64
	// Over the last interval.
	CommittedTPS float64
	P50, P99     time.Duration
	// Round is the highest round (0 if unknown).
	Round uint64
	// Executed counts the run's transactions that got a receipt, whatever
	// its code, ExecutedTPS those of the last interval (0 when the target
	// does not report execution); Unexpected those whose receipt is not
	// the outcome the workload meant (see Classifier).
	Executed    uint64
	ExecutedTPS float64
	Unexpected  uint64
}

// LatencyMS holds latency percentiles in milliseconds.
type LatencyMS struct {
	P50  float64 `json:"p50"`
	P95  float64 `json:"p95"`
	P99  float64 `json:"p99"`
	Max  float64 `json:"max"`
	Mean float64 `json:"mean"`
}

// Report is the summary of a run.
type Report struct {
	Validators  int     `json:"validators"`
	DurationS   float64 `json:"duration_s"`
	Rate        float64 `json:"rate"`
	TxSize      int     `json:"tx_size"`
	Offered     uint64  `json:"offered"`
	OfferedTPS  float64 `json:"offered_tps"`
	Accepted    uint64  `json:"accepted"`
	Rejected    uint64  `json:"rejected"`
	Failed      uint64  `json:"failed"`
	Dropped     uint64  `json:"client_dropped"`
	CommittedTx uint64  `json:"committed_tx"`
	// CommittedTPS counts the transactions committed while the load ran,
	// divided by its duration.
	CommittedTPS float64   `json:"committed_tps"`
	Latency      LatencyMS `json:"latency_ms"`
	Rounds       uint64    `json:"rounds"`
	FinalRound   uint64    `json:"final_round"`
	// Consistent: every node committed the same sequence and, when the
	// target reports execution, reached the same state root at every
	// commit.
	Consistent    bool              `json:"consistent"`
	Consistency   ConsistencyResult `json:"consistency"`
	RejectReasons map[string]uint64 `json:"reject_reasons,omitempty"`
	FirstError    string            `json:"first_error,omitempty"`

	// Execution, when the target reports it (ExecutionFollower).
	// ExecutedTx counts the run's transactions that got a receipt,
	// whatever its code ("executed" means "got a receipt"), ExecutedTPS
	// those executed while the load ran divided by its duration. Of
	// them, ExecOKTx got an ok receipt and ExecRejectedTx an error code;
	// ReceiptCodes counts them all by code ("ok", "soulbound"...).
	// ExpectedFailures counts the failures the workload meant (a
	// Classifier's deliberate failures with the code it expected),
	// UnexpectedTx the receipts whose outcome is not the one the workload
	// meant (UnexpectedCodes by code): a workload without a Classifier
	// means every transaction to succeed. ReceiptsByOp counts the
	// receipts by operation, then code (Classifier workloads only).
	// ExecLatency runs from the moment a transaction fell due to the
	// first node that executed it.
	ExecutedTx       uint64                       `json:"executed_tx"`
	ExecutedTPS      float64                      `json:"executed_tps"`
	ExecOKTx         uint64                       `json:"exec_ok_tx"`
	ExecRejectedTx   uint64                       `json:"exec_rejected_tx,omitempty"`
	ExpectedFailures uint64                       `json:"exec_expected_failures,omitempty"`
	UnexpectedTx     uint64                       `json:"exec_unexpected_tx"`
	ReceiptCodes     map[string]uint64            `json:"receipt_codes,omitempty"`
	UnexpectedCodes  map[string]uint64            `json:"exec_unexpected_codes,omitempty"`
	ReceiptsByOp     map[string]map[string]uint64 `json:"receipts_by_op,omitempty"`
	ExecLatency      *LatencyMS                   `json:"exec_latency_ms,omitempty"`
	// ExecDroppedTx counts the transactions the nodes ordered but dropped
	// at execution without a receipt because they paid nothing (bad
	// signature, wrong nonce, fee not payable...), whoever sent them.
	ExecDroppedTx uint64 `json:"exec_dropped_tx,omitempty"`
	// StateConsistency compares the state roots every node reached at
	// every commit: while the load runs (the executed commits the target
	// reports) and, for a StateRootLister target, once more at the end
	// over every commit from the first.
	StateConsistency *ConsistencyResult `json:"state_consistency,omitempty"`
}

// recorder counts what happens; safe for concurrent use.
type recorder struct {
	mu       sync.Mutex
	wl       Workload
	start    time.Time // when transaction 0 fell due
	interval float64   // nanoseconds between transactions
	run      uint32
	offered  uint64
	accepted uint64
	rejected uint64
	failed   uint64
	dropped  uint64
	reasons  map[string]uint64
	firstErr error

	seen         []uint64 // bitset of committed sequence numbers
	committed    uint64
	inWindow     uint64 // committed while the load ran
	end          time.Time
	total        *Histogram
	window       *Histogram
	windowCommit uint64
	foreign      uint64

	execSeen     []uint64 // bitset of executed sequence numbers
	dropSeen     []uint64 // bitset of the commits whose dropped transactions are counted
	execDropped  uint64   // transactions dropped at execution without a receipt
	executed     uint64   // receipts, whatever their code
	execOK       uint64   // receipts ok
	expectedFail uint64   // failures the workload meant
	unexpected   uint64   // outcomes the workload did not mean
	execInWindow uint64
	codes        map[string]uint64            // receipts by code
	unexpCodes   map[string]uint64            // unexpected outcomes by code
	byOp         map[string]map[string]uint64 // receipts by operation and code (Classifier)
	execLatency  *Histogram
	execFollowed bool
	windowExec   uint64
	lastCommit   time.Time // when the last of the run's transactions committed
}

func newRecorder(run uint32, wl Workload) *recorder {
	return &recorder{run: run, wl: wl, reasons: make(map[string]uint64), total: NewHistogram(), window: NewHistogram(),
		codes: make(map[string]uint64), unexpCodes: make(map[string]uint64), byOp: make(map[string]map[string]uint64),
		execLatency: NewHistogram()}
}

// due returns when transaction seq fell due.
func (r *recorder) due(seq uint64) time.Time {
	return r.start.Add(time.Duration(float64(seq) * r.interval))
}

// setBit sets bit seq of *bits and reports whether it was clear.
func setBit(bits *[]uint64, seq uint64) bool {
	w, bit := seq/64, uint64(1)<<(seq%64)
	for uint64(len(*bits)) <= w {
		*bits = append(*bits, 0)
	}
	if (*bits)[w]&bit != 0 {
		return false
	}
	(*bits)[w] |= bit
	return true
}

// observeExec counts the run's transactions a node executed (once each,
// whichever node reports first).
func (r *recorder) observeExec(o ExecObservation) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if setBit(&r.dropSeen, o.Seq) { // once per commit, whichever node reports first
		r.execDropped += o.Dropped
	}
	cl, classifies := r.wl.(Classifier)
	for _, tx := range o.Txs {
		seq, ok := r.wl.IdentifyDigest(tx.Digest)
		if !ok || !setBit(&r.execSeen, seq) {
			continue
		}
		code := tx.Code
		if code == "" && tx.OK {
			code = "ok"
		}
		expected := tx.OK
		if classifies {
			var op string
			op, expected = cl.Classify(seq, code)
			m := r.byOp[op]
			if m == nil {
				m = make(map[string]uint64)
				r.byOp[op] = m
			}
			m[code]++
		}
		r.wl.Executed(seq, tx.OK, code)
		r.executed++
		r.codes[code]++
		switch {
		case !expected:
			r.unexpected++
			r.unexpCodes[code]++
		case !tx.OK:
			r.expectedFail++
		}
		if tx.OK {
			r.execOK++
		}
		r.windowExec++
		if r.end.IsZero() || !o.At.After(r.end) {
			r.execInWindow++
		}
		r.execLatency.RecordDuration(o.At.Sub(r.due(seq)))
	}
}

func (r *recorder) submitted(n int, accepted int, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.accepted += uint64(accepted)
	rest := uint64(n - accepted)
	if err == nil || rest == 0 {
		return
	}
	var se *SubmitError
	switch {
	case errors.As(err, &se) && se.Busy:
		r.rejected += rest
		r.reasons[se.Reason] += rest
	case errors.As(err, &se):
		r.failed += rest
		r.reasons[se.Reason] += rest
	default:
		r.failed += rest
		r.reasons["error"] += rest
	}
	if r.firstErr == nil && (se == nil || !se.Busy) {
		r.firstErr = err
	}
}

func (r *recorder) observe(o Observation) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, tx := range o.Txs {
		seq, ok := r.wl.Identify(tx)
		if !ok || seq >= r.offered {
			r.foreign++
			continue
		}
		if !setBit(&r.seen, seq) {
			continue
		}
		r.committed++
		r.lastCommit = o.At
		r.wl.Committed(seq)
		r.windowCommit++
		if r.end.IsZero() || !o.At.After(r.end) {
			r.inWindow++
		}
		lat := o.At.Sub(r.due(seq))
		r.total.RecordDuration(lat)
		r.window.RecordDuration(lat)
	}
}

func (r *recorder) snapshot(elapsed, interval time.Duration, round uint64) Snapshot {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := Snapshot{Elapsed: elapsed, Offered: r.offered, Accepted: r.accepted, Rejected: r.rejected, Failed: r.failed,
		Dropped: r.dropped, Committed: r.committed, Round: round,
		P50: time.Duration(r.window.Quantile(0.50)) * time.Microsecond,
		P99: time.Duration(r.window.Quantile(0.99)) * time.Microsecond}
	if r.accepted > r.committed {
		s.Pending = r.accepted - r.committed
	}
	s.Executed, s.Unexpected = r.executed, r.unexpected
	if interval > 0 {
		s.CommittedTPS = float64(r.windowCommit) / interval.Seconds()
		s.ExecutedTPS = float64(r.windowExec) / interval.Seconds()
	}
	r.windowExec = 0
	r.window.Reset()
	r.windowCommit = 0
	return s
}

// Run offers load to target at a fixed rate, follows its commits, and
// returns the summary once the load has run for Duration (or ctx ended)
// and accepted transactions had Drain to commit. Consistency is checked on
// the commit digests every node reports.
func Run(ctx context.Context, target Target, o Options) (*Report, error) {
	o.EnsureDefaults()
	if err := o.Validate(); err != nil {
		return nil, err
	}
	nodes := target.Nodes()
	if nodes <= 0 {
		return nil, errors.New("loadtest: target has no nodes")
	}
	rec := newRecorder(o.RunID, o.Workload)
	cons := NewConsistency(nodes)
	stateCons := NewConsistency(nodes)
	var presign uint64
	if o.Duration > 0 {
		presign = uint64(o.Duration.Seconds()*o.Rate) + 1
	}
	if _, ok := target.(ExecutionFollower); o.Workload.Executes() && !ok {
		return nil, errors.New("loadtest: the workload follows execution, which the target does not report")
	}
	// Follow commits and execution before the workload prepares (signing
	// may take seconds), so that the state roots of the commits executed
	// meanwhile are compared too.
	followCtx, stopFollowCtx := context.WithCancel(context.WithoutCancel(ctx))
	defer stopFollowCtx()
	var stateSeen atomic.Bool
	stopFollow, err := target.Follow(followCtx, func(ob Observation) {
		cons.Observe(ob.Node, ob.Seq, ob.Digest)
		if ob.HasState {
			stateSeen.Store(true)
			stateCons.Observe(ob.Node, ob.Seq, ob.StateRoot)
		}
		rec.observe(ob)
	})
	if err != nil {
		return nil, fmt.Errorf("loadtest: follow commits: %w", err)
	}
	defer stopFollow()
	stopExec := func() {}
	if ef, ok := target.(ExecutionFollower); ok {
		stopExec, err = ef.FollowExecution(followCtx, func(ob ExecObservation) {
			stateSeen.Store(true)
			stateCons.Observe(ob.Node, ob.Seq, ob.StateRoot)
			rec.observeExec(ob)
		})
		if err != nil {
			return nil, fmt.Errorf("loadtest: follow execution: %w", err)
		}
		rec.execFollowed = true
		defer stopExec()
	}
	if err := o.Workload.Prepare(ctx, presign, o.Rate); err != nil {
		return nil, fmt.Errorf("loadtest: prepare the workload: %w", err)
	}
	startRound, _ := target.Round(ctx)

	// Senders: per node a bounded queue and Concurrency goroutines.
	sendCtx, stopSend := context.WithCancel(context.WithoutCancel(ctx))
	defer stopSend()
	queues := make([]chan [][]byte, nodes)
	var senders sync.WaitGroup
	for i := range queues {
		queues[i] = make(chan [][]byte, o.QueuePerNode)
		for range o.Concurrency {
			senders.Go(func() {
				for txs := range queues[i] {
					if sendCtx.Err() != nil {
						rec.drop(len(txs), "canceled")
						continue
					}
					acc, err := target.Submit(sendCtx, i, txs)
					if err != nil && sendCtx.Err() != nil {
						rec.drop(len(txs)-acc, "canceled")
						rec.submitted(acc, acc, nil)
						continue
					}
					rec.submitted(len(txs), acc, err)
					if acc < len(txs) {
						o.Workload.Returned(txs[acc:])
					}
				}
			})
		}
	}

	// Live reports.
	start := time.Now()
	rec.mu.Lock()
	rec.start, rec.interval = start, float64(time.Second)/o.Rate
	rec.mu.Unlock()
	reportDone := make(chan struct{})
	var reporter sync.WaitGroup
	if o.OnSnapshot != nil {
		reporter.Go(func() {
			t := time.NewTicker(o.ReportEvery)
			defer t.Stop()
			last := start
			for {
				select {
				case now := <-t.C:
					round, _ := target.Round(ctx)
					o.OnSnapshot(rec.snapshot(now.Sub(start), now.Sub(last), round))
					last = now
				case <-reportDone:
					return
				}
			}
		})
	}

	// The open loop.
	ticker := time.NewTicker(o.Tick)
	var seq uint64
	next := 0
	interval := float64(time.Second) / o.Rate
	pending := make([][][]byte, nodes)
	elapsed := time.Duration(0)
loop:
	for {
		var now time.Time
		select {
		case <-ctx.Done():
			break loop
		case now = <-ticker.C:
		}
		elapsed = now.Sub(start)
		final := o.Duration > 0 && elapsed >= o.Duration
		if final {
			elapsed = o.Duration
		}
		due := uint64(elapsed.Seconds() * o.Rate)
		for ; seq < due; seq++ {
			// The send time is when the transaction fell due, so that a
			// late generator shows up as latency rather than hiding it.
			sent := start.Add(time.Duration(float64(seq) * interval))
			tx, node := o.Workload.Tx(seq, sent, nodes)
			if tx == nil {
				rec.drop(1, "workload_idle")
				continue
			}
			if node < 0 || node >= nodes {
				node = next
				next = (next + 1) % nodes
			}
			pending[node] = append(pending[node], tx)
			if len(pending[node]) >= o.MaxTxsPerRequest {
				enqueue(rec, o.Workload, queues[node], pending[node])
				pending[node] = nil
			}
		}
		rec.mu.Lock()
		rec.offered = seq
		rec.mu.Unlock()
		for i, p := range pending {
			if len(p) > 0 {
				enqueue(rec, o.Workload, queues[i], p)
				pending[i] = nil
			}
		}
		if final {
			break
		}
	}
	ticker.Stop()
	rec.mu.Lock()
	rec.end = time.Now()
	rec.mu.Unlock()
	if ctx.Err() != nil {
		stopSend() // interrupted: what is still queued is not sent
	}
	for _, q := range queues {
		close(q)
	}
	senders.Wait()

	// Drain: give accepted transactions time to commit and execute. It
	// ends early once every accepted transaction committed, or once none
	// has committed for DrainQuiet (a batch of an orphaned certificate
	// commits late, once proposed again), and, for a workload that executes, every
	// committed one executed.
	deadline := time.Now().Add(o.Drain)
	for time.Now().Before(deadline) {
		rec.mu.Lock()
		settled := rec.committed >= rec.accepted || (!rec.lastCommit.IsZero() && time.Since(rec.lastCommit) > o.DrainQuiet)
		done := settled && (!rec.execFollowed || !o.Workload.Executes() || rec.executed >= rec.committed)
		rec.mu.Unlock()
		if done {
			break
		}
		select {
		case <-time.After(20 * time.Millisecond):
		case <-ctx.Done():
			deadline = time.Now()
		}
	}
	close(reportDone)
	reporter.Wait()
	endRound, _ := target.Round(context.WithoutCancel(ctx))
	stopFollow()
	stopExec()
	var sweep *ConsistencyResult
	if l, ok := target.(StateRootLister); ok && rec.execFollowed {
		// Every commit every node committed, once every node executed
		// it: executors may trail consensus by many commits, so wait
		// for them a while (not when interrupted).
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sweepTimeout)
		want := minSeqOf(cons.Result().Highest)
		deadline := time.Now().Add(sweepWait)
		for {
			r := sweepStateRoots(sctx, l, nodes, o.Logger)
			sweep = &r
			if minSeqOf(r.Highest) >= want || !r.Consistent || ctx.Err() != nil || sctx.Err() != nil || time.Now().After(deadline) {
				break
			}
			select {
			case <-time.After(500 * time.Millisecond):
			case <-sctx.Done():
			}
		}
		cancel()
	}

	rec.mu.Lock()
	defer rec.mu.Unlock()
	secs := elapsed.Seconds()
	rep := &Report{Validators: nodes, DurationS: secs, Rate: o.Rate, TxSize: o.TxSize, Offered: rec.offered,
		Accepted: rec.accepted, Rejected: rec.rejected, Failed: rec.failed, Dropped: rec.dropped, CommittedTx: rec.committed,
		FinalRound: endRound, RejectReasons: rec.reasons}
	if endRound > startRound {
		rep.Rounds = endRound - startRound
	}
	if secs > 0 {
		rep.OfferedTPS = float64(rec.offered) / secs
		rep.CommittedTPS = float64(rec.inWindow) / secs
	}
	ms := func(us uint64) float64 { return float64(us) / 1000 }
	rep.Latency = LatencyMS{P50: ms(rec.total.Quantile(0.50)), P95: ms(rec.total.Quantile(0.95)), P99: ms(rec.total.Quantile(0.99)),
		Max: ms(rec.total.Max()), Mean: rec.total.Mean() / 1000}
	rep.Consistency = cons.Result()
	rep.Consistent = rep.Consistency.Consistent
	if stateSeen.Load() || sweep != nil {
		sc := stateCons.Result()
		if sweep != nil {
			sc = sc.Merge(*sweep)
		}
		rep.StateConsistency = &sc
		rep.Consistent = rep.Consistent && sc.Consistent
	}
	if rec.execFollowed {
		rep.ExecutedTx, rep.ExecOKTx, rep.ExecRejectedTx = rec.executed, rec.execOK, rec.executed-rec.execOK
		rep.ExpectedFailures, rep.UnexpectedTx = rec.expectedFail, rec.unexpected
		rep.ExecDroppedTx = rec.execDropped
		if secs > 0 {
			rep.ExecutedTPS = float64(rec.execInWindow) / secs
		}
		if len(rec.codes) > 0 {
			rep.ReceiptCodes = rec.codes
		}
		if len(rec.unexpCodes) > 0 {
			rep.UnexpectedCodes = rec.unexpCodes
		}
		if len(rec.byOp) > 0 {
			rep.ReceiptsByOp = rec.byOp
		}
		if rec.executed > 0 {
			rep.ExecLatency = &LatencyMS{P50: ms(rec.execLatency.Quantile(0.50)), P95: ms(rec.execLatency.Quantile(0.95)),
				P99: ms(rec.execLatency.Quantile(0.99)), Max: ms(rec.execLatency.Max()), Mean: rec.execLatency.Mean() / 1000}
		}
	}
	if rec.firstErr != nil {
		rep.FirstError = rec.firstErr.Error()
	}
	if len(rep.RejectReasons) == 0 {
		rep.RejectReasons = nil
	}
	return rep, nil
}

// sweepTimeout bounds the comparison of every commit's state roots at the
// end of a run.
const sweepTimeout = time.Minute

// sweepWait bounds how long the end of a run waits for every node to
// execute the commits every node committed, before comparing the state
// roots of all of them.
const sweepWait = 30 * time.Second

// minSeqOf returns the smallest of seqs (0 for none).
func minSeqOf(seqs []uint64) uint64 {
	if len(seqs) == 0 {
		return 0
	}
	return slices.Min(seqs)
}

// sweepPage is how many commits of each node sweepStateRoots reads at a
// time.
const sweepPage = 256

// sweepStateRoots compares the state roots of every node at every commit
// from the first, page by page so that memory stays bounded: a node that
// fails to answer is left out from then on (logged).
func sweepStateRoots(ctx context.Context, l StateRootLister, nodes int, log *slog.Logger) ConsistencyResult {
	c := NewConsistency(nodes)
	more := make([]bool, nodes)
	for i := range more {
		more[i] = true
	}
	for from := uint64(1); ctx.Err() == nil; from += sweepPage {
		any := false
		for node := range nodes {
			if !more[node] {
				continue
			}
			roots, err := l.StateRoots(ctx, node, from, sweepPage)
			if err != nil {
				log.Warn("state roots: node left out of the final comparison", "node", node, "from", from, "err", err)
				more[node] = false
				continue
			}
			for i, r := range roots {
				c.Observe(node, from+uint64(i), r)
			}
			more[node] = len(roots) == sweepPage
			any = any || more[node]
		}
		if !any {
			break
		}
	}
	return c.Result()
}

// enqueue hands a request to a node's senders, or counts it dropped
// (and gives it back to the workload).
func enqueue(rec *recorder, wl Workload, q chan [][]byte, txs [][]byte) {
	select {
	case q <- txs:
	default:
		rec.drop(len(txs), "client_queue_full")
		wl.Returned(txs)
	}
}

// drop counts transactions the client did not send.
func (r *recorder) drop(n int, reason string) {
	if n <= 0 {
		return
	}
	r.mu.Lock()
	r.dropped += uint64(n)
	r.reasons[reason] += uint64(n)
	r.mu.Unlock()
}
