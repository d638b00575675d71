// Command dagd runs and operates dagd validators: the consensus simulator,
// the devnet, the node, and the operator and client tools. It only parses
// flags and wires packages together; the work happens in the packages.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := newRootCmd().ExecuteContext(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "dagd:", err)
		os.Exit(exitCode(err))
	}
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "dagd",
		Short:         "dagd: a sharded DAG ledger engine (Narwhal/Bullshark over QUIC)",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(
		newVersionCmd(),
		newSimCmd(),
		newDevnetCmd(),
		newLoadtestCmd(),
		newInitCmd(),
		newTestnetCmd(),
		newStartCmd(),
		newStatusCmd(),
		newCommitteeCmd(),
		newZKCmd(),
		newPutCmd(),
		newGetCmd(),
		newStatCmd(),
		newBenchCmd(),
	)
	root.AddCommand(newKeysCmd(), newTxCmd(), newQueryCmd()) // keys.go, tx.go, query.go
	return root
}

// exitError carries a specific exit status through cobra.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func exitCode(err error) int {
	if e, ok := err.(*exitError); ok {
		return e.code
	}
	return 1
}
