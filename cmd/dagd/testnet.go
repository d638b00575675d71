package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/dagd/dagd/crypto"
	"github.com/dagd/dagd/engine/config"
)

func newTestnetCmd() *cobra.Command {
	var (
		validators int
		out        string
		basePort   int
		host       string
		chainID    string
		force      bool
		scryptN    int
		accounts   int
		seed       string
		sf         settingFlags
	)
	cmd := &cobra.Command{
		Use:   "testnet --validators N --out DIR",
		Short: "Write the homes of a local testnet (loopback, generated password)",
		Long: `testnet writes everything a local testnet of N validators needs into DIR:
one home per validator (DIR/node-0, DIR/node-1...; see "dagd init"), the shared
committee file DIR/committee.json, a generated keystore password in
DIR/password (mode 0600) that every config.toml names, and DIR/testnet.json,
the list of nodes as {"home": ..., "api": "host:port"}. Start each node with
"dagd start --home DIR/node-I"; no password is asked.

For local testing only: the password lies beside the keys, so the keys protect
nothing (and the keystores use a cheap scrypt cost, --scrypt-n).

With --accounts N, DIR/genesis.json funds N accounts whose keys derive from
--accounts-seed (default: the chain id; anyone with the seed has the keys), and
bonds every validator's stake; every config.toml names it (genesis_file).
"dagd loadtest --workload transfers --accounts N --accounts-seed S" sends from
those accounts.

Ports: free loopback ports chosen now (another program may take one before the
nodes start), or, with --base-port P, QUIC (UDP) on P+2i and the API (TCP) on
P+2i+1 for node i. The flags of the settings below are written into every
node's config.toml.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return fmt.Errorf("--out is required")
			}
			// Check the settings given before anything is written.
			probe := config.Default()
			if err := sf.apply(probe); err != nil {
				return err
			}
			if err := probe.Validate(); err != nil {
				return err
			}
			tn, err := config.GenerateTestnet(config.TestnetOptions{
				Dir: out, Validators: validators, Host: host, BasePort: basePort, ChainID: chainID, Force: force,
				Keystore: crypto.KeystoreOptions{ScryptN: scryptN}, Accounts: accounts, AccountsSeed: seed,
				Configure: func(_ int, c *config.Config) {
					_ = sf.apply(c) // checked above
				},
			})
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "testnet %s: %d validators, committee %s, password %s (local testing only)\n",
				tn.ChainID, len(tn.Nodes), tn.Committee, tn.PasswordFile)
			if tn.Genesis != "" {
				fmt.Fprintf(w, "  genesis %s: %d funded accounts from seed %q\n", tn.Genesis, tn.Accounts, tn.AccountsSeed)
			}
			for _, n := range tn.Nodes {
				fmt.Fprintf(w, "  %s: quic %s, api http://%s: dagd start --home %s\n", n.Name, n.QUIC, n.API, n.Home)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.IntVar(&validators, "validators", 4, "number of validators")
	f.StringVar(&out, "out", "", "directory to write the testnet into (required)")
	f.IntVar(&basePort, "base-port", 0, "node i listens on QUIC port P+2i and API port P+2i+1 (default: free ports)")
	f.StringVar(&host, "host", "127.0.0.1", "IP address every node listens on")
	f.StringVar(&chainID, "chain-id", "dagd-testnet", "the testnet's chain id")
	f.BoolVar(&force, "force", false, "erase a testnet already in --out (its homes and their data)")
	f.IntVar(&scryptN, "scrypt-n", config.TestnetScryptN, "the keystores' scrypt cost N")
	f.IntVar(&accounts, "accounts", 0, "fund this many accounts in DIR/genesis.json (0: no genesis, the state starts empty)")
	f.StringVar(&seed, "accounts-seed", "", "seed of the funded accounts' keys (default: the chain id)")
	// Per-node identity, addresses and keys are the testnet's to choose.
	sf.register(cmd, "chain_id", "epoch", "validator", "committee_file", "genesis_file", "network.", "api.addr", "keys.", "storage.data_dir")
	return cmd
}
