package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/dagd/dagd/contracts"
	"github.com/dagd/dagd/crypto"
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
		workload string
		accounts int
		seed     string
		chainID  string
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
command exits with status 2 if two targets disagree.

With --workload transfers or mixed it sends signed transactions from --accounts
funded accounts whose keys derive from --accounts-seed, as "dagd testnet
--accounts N --accounts-seed S" funds them (fresh accounts: nonces from 0). It
then follows whole transactions, reads every receipt (GET /v1/receipts/{tx}),
counts receipts by code, and also compares the state roots of every executed
commit: two targets that disagree on one also exit with status 2.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out := cmd.OutOrStdout()
			logger, err := newLogger(cmd.ErrOrStderr(), logLevel)
			if err != nil {
				return err
			}
			signed := workload == "transfers" || workload == "mixed"
			if workload != "opaque" && !signed {
				return fmt.Errorf("--workload %q: want opaque, transfers or mixed", workload)
			}
			if signed && accounts < 2 {
				return fmt.Errorf("--accounts %d: the %s workload needs at least 2 funded accounts", accounts, workload)
			}
			t, err := loadtest.NewHTTPTarget(strings.Split(targets, ","), loadtest.HTTPOptions{PollInterval: poll, Logger: logger,
				FullTransactions: signed, Receipts: signed})
			if err != nil {
				return err
			}
			var wl loadtest.Workload
			drain := time.Duration(0) // loadtest's default
			if signed {
				drain = 60 * time.Second // at most: execution may trail commits
				if chainID == "" {
					st, err := t.Status(cmd.Context(), 0)
					if err != nil {
						return fmt.Errorf("--chain-id not given, and the first target does not say: %w", err)
					}
					chainID = st.ChainID
				}
				if seed == "" {
					seed = chainID
				}
				keys := make([]*crypto.AccountPrivateKey, accounts)
				for i := range keys {
					keys[i] = contracts.DevnetAccountKey(seed, i)
				}
				if workload == "transfers" {
					wl, err = loadtest.NewTransfers(loadtest.TransferOptions{Keys: keys, ChainID: chainID})
				} else {
					wl, err = loadtest.NewMixed(loadtest.MixedOptions{Keys: keys, ChainID: chainID, Validators: t.Nodes()})
				}
				if err != nil {
					return err
				}
			}
			rep, err := loadtest.Run(cmd.Context(), t, loadtest.Options{
				Rate: rate, TxSize: size, Duration: duration, Tick: 5 * time.Millisecond, Concurrency: conc, Logger: logger,
				Workload: wl, Drain: drain,
				OnSnapshot: func(s loadtest.Snapshot) { printSnapshot(out, s, signed) },
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
	f.StringVar(&workload, "workload", "opaque", "load: opaque (bytes the nodes order but cannot execute), transfers (signed native-token transfers) or mixed (every token operation; withdrawals are meant to fail \"locked\" under the default unbonding period)")
	f.IntVar(&accounts, "accounts", 0, "funded accounts to send from (transfers, mixed): those of dagd testnet --accounts")
	f.StringVar(&seed, "accounts-seed", "", "seed of the funded accounts' keys, as given to dagd testnet (default: the chain id)")
	f.StringVar(&chainID, "chain-id", "", "chain id of the signed transactions (default: the first target's)")
	return cmd
}
