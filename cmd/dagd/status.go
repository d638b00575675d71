package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/dagd/dagd/engine/client"
)

func newStatusCmd() *cobra.Command {
	var (
		node    string
		asJSON  bool
		timeout time.Duration
	)
	cmd := &cobra.Command{
		Use:   "status --node HOST:PORT",
		Short: "Show a running node's progress (GET /v1/status)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			c, err := client.New(node, client.Options{})
			if err != nil {
				return err
			}
			st, body, err := c.Status(ctx)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if asJSON {
				var b bytes.Buffer
				if err := json.Indent(&b, body, "", "  "); err != nil {
					return fmt.Errorf("status of %s: %w", node, err)
				}
				fmt.Fprintln(w, b.String())
				return nil
			}
			quorum := "no"
			if st.QuorumConnected {
				quorum = "yes"
			}
			last := "never"
			if !st.LastCommitAt.IsZero() {
				last = fmt.Sprintf("%s (%s ago)", st.LastCommitAt.Format(time.RFC3339Nano), time.Since(st.LastCommitAt).Round(time.Millisecond))
			}
			fmt.Fprintf(w, "node:            %s, validator %d of %d\n", node, st.Validator, st.CommitteeSize)
			fmt.Fprintf(w, "round:           %d\n", st.Round)
			fmt.Fprintf(w, "last committed:  seq %d, round %d, at %s\n", st.LastCommittedSeq, st.LastCommittedRound, last)
			fmt.Fprintf(w, "commit digest:   %s\n", st.CommitDigest)
			fmt.Fprintf(w, "committed txs:   %d\n", st.CommittedTxs)
			fmt.Fprintf(w, "peers connected: %d (quorum connected: %s)\n", st.PeersConnected, quorum)
			fmt.Fprintf(w, "pending:         %d certificates, %d commits\n", st.PendingCerts, st.PendingCommits)
			fmt.Fprintf(w, "queues:          submit %d, inbox %d, worker load %d\n", st.SubmitQueue, st.InboxQueue, st.WorkerLoad)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&node, "node", "127.0.0.1:8080", "the node's HTTP API, HOST:PORT")
	f.BoolVar(&asJSON, "json", false, "print the status as the node serves it (JSON)")
	f.DurationVar(&timeout, "timeout", 5*time.Second, "give up after this long")
	return cmd
}
