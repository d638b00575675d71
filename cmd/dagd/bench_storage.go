package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/dagd/dagd/bench/storage"
)

// newBenchStorageCmd is `dagd bench storage`: put/get MB/s through a local
// devnet (bench/storage).
func newBenchStorageCmd() *cobra.Command {
	var (
		o        storage.Options
		sizeMiB  int
		asJSON   bool
		logLevel string
		profile  string
		df       dagFlags
	)
	cmd := &cobra.Command{
		Use:   "storage",
		Short: "Measure put and get MB/s of erasure-coded content through a local devnet",
		Long: `storage starts a devnet of --validators nodes in this process (QUIC on
loopback, or the in-memory network with --mem), then for each round puts
--size MiB of random content through validator 0 and gets it back through
validator 1, checking the bytes. It prints MB/s (10^6 bytes) of content per
round and the medians, with the core count and the load average, since every
validator shares this machine's cores. Stores do not fsync unless --fsync.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			logger, err := newLogger(cmd.ErrOrStderr(), logLevel)
			if err != nil {
				return err
			}
			o.Logger = logger
			o.DAG = df.options()
			o.Size = int64(sizeMiB) << 20
			if profile != "" {
				for _, x := range []struct {
					name string
					dst  *io.Writer
				}{{profile + ".put.pprof", &o.PutProfile}, {profile + ".get.pprof", &o.GetProfile}} {
					f, err := os.Create(x.name)
					if err != nil {
						return err
					}
					defer f.Close()
					*x.dst = f
				}
			}
			w := cmd.OutOrStdout()
			if !asJSON {
				fmt.Fprintf(w, "devnet of %d validators (%s), %d MiB per put, %d cores, GOMAXPROCS %d\n",
					max(o.Validators, 4), map[bool]string{true: "memory", false: "quic"}[o.InMemoryNetwork], sizeMiB, runtime.NumCPU(), runtime.GOMAXPROCS(0))
				o.OnRound = func(r storage.Round) {
					fmt.Fprintf(w, "round: put %7.1f MB/s (%v, %.0f MB/cpu-s)  get %7.1f MB/s (%v, %.0f MB/cpu-s)\n",
						r.PutMBps, r.Put.Round(1e6), r.PutMBpcs, r.GetMBps, r.Get.Round(1e6), r.GetMBpcs)
				}
			}
			res, err := storage.Run(cmd.Context(), o)
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(w)
				enc.SetIndent("", "  ")
				return enc.Encode(res)
			}
			fmt.Fprintf(w, "median: put %.1f MB/s (%.0f MB/cpu-s), get %.1f MB/s (%.0f MB/cpu-s); k=%d n=%d, chunk %d; idle devnet %.0f%% of a core; load %.2f -> %.2f\n",
				res.PutMBps, res.PutMBpcs, res.GetMBps, res.GetMBpcs, res.K, res.N, res.ChunkSize, 100*res.IdleCPU, res.LoadBefore, res.LoadAfter)
			return nil
		},
	}
	f := cmd.Flags()
	f.IntVar(&sizeMiB, "size", 64, "MiB of content per put")
	f.IntVar(&o.Rounds, "rounds", 3, "put-then-get rounds")
	f.IntVar(&o.Validators, "validators", 4, "validators in the devnet")
	f.BoolVar(&o.InMemoryNetwork, "mem", false, "connect the validators in memory instead of QUIC on loopback")
	f.IntVar(&o.K, "k", 0, "shards that rebuild a chunk (0: f+1)")
	f.IntVar(&o.N, "n", 0, "shards per chunk (0: the committee size)")
	f.IntVar(&o.ChunkSize, "chunk-size", 0, "bytes per chunk (0: 1 MiB)")
	f.BoolVar(&o.Fsync, "fsync", false, "sync the stores' writes")
	f.StringVar(&o.BaseDir, "dir", "", "data directory (default: a temporary one, removed)")
	f.BoolVar(&asJSON, "json", false, "print the result as JSON")
	f.StringVar(&logLevel, "log-level", "off", "devnet log level: off, debug, info, warn, error")
	f.StringVar(&profile, "cpuprofile", "", "write CPU profiles (pprof) of the last round's put and get to PREFIX.put.pprof and PREFIX.get.pprof")
	df.register(cmd)
	return cmd
}
