package config

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dagd/dagd/crypto"
	"github.com/dagd/dagd/engine"
)

// fastKDF keeps the tests' keystores cheap; such files protect nothing.
var fastKDF = crypto.KeystoreOptions{ScryptN: 1 << 4}

func initHome(t *testing.T, home string, password string) *Home {
	t.Helper()
	h, err := Init(InitOptions{Home: home, Password: []byte(password), Keystore: fastKDF})
	if err != nil {
		t.Fatalf("Init: %v", err)
	}
	return h
}

func TestInitWritesAHome(t *testing.T) {
	home := filepath.Join(t.TempDir(), "alice")
	h := initHome(t, home, "correct horse")
	if h.Member.Name != "alice" || h.Member.Address != "127.0.0.1:7000" || h.Member.Stake != 1 {
		t.Errorf("member %+v", h.Member)
	}
	for _, p := range []string{"config.toml", "validator.json", "keys/bls.keystore.json", "keys/network.keystore.json"} {
		fi, err := os.Stat(filepath.Join(home, p))
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(p, "keys/") || p == "config.toml" {
			if fi.Mode().Perm() != 0o600 {
				t.Errorf("%s has mode %v, want 0600", p, fi.Mode().Perm())
			}
		}
	}
	text, err := os.ReadFile(h.ConfigFile)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(text, []byte("correct horse")) {
		t.Error("the password is in config.toml")
	}
	for _, f := range []string{"keys/bls.keystore.json", "keys/network.keystore.json"} {
		b, _ := os.ReadFile(filepath.Join(home, f))
		if bytes.Contains(b, []byte("correct horse")) {
			t.Errorf("the password is in %s", f)
		}
	}
	cfg, err := Load(h.ConfigFile)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Validator != "alice" || cfg.Dir() != home {
		t.Errorf("config: validator %q, dir %q", cfg.Validator, cfg.Dir())
	}
	keys, err := LoadKeys(cfg, []byte("correct horse"))
	if err != nil {
		t.Fatalf("LoadKeys: %v", err)
	}
	if !bytes.Equal(keys.BLS.PublicKey().Bytes(), h.Member.BLSPublicKey) || !bytes.Equal(keys.Network.Public(), h.Member.NetworkKey) {
		t.Error("the keystores do not hold the keys of validator.json")
	}
	m, err := LoadMember(h.ValidatorFile)
	if err != nil {
		t.Fatalf("LoadMember: %v", err)
	}
	if m.Name != "alice" {
		t.Errorf("validator.json name %q", m.Name)
	}
}

func TestInitRefusesAnExistingHome(t *testing.T) {
	home := filepath.Join(t.TempDir(), "bob")
	h := initHome(t, home, "pw")
	_, err := Init(InitOptions{Home: home, Password: []byte("pw"), Keystore: fastKDF})
	if err == nil || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("second Init: %v, want a refusal that mentions --force", err)
	}
	h2, err := Init(InitOptions{Home: home, Password: []byte("pw2"), Keystore: fastKDF, Force: true})
	if err != nil {
		t.Fatalf("Init --force: %v", err)
	}
	if bytes.Equal(h.Member.BLSPublicKey, h2.Member.BLSPublicKey) {
		t.Error("--force kept the old key")
	}
	// A data directory with records is never overwritten.
	if err := os.MkdirAll(filepath.Join(home, "data"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, "data", "MANIFEST"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Init(InitOptions{Home: home, Password: []byte("pw"), Keystore: fastKDF, Force: true})
	if err == nil || !strings.Contains(err.Error(), "data directory") {
		t.Fatalf("Init --force over data: %v, want a refusal", err)
	}
}

func TestInitNeedsAPasswordAndAName(t *testing.T) {
	dir := t.TempDir()
	if _, err := Init(InitOptions{Home: filepath.Join(dir, "x")}); !errors.Is(err, ErrNoPassword) {
		t.Errorf("no password: %v", err)
	}
	if _, err := Init(InitOptions{Home: filepath.Join(dir, "123"), Password: []byte("p")}); err == nil || !strings.Contains(err.Error(), "--name") {
		t.Errorf("numeric name: %v", err)
	}
}

func TestKeystoreErrors(t *testing.T) {
	home := filepath.Join(t.TempDir(), "carol")
	h := initHome(t, home, "secret")
	cfg, err := Load(h.ConfigFile)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := LoadKeys(cfg, []byte("not the secret")); !errors.Is(err, ErrWrongPassword) || errors.Is(err, ErrBadKeystore) {
		t.Errorf("wrong password: %v", err)
	} else if !strings.Contains(err.Error(), "keys.bls_keystore") {
		t.Errorf("wrong password error does not name the keystore: %v", err)
	}
	bls := filepath.Join(home, "keys", "bls.keystore.json")
	orig, err := os.ReadFile(bls)
	if err != nil {
		t.Fatal(err)
	}
	damage := map[string][]byte{
		"truncated": orig[:len(orig)/2],
		"empty":     nil,
		"garbage":   []byte("\x00\x01not json"),
		"bad salt":  bytes.Replace(orig, []byte(`"salt": "`), []byte(`"salt": "zz`), 1),
		"version 3": bytes.Replace(orig, []byte(`"version": 4`), []byte(`"version": 3`), 1),
		"huge":      bytes.Repeat([]byte(" "), crypto.MaxKeystoreSize+10),
	}
	for name, data := range damage {
		if err := os.WriteFile(bls, data, 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := LoadKeys(cfg, []byte("secret"))
		if !errors.Is(err, ErrBadKeystore) || errors.Is(err, ErrWrongPassword) || !strings.Contains(err.Error(), bls) {
			t.Errorf("%s keystore: %v, want ErrBadKeystore naming %s", name, err, bls)
		}
	}
	if err := os.Remove(bls); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadKeys(cfg, []byte("secret")); !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "keys.bls_keystore") {
		t.Errorf("missing keystore: %v", err)
	}
	// The BLS keystore holding the network key's secret is refused too.
	net := filepath.Join(home, "keys", "network.keystore.json")
	nb, _ := os.ReadFile(net)
	_ = os.WriteFile(bls, nb, 0o600)
	if _, err := LoadKeys(cfg, []byte("secret")); !errors.Is(err, ErrBadKeystore) {
		t.Errorf("network key in the BLS keystore: %v", err)
	}
}

func TestPasswordSources(t *testing.T) {
	dir := t.TempDir()
	c := Default()
	c.SetDir(dir)
	env := map[string]string{}
	getenv := func(k string) string { return env[k] }
	if _, err := c.Password(getenv); !errors.Is(err, ErrNoPassword) || !strings.Contains(err.Error(), "DAGD_PASSWORD") {
		t.Errorf("no password: %v", err)
	}
	env["DAGD_PASSWORD"] = "from env"
	if pw, err := c.Password(getenv); err != nil || string(pw) != "from env" {
		t.Errorf("env: %q, %v", pw, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "pw"), []byte("from file\r\nsecond line\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c.Keys.PasswordFile = "pw"
	if pw, err := c.Password(getenv); err != nil || string(pw) != "from file" {
		t.Errorf("file: %q, %v", pw, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "pw"), []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Password(getenv); !errors.Is(err, ErrNoPassword) {
		t.Errorf("empty file: %v", err)
	}
	c.Keys.PasswordFile = "missing"
	if _, err := c.Password(getenv); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func TestEngineOptionsFromAHome(t *testing.T) {
	home := filepath.Join(t.TempDir(), "dave")
	h := initHome(t, home, "pw")
	// A committee of this validator and two others.
	var members []Member
	for i := range 2 {
		k, err := GenerateKeys(nil)
		if err != nil {
			t.Fatal(err)
		}
		members = append(members, *k.Member([]string{"erin", "frank"}[i], []string{"127.0.0.1:7001", "127.0.0.1:7002"}[i], 2))
	}
	members = append(members, *h.Member)
	com, err := AssembleCommittee(DefaultChainID, 0, members)
	if err != nil {
		t.Fatal(err)
	}
	if err := com.WriteFile(filepath.Join(home, "committee.json")); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(h.ConfigFile)
	if err != nil {
		t.Fatal(err)
	}
	cfg.API.Addr = "127.0.0.1:0"
	cfg.Network.QUICAddr = "" // the committee's address
	o, err := cfg.NodeOptions([]byte("pw"), nil)
	if err != nil {
		t.Fatalf("NodeOptions: %v", err)
	}
	if o.Self != 2 || o.ChainID != DefaultChainID || o.DataDir != filepath.Join(home, "data") || len(o.Committee) != 3 ||
		o.DAG.MaxBatchDelay != 20 || o.CacheSize != 32<<20 || o.DisableMetrics {
		t.Errorf("options %+v", o)
	}
	// By index, and by key when validator is "".
	for _, ref := range []string{"2", ""} {
		cfg.Validator = ref
		if o, err := cfg.NodeOptions([]byte("pw"), nil); err != nil || o.Self != 2 {
			t.Errorf("validator %q: self %d, %v", ref, o.Self, err)
		}
	}
	for ref, want := range map[string]string{"erin": "does not match", "zed": "no validator named", "7": "outside"} {
		cfg.Validator = ref
		if _, err := cfg.NodeOptions([]byte("pw"), nil); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("validator %q: %v, want %q", ref, err, want)
		}
	}
	cfg.Validator = "dave"
	cfg.ChainID = "other"
	if _, err := cfg.NodeOptions([]byte("pw"), nil); err == nil || !strings.Contains(err.Error(), "chain_id") {
		t.Errorf("other chain: %v", err)
	}
	cfg.ChainID = DefaultChainID
	if _, err := cfg.NodeOptions([]byte("wrong"), nil); !errors.Is(err, ErrWrongPassword) {
		t.Errorf("wrong password: %v", err)
	}

	// The options open a real node.
	o, err = cfg.NodeOptions([]byte("pw"), nil)
	if err != nil {
		t.Fatal(err)
	}
	o.ListenAddr = "127.0.0.1:0"
	n, err := engine.New(context.Background(), o)
	if err != nil {
		t.Fatalf("engine.New: %v", err)
	}
	if n.Self() != 2 || n.APIAddr() == "" {
		t.Errorf("node self %d, API %q", n.Self(), n.APIAddr())
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestAccountKeystore: init writes the node's account keystore, LoadKeys
// and NodeOptions give it to the engine as Options.AccountKey, and a home
// without the file (written before accounts, or with the setting emptied)
// loads with no account.
func TestAccountKeystore(t *testing.T) {
	home := filepath.Join(t.TempDir(), "gina")
	h := initHome(t, home, "pw")
	path := filepath.Join(home, "keys", "account.keystore.json")
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("account keystore: %v %v", fi, err)
	}
	cfg, err := Load(h.ConfigFile)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := LoadKeys(cfg, []byte("pw"))
	if err != nil || keys.Account == nil {
		t.Fatalf("LoadKeys: %v, account %v", err, keys)
	}
	com, err := AssembleCommittee(DefaultChainID, 0, []Member{*h.Member})
	if err != nil {
		t.Fatal(err)
	}
	o, err := cfg.EngineOptions(com, keys, nil)
	if err != nil || o.AccountKey == nil || o.AccountKey.Public() != keys.Account.Public() {
		t.Fatalf("EngineOptions: %v, account %v", err, o.AccountKey)
	}
	// A wrong password is refused for the account keystore too.
	if _, err := readKeystore("keys.account_keystore", path, []byte("nope"), new([]byte)); !errors.Is(err, ErrWrongPassword) {
		t.Fatalf("wrong password: %v", err)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if keys, err := LoadKeys(cfg, []byte("pw")); err != nil || keys.Account != nil {
		t.Fatalf("without the file: %v, account %v", err, keys.Account)
	}
	cfg.Keys.AccountKeystore = ""
	if keys, err := LoadKeys(cfg, []byte("pw")); err != nil || keys.Account != nil {
		t.Fatalf("setting emptied: %v, account %v", err, keys.Account)
	}
}
