package config

import (
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"

	"github.com/dagd/dagd/engine"
)

// Well-known names inside a home directory.
const (
	// ConfigFile is the name of the configuration file in a home.
	ConfigFile = "config.toml"
	// ValidatorFile is the name of the validator's public committee entry
	// in a home (see Member).
	ValidatorFile = "validator.json"
	// DefaultPasswordEnv is the environment variable read for the keystore
	// password unless keys.password_env names another.
	DefaultPasswordEnv = "DAGD_PASSWORD"
	// DefaultChainID is the chain id of Default.
	DefaultChainID = "dagd-local"
)

// Config is a node's configuration as config.toml holds it. The TOML key
// of each field is in its tag: Config's own fields are what only a node's
// home knows (its chain, committee, addresses, keys, logs and data
// directory); every other setting is a field of engine.Options, held in
// Node, whose toml tag is its key. Settings documents every key. Default
// returns the defaults; Load reads a file over them.
type Config struct {
	// ChainID separates networks; it must equal the committee file's.
	ChainID string `toml:"chain_id"`
	// Epoch of the committee; it must equal the committee file's.
	Epoch uint64 `toml:"epoch"`
	// Validator names this node in the committee file: a validator's name,
	// or its index in decimal; "" finds it by its BLS key.
	Validator string `toml:"validator"`
	// CommitteeFile is the committee (genesis) file.
	CommitteeFile string `toml:"committee_file"`
	// GenesisFile, when set, is the chain's genesis state
	// (contracts.Genesis in its JSON form): funded accounts and the
	// validators' bonded stakes. "" starts from an empty state.
	GenesisFile string `toml:"genesis_file"`

	// Network is the validator-to-validator transport.
	Network NetworkConfig `toml:"network"`
	// API is the node's HTTP listener (its limits are in Node.API).
	API APIConfig `toml:"api"`
	// Log is where and how the node logs.
	Log LogConfig `toml:"log"`
	// Keys locates the keystores and their password.
	Keys KeysConfig `toml:"keys"`
	// Storage is the node's store on disk (its tuning is in Node).
	Storage StorageConfig `toml:"storage"`

	// Node holds every other setting: the fields of engine.Options and of
	// the options structs it holds (DAG, Content, API, RPC, Execution)
	// that have a toml tag, the tag being the setting's key
	// ("engine.tick_interval"; a nested struct's tag is the table of its
	// fields: "dag" gives "dag.batch_size"). Their validation is
	// engine.Options.ValidateSettings. The fields without a tag (the
	// committee, the keys, the hooks) are set by EngineOptions.
	Node engine.Options `toml:"-"`

	// dir is the directory relative paths resolve against: the directory
	// of the file Load read ("" means the working directory).
	dir string
}

// NetworkConfig is the [network] section.
type NetworkConfig struct {
	// QUICAddr is the UDP address the QUIC transport listens on; ""
	// means the validator's address in the committee file.
	QUICAddr string `toml:"quic_addr"`
}

// APIConfig is the [api] section's own keys; the others are
// apiserver.APIOptions' (Config.Node.API).
type APIConfig struct {
	// Addr is the HTTP API's listen address; "" serves no API.
	Addr string `toml:"addr"`
	// Metrics serves Prometheus metrics on /metrics.
	Metrics bool `toml:"metrics"`
	// Pprof serves net/http/pprof on /debug/pprof/.
	Pprof bool `toml:"pprof"`
}

// LogConfig is the [log] section.
type LogConfig struct {
	// Level is debug, info, warn, error or off.
	Level string `toml:"level"`
	// Format is text or json.
	Format string `toml:"format"`
}

// KeysConfig is the [keys] section.
type KeysConfig struct {
	// BLSKeystore is the EIP-2335 keystore of the BLS key.
	BLSKeystore string `toml:"bls_keystore"`
	// NetworkKeystore is the EIP-2335 keystore of the Ed25519 network key.
	NetworkKeystore string `toml:"network_keystore"`
	// AccountKeystore is the EIP-2335 keystore of the node's Ed25519
	// ledger account (engine.Options.AccountKey); optional: a missing
	// file, or "", means the node has no account.
	AccountKeystore string `toml:"account_keystore"`
	// PasswordFile, when set, holds the keystore password.
	PasswordFile string `toml:"password_file"`
	// PasswordEnv is the environment variable holding the password when
	// PasswordFile is empty.
	PasswordEnv string `toml:"password_env"`
}

// StorageConfig is the [storage] section's own key; the others are
// engine.Options' (NoSync, CacheSize, MemTableSize, BatchSegmentSize,
// MaxEvidence).
type StorageConfig struct {
	// DataDir holds pebble and the batch log.
	DataDir string `toml:"data_dir"`
}

// Default returns the default configuration: the engine's and the
// consensus core's defaults, the home layout of Init, and loopback
// addresses.
func Default() *Config {
	var eo engine.Options
	eo.EnsureDefaults()
	c := &Config{
		ChainID:       DefaultChainID,
		CommitteeFile: "committee.json",
		Network:       NetworkConfig{QUICAddr: "127.0.0.1:7000"},
		API:           APIConfig{Addr: "127.0.0.1:8080", Metrics: true},
		Log:           LogConfig{Level: "info", Format: "text"},
		Keys: KeysConfig{
			BLSKeystore:     filepath.Join("keys", "bls.keystore.json"),
			NetworkKeystore: filepath.Join("keys", "network.keystore.json"),
			AccountKeystore: filepath.Join("keys", "account.keystore.json"),
			PasswordEnv:     DefaultPasswordEnv,
		},
		Storage: StorageConfig{DataDir: "data"},
	}
	// The settings only: the engine's defaults of its other fields (the
	// logger, the transport) are the engine's business.
	copySettings(&c.Node, &eo)
	// 0 for content concurrency: it follows the machine (as k and n,
	// which the engine leaves at 0, follow the committee).
	c.Node.Content.Concurrency = 0
	return c
}

// EnsureDefaults fills the zero fields of c with Default's values and
// returns c. Load does not call it: a file that sets a value to zero
// gets that value, and Validate refuses it where zero cannot work.
// Booleans have no zero to fill (api.metrics defaults to true in Default
// only).
func (c *Config) EnsureDefaults() *Config {
	fillZero(c, Default())
	return c
}

// Dir returns the directory relative paths resolve against.
func (c *Config) Dir() string { return c.dir }

// SetDir sets the directory relative paths resolve against (Load sets it
// to the directory of the file it read).
func (c *Config) SetDir(dir string) { c.dir = dir }

// Path resolves p, a path from the configuration, against Dir.
func (c *Config) Path(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(c.dir, p)
}

// Validate reports every setting that cannot work, each error naming its
// setting (its TOML key). The settings of Node are checked by
// engine.Options.ValidateSettings, not here.
func (c *Config) Validate() error {
	if err := c.validate(); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	return nil
}

func (c *Config) validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, &SettingError{Key: key, Err: fmt.Errorf(format, args...)})
	}
	if c.ChainID == "" {
		bad("chain_id", "must not be empty")
	} else if len(c.ChainID) > 64 || !printableASCII(c.ChainID) {
		bad("chain_id", "%q: want at most 64 printable ASCII characters", c.ChainID)
	}
	if c.Validator != "" {
		if err := checkName(c.Validator, true); err != nil {
			bad("validator", "%v", err)
		}
	}
	if c.CommitteeFile == "" {
		bad("committee_file", "must not be empty")
	}
	if c.Network.QUICAddr != "" {
		if err := checkHostPort(c.Network.QUICAddr, false); err != nil {
			bad("network.quic_addr", "%v", err)
		}
	}
	if c.API.Addr != "" {
		if err := checkHostPort(c.API.Addr, true); err != nil {
			bad("api.addr", "%v", err)
		}
	} else if c.API.Pprof {
		bad("api.pprof", "needs api.addr")
	}
	if _, err := ParseLogLevel(c.Log.Level); err != nil {
		bad("log.level", "%v", err)
	}
	if c.Log.Format != "text" && c.Log.Format != "json" {
		bad("log.format", "%q: want text or json", c.Log.Format)
	}
	if c.Keys.BLSKeystore == "" {
		bad("keys.bls_keystore", "must not be empty")
	}
	if c.Keys.NetworkKeystore == "" {
		bad("keys.network_keystore", "must not be empty")
	}
	if c.Keys.BLSKeystore != "" && c.Path(c.Keys.BLSKeystore) == c.Path(c.Keys.NetworkKeystore) {
		bad("keys.network_keystore", "is the same file as keys.bls_keystore")
	}
	if a := c.Keys.AccountKeystore; a != "" && (c.Path(a) == c.Path(c.Keys.BLSKeystore) || c.Path(a) == c.Path(c.Keys.NetworkKeystore)) {
		bad("keys.account_keystore", "is the same file as another keystore")
	}
	if c.Keys.PasswordEnv != "" && !validEnvName(c.Keys.PasswordEnv) {
		bad("keys.password_env", "%q is not an environment variable name", c.Keys.PasswordEnv)
	}
	if c.Storage.DataDir == "" {
		bad("storage.data_dir", "must not be empty")
	}

	errs = append(errs, nodeSettingErrors(c.Node.ValidateSettings())...)
	return errors.Join(errs...)
}

// SettingError is a bad value of one setting.
type SettingError struct {
	// Key is the setting's TOML key, such as "dag.batch_size".
	Key string
	// Err says what is wrong with the value.
	Err error
}

// Error returns "key: what is wrong".
func (e *SettingError) Error() string { return e.Key + ": " + e.Err.Error() }

// Unwrap returns e.Err.
func (e *SettingError) Unwrap() error { return e.Err }

// ParseLogLevel parses a log level: debug, info, warn, error (slog's
// names, case-insensitive, with offsets such as "info+2") or off.
// Off is returned as a level above every record's.
func ParseLogLevel(s string) (slog.Level, error) {
	if strings.EqualFold(s, "off") {
		return slog.Level(1 << 20), nil
	}
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("%q: want debug, info, warn, error or off", s)
	}
	return l, nil
}

func validEnvName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return s != ""
}
