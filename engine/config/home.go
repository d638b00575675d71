package config

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/dagd/dagd/crypto"
)

// InitOptions configures Init. Zero values mean defaults.
type InitOptions struct {
	// Home is the directory to write. Required.
	Home string
	// Force replaces the configuration, keys and validator.json of an
	// existing home. It never erases a data directory: a node's store
	// holds votes signed by its old key, and a new identity must start
	// from an empty one, so Init refuses while storage.data_dir holds
	// anything. Default false: an existing home is an error.
	Force bool
	// Name of the validator in the committee. Default: the base name of
	// Home.
	Name string
	// Stake written to validator.json. Default 1.
	Stake uint64
	// Address is the QUIC address peers dial, written to validator.json.
	// Default: the configuration's network.quic_addr (set this when the
	// node listens on 0.0.0.0).
	Address string
	// Config is the configuration to write (its keystore paths are
	// where the keys go). Default: Default().
	Config *Config
	// Password encrypts the keystores. Required; it is not stored.
	Password []byte
	// Keystore sets the scrypt cost of the keystores. Default: EIP-2335's
	// (2^18, about 256 MiB and a second per key).
	Keystore crypto.KeystoreOptions
	// Keys are the keys to store. Default: fresh keys from Rand.
	Keys *Keys
	// Rand is the source of keys, salts and IVs. Default crypto/rand.
	Rand io.Reader
}

// EnsureDefaults fills zero fields with their defaults and returns o.
func (o *InitOptions) EnsureDefaults() *InitOptions {
	if o.Name == "" && o.Home != "" {
		abs, err := filepath.Abs(o.Home)
		if err == nil {
			o.Name = filepath.Base(abs)
		}
	}
	if o.Stake == 0 {
		o.Stake = 1
	}
	if o.Config == nil {
		o.Config = Default()
	}
	if o.Address == "" {
		o.Address = o.Config.Network.QUICAddr
	}
	return o
}

// Validate reports settings that cannot work.
func (o *InitOptions) Validate() error {
	var errs []error
	if o.Home == "" {
		errs = append(errs, errors.New("home directory is required"))
	}
	if err := checkName(o.Name, false); err != nil {
		errs = append(errs, fmt.Errorf("validator name: %w (choose one with --name)", err))
	}
	if err := checkHostPort(o.Address, false); err != nil {
		errs = append(errs, fmt.Errorf("validator address: %w", err))
	}
	if len(o.Password) == 0 {
		errs = append(errs, fmt.Errorf("%w: the keystores need one", ErrNoPassword))
	}
	if o.Config != nil {
		if err := o.Config.Validate(); err != nil {
			errs = append(errs, err)
		}
	}
	ko := o.Keystore
	ko.EnsureDefaults()
	if err := ko.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("keystore: %w", err))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("config: init: %w", err)
	}
	return nil
}

// Home is a validator's home directory as Init wrote it.
type Home struct {
	// Dir is the home directory (absolute).
	Dir string
	// ConfigFile is Dir/config.toml.
	ConfigFile string
	// ValidatorFile is Dir/validator.json, the validator's public entry
	// for the committee file.
	ValidatorFile string
	// Config is the configuration written.
	Config *Config
	// Member is the validator's public entry.
	Member *Member
	// Account is the public key of the node's ledger account, whose
	// keystore Init wrote (nil when it wrote none): fund it so that the
	// node can register content in the ledger.
	Account *crypto.AccountPublicKey
}

// Init writes a validator's home: config.toml, the encrypted BLS,
// network and account keystores and validator.json. It refuses a directory that
// already holds a configuration or keys unless o.Force, and refuses a
// non-empty data directory always.
func Init(o InitOptions) (*Home, error) {
	o.EnsureDefaults()
	if err := o.Validate(); err != nil {
		return nil, err
	}
	dir, err := filepath.Abs(o.Home)
	if err != nil {
		return nil, fmt.Errorf("config: init: %w", err)
	}
	cfg := *o.Config
	cfg.dir = dir
	if cfg.Validator == "" {
		cfg.Validator = o.Name
	}
	h := &Home{Dir: dir, ConfigFile: filepath.Join(dir, ConfigFile), ValidatorFile: filepath.Join(dir, ValidatorFile), Config: &cfg}
	existing := []string{h.ConfigFile, h.ValidatorFile, cfg.Path(cfg.Keys.BLSKeystore), cfg.Path(cfg.Keys.NetworkKeystore)}
	if cfg.Keys.AccountKeystore != "" {
		existing = append(existing, cfg.Path(cfg.Keys.AccountKeystore))
	}
	for _, p := range existing {
		if _, err := os.Lstat(p); err == nil && !o.Force {
			return nil, fmt.Errorf("config: init: %s already holds a validator (%s exists); use --force to replace its configuration and keys", dir, p)
		}
	}
	if ents, err := os.ReadDir(cfg.Path(cfg.Storage.DataDir)); err == nil && len(ents) > 0 {
		return nil, fmt.Errorf("config: init: data directory %s is not empty: its records belong to the old keys; move it away first", cfg.Path(cfg.Storage.DataDir))
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("config: init: %w", err)
	}
	keys := o.Keys
	if keys == nil {
		if keys, err = GenerateKeys(o.Rand); err != nil {
			return nil, err
		}
	}
	h.Member = keys.Member(o.Name, o.Address, o.Stake)
	if err := WriteKeystores(&cfg, keys, o.Password, o.Keystore, o.Rand, o.Force); err != nil {
		return nil, err
	}
	if keys.Account != nil && cfg.Keys.AccountKeystore != "" {
		pub := keys.Account.Public()
		h.Account = &pub
	}
	if err := cfg.WriteFile(h.ConfigFile); err != nil {
		return nil, err
	}
	if err := h.Member.WriteFile(h.ValidatorFile); err != nil {
		return nil, err
	}
	return h, nil
}
