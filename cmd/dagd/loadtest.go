package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/dagd/dagd/loadtest"
)

func newLoadtestCmd() *cobra.Command {
	var (
		targets  string
		rate     float64
		size     int
		duration time.Duration
		asJSON   bool
		poll     time.Duration
		conc     int
		logLevel string
	)
	cmd := &cobra.Command{
		Use:   "loadtest",
		Short: "Offer open-loop load to running nodes over their HTTP API",
		Long: `loadtest sends transactions at a fixed rate to running nodes (round robin over
--targets) with POST /v1/transactions, and follows every target's commits by
polling GET /v1/commits?from=S&txs=own&tx_prefix=24, which returns the headers
of the transactions of each node's own batches. Latency runs from the moment a
transaction fell due to the poll that saw it committed (the poll interval adds
half of itself on average). The digests every target reports are compared; the
command exits with status 2 if two targets disagree.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out := cmd.OutOrStdout()
			logger, err := newLogger(cmd.ErrOrStderr(), logLevel)
			if err != nil {
				return err
			}
			t, err := loadtest.NewHTTPTarget(strings.Split(targets, ","), loadtest.HTTPOptions{PollInterval: poll, Logger: logger})
			if err != nil {
				return err
			}
			rep, err := loadtest.Run(cmd.Context(), t, loadtest.Options{
				Rate: rate, TxSize: size, Duration: duration, Tick: 5 * time.Millisecond, Concurrency: conc, Logger: logger,
				OnSnapshot: func(s loadtest.Snapshot) { printSnapshot(out, s) },
			})
			if err != nil {
				return fmt.Errorf("loadtest: %w", err)
			}
			return finishReport(out, rep, asJSON)
		},
	}
	f := cmd.Flags()
	f.StringVar(&targets, "targets", "127.0.0.1:8080", "comma-separated HOST:PORT of the nodes' HTTP APIs")
	f.Float64Var(&rate, "rate", 1000, "transactions per second offered")
	f.IntVar(&size, "size", 512, "transaction size in bytes")
	f.DurationVar(&duration, "duration", 30*time.Second, "how long to offer load (0: until Ctrl-C)")
	f.BoolVar(&asJSON, "json", false, "print the summary as one JSON object on the last line")
	f.DurationVar(&poll, "poll", 20*time.Millisecond, "commit polling interval")
	f.IntVar(&conc, "concurrency", 4, "concurrent submissions per target")
	f.StringVar(&logLevel, "log-level", "warn", "logs to stderr: off, debug, info, warn, error")
	return cmd
}
