package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/dagd/dagd/engine"
	"github.com/dagd/dagd/engine/config"
)

func newStartCmd() *cobra.Command {
	var (
		home    string
		cfgFile string
		sf      settingFlags
	)
	cmd := &cobra.Command{
		Use:   "start --home DIR",
		Short: "Run a validator from its home directory",
		Long: `start loads DIR/config.toml (see "dagd init"), applies the flags given (every
setting has one, and it wins over the file), reads the committee file, decrypts
the keys and runs the node: QUIC to its peers, its store in storage.data_dir,
and on api.addr the JSON and Connect APIs, /healthz, /readyz and /metrics. Logs
go to standard error (log.level, log.format).

The keystore password comes from keys.password_file, or from the variable
named by keys.password_env (default DAGD_PASSWORD), or from a prompt on a
terminal. SIGINT or SIGTERM stops the node cleanly (exit status 0). A relative
path given as a flag is relative to the working directory; in config.toml, to
the file's directory.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if home == "" {
				home = os.Getenv("DAGD_HOME")
			}
			if cfgFile == "" {
				if home == "" {
					return fmt.Errorf("--home is required (or $DAGD_HOME)")
				}
				cfgFile = filepath.Join(home, config.ConfigFile)
			}
			cfg, err := config.Load(cfgFile)
			if errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("%w (make a home with dagd init or dagd testnet)", err)
			}
			if err != nil {
				return err
			}
			if err := sf.apply(cfg); err != nil {
				return err
			}
			if err := cfg.Validate(); err != nil {
				return err
			}
			logger, err := cfg.Log.NewLogger(cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			pw, err := keystorePassword(cmd, cfg, false)
			if err != nil {
				return err
			}
			opts, err := cfg.NodeOptions(pw, logger)
			clear(pw)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			n, err := engine.New(ctx, opts)
			if err != nil {
				return err
			}
			quic := opts.ListenAddr
			if quic == "" {
				quic = opts.Committee[opts.Self].Address
			}
			logger.Info("node started", "validator", int(opts.Self), "chain_id", opts.ChainID, "committee", len(opts.Committee),
				"quic", quic, "api", n.APIAddr(), "data_dir", opts.DataDir)
			if err := n.Run(ctx); err != nil {
				logger.Error("node stopped", "err", err)
				return err
			}
			logger.Info("node stopped")
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&home, "home", "", "the validator's home directory (default $DAGD_HOME)")
	f.StringVar(&cfgFile, "config", "", "the configuration file (default HOME/config.toml)")
	sf.register(cmd)
	return cmd
}
