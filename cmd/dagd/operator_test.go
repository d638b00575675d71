package main

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dagd/dagd/crypto"
	"github.com/dagd/dagd/engine/client"
	"github.com/dagd/dagd/engine/config"
)

// fastKDFForTests keeps the tests' keystores cheap; such files protect
// nothing.
var fastKDFForTests = crypto.KeystoreOptions{ScryptN: 16}

// TestInitCommittee drives init and committee as an operator does: flags
// change what config.toml holds, the password comes from a file or the
// environment and is stored nowhere, a second init is refused, and the
// validators' entries make a committee file.
func TestInitCommittee(t *testing.T) {
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "pw")
	if err := os.WriteFile(pwFile, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DAGD_PASSWORD", "")
	alice := filepath.Join(dir, "alice")
	out, err := runDagd(t, "init", "--home", alice, "--password-file", pwFile, "--scrypt-n", "16", "--chain-id", "c1",
		"--quic-addr", "127.0.0.1:7100", "--batch-size", "64KiB", "--log-format", "json", "--pprof")
	if err != nil {
		t.Fatalf("init: %v", err)
	}
	if !strings.Contains(out, "validator \"alice\" at 127.0.0.1:7100") {
		t.Errorf("init output:\n%s", out)
	}
	cfg, err := config.Load(filepath.Join(alice, config.ConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ChainID != "c1" || cfg.Node.DAG.BatchSize != 64<<10 || cfg.Log.Format != "json" || !cfg.API.Pprof ||
		cfg.Keys.PasswordFile != pwFile || cfg.Validator != "alice" || cfg.Network.QUICAddr != "127.0.0.1:7100" {
		t.Errorf("config written: %+v", cfg)
	}
	if _, err := config.LoadKeys(cfg, []byte("s3cret")); err != nil {
		t.Errorf("keys: %v", err)
	}
	for _, f := range []string{"config.toml", "validator.json", "keys/bls.keystore.json", "keys/network.keystore.json"} {
		b, _ := os.ReadFile(filepath.Join(alice, f))
		if strings.Contains(string(b), "s3cret") {
			t.Errorf("the password is in %s", f)
		}
	}
	if _, err := runDagd(t, "init", "--home", alice, "--password-file", pwFile, "--scrypt-n", "16"); err == nil ||
		!strings.Contains(err.Error(), "--force") {
		t.Errorf("second init: %v", err)
	}

	// The password from the environment; the config names the variable.
	t.Setenv("DAGD_PASSWORD", "from-env")
	bob := filepath.Join(dir, "bob")
	if _, err := runDagd(t, "init", "--home", bob, "--scrypt-n", "16", "--chain-id", "c1", "--quic-addr", "127.0.0.1:7101"); err != nil {
		t.Fatalf("init bob: %v", err)
	}
	bcfg, err := config.Load(filepath.Join(bob, config.ConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	if bcfg.Keys.PasswordFile != "" || bcfg.Keys.PasswordEnv != "DAGD_PASSWORD" {
		t.Errorf("bob's password source: %+v", bcfg.Keys)
	}
	if _, err := config.LoadKeys(bcfg, []byte("from-env")); err != nil {
		t.Errorf("bob's keys: %v", err)
	}

	// No password anywhere, and no terminal to ask.
	t.Setenv("DAGD_PASSWORD", "")
	_, err = runDagd(t, "init", "--home", filepath.Join(dir, "carol"), "--scrypt-n", "16")
	if !errors.Is(err, config.ErrNoPassword) || !strings.Contains(err.Error(), "--password-file") {
		t.Errorf("init without a password: %v", err)
	}
	// A bad flag value names the flag and the setting.
	_, err = runDagd(t, "init", "--home", filepath.Join(dir, "dave"), "--password-file", pwFile, "--batch-size", "lots")
	if err == nil || !strings.Contains(err.Error(), "--batch-size") || !strings.Contains(err.Error(), "dag.batch_size") {
		t.Errorf("bad --batch-size: %v", err)
	}

	com := filepath.Join(dir, "committee.json")
	out, err = runDagd(t, "committee", "--chain-id", "c1", "--out", com, filepath.Join(alice, "validator.json"), filepath.Join(bob, "validator.json"))
	if err != nil {
		t.Fatalf("committee: %v", err)
	}
	c, err := config.LoadCommittee(com)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Validators) != 2 || c.Validators[0].Name != "alice" || c.Validators[1].Name != "bob" || c.ChainID != "c1" {
		t.Errorf("committee %+v", c)
	}
	if _, err := runDagd(t, "committee", "--out", com, filepath.Join(alice, "validator.json"), filepath.Join(alice, "validator.json")); err == nil {
		t.Error("a committee with one validator twice was written")
	}
}

// TestStartRefusesBadSetup checks that start fails before opening the
// node, with an error that says what to fix.
func TestStartRefusesBadSetup(t *testing.T) {
	dir := t.TempDir()
	tn, err := config.GenerateTestnet(config.TestnetOptions{Dir: dir, Validators: 2, Keystore: fastKDFForTests})
	if err != nil {
		t.Fatal(err)
	}
	home := tn.Nodes[0].Home
	wrong := filepath.Join(dir, "wrong")
	if err := os.WriteFile(wrong, []byte("nope\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := runDagd(t, "start", "--home", home, "--password-file", wrong); !errors.Is(err, config.ErrWrongPassword) {
		t.Errorf("wrong password: %v", err)
	}
	// A relative path given as a flag is relative to the working directory.
	t.Chdir(dir)
	if _, err := runDagd(t, "start", "--home", home, "--password-file", "wrong"); !errors.Is(err, config.ErrWrongPassword) {
		t.Errorf("relative --password-file: %v", err)
	}
	if _, err := runDagd(t, "start", "--home", home, "--log-format", "xml"); err == nil || !strings.Contains(err.Error(), "log.format") {
		t.Errorf("bad log format: %v", err)
	}
	if _, err := runDagd(t, "start", "--home", filepath.Join(dir, "nowhere")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing home: %v", err)
	}
	cfgFile := filepath.Join(home, config.ConfigFile)
	b, err := os.ReadFile(cfgFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfgFile, []byte(strings.Replace(string(b), "[dag]\n", "[dag]\nbatch_sise = 5\n", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := runDagd(t, "start", "--home", home); err == nil || !strings.Contains(err.Error(), "dag.batch_sise: unknown setting") {
		t.Errorf("unknown setting: %v", err)
	}
	// The committee file of another chain.
	_ = os.WriteFile(cfgFile, b, 0o600)
	if _, err := runDagd(t, "start", "--home", home, "--chain-id", "other"); err == nil || !strings.Contains(err.Error(), "chain_id") {
		t.Errorf("other chain: %v", err)
	}
}

func TestStatusCommand(t *testing.T) {
	st := client.Status{Validator: 2, CommitteeSize: 4, Round: 120, LastCommittedRound: 118, LastCommittedSeq: 57,
		CommitDigest: strings.Repeat("ab", 32), PeersConnected: 3, QuorumConnected: true, CommittedTxs: 999,
		LastCommitAt: time.Now().Add(-time.Second)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/status" {
			http.NotFound(w, r)
			return
		}
		_ = json.NewEncoder(w).Encode(st)
	}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	out, err := runDagd(t, "status", "--node", addr)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"validator 2 of 4", "round:           120", "seq 57, round 118", "committed txs:   999", "quorum connected: yes"} {
		if !strings.Contains(out, want) {
			t.Errorf("status output lacks %q:\n%s", want, out)
		}
	}
	out, err = runDagd(t, "status", "--node", addr, "--json")
	if err != nil {
		t.Fatal(err)
	}
	var back client.Status
	if err := json.Unmarshal([]byte(out), &back); err != nil || back.LastCommittedSeq != 57 {
		t.Errorf("--json output %q: %v", out, err)
	}
	srv.Close()
	if _, err := runDagd(t, "status", "--node", addr, "--timeout", "2s"); err == nil || !strings.Contains(err.Error(), "unreachable") ||
		!strings.Contains(err.Error(), addr) {
		t.Errorf("unreachable node: %v", err)
	}
	if _, err := runDagd(t, "status", "--node", "no-port"); err == nil || !strings.Contains(err.Error(), "host:port") {
		t.Errorf("bad address: %v", err)
	}
}
