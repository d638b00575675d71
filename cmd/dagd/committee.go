package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/dagd/dagd/engine/config"
)

func newCommitteeCmd() *cobra.Command {
	var (
		chainID string
		epoch   uint64
		out     string
	)
	cmd := &cobra.Command{
		Use:   "committee --chain-id ID --out FILE VALIDATOR.json...",
		Short: "Assemble the committee (genesis) file from the validators' validator.json",
		Long: `committee reads the validator.json that "dagd init" wrote in each validator's
home, checks every key and proof of possession, and writes the committee file
that every validator's committee_file must name, in the order given (the
order fixes the validators' indexes).`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return fmt.Errorf("--out is required")
			}
			members := make([]config.Member, 0, len(args))
			for _, p := range args {
				m, err := config.LoadMember(p)
				if err != nil {
					return err
				}
				members = append(members, *m)
			}
			com, err := config.AssembleCommittee(chainID, epoch, members)
			if err != nil {
				return err
			}
			if err := com.WriteFile(out); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s: chain %s, epoch %d, %d validators\n", out, chainID, epoch, len(members))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&chainID, "chain-id", config.DefaultChainID, "the chain id")
	f.Uint64Var(&epoch, "epoch", 0, "the committee's epoch")
	f.StringVar(&out, "out", "", "the committee file to write (required)")
	return cmd
}
