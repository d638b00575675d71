package config

import (
	cryptorand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"

	"github.com/dagd/dagd/contracts"
	"github.com/dagd/dagd/crypto"
	"github.com/dagd/dagd/dag"
	"github.com/dagd/dagd/engine"
)

// Files of a testnet directory.
const (
	// TestnetFile lists the nodes of a testnet (see Testnet).
	TestnetFile = "testnet.json"
	// CommitteeFileName is the committee file of a testnet, shared by its
	// homes.
	CommitteeFileName = "committee.json"
	// PasswordFileName holds a testnet's generated keystore password.
	PasswordFileName = "password"
	// GenesisFileName is the genesis of a testnet with funded accounts,
	// shared by its homes.
	GenesisFileName = "genesis.json"
	// TestnetScryptN is the scrypt cost of a testnet's keystores: 2^14
	// (16 MiB, a few tens of milliseconds). The password is stored beside
	// the keys, so a costly derivation would protect nothing.
	TestnetScryptN = 1 << 14
)

// TestnetOptions configures GenerateTestnet. Zero values mean defaults.
type TestnetOptions struct {
	// Dir receives the testnet. Required.
	Dir string
	// Validators is the committee size. Default 4.
	Validators int
	// Host is the address every node listens on. Default "127.0.0.1".
	Host string
	// BasePort, when set, gives node i the QUIC (UDP) port BasePort+2i
	// and the API (TCP) port BasePort+2i+1. Default 0: free ports chosen
	// by the system (free when generated; another program may take one
	// before the nodes start).
	BasePort int
	// ChainID of the testnet. Default "dagd-testnet".
	ChainID string
	// Force replaces a testnet already in Dir, erasing its homes (and
	// their data). Default false: an existing testnet is an error.
	Force bool
	// Keystore sets the keystores' scrypt cost. Default: TestnetScryptN.
	Keystore crypto.KeystoreOptions
	// Configure, when set, edits node i's configuration before it is
	// written (tests, tuning).
	Configure func(i int, c *Config)
	// Rand is the source of keys and of the password. Default crypto/rand.
	Rand io.Reader
	// Accounts, when positive, writes DIR/genesis.json, which every home's
	// genesis_file names: Accounts funded accounts derived from
	// AccountsSeed (contracts.DevnetAccountKey, contracts.DevnetAccountBalance
	// each) and the validators' stakes (engine.DevnetGenesis). Default 0:
	// no genesis, the state starts empty.
	Accounts int
	// AccountsSeed derives the funded accounts' keys: anyone with it has
	// them (local testing only). Default the chain id.
	AccountsSeed string
}

// EnsureDefaults fills zero fields with their defaults and returns o.
func (o *TestnetOptions) EnsureDefaults() *TestnetOptions {
	if o.Validators == 0 {
		o.Validators = 4
	}
	if o.Host == "" {
		o.Host = "127.0.0.1"
	}
	if o.ChainID == "" {
		o.ChainID = "dagd-testnet"
	}
	if o.Keystore == (crypto.KeystoreOptions{}) {
		o.Keystore.ScryptN = TestnetScryptN
	}
	if o.Rand == nil {
		o.Rand = cryptorand.Reader
	}
	if o.AccountsSeed == "" {
		o.AccountsSeed = o.ChainID
	}
	return o
}

// Validate reports settings that cannot work.
func (o *TestnetOptions) Validate() error {
	var errs []error
	if o.Dir == "" {
		errs = append(errs, errors.New("output directory is required"))
	}
	if o.Validators < 1 || o.Validators > dag.MaxCommitteeSize {
		errs = append(errs, fmt.Errorf("%d validators: want 1..%d", o.Validators, dag.MaxCommitteeSize))
	}
	if o.BasePort < 0 || o.BasePort > 0 && o.BasePort+2*o.Validators-1 > 65535 {
		errs = append(errs, fmt.Errorf("base port %d: ports %d..%d do not fit below 65536", o.BasePort, o.BasePort, o.BasePort+2*o.Validators-1))
	}
	if o.BasePort > 0 && o.BasePort < 1024 {
		errs = append(errs, fmt.Errorf("base port %d: want 1024 or above", o.BasePort))
	}
	if ip := net.ParseIP(o.Host); ip == nil {
		errs = append(errs, fmt.Errorf("host %q: want an IP address", o.Host))
	}
	if o.ChainID == "" || len(o.ChainID) > 64 || !printableASCII(o.ChainID) {
		errs = append(errs, fmt.Errorf("chain id %q: want 1 to 64 printable ASCII characters", o.ChainID))
	}
	if o.Accounts < 0 || o.Accounts > contracts.MaxGenesisAccounts {
		errs = append(errs, fmt.Errorf("%d accounts: want 0 to %d", o.Accounts, contracts.MaxGenesisAccounts))
	}
	ko := o.Keystore
	ko.EnsureDefaults()
	if err := ko.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("keystore: %w", err))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("config: testnet: %w", err)
	}
	return nil
}

// Testnet is a local testnet as GenerateTestnet wrote it; DIR/testnet.json
// holds it.
type Testnet struct {
	// ChainID of the testnet.
	ChainID string `json:"chain_id"`
	// Committee is the shared committee file.
	Committee string `json:"committee"`
	// PasswordFile holds the keystores' password.
	PasswordFile string `json:"password_file"`
	// Genesis is the shared genesis file, when the testnet has funded
	// accounts.
	Genesis string `json:"genesis,omitempty"`
	// Accounts is the number of funded accounts and AccountsSeed what
	// derives their keys (contracts.DevnetAccountKey).
	Accounts     int    `json:"accounts,omitempty"`
	AccountsSeed string `json:"accounts_seed,omitempty"`
	// Nodes lists the validators in committee order.
	Nodes []TestnetNode `json:"nodes"`
}

// TestnetNode is one validator of a testnet.
type TestnetNode struct {
	// Name of the validator in the committee.
	Name string `json:"name"`
	// Home is its home directory (for dagd start --home).
	Home string `json:"home"`
	// API is its HTTP API address, host:port.
	API string `json:"api"`
	// QUIC is its transport address, host:port (UDP).
	QUIC string `json:"quic"`
}

// GenerateTestnet writes a testnet of o.Validators nodes into o.Dir: one
// home per node (node-0, node-1...), the shared committee file, a
// generated password in DIR/password (mode 0600) that every home's
// config.toml names, and DIR/testnet.json. For local testing only: the
// password sits beside the keys.
func GenerateTestnet(o TestnetOptions) (*Testnet, error) {
	o.EnsureDefaults()
	if err := o.Validate(); err != nil {
		return nil, err
	}
	dir, err := filepath.Abs(o.Dir)
	if err != nil {
		return nil, fmt.Errorf("config: testnet: %w", err)
	}
	if err := prepareTestnetDir(dir, o.Force); err != nil {
		return nil, err
	}
	quic, api, err := testnetPorts(o.Host, o.BasePort, o.Validators)
	if err != nil {
		return nil, err
	}
	var pw [24]byte
	if _, err := io.ReadFull(o.Rand, pw[:]); err != nil {
		return nil, fmt.Errorf("config: testnet: password: %w", err)
	}
	password := []byte(hex.EncodeToString(pw[:]))
	tn := &Testnet{ChainID: o.ChainID, Committee: filepath.Join(dir, CommitteeFileName), PasswordFile: filepath.Join(dir, PasswordFileName)}
	if err := writeFileAtomic(tn.PasswordFile, append(password, '\n'), 0o600); err != nil {
		return nil, fmt.Errorf("config: testnet: %w", err)
	}
	members := make([]Member, o.Validators)
	var nodeAccounts []crypto.AccountPublicKey
	for i := range o.Validators {
		name := fmt.Sprintf("node-%d", i)
		cfg := Default()
		cfg.ChainID = o.ChainID
		cfg.Validator = name
		cfg.CommitteeFile = filepath.Join("..", CommitteeFileName)
		cfg.Keys.PasswordFile = filepath.Join("..", PasswordFileName)
		if o.Accounts > 0 {
			cfg.GenesisFile = filepath.Join("..", GenesisFileName)
		}
		cfg.Network.QUICAddr = quic[i]
		cfg.API.Addr = api[i]
		// A local testnet takes the opaque load of README's
		// `dagd loadtest` (consensus only), as a devnet does.
		cfg.Node.Execution.AdmitOpaque = true
		if o.Configure != nil {
			o.Configure(i, cfg)
		}
		h, err := Init(InitOptions{Home: filepath.Join(dir, name), Name: name, Config: cfg, Password: password,
			Keystore: o.Keystore, Rand: o.Rand, Address: quic[i]})
		if err != nil {
			return nil, fmt.Errorf("config: testnet: %s: %w", name, err)
		}
		members[i] = *h.Member
		if h.Account != nil {
			nodeAccounts = append(nodeAccounts, *h.Account)
		}
		tn.Nodes = append(tn.Nodes, TestnetNode{Name: name, Home: h.Dir, API: h.Config.API.Addr, QUIC: quic[i]})
	}
	com, err := AssembleCommittee(o.ChainID, 0, members)
	if err != nil {
		return nil, fmt.Errorf("config: testnet: %w", err)
	}
	if err := com.WriteFile(tn.Committee); err != nil {
		return nil, err
	}
	if o.Accounts > 0 {
		g, err := engine.DevnetGenesis(o.ChainID, o.AccountsSeed, o.Accounts, EngineValidators(com))
		if err != nil {
			return nil, fmt.Errorf("config: testnet: %w", err)
		}
		// Each node's own account is funded too, so that it can register
		// content in the ledger (its transactions pay fees).
		for _, a := range nodeAccounts {
			g.Accounts = append(g.Accounts, contracts.GenesisAccount{PublicKey: a, Balance: contracts.DevnetAccountBalance})
		}
		if err := g.Validate(); err != nil {
			return nil, fmt.Errorf("config: testnet: genesis: %w", err)
		}
		b, err := g.MarshalJSON()
		if err != nil {
			return nil, fmt.Errorf("config: testnet: genesis: %w", err)
		}
		tn.Genesis, tn.Accounts, tn.AccountsSeed = filepath.Join(dir, GenesisFileName), o.Accounts, o.AccountsSeed
		if err := writeFileAtomic(tn.Genesis, append(b, '\n'), 0o644); err != nil {
			return nil, fmt.Errorf("config: testnet: %w", err)
		}
	}
	if err := writeJSONFile(filepath.Join(dir, TestnetFile), tn, 0o644); err != nil {
		return nil, err
	}
	return tn, nil
}

// LoadTestnet reads DIR/testnet.json.
func LoadTestnet(dir string) (*Testnet, error) {
	var tn Testnet
	if err := readJSONFile(filepath.Join(dir, TestnetFile), 1<<20, &tn); err != nil {
		return nil, fmt.Errorf("config: testnet: %w", err)
	}
	return &tn, nil
}

// prepareTestnetDir makes dir, refusing (or, with force, erasing) what
// an earlier testnet left there.
func prepareTestnetDir(dir string, force bool) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("config: testnet: %w", err)
	}
	old := []string{TestnetFile, CommitteeFileName, PasswordFileName, GenesisFileName}
	homes, err := filepath.Glob(filepath.Join(dir, "node-*"))
	if err != nil {
		return fmt.Errorf("config: testnet: %w", err)
	}
	var found []string
	for _, name := range old {
		if _, err := os.Lstat(filepath.Join(dir, name)); err == nil {
			found = append(found, filepath.Join(dir, name))
		}
	}
	found = append(found, homes...)
	if len(found) == 0 {
		return nil
	}
	if !force {
		return fmt.Errorf("config: testnet: %s already holds a testnet (%s); use --force to erase it", dir, found[0])
	}
	for _, p := range found {
		if err := os.RemoveAll(p); err != nil {
			return fmt.Errorf("config: testnet: %w", err)
		}
	}
	return nil
}

// testnetPorts returns the QUIC and API addresses of n nodes: from base,
// or free ports when base is 0. Every port is checked by binding it.
func testnetPorts(host string, base, n int) (quic, api []string, err error) {
	var closers []io.Closer
	defer func() {
		for _, c := range closers {
			_ = c.Close()
		}
	}()
	for i := range n {
		qa, aa := net.JoinHostPort(host, "0"), net.JoinHostPort(host, "0")
		if base > 0 {
			qa = net.JoinHostPort(host, strconv.Itoa(base+2*i))
			aa = net.JoinHostPort(host, strconv.Itoa(base+2*i+1))
		}
		pc, err := net.ListenPacket("udp", qa)
		if err != nil {
			return nil, nil, fmt.Errorf("config: testnet: QUIC port of node %d: %w", i, err)
		}
		closers = append(closers, pc)
		ln, err := net.Listen("tcp", aa)
		if err != nil {
			return nil, nil, fmt.Errorf("config: testnet: API port of node %d: %w", i, err)
		}
		closers = append(closers, ln)
		quic = append(quic, pc.LocalAddr().String())
		api = append(api, ln.Addr().String())
	}
	return quic, api, nil
}
