package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/dagd/dagd/crypto"
	"github.com/dagd/dagd/dag"
	"github.com/dagd/dagd/engine"
	"github.com/dagd/dagd/engine/execution"
	"github.com/dagd/dagd/loadtest"
	"github.com/dagd/dagd/loadtest/inproc"
)

// dagFlags are the consensus tuning flags shared by devnet commands.
type dagFlags struct {
	batchSize   int
	batchDelay  time.Duration
	headerDelay time.Duration
	minHeader   time.Duration
	maxPending  int
}

func (f *dagFlags) register(cmd *cobra.Command) {
	def := engine.DefaultDAGOptions()
	cmd.Flags().IntVar(&f.batchSize, "batch-size", def.BatchSize, "seal a batch at this many bytes of transactions")
	cmd.Flags().DurationVar(&f.batchDelay, "batch-delay", time.Duration(def.MaxBatchDelay)*time.Millisecond, "seal a non-empty batch after this long")
	cmd.Flags().DurationVar(&f.headerDelay, "header-delay", time.Duration(def.MaxHeaderDelay)*time.Millisecond, "propose a header without batches after this long")
	cmd.Flags().DurationVar(&f.minHeader, "min-header-delay", time.Duration(def.MinHeaderDelay)*time.Millisecond, "least time between two own headers")
	cmd.Flags().IntVar(&f.maxPending, "max-pending-batches", def.MaxPendingBatches, "own batches not yet in a header before submissions are refused as busy")
}

func (f *dagFlags) options() dag.Options {
	ms := func(d time.Duration) dag.Time { return dag.Time(d / time.Millisecond) }
	return dag.Options{BatchSize: f.batchSize, MaxBatchDelay: ms(f.batchDelay), MaxHeaderDelay: ms(f.headerDelay),
		MinHeaderDelay: ms(f.minHeader), MaxPendingBatches: f.maxPending}
}

func newLogger(w io.Writer, level string) (*slog.Logger, error) {
	if level == "off" || level == "" {
		return slog.New(slog.DiscardHandler), nil
	}
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: %w", level, err)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})), nil
}

func newDevnetCmd() *cobra.Command {
	var (
		validators int
		duration   time.Duration
		rate       float64
		txSize     int
		asJSON     bool
		dir        string
		api        bool
		pprof      bool
		memNet     bool
		noSync     bool
		logLevel   string
		memtable   int
		workload   string
		accounts   int
		df         dagFlags
	)
	cmd := &cobra.Command{
		Use:   "devnet",
		Short: "Run a local devnet of validators in one process under open-loop load",
		Long: `devnet starts N validators in this process, each with its own loopback QUIC
port and pebble directory and deterministic keys, offers them transactions at a
fixed rate (open loop: transactions are due on schedule whatever happened to
earlier ones) and follows their commits. It prints one line per second (round,
committed tx/s, p50/p99 commit latency from submission to commit, pending) and
a summary; with --json the last line is a JSON object. Latency is end to end:
from the moment a transaction fell due to the moment the node it was sent to
delivered the commit holding it. It exits with status 2 if two validators
committed different sequences. It prints what it runs at start; Ctrl-C stops
the load, then the summary is printed and the devnet stopped.

By default (--workload transfers) the transactions are signed native-token
transfers among the genesis accounts, executed by every validator: the summary
counts those that got a receipt (executed_tx, executed_tps), by receipt code,
and compares every validator's state root at every commit, exiting with status
2 if two differ. --workload mixed runs every operation of the token module,
by operation, telling the failures the workload means (a soulbound transfer,
an attach below the token's own child) from unexpected ones. --workload opaque
offers unsigned --tx-size-byte payloads that the validators order but do not
execute: consensus alone, for benchmarks (dagd bench consensus measures the
same way).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out := cmd.OutOrStdout()
			logger, err := newLogger(cmd.ErrOrStderr(), logLevel)
			if err != nil {
				return err
			}
			// The devnet outlives the load: Ctrl-C ends the load, then
			// the summary is made and the devnet stopped.
			ctx := cmd.Context()
			signed := workload == "transfers" || workload == "mixed"
			if workload != "opaque" && !signed {
				return fmt.Errorf("--workload %q: want opaque, transfers or mixed", workload)
			}
			if accounts == 0 {
				accounts = engine.DefaultDevnetAccounts
				if signed {
					// Each account waits for its receipt before it sends
					// again: enough accounts for several seconds of load.
					accounts = max(accounts, min(int(rate*devnetAccountSeconds), 200_000))
				}
			}
			if txSizeSet := cmd.Flags().Changed("tx-size"); txSizeSet && signed {
				return fmt.Errorf("--tx-size applies to --workload opaque only (the %s workload's transactions have their own size)", workload)
			}
			if accounts < 2 && signed {
				return fmt.Errorf("--accounts %d: the %s workload needs at least 2", accounts, workload)
			}
			var exec execution.Options
			if workload == "mixed" {
				// Withdrawals of the mixed workload come soon after the
				// unbond: a devnet's unbonding period is short.
				exec.Params.UnbondingPeriod = uint64(loadtest.MixedUnbondingPeriod / time.Millisecond)
			}
			d, err := engine.StartDevnet(context.WithoutCancel(ctx), engine.DevnetOptions{
				Validators: validators, BaseDir: dir, DAG: df.options(), API: api || pprof, EnablePprof: pprof,
				InMemoryNetwork: memNet, NoSync: noSync, Logger: logger,
				MemTableSize: uint64(memtable) << 20, Accounts: accounts, Execution: exec,
			})
			if err != nil {
				return err
			}
			defer d.Close()
			printDevnetBanner(out, d, devnetBanner{workload: workload, rate: rate, txSize: txSize, duration: duration,
				accounts: accounts, memNet: memNet, api: api || pprof})
			if rate == 0 {
				// No load of its own: serve the APIs (for dagd loadtest)
				// until Ctrl-C or --duration.
				if !api && !pprof {
					return errors.New("--rate 0 runs the devnet without load; add --api to reach it")
				}
				wait := ctx
				if duration > 0 {
					var cancel context.CancelFunc
					wait, cancel = context.WithTimeout(ctx, duration)
					defer cancel()
				}
				<-wait.Done()
				for i := 0; i < d.Size(); i++ {
					st := d.Node(i).Status()
					fmt.Fprintf(out, "node %d: round %d, last committed seq %d, digest %.16s, %d tx committed\n",
						i, st.Round, st.LastCommittedSeq, st.CommitDigest, st.CommittedTxs)
				}
				return nil
			}
			var wl loadtest.Workload
			drain := time.Duration(0) // loadtest's default
			if signed {
				drain = 60 * time.Second // at most: execution may trail commits
				keys := make([]*crypto.AccountPrivateKey, accounts)
				for i := range keys {
					keys[i] = d.AccountKey(i)
				}
				if workload == "transfers" {
					wl, err = loadtest.NewTransfers(loadtest.TransferOptions{Keys: keys, ChainID: d.ChainID()})
				} else {
					wl, err = loadtest.NewMixed(loadtest.MixedOptions{Keys: keys, ChainID: d.ChainID(), Validators: d.Size(),
						UnbondingPeriod: loadtest.MixedUnbondingPeriod})
				}
				if err != nil {
					return err
				}
			}
			target := inproc.NewDevnetTarget(d)
			draining := false
			rep, err := loadtest.Run(ctx, target, loadtest.Options{
				Rate: rate, TxSize: txSize, Duration: duration, Logger: logger, Workload: wl, Drain: drain,
				OnSnapshot: func(s loadtest.Snapshot) {
					if duration > 0 && s.Elapsed > duration && !draining {
						// The rates fall to 0 from here: say why.
						draining = true
						what := "commits"
						if signed {
							what = "commits and receipts"
						}
						fmt.Fprintf(out, "devnet: load over; waiting for the last %s (%d pending)\n", what, s.Pending)
					}
					printSnapshot(out, s, signed)
				},
			})
			if err != nil {
				return err
			}
			if err := target.Err(); err != nil {
				fmt.Fprintf(out, "warning: commits missed by the follower: %v\n", err)
			}
			if cerr := d.Close(); cerr != nil {
				fmt.Fprintf(out, "warning: devnet shutdown: %v\n", cerr)
			}
			return finishReport(out, rep, asJSON)
		},
	}
	f := cmd.Flags()
	f.IntVar(&validators, "validators", 4, "number of validators")
	f.DurationVar(&duration, "duration", 0, "how long to offer load (0: until Ctrl-C)")
	f.Float64Var(&rate, "rate", 1000, "transactions per second offered (0: no load, serve the APIs for dagd loadtest)")
	f.IntVar(&txSize, "tx-size", 512, "payload size in bytes (--workload opaque only)")
	f.BoolVar(&asJSON, "json", false, "print the summary as one JSON object on the last line")
	f.StringVar(&dir, "dir", "", "directory for the nodes' stores (default: a temporary directory, removed at exit)")
	f.BoolVar(&api, "api", false, "serve every node's HTTP API on a free loopback port")
	f.BoolVar(&pprof, "pprof", false, "serve /debug/pprof/ on the nodes' APIs (implies --api)")
	f.BoolVar(&memNet, "mem-network", false, "connect the nodes in memory instead of QUIC (to measure consensus without the network)")
	f.BoolVar(&noSync, "no-sync", false, "do not fsync the stores (benchmarks only: a crash may make a node vote twice)")
	f.IntVar(&memtable, "memtable-mb", 0, "pebble memtable size per node in MiB (0: the engine's default)")
	f.StringVar(&logLevel, "log-level", "off", "node logs to stderr: off, debug, info, warn, error")
	f.StringVar(&workload, "workload", "transfers", "load: transfers (signed native-token transfers among the genesis accounts, executed, state roots compared), mixed (every token operation besides transfers, with deliberate failures; see loadtest.Mixed) or opaque (unsigned --tx-size payloads the nodes order but do not execute: consensus only, for benchmarks)")
	f.IntVar(&accounts, "accounts", 0, "funded accounts in the devnet's genesis, among which the transfers and mixed workloads send (0: 1024, or 8 s of --rate with a signed workload)")
	df.register(cmd)
	return cmd
}

// printSnapshot prints one progress line; executed transactions only for
// a workload that executes (an opaque one never does).
func printSnapshot(w io.Writer, s loadtest.Snapshot, executes bool) {
	executed := ""
	if executes {
		executed = fmt.Sprintf(" executed=%.0f tx/s", s.ExecutedTPS)
	}
	fmt.Fprintf(w, "t=%3.0fs round=%d committed=%.0f tx/s%s p50=%s p99=%s pending=%d rejected=%d dropped=%d\n",
		s.Elapsed.Seconds(), s.Round, s.CommittedTPS, executed, fmtMS(s.P50), fmtMS(s.P99), s.Pending, s.Rejected, s.Dropped)
}

// devnetBanner is what the devnet command tells at start.
type devnetBanner struct {
	workload string
	rate     float64
	txSize   int
	duration time.Duration
	accounts int
	memNet   bool
	api      bool
}

// printDevnetBanner says what is running (nodes, network, API addresses,
// workload, rate, duration) and how to stop it.
func printDevnetBanner(w io.Writer, d *engine.Devnet, b devnetBanner) {
	network := "QUIC on loopback"
	if b.memNet {
		network = "in memory"
	}
	fmt.Fprintf(w, "devnet: %d validators (chain %s), connected %s\n", d.Size(), d.ChainID(), network)
	for i := 0; i < d.Size(); i++ {
		if b.api {
			fmt.Fprintf(w, "devnet: node %d API http://%s\n", i, d.Node(i).APIAddr())
		}
	}
	if !b.api {
		fmt.Fprintln(w, "devnet: no HTTP API (add --api to serve one per node)")
	}
	switch b.workload {
	case "opaque":
		fmt.Fprintf(w, "devnet: workload opaque: unsigned %d-byte payloads, ordered but not executed (consensus only)\n", b.txSize)
	case "transfers":
		fmt.Fprintf(w, "devnet: workload transfers: signed native-token transfers among %d genesis accounts, executed; state roots compared at every commit\n", b.accounts)
	default:
		fmt.Fprintf(w, "devnet: workload %s: every token operation among %d genesis accounts, executed; state roots compared at every commit\n", b.workload, b.accounts)
	}
	until := "until Ctrl-C"
	if b.duration > 0 {
		until = fmt.Sprintf("for %s (Ctrl-C stops it sooner)", b.duration)
	}
	if b.rate == 0 {
		fmt.Fprintf(w, "devnet: no load of its own, serving the APIs %s\n", until)
		return
	}
	fmt.Fprintf(w, "devnet: offering %.0f tx/s %s, then a summary; one progress line per second\n", b.rate, until)
}

func fmtMS(d time.Duration) string { return fmt.Sprintf("%dms", d.Milliseconds()) }

// devnetAccountSeconds: a devnet under a signed workload gets this many
// seconds of --rate of accounts by default. Each account has one
// transaction in flight until it is committed, so the accounts in use
// are the rate times the commit latency; the others are a reserve for
// latency spikes (and for transactions lost and sent again).
const devnetAccountSeconds = 8

// fmtCounts prints counts by name in name order: "ok=12 cycle=2".
func fmtCounts(m map[string]uint64) string {
	var b strings.Builder
	for i, k := range slices.Sorted(maps.Keys(m)) {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s=%d", k, m[k])
	}
	return b.String()
}

// finishReport prints the summary (and the JSON line) and turns an
// inconsistent run into exit status 2.
func finishReport(w io.Writer, rep *loadtest.Report, asJSON bool) error {
	fmt.Fprintf(w, "summary: %d validators, %.1fs, offered %.0f tx/s (%d tx, %d accepted, %d rejected busy, %d failed, %d dropped by the client)\n",
		rep.Validators, rep.DurationS, rep.OfferedTPS, rep.Offered, rep.Accepted, rep.Rejected, rep.Failed, rep.Dropped)
	fmt.Fprintf(w, "summary: committed %d tx, %.0f tx/s; latency p50 %.1fms p95 %.1fms p99 %.1fms max %.1fms; %d rounds; %s\n",
		rep.CommittedTx, rep.CommittedTPS, rep.Latency.P50, rep.Latency.P95, rep.Latency.P99, rep.Latency.Max, rep.Rounds,
		rep.Consistency.String())
	if rep.ExecutedTx > 0 {
		fmt.Fprintf(w, "summary: executed %d tx (got a receipt; %.1f%% of offered), %.0f tx/s while the load ran: %d ok, %d expected failures, %d unexpected outcomes",
			rep.ExecutedTx, 100*float64(rep.ExecutedTx)/float64(max(rep.Offered, 1)), rep.ExecutedTPS, rep.ExecOKTx,
			rep.ExpectedFailures, rep.UnexpectedTx)
		if len(rep.UnexpectedCodes) > 0 {
			fmt.Fprintf(w, " %s", fmtCounts(rep.UnexpectedCodes))
		}
		if l := rep.ExecLatency; l != nil {
			fmt.Fprintf(w, "; execution latency p50 %.1fms p99 %.1fms", l.P50, l.P99)
		}
		fmt.Fprintln(w)
		fmt.Fprintf(w, "summary: receipts by code: %s\n", fmtCounts(rep.ReceiptCodes))
		if rep.ExecDroppedTx > 0 {
			fmt.Fprintf(w, "summary: dropped at execution without a receipt (paid nothing): %d tx\n", rep.ExecDroppedTx)
		}
		if len(rep.ReceiptsByOp) > 1 {
			ops := slices.Sorted(maps.Keys(rep.ReceiptsByOp))
			for _, op := range ops {
				fmt.Fprintf(w, "summary:   %-28s %s\n", op, fmtCounts(rep.ReceiptsByOp[op]))
			}
		}
	}
	if sc := rep.StateConsistency; sc != nil {
		fmt.Fprintf(w, "summary: state roots %s\n", sc.String())
	}
	if rep.FirstError != "" {
		fmt.Fprintf(w, "summary: first error: %s\n", rep.FirstError)
	}
	if asJSON {
		b, err := json.Marshal(rep)
		if err != nil {
			return err
		}
		fmt.Fprintln(w, string(b))
	}
	if !rep.Consistent {
		return &exitError{code: 2, err: errors.New("validators committed different sequences or reached different state roots")}
	}
	return nil
}
