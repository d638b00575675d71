package config

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/dagd/dagd/contracts"

	"github.com/dagd/dagd/engine"
)

// NewLogger returns the logger the [log] section asks for, writing to w.
func (l LogConfig) NewLogger(w io.Writer) (*slog.Logger, error) {
	level, err := ParseLogLevel(l.Level)
	if err != nil {
		return nil, &SettingError{Key: "log.level", Err: err}
	}
	ho := &slog.HandlerOptions{Level: level}
	switch l.Format {
	case "text":
		return slog.New(slog.NewTextHandler(w, ho)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, ho)), nil
	default:
		return nil, &SettingError{Key: "log.format", Err: fmt.Errorf("%q: want text or json", l.Format)}
	}
}

// EngineOptions maps the configuration, the committee and the keys to
// the node's options. It checks that the committee belongs to the
// configured chain and epoch and that it holds this validator with these
// keys; the result passes engine.Options.Validate.
func (c *Config) EngineOptions(com *Committee, keys *Keys, logger *slog.Logger) (engine.Options, error) {
	if com.ChainID != c.ChainID {
		return engine.Options{}, fmt.Errorf("config: chain_id %q differs from the committee file's %q", c.ChainID, com.ChainID)
	}
	if com.Epoch != c.Epoch {
		return engine.Options{}, fmt.Errorf("config: epoch %d differs from the committee file's %d", c.Epoch, com.Epoch)
	}
	self, err := findValidator(com, c.Validator, keys.BLS.PublicKey().Bytes())
	if err != nil {
		return engine.Options{}, fmt.Errorf("config: validator %q: %w", c.Validator, err)
	}
	o := c.Node
	o.Self, o.Committee, o.Epoch, o.ChainID = self, EngineValidators(com), c.Epoch, c.ChainID
	o.BLSKey, o.NetworkKey, o.AccountKey = keys.BLS, keys.Network.PrivateKey(), keys.Account
	o.DataDir, o.ListenAddr = c.Path(c.Storage.DataDir), c.Network.QUICAddr
	o.APIListenAddr, o.EnablePprof, o.DisableMetrics = c.API.Addr, c.API.Pprof, !c.API.Metrics
	o.Content.Dir = c.Path(o.Content.Dir)
	o.Logger = logger
	check := o
	check.EnsureDefaults()
	if err := check.Validate(); err != nil {
		return engine.Options{}, fmt.Errorf("config: %w", err)
	}
	return o, nil
}

// NodeOptions loads what the configuration names, the committee file and
// the keys (decrypted with password), and returns the node's options.
func (c *Config) NodeOptions(password []byte, logger *slog.Logger) (engine.Options, error) {
	com, err := LoadCommittee(c.Path(c.CommitteeFile))
	if err != nil {
		return engine.Options{}, fmt.Errorf("config: committee_file: %w", err)
	}
	keys, err := LoadKeys(c, password)
	if err != nil {
		return engine.Options{}, err
	}
	o, err := c.EngineOptions(com, keys, logger)
	if err != nil {
		return engine.Options{}, err
	}
	if c.GenesisFile != "" {
		if o.Genesis, err = LoadGenesis(c.Path(c.GenesisFile), com); err != nil {
			return engine.Options{}, fmt.Errorf("config: genesis_file: %w", err)
		}
	}
	return o, nil
}

// LoadGenesis reads and validates a genesis file (contracts.Genesis in its
// JSON form) and checks that it belongs to committee com: the same chain
// and, in committee order, the same validators' BLS keys.
func LoadGenesis(path string, com *Committee) (*contracts.Genesis, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, contracts.MaxGenesisSize+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	g, err := contracts.LoadGenesis(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if g.ChainID != com.ChainID {
		return nil, fmt.Errorf("%s is for chain %q, the committee's is %q", path, g.ChainID, com.ChainID)
	}
	if len(g.Validators) != len(com.Validators) {
		return nil, fmt.Errorf("%s has %d validators, the committee %d", path, len(g.Validators), len(com.Validators))
	}
	for i, v := range g.Validators {
		if !bytes.Equal(v.BLSPublicKey[:], com.Validators[i].BLSPublicKey) {
			return nil, fmt.Errorf("%s: validator %d's BLS key differs from the committee's (%s)", path, i, com.Validators[i].Name)
		}
	}
	return g, nil
}
