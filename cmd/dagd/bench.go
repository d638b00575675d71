package main

import "github.com/spf13/cobra"

// newBenchCmd is `dagd bench`: the benchmark harnesses. Each subcommand
// lives in its own file (bench_<name>.go) and is listed here.
func newBenchCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Benchmark harnesses: measure a part of dagd on this machine",
	}
	cmd.AddCommand(
		newBenchConsensusCmd(),
		newBenchStorageCmd(),
	)
	return cmd
}
