package loadtest

import (
	"context"
	crand "crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"sync"
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
	// ReportEvery is the interval of live snapshots. Default 1 s.
	ReportEvery time.Duration
	// OnSnapshot, when set, receives a live snapshot every ReportEvery.
	OnSnapshot func(Snapshot)
	// RunID tags this run's transactions. Default random.
	RunID uint32
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
	CommittedTPS  float64           `json:"committed_tps"`
	Latency       LatencyMS         `json:"latency_ms"`
	Rounds        uint64            `json:"rounds"`
	FinalRound    uint64            `json:"final_round"`
	Consistent    bool              `json:"consistent"`
	Consistency   ConsistencyResult `json:"consistency"`
	RejectReasons map[string]uint64 `json:"reject_reasons,omitempty"`
	FirstError    string            `json:"first_error,omitempty"`
}

// recorder counts what happens; safe for concurrent use.
type recorder struct {
	mu       sync.Mutex
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
}

func newRecorder(run uint32) *recorder {
	return &recorder{run: run, reasons: make(map[string]uint64), total: NewHistogram(), window: NewHistogram()}
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
		h, err := ParseTx(tx)
		if err != nil || h.Run != r.run || h.Seq >= r.offered {
			r.foreign++
			continue
		}
		w, bit := h.Seq/64, uint64(1)<<(h.Seq%64)
		for uint64(len(r.seen)) <= w {
			r.seen = append(r.seen, 0)
		}
		if r.seen[w]&bit != 0 {
			continue
		}
		r.seen[w] |= bit
		r.committed++
		r.windowCommit++
		if r.end.IsZero() || !o.At.After(r.end) {
			r.inWindow++
		}
		lat := o.At.Sub(h.Sent)
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
	if interval > 0 {
		s.CommittedTPS = float64(r.windowCommit) / interval.Seconds()
	}
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
	rec := newRecorder(o.RunID)
	cons := NewConsistency(nodes)
	followCtx, stopFollowCtx := context.WithCancel(context.WithoutCancel(ctx))
	defer stopFollowCtx()
	stopFollow, err := target.Follow(followCtx, func(ob Observation) {
		cons.Observe(ob.Node, ob.Seq, ob.Digest)
		rec.observe(ob)
	})
	if err != nil {
		return nil, fmt.Errorf("loadtest: follow commits: %w", err)
	}
	defer stopFollow()
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
				}
			})
		}
	}

	// Live reports.
	start := time.Now()
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
			tx := MakeTx(TxHeader{Run: o.RunID, Seq: seq, Sent: sent}, o.TxSize)
			pending[next] = append(pending[next], tx)
			if len(pending[next]) >= o.MaxTxsPerRequest {
				enqueue(rec, queues[next], pending[next])
				pending[next] = nil
			}
			next = (next + 1) % nodes
		}
		rec.mu.Lock()
		rec.offered = seq
		rec.mu.Unlock()
		for i, p := range pending {
			if len(p) > 0 {
				enqueue(rec, queues[i], p)
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

	// Drain: give accepted transactions time to commit.
	deadline := time.Now().Add(o.Drain)
	for time.Now().Before(deadline) {
		rec.mu.Lock()
		done := rec.committed >= rec.accepted
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
	if rec.firstErr != nil {
		rep.FirstError = rec.firstErr.Error()
	}
	if len(rep.RejectReasons) == 0 {
		rep.RejectReasons = nil
	}
	return rep, nil
}

// enqueue hands a request to a node's senders, or counts it dropped.
func enqueue(rec *recorder, q chan [][]byte, txs [][]byte) {
	select {
	case q <- txs:
	default:
		rec.drop(len(txs), "client_queue_full")
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
