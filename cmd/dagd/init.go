package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/dagd/dagd/crypto"
	"github.com/dagd/dagd/engine/config"
)

func newInitCmd() *cobra.Command {
	var (
		home    string
		force   bool
		name    string
		address string
		stake   uint64
		scryptN int
		sf      settingFlags
	)
	cmd := &cobra.Command{
		Use:   "init --home DIR",
		Short: "Write a validator's home: config.toml and encrypted keys",
		Long: `init writes DIR/config.toml (every setting, commented, with its default; the
flags of any setting below change what is written), a fresh BLS12-381 key,
Ed25519 network key and Ed25519 ledger account key (which signs the node's own
transactions: content registrations) as encrypted EIP-2335 keystores in
DIR/keys/, and
DIR/validator.json, this validator's public entry for the committee file.

The keystore password comes from --password-file (recorded in config.toml, as
a path) or from the environment variable named by --password-env (default
DAGD_PASSWORD) or, on a terminal, from a prompt; it is never echoed and never
written to config.toml. init refuses a home that already holds a validator
unless --force, and never overwrites a data directory. A relative path given as
a flag is relative to the working directory.

The committee file (committee_file, default DIR/committee.json) lists every
validator's validator.json entry; build it with "dagd committee".`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if home == "" {
				return fmt.Errorf("--home is required")
			}
			cfg := config.Default()
			if err := sf.apply(cfg); err != nil {
				return err
			}
			if err := cfg.Validate(); err != nil {
				return err
			}
			pw, err := keystorePassword(cmd, cfg, true)
			if err != nil {
				return err
			}
			defer clear(pw)
			h, err := config.Init(config.InitOptions{Home: home, Force: force, Name: name, Stake: stake, Address: address,
				Config: cfg, Password: pw, Keystore: crypto.KeystoreOptions{ScryptN: scryptN}})
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "wrote %s\n", h.ConfigFile)
			fmt.Fprintf(out, "wrote %s and %s (encrypted)\n", h.Config.Path(h.Config.Keys.BLSKeystore), h.Config.Path(h.Config.Keys.NetworkKeystore))
			if h.Account != nil {
				fmt.Fprintf(out, "wrote %s (encrypted): the node's ledger account %s; fund it so that the node registers the content put through it in the ledger\n",
					h.Config.Path(h.Config.Keys.AccountKeystore), h.Account)
			}
			fmt.Fprintf(out, "wrote %s (validator %q at %s)\n", h.ValidatorFile, h.Member.Name, h.Member.Address)
			fmt.Fprintf(out, "next: gather every validator's validator.json into %s, then: dagd start --home %s\n",
				h.Config.Path(h.Config.CommitteeFile), h.Dir)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&home, "home", "", "the validator's home directory (required)")
	f.BoolVar(&force, "force", false, "replace the configuration and keys of an existing home (never its data directory)")
	f.StringVar(&name, "name", "", "the validator's name in the committee (default: the home directory's name)")
	f.StringVar(&address, "address", "", "the QUIC address peers dial, written to validator.json (default: --quic-addr)")
	f.Uint64Var(&stake, "stake", 1, "the validator's stake, written to validator.json")
	f.IntVar(&scryptN, "scrypt-n", crypto.DefaultKeystoreScryptN, "the keystores' scrypt cost N (EIP-2335's 2^18 needs 256 MiB and about a second per key)")
	sf.register(cmd, "validator")
	return cmd
}
