package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/dagd/dagd/dag/dagsim"
)

func newSimCmd() *cobra.Command {
	var (
		b        dagsim.BatchOptions
		asJSON   bool
		parallel int
	)
	cmd := &cobra.Command{
		Use:   "sim",
		Short: "Run the consensus core under the seeded fault simulator",
		Long: `sim runs the Narwhal/Bullshark core of n validators under a deterministic
simulator: message loss, long-tail delays, duplicates, partitions, crashes with
torn writes, and up to f Byzantine validators. Every seed is checked for
agreement, double commits and causal completeness, then for liveness once the
faults stop. A failing seed prints the command that replays it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			b.Parallel = parallel
			out := cmd.OutOrStdout()
			tty := false
			if f, ok := out.(*os.File); ok && !asJSON {
				tty = term.IsTerminal(int(f.Fd()))
			}
			if !asJSON {
				b.Progress = func(done, total int, r dagsim.Result) {
					status := "ok"
					if len(r.Violations) > 0 || r.LivenessFailure != "" {
						status = "FAILED"
					}
					if tty {
						fmt.Fprintf(out, "\rsim: %d/%d seeds (seed %d %s)   ", done, total, r.Seed, status)
					} else if done%max(1, total/10) == 0 || status != "ok" {
						fmt.Fprintf(out, "sim: %d/%d seeds (seed %d %s)\n", done, total, r.Seed, status)
					}
				}
			}
			if b.Seeds <= 0 {
				return fmt.Errorf("--seeds must be positive")
			}
			s := dagsim.RunSeeds(b)
			if tty {
				fmt.Fprintln(out)
			}
			if asJSON {
				enc, err := json.Marshal(s)
				if err != nil {
					return err
				}
				fmt.Fprintln(out, string(enc))
			} else {
				printSimSummary(out, s)
			}
			if s.SafetyViolations > 0 || s.LivenessFailures > 0 {
				return &exitError{code: 1, err: fmt.Errorf("sim: %d safety violations, %d liveness failures in %d runs", s.SafetyViolations, s.LivenessFailures, s.Runs)}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.IntVar(&b.Validators, "validators", 4, "committee size n (equal stake)")
	f.IntVar(&b.Byzantine, "byzantine", 0, "Byzantine validators, at most f = (n-1)/3")
	f.IntVar(&b.Seeds, "seeds", 100, "number of seeded runs")
	f.Uint64Var(&b.SeedStart, "seed-start", 1, "first seed")
	f.Uint64Var(&b.Rounds, "rounds", 60, "rounds the honest validators must reach in each run")
	f.StringVar(&b.Crypto, "crypto", "fast", "signature scheme: fast (keyed hash, same unforgeability) or bls (blst)")
	f.BoolVar(&asJSON, "json", false, "print the summary as one JSON object on the last line")
	f.IntVar(&parallel, "parallel", 0, "seeds run at once (default: all cores)")
	return cmd
}

func printSimSummary(w io.Writer, s dagsim.Summary) {
	fmt.Fprintf(w, "runs %d  validators %d  byzantine %d  rounds %d  crypto %s  seeds %d..%d\n",
		s.Runs, s.Validators, s.Byzantine, s.Rounds, s.Crypto, s.SeedStart, s.SeedStart+uint64(s.Runs)-1)
	fmt.Fprintf(w, "safety violations %d  liveness failures %d  min committed leaders %d\n",
		s.SafetyViolations, s.LivenessFailures, s.MinCommittedLeaders)
	t := s.Totals
	fmt.Fprintf(w, "messages %d (dropped %d, duplicated %d, rejected %d)  crashes %d (torn writes %d)  partitions %d  evidence %d\n",
		t.Messages, t.Dropped, t.Duplicated, t.Rejected, t.Crashes, t.TornWrites, t.Partitions, t.Evidence)
	fmt.Fprintf(w, "commit log digest %s  (%.1fs)\n", s.CommitLogDigest, s.ElapsedSeconds)
	for _, f := range s.Failures {
		fmt.Fprintf(w, "FAILED seed %d:\n", f.Seed)
		for _, v := range f.Violations {
			fmt.Fprintf(w, "  safety: %s\n", v)
		}
		if f.Liveness != "" {
			fmt.Fprintf(w, "  liveness: %s\n", f.Liveness)
		}
		fmt.Fprintf(w, "  replay: %s\n", f.Replay)
	}
}
