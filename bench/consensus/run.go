package consensus

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"runtime/pprof"
	"time"

	"github.com/dagd/dagd/dag"
	"github.com/dagd/dagd/engine"
	"github.com/dagd/dagd/engine/execution"
	"github.com/dagd/dagd/internal/cputime"
	"github.com/dagd/dagd/loadtest"
	"github.com/dagd/dagd/loadtest/inproc"
)

// Options configure Run. Zero values mean defaults.
type Options struct {
	// Rates are the offered rates in transactions per second, ascending.
	// Required (see ParseRates and RateRange).
	Rates []float64
	// Duration is how long each rate is offered. Default 20 s.
	Duration time.Duration
	// Drain is how long, after the load of a rate, accepted transactions
	// may take to commit before the devnet stops (they count towards the
	// latency, not towards the committed throughput). Default 5 s.
	Drain time.Duration
	// Validators is the devnet's committee size. Default 4.
	Validators int
	// TxSize is the size of every transaction in bytes. Default 512.
	TxSize int
	// InMemoryNetwork connects the validators through engine.MemNetwork
	// instead of QUIC on loopback. Default false (QUIC).
	InMemoryNetwork bool
	// NoSync skips fsync in the validators' stores. Default false: every
	// flush is synced, as in production.
	NoSync bool
	// Execute runs the executor behind consensus as well (the load is
	// opaque transactions, which execution refuses, so this measures the
	// executor's overhead, not its throughput). Default false: consensus
	// only.
	Execute bool
	// DAG tunes the consensus cores (zero fields: the engine's defaults).
	DAG dag.Options
	// SustainedFraction is the share of the offered rate that must
	// commit for a rate to count as sustained. Default 0.95.
	SustainedFraction float64
	// MaxP99 is the p99 latency below which a rate may count as
	// sustained. Default 2 s.
	MaxP99 time.Duration
	// StopFraction: when less than this share of a rate commits, the
	// higher rates are skipped. Default 0.80; 1 or more never stops.
	StopFraction float64
	// ConnectTimeout bounds the wait, before the load, until every
	// validator is connected to a quorum and has committed. Default 30 s.
	ConnectTimeout time.Duration
	// Pause between two rates, for the previous devnet's sockets and
	// memory to go. Default 1 s.
	Pause time.Duration
	// BaseDir holds the devnets' stores, one sub-directory per rate, kept
	// after the run. Default: a temporary directory, removed.
	BaseDir string
	// Logger receives the devnets' logs and the bench's progress.
	// Default: discard.
	Logger *slog.Logger
	// CPUProfile, when set, receives a CPU profile (runtime/pprof) of the
	// whole process over the whole run: every validator, the load
	// generator and the followers.
	CPUProfile io.Writer
	// OnSnapshot, when set, receives the load generator's live snapshots
	// (every second) with the rate they belong to.
	OnSnapshot func(rate float64, s loadtest.Snapshot)
	// OnPoint, when set, receives each rate's result as it completes.
	OnPoint func(Point)
}

// EnsureDefaults fills zero fields with their defaults and returns o.
func (o *Options) EnsureDefaults() *Options {
	if o.Duration == 0 {
		o.Duration = 20 * time.Second
	}
	if o.Drain == 0 {
		o.Drain = 5 * time.Second
	}
	if o.Validators == 0 {
		o.Validators = 4
	}
	if o.TxSize == 0 {
		o.TxSize = 512
	}
	if o.SustainedFraction == 0 {
		o.SustainedFraction = 0.95
	}
	if o.MaxP99 == 0 {
		o.MaxP99 = 2 * time.Second
	}
	if o.StopFraction == 0 {
		o.StopFraction = 0.80
	}
	if o.ConnectTimeout == 0 {
		o.ConnectTimeout = 30 * time.Second
	}
	if o.Pause == 0 {
		o.Pause = time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Validate reports options that cannot work. Call EnsureDefaults first.
func (o *Options) Validate() error {
	var errs []error
	if len(o.Rates) == 0 {
		errs = append(errs, errors.New("no rates"))
	}
	if len(o.Rates) > MaxRates {
		errs = append(errs, fmt.Errorf("%d rates, at most %d", len(o.Rates), MaxRates))
	}
	for i, r := range o.Rates {
		if _, err := checkRate(r, fmt.Sprint(r)); err != nil {
			errs = append(errs, err)
		} else if i > 0 && r <= o.Rates[i-1] {
			errs = append(errs, fmt.Errorf("rate %v not above %v: rates must rise", r, o.Rates[i-1]))
		}
	}
	if o.Duration < 100*time.Millisecond || o.Duration > 24*time.Hour {
		errs = append(errs, fmt.Errorf("duration %v outside [100ms, 24h]", o.Duration))
	}
	if o.Drain < 0 || o.Drain > time.Hour {
		errs = append(errs, fmt.Errorf("drain %v outside [0, 1h]", o.Drain))
	}
	if o.Validators < 1 || o.Validators > dag.MaxCommitteeSize {
		errs = append(errs, fmt.Errorf("%d validators outside [1, %d]", o.Validators, dag.MaxCommitteeSize))
	}
	if o.TxSize < loadtest.MinTxSize || o.TxSize > dag.MaxTxSize {
		errs = append(errs, fmt.Errorf("transaction size %d outside [%d, %d]", o.TxSize, loadtest.MinTxSize, dag.MaxTxSize))
	}
	if !(o.SustainedFraction > 0 && o.SustainedFraction <= 1) {
		errs = append(errs, fmt.Errorf("sustained fraction %v outside (0, 1]", o.SustainedFraction))
	}
	if !(o.StopFraction > 0) || math.IsInf(o.StopFraction, 0) {
		errs = append(errs, fmt.Errorf("stop fraction %v: want a positive share", o.StopFraction))
	}
	if o.MaxP99 <= 0 {
		errs = append(errs, fmt.Errorf("max p99 %v: want a positive latency", o.MaxP99))
	}
	if o.ConnectTimeout <= 0 || o.Pause < 0 {
		errs = append(errs, fmt.Errorf("connect timeout %v and pause %v: want positive and non-negative", o.ConnectTimeout, o.Pause))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("consensus bench: invalid options: %w", err)
	}
	return nil
}

// Point is the outcome of one offered rate.
type Point struct {
	// Rate is the rate asked for; OfferedTPS what the generator offered
	// (transactions that fell due, per second; over the steady-state span
	// when Steady).
	Rate       float64 `json:"rate"`
	OfferedTPS float64 `json:"offered_tps"`
	// CommittedTPS is the steady-state committed rate (see SteadyRates;
	// Steady is false when the run was too short for it and the window
	// rate stands in); CommittedShare is CommittedTPS / OfferedTPS, both
	// taken over the same span.
	CommittedTPS   float64 `json:"committed_tps"`
	CommittedShare float64 `json:"committed_share"`
	Steady         bool    `json:"steady"`
	// WindowCommittedTPS counts the transactions committed before the
	// load ended, per second of load (the load report's committed_tps).
	WindowCommittedTPS float64 `json:"window_committed_tps"`
	// Latency from the moment a transaction fell due to the commit that
	// holds it, at the node it was sent to, in milliseconds.
	P50MS float64 `json:"p50_ms"`
	P95MS float64 `json:"p95_ms"`
	P99MS float64 `json:"p99_ms"`
	MaxMS float64 `json:"max_ms"`
	// Consistent: every validator committed the same sequence.
	Consistent    bool   `json:"consistent"`
	CommonCommits uint64 `json:"common_commits"`
	// Rejected counts transactions the nodes refused as busy, Dropped
	// those the client could not send in time, Failed other refusals.
	Rejected uint64 `json:"rejected"`
	Dropped  uint64 `json:"dropped"`
	Failed   uint64 `json:"failed"`
	// Rounds the devnet advanced during the run of this rate.
	Rounds uint64 `json:"rounds"`
	// CPUSeconds is the CPU time the whole process (every validator, the
	// load generator, the followers) used from the start of the load to
	// the end of the drain, and CPUMicrosPerTx that time per committed
	// transaction: a cost that, unlike throughput, depends little on
	// what else runs on the machine (0: unknown).
	CPUSeconds     float64 `json:"cpu_seconds"`
	CPUMicrosPerTx float64 `json:"cpu_us_per_tx"`
	// Sustained: the rate met the criteria (see Result).
	Sustained bool `json:"sustained"`
	// LoadStart and LoadEnd are the load averages around this rate.
	LoadStart LoadAvg `json:"load_start"`
	LoadEnd   LoadAvg `json:"load_end"`
	// Warning reports a measurement problem that makes the counts too
	// low (a follower that lagged behind).
	Warning string `json:"warning,omitempty"`
	// Interrupted: the run was canceled during this rate.
	Interrupted bool `json:"interrupted,omitempty"`
	// Report is the load generator's full summary.
	Report *loadtest.Report `json:"report,omitempty"`
}

// Result is a whole run.
type Result struct {
	Started time.Time `json:"started"`
	// Command is the command line that produced the result, when the
	// caller sets it.
	Command string  `json:"command,omitempty"`
	Machine Machine `json:"machine"`
	// The devnet and load.
	Validators int         `json:"validators"`
	TxSize     int         `json:"tx_size"`
	DurationS  float64     `json:"duration_s"`
	Network    string      `json:"network"`
	Fsync      bool        `json:"fsync"`
	Execution  bool        `json:"execution"`
	DAG        dag.Options `json:"dag"`
	// The criteria of a sustained rate.
	SustainedFraction float64 `json:"sustained_fraction"`
	MaxP99MS          float64 `json:"max_p99_ms"`
	StopFraction      float64 `json:"stop_fraction"`
	// Points are the rates run, ascending.
	Points []Point `json:"points"`
	// SustainedRate is the highest sustained offered rate (0: none), and
	// SustainedIndex its index in Points (-1: none).
	SustainedRate  float64 `json:"sustained_rate"`
	SustainedIndex int     `json:"sustained_index"`
	// Skipped lists the rates not run, and StoppedEarly says why.
	Skipped      []float64 `json:"skipped,omitempty"`
	StoppedEarly string    `json:"stopped_early,omitempty"`
}

// IsSustained reports whether p meets the criteria: at least fraction of
// the offered rate committed, p99 below maxP99, validators consistent,
// the run complete.
func IsSustained(p Point, fraction float64, maxP99 time.Duration) bool {
	if p.Interrupted || !p.Consistent || p.OfferedTPS <= 0 {
		return false
	}
	return p.CommittedTPS >= fraction*p.OfferedTPS && p.P99MS < float64(maxP99)/float64(time.Millisecond)
}

// HighestSustained returns the index of the point of the highest offered
// rate that is sustained, or -1. A rate that passes above one that
// failed still counts: the criteria are per rate.
func HighestSustained(points []Point, fraction float64, maxP99 time.Duration) int {
	best := -1
	for i, p := range points {
		if IsSustained(p, fraction, maxP99) && (best < 0 || p.Rate > points[best].Rate) {
			best = i
		}
	}
	return best
}

// Run measures every rate of o in turn, each on a fresh devnet, and
// returns the result. It stops early when a rate commits less than
// o.StopFraction of what was offered, or when ctx ends (the result then
// holds the rates done so far, and the error is ctx's).
func Run(ctx context.Context, o Options) (*Result, error) {
	o.EnsureDefaults()
	if err := o.Validate(); err != nil {
		return nil, err
	}
	res := &Result{Started: time.Now().UTC(), Machine: ThisMachine(), Validators: o.Validators, TxSize: o.TxSize,
		DurationS: o.Duration.Seconds(), Network: "quic", Fsync: !o.NoSync, Execution: o.Execute,
		SustainedFraction: o.SustainedFraction, MaxP99MS: float64(o.MaxP99) / float64(time.Millisecond),
		StopFraction: o.StopFraction, SustainedIndex: -1}
	if o.InMemoryNetwork {
		res.Network = "memory"
	}
	res.DAG = engine.DefaultDAGOptions()
	applyDAG(&res.DAG, o.DAG)

	base := o.BaseDir
	if base == "" {
		dir, err := os.MkdirTemp("", "dagd-bench-consensus-")
		if err != nil {
			return nil, fmt.Errorf("consensus bench: temporary directory: %w", err)
		}
		base = dir
		defer os.RemoveAll(dir)
	} else if err := os.MkdirAll(base, 0o750); err != nil {
		return nil, fmt.Errorf("consensus bench: base directory: %w", err)
	}
	if o.CPUProfile != nil {
		if err := pprof.StartCPUProfile(o.CPUProfile); err != nil {
			return nil, fmt.Errorf("consensus bench: CPU profile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}

	var runErr error
	for i, rate := range o.Rates {
		if i > 0 && o.Pause > 0 {
			select {
			case <-ctx.Done():
			case <-time.After(o.Pause):
			}
		}
		if err := ctx.Err(); err != nil {
			res.Skipped = append(res.Skipped, o.Rates[i:]...)
			res.StoppedEarly = "interrupted"
			runErr = err
			break
		}
		dir := filepath.Join(base, fmt.Sprintf("rate-%d-%g", i, rate))
		p, err := runRate(ctx, &o, rate, dir)
		if err != nil {
			res.Skipped = append(res.Skipped, o.Rates[i:]...)
			res.StoppedEarly = fmt.Sprintf("rate %g failed: %v", rate, err)
			runErr = fmt.Errorf("consensus bench: rate %g: %w", rate, err)
			break
		}
		if o.BaseDir == "" {
			if err := os.RemoveAll(dir); err != nil {
				o.Logger.Warn("remove devnet directory", "dir", dir, "err", err)
			}
		}
		p.Sustained = IsSustained(p, o.SustainedFraction, o.MaxP99)
		res.Points = append(res.Points, p)
		o.Logger.Info("rate done", "rate", rate, "committed_tps", p.CommittedTPS, "p50_ms", p.P50MS, "p99_ms", p.P99MS,
			"consistent", p.Consistent, "sustained", p.Sustained, "load", p.LoadEnd.String())
		if o.OnPoint != nil {
			o.OnPoint(p)
		}
		if p.Interrupted {
			res.Skipped = append(res.Skipped, o.Rates[i+1:]...)
			res.StoppedEarly = "interrupted"
			runErr = ctx.Err()
			break
		}
		if p.CommittedTPS < o.StopFraction*p.OfferedTPS && i+1 < len(o.Rates) {
			res.Skipped = append(res.Skipped, o.Rates[i+1:]...)
			res.StoppedEarly = fmt.Sprintf("at %g tx/s only %.0f%% of the offered load committed (below %.0f%%): higher rates skipped",
				rate, 100*p.CommittedShare, 100*o.StopFraction)
			break
		}
	}
	res.SustainedIndex = HighestSustained(res.Points, o.SustainedFraction, o.MaxP99)
	if res.SustainedIndex >= 0 {
		res.SustainedRate = res.Points[res.SustainedIndex].Rate
	}
	res.Machine.LoadEnd = ReadLoadAvg()
	return res, runErr
}

// applyDAG copies the non-zero tuning fields of set onto o.
func applyDAG(o *dag.Options, set dag.Options) {
	if set.BatchSize != 0 {
		o.BatchSize = set.BatchSize
	}
	if set.MaxBatchDelay != 0 {
		o.MaxBatchDelay = set.MaxBatchDelay
	}
	if set.MaxHeaderDelay != 0 {
		o.MaxHeaderDelay = set.MaxHeaderDelay
	}
	if set.MinHeaderDelay != 0 {
		o.MinHeaderDelay = set.MinHeaderDelay
	}
	if set.MaxPendingBatches != 0 {
		o.MaxPendingBatches = set.MaxPendingBatches
	}
}

// consensusTarget offers load to a devnet without following execution
// (it hides DevnetTarget's FollowExecution): with execution disabled
// there is nothing to follow, and with opaque load nothing to wait for.
type consensusTarget struct{ loadtest.Target }

// runRate runs one rate on a fresh devnet in dir.
func runRate(ctx context.Context, o *Options, rate float64, dir string) (Point, error) {
	p := Point{Rate: rate, LoadStart: ReadLoadAvg()}
	d, err := engine.StartDevnet(context.WithoutCancel(ctx), engine.DevnetOptions{
		Validators: o.Validators, BaseDir: dir, DAG: o.DAG, InMemoryNetwork: o.InMemoryNetwork, NoSync: o.NoSync,
		Logger: o.Logger.With("rate", rate), Accounts: -1, Execution: execution.Options{Disabled: !o.Execute},
	})
	if err != nil {
		return p, fmt.Errorf("start devnet: %w", err)
	}
	defer func() {
		if cerr := d.Close(); cerr != nil {
			o.Logger.Warn("devnet shutdown", "rate", rate, "err", cerr)
		}
	}()
	if err := waitLive(ctx, d, o.ConnectTimeout); err != nil {
		return p, err
	}
	dt := inproc.NewDevnetTarget(d)
	var target loadtest.Target = dt
	if !o.Execute {
		target = consensusTarget{dt}
	}
	var snaps []loadtest.Snapshot // only the reporter goroutine appends, before Run returns
	lo := loadtest.Options{Rate: rate, TxSize: o.TxSize, Duration: o.Duration, Drain: o.Drain,
		Logger: o.Logger.With("rate", rate), OnSnapshot: func(s loadtest.Snapshot) {
			snaps = append(snaps, s)
			if o.OnSnapshot != nil {
				o.OnSnapshot(rate, s)
			}
		}}
	cpu0 := cputime.Process()
	rep, err := loadtest.Run(ctx, target, lo)
	if err != nil {
		return p, fmt.Errorf("load: %w", err)
	}
	if cpu := cputime.Process() - cpu0; cpu0 > 0 && cpu > 0 {
		p.CPUSeconds = cpu.Seconds()
		if rep.CommittedTx > 0 {
			p.CPUMicrosPerTx = 1e6 * p.CPUSeconds / float64(rep.CommittedTx)
		}
	}
	if ferr := dt.Err(); ferr != nil {
		p.Warning = fmt.Sprintf("commits missed by the follower (counts too low): %v", ferr)
	}
	p.Interrupted = ctx.Err() != nil
	p.LoadEnd = ReadLoadAvg()
	fillPoint(&p, rep, snaps, o.Duration)
	return p, nil
}

// minSteadySpan is the shortest window SteadyRates measures over.
const minSteadySpan = 5 * time.Second

// WarmUp returns the part of a rate's load that steady-state throughput
// leaves out: a quarter of the duration, at most 5 s.
func WarmUp(d time.Duration) time.Duration { return min(d/4, 5*time.Second) }

// SteadyRates returns the offered and committed rates between the end of
// the warm-up (WarmUp(d)) and the end of the load d, from the load
// generator's cumulative snapshots; ok is false when the snapshots do not
// span at least minSteadySpan of that window (commits come in bursts, one
// per leader, so a shorter window can hold none or a backlog).
//
// The load report's committed_tps counts what committed before the load
// ended, so it misses about latency/duration of the load (the
// transactions still in flight at the end) and the pipeline's fill at the
// start; with 20 s runs and 1 s latencies that is 5 %, as much as the
// sustained criterion allows. The steady-state rate has neither bias.
func SteadyRates(snaps []loadtest.Snapshot, d time.Duration) (offered, committed float64, ok bool) {
	w := WarmUp(d)
	first, last := -1, -1
	for i, s := range snaps {
		if first < 0 && s.Elapsed >= w {
			first = i
		}
		if s.Elapsed <= d+d/100+50*time.Millisecond {
			last = i
		}
	}
	if first < 0 || last <= first {
		return 0, 0, false
	}
	a, b := snaps[first], snaps[last]
	span := (b.Elapsed - a.Elapsed).Seconds()
	if span < minSteadySpan.Seconds()-1e-3 || b.Committed < a.Committed || b.Offered < a.Offered {
		return 0, 0, false
	}
	return float64(b.Offered-a.Offered) / span, float64(b.Committed-a.Committed) / span, true
}

// fillPoint copies a load report's figures into p, with the steady-state
// rates when the snapshots allow.
func fillPoint(p *Point, rep *loadtest.Report, snaps []loadtest.Snapshot, d time.Duration) {
	p.Report = rep
	p.OfferedTPS, p.CommittedTPS = rep.OfferedTPS, rep.CommittedTPS
	p.WindowCommittedTPS, p.Steady = rep.CommittedTPS, false
	if off, com, ok := SteadyRates(snaps, d); ok && off > 0 {
		p.OfferedTPS, p.CommittedTPS, p.Steady = off, com, true
	}
	if p.OfferedTPS > 0 {
		p.CommittedShare = p.CommittedTPS / p.OfferedTPS
	}
	p.P50MS, p.P95MS, p.P99MS, p.MaxMS = rep.Latency.P50, rep.Latency.P95, rep.Latency.P99, rep.Latency.Max
	p.Consistent, p.CommonCommits = rep.Consistent, rep.Consistency.CommonSeqs
	p.Rejected, p.Dropped, p.Failed, p.Rounds = rep.Rejected, rep.Dropped, rep.Failed, rep.Rounds
}

// waitLive waits until every validator is connected to a quorum and has
// committed once, so that connection set-up does not count as latency.
func waitLive(ctx context.Context, d *engine.Devnet, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		live := true
		for i := 0; i < d.Size(); i++ {
			n := d.Node(i)
			if n == nil {
				live = false
				break
			}
			st := n.Status()
			if (d.Size() > 1 && !st.QuorumConnected) || st.LastCommittedSeq == 0 {
				live = false
				break
			}
		}
		if live {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("devnet not connected and committing within %v", timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}
