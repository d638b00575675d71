package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/dagd/dagd/bench/consensus"
	"github.com/dagd/dagd/loadtest"
)

// newBenchConsensusCmd is `dagd bench consensus`: latency against
// throughput of a local devnet at rising offered rates (bench/consensus).
func newBenchConsensusCmd() *cobra.Command {
	var (
		o          consensus.Options
		rates      string
		start      float64
		step       float64
		maxRate    float64
		out        string
		cpuProfile string
		asJSON     bool
		verbose    bool
		logLevel   string
		df         dagFlags
	)
	cmd := &cobra.Command{
		Use:   "consensus",
		Short: "Measure consensus latency against throughput at rising offered rates",
		Long: `consensus runs, for each offered rate, a fresh devnet of --validators nodes in
this process (QUIC on loopback unless --mem-network), offers it open-loop load
of --tx-size byte transactions for --duration, and records the offered and
committed tx/s, the p50/p95/p99 latency from submission to commit, and whether
the validators agree. The highest sustained rate is the highest whose committed
throughput is at least --sustained-fraction of the offered one with p99 below
--max-p99. A rate that commits less than --stop-fraction of its load ends the
run. It writes DIR/consensus.json, DIR/consensus.md (a table) and
DIR/consensus.svg (latency against committed throughput, p50 and p99) to
--out, with the machine (CPU, nproc, GOMAXPROCS, Go, load average), since
every validator shares this machine's cores. Rates come from --rates
(5k,10k,20k) or from --start, --step and --max. It exits with status 2 if
validators committed different sequences.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			w := cmd.OutOrStdout()
			logger, err := newLogger(cmd.ErrOrStderr(), logLevel)
			if err != nil {
				return err
			}
			f := cmd.Flags()
			switch {
			case f.Changed("rates") && (f.Changed("start") || f.Changed("step") || f.Changed("max")):
				return errors.New("give either --rates or --start/--step/--max, not both")
			case f.Changed("start") || f.Changed("step") || f.Changed("max"):
				if !f.Changed("start") || !f.Changed("max") {
					return errors.New("--start and --max go together (--step defaults to --start)")
				}
				if !f.Changed("step") {
					step = start
				}
				if o.Rates, err = consensus.RateRange(start, step, maxRate); err != nil {
					return err
				}
			default:
				if o.Rates, err = consensus.ParseRates(rates); err != nil {
					return err
				}
			}
			if out == "" {
				return errors.New("--out: an output directory is required")
			}
			o.Logger = logger
			o.DAG = df.options()
			if cpuProfile != "" {
				pf, err := os.Create(cpuProfile)
				if err != nil {
					return fmt.Errorf("--cpuprofile: %w", err)
				}
				defer pf.Close()
				o.CPUProfile = pf
			}
			if !asJSON {
				fmt.Fprintf(w, "rates %v tx/s, %v each, %d validators, %d-byte transactions\n", o.Rates, o.Duration, o.Validators, o.TxSize)
				o.OnPoint = func(p consensus.Point) {
					fmt.Fprintf(w, "offered %6.0f tx/s: committed %6.0f tx/s (%5.1f%%), p50 %6.0f ms, p95 %6.0f ms, p99 %6.0f ms, consistent %v, sustained %v, %.1f CPU µs/tx, load %.2f -> %.2f\n",
						p.OfferedTPS, p.CommittedTPS, 100*p.CommittedShare, p.P50MS, p.P95MS, p.P99MS, p.Consistent, p.Sustained, p.CPUMicrosPerTx, p.LoadStart[0], p.LoadEnd[0])
					if p.Warning != "" {
						fmt.Fprintf(w, "  warning: %s\n", p.Warning)
					}
				}
				if verbose {
					o.OnSnapshot = func(rate float64, s loadtest.Snapshot) {
						fmt.Fprintf(w, "  [%.0f tx/s] ", rate)
						printSnapshot(w, s, false) // opaque load: consensus only
					}
				}
			}
			res, runErr := consensus.Run(cmd.Context(), o)
			if res == nil {
				return runErr
			}
			res.Command = commandLine(cmd)
			if err := consensus.WriteFiles(out, res); err != nil {
				return errors.Join(runErr, err)
			}
			if asJSON {
				b, err := json.Marshal(res)
				if err != nil {
					return err
				}
				fmt.Fprintln(w, string(b))
			} else {
				if res.SustainedIndex >= 0 {
					fmt.Fprintf(w, "highest sustained rate: %.0f tx/s\n", res.SustainedRate)
				} else {
					fmt.Fprintln(w, "no rate sustained")
				}
				if res.StoppedEarly != "" {
					fmt.Fprintf(w, "stopped early: %s\n", res.StoppedEarly)
				}
				fmt.Fprintf(w, "wrote %s/{%s,%s,%s}\n", out, consensus.JSONFile, consensus.MarkdownFile, consensus.SVGFile)
			}
			if runErr != nil {
				return runErr
			}
			for _, p := range res.Points {
				if !p.Consistent {
					return &exitError{code: 2, err: fmt.Errorf("validators committed different sequences at %.0f tx/s", p.Rate)}
				}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&rates, "rates", "5k,10k,20k,30k,40k,45k,50k,60k", "offered rates in tx/s, ascending, comma-separated (k: thousands)")
	f.Float64Var(&start, "start", 0, "first rate in tx/s (with --max and --step, instead of --rates)")
	f.Float64Var(&step, "step", 0, "rate increment in tx/s (default: --start)")
	f.Float64Var(&maxRate, "max", 0, "last rate in tx/s")
	f.DurationVar(&o.Duration, "duration", 20*time.Second, "how long each rate is offered")
	f.DurationVar(&o.Drain, "drain", 5*time.Second, "how long accepted transactions may take to commit after each rate's load")
	f.IntVar(&o.Validators, "validators", 4, "validators in each devnet")
	f.IntVar(&o.TxSize, "tx-size", 512, "transaction size in bytes")
	f.StringVar(&out, "out", "dagd-bench-consensus", "directory for consensus.json, consensus.md and consensus.svg")
	f.BoolVar(&o.InMemoryNetwork, "mem-network", false, "connect the validators in memory instead of QUIC on loopback")
	f.BoolVar(&o.NoSync, "no-sync", false, "do not fsync the stores")
	f.BoolVar(&o.Execute, "execute", false, "run the executor behind consensus too (it refuses the opaque load: its overhead only)")
	f.Float64Var(&o.SustainedFraction, "sustained-fraction", 0.95, "share of the offered rate that must commit for a sustained rate")
	f.DurationVar(&o.MaxP99, "max-p99", 2*time.Second, "p99 latency below which a rate may be sustained")
	f.Float64Var(&o.StopFraction, "stop-fraction", 0.80, "skip higher rates once a rate commits less than this share of its load")
	f.StringVar(&o.BaseDir, "dir", "", "directory for the devnets' stores, kept (default: a temporary one, removed)")
	f.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the whole run (every validator, the load generator) to this file")
	f.BoolVar(&asJSON, "json", false, "print the result as one JSON object")
	f.BoolVar(&verbose, "verbose", false, "print the load generator's snapshot every second")
	f.StringVar(&logLevel, "log-level", "off", "devnet log level: off, debug, info, warn, error")
	df.register(cmd)
	return cmd
}

// commandLine rebuilds the invocation from the flags that were set.
func commandLine(cmd *cobra.Command) string {
	parts := []string{cmd.CommandPath()}
	cmd.Flags().Visit(func(fl *pflag.Flag) {
		v := fl.Value.String()
		if fl.Value.Type() == "bool" && v == "true" {
			parts = append(parts, "--"+fl.Name)
			return
		}
		parts = append(parts, "--"+fl.Name+" "+v)
	})
	return strings.Join(parts, " ")
}
