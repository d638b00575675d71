package config

import (
	"bytes"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/dagd/dagd/contracts"
)

func TestGenerateTestnet(t *testing.T) {
	dir := t.TempDir()
	tn, err := GenerateTestnet(TestnetOptions{Dir: dir, Validators: 4, Keystore: fastKDF, ChainID: "tn-1"})
	if err != nil {
		t.Fatalf("GenerateTestnet: %v", err)
	}
	if len(tn.Nodes) != 4 {
		t.Fatalf("%d nodes", len(tn.Nodes))
	}
	fi, err := os.Stat(filepath.Join(dir, PasswordFileName))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("password file: %v, mode %v", err, fi.Mode().Perm())
	}
	loaded, err := LoadTestnet(dir)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(filepath.Join(dir, TestnetFile))
	var generic struct {
		Nodes []map[string]any `json:"nodes"`
	}
	if err := json.Unmarshal(raw, &generic); err != nil || len(generic.Nodes) != 4 || generic.Nodes[0]["home"] == nil || generic.Nodes[0]["api"] == nil {
		t.Fatalf("testnet.json does not list home and api for each node: %s", raw)
	}
	com, err := LoadCommittee(filepath.Join(dir, CommitteeFileName))
	if err != nil {
		t.Fatal(err)
	}
	ports := map[string]bool{}
	for i, n := range loaded.Nodes {
		if n.Home != filepath.Join(dir, "node-"+strconv.Itoa(i)) {
			t.Errorf("node %d home %s", i, n.Home)
		}
		for _, a := range []string{"udp " + n.QUIC, "tcp " + n.API} {
			if ports[a] {
				t.Errorf("address %s used twice", a)
			}
			ports[a] = true
		}
		cfg, err := Load(filepath.Join(n.Home, ConfigFile))
		if err != nil {
			t.Fatal(err)
		}
		// Non-interactive: the password comes from the shared file.
		pw, err := cfg.Password(func(string) string { return "" })
		if err != nil {
			t.Fatalf("node %d password: %v", i, err)
		}
		o, err := cfg.NodeOptions(pw, nil)
		if err != nil {
			t.Fatalf("node %d: %v", i, err)
		}
		if int(o.Self) != i || o.ChainID != "tn-1" || o.APIListenAddr != n.API || o.ListenAddr != n.QUIC ||
			com.Validators[i].Address != n.QUIC || com.Validators[i].Name != n.Name {
			t.Errorf("node %d: options self %d chain %s api %s quic %s; testnet %+v", i, o.Self, o.ChainID, o.APIListenAddr, o.ListenAddr, n)
		}
	}
	// Again: refused, then replaced with --force.
	if _, err := GenerateTestnet(TestnetOptions{Dir: dir, Validators: 2, Keystore: fastKDF}); err == nil || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("second testnet: %v", err)
	}
	tn2, err := GenerateTestnet(TestnetOptions{Dir: dir, Validators: 2, Keystore: fastKDF, Force: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node-3")); !os.IsNotExist(err) {
		t.Errorf("--force left node-3 behind: %v", err)
	}
	if len(tn2.Nodes) != 2 {
		t.Errorf("%d nodes", len(tn2.Nodes))
	}
}

func TestTestnetBasePort(t *testing.T) {
	// Find a free run of ports, then take one of them.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	busy := ln.Addr().(*net.TCPAddr).Port
	defer ln.Close()
	base := busy - 3 // node 1's API port is base+3
	if base < 1024 {
		t.Skip("ephemeral port too low to place a base port below it")
	}
	_, err = GenerateTestnet(TestnetOptions{Dir: t.TempDir(), Validators: 2, BasePort: base, Keystore: fastKDF})
	if err == nil || !strings.Contains(err.Error(), "port of node") { // node 1's API, unless another program holds a lower one
		t.Fatalf("busy port %d: %v", busy, err)
	}
	if _, err := GenerateTestnet(TestnetOptions{Dir: t.TempDir(), Validators: 4, BasePort: 65530}); err == nil {
		t.Error("ports above 65535 accepted")
	}
	if _, err := GenerateTestnet(TestnetOptions{Dir: t.TempDir(), Validators: 0, Host: "localhost"}); err == nil ||
		!strings.Contains(err.Error(), "host") {
		t.Errorf("bad host: %v", err)
	}
}

func TestCommitteeValidation(t *testing.T) {
	var members []Member
	for i := range 3 {
		k, err := GenerateKeys(nil)
		if err != nil {
			t.Fatal(err)
		}
		members = append(members, *k.Member("v"+strconv.Itoa(i), "127.0.0.1:"+strconv.Itoa(7000+i), 1))
	}
	if _, err := AssembleCommittee("c", 0, members); err != nil {
		t.Fatal(err)
	}
	mutate := map[string]func(m []Member){
		"validator 1 (\"v0\"): name also used by validator 0": func(m []Member) { m[1].Name = "v0" },
		"not be a number": func(m []Member) { m[2].Name = "12" },
		"proof of possession": func(m []Member) {
			m[0].ProofOfPossession, m[1].ProofOfPossession = m[1].ProofOfPossession, m[0].ProofOfPossession
		},
		"bls_public_key of 95 bytes": func(m []Member) { m[2].BLSPublicKey = m[2].BLSPublicKey[:95] },
		"address also used":          func(m []Member) { m[2].Address = m[0].Address },
		"network_key also used":      func(m []Member) { m[2].NetworkKey = m[1].NetworkKey },
		"stake must be positive":     func(m []Member) { m[1].Stake = 0 },
		"address: \"nowhere\"":       func(m []Member) { m[1].Address = "nowhere" },
	}
	for want, f := range mutate {
		m := make([]Member, len(members))
		copy(m, members)
		f(m)
		_, err := AssembleCommittee("c", 0, m)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v", want, err)
		}
	}
	// Strict JSON.
	dir := t.TempDir()
	com := &Committee{ChainID: "c", Validators: members}
	path := filepath.Join(dir, "committee.json")
	if err := com.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	good, _ := os.ReadFile(path)
	for name, data := range map[string][]byte{
		"unknown field": bytes.Replace(good, []byte(`"epoch"`), []byte(`"epoc": 1, "epoch"`), 1),
		"trailing data": append(bytes.Clone(good), []byte("{}")...),
		"truncated":     good[:len(good)/2],
		"bad hex":       bytes.Replace(good, []byte(`"network_key": "`), []byte(`"network_key": "zz`), 1),
	} {
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadCommittee(path); err == nil {
			t.Errorf("%s: committee file accepted", name)
		}
	}
}

// TestTestnetGenesis: with Accounts, the testnet writes a genesis of
// funded accounts derived from the seed, every node loads it, and a
// genesis of another committee is refused.
func TestTestnetGenesis(t *testing.T) {
	dir := t.TempDir()
	tn, err := GenerateTestnet(TestnetOptions{Dir: dir, Validators: 2, Keystore: fastKDF, ChainID: "tn-g", Accounts: 5, AccountsSeed: "s1"})
	if err != nil {
		t.Fatal(err)
	}
	if tn.Genesis != filepath.Join(dir, GenesisFileName) || tn.Accounts != 5 || tn.AccountsSeed != "s1" {
		t.Fatalf("testnet %+v", tn)
	}
	for i, n := range tn.Nodes {
		cfg, err := Load(filepath.Join(n.Home, ConfigFile))
		if err != nil {
			t.Fatal(err)
		}
		pw, err := cfg.Password(func(string) string { return "" })
		if err != nil {
			t.Fatal(err)
		}
		o, err := cfg.NodeOptions(pw, nil)
		if err != nil {
			t.Fatalf("node %d: %v", i, err)
		}
		g := o.Genesis
		if g == nil || g.ChainID != "tn-g" || len(g.Validators) != 2 {
			t.Fatalf("node %d genesis %+v", i, g)
		}
		funded := map[string]uint64{}
		for _, a := range g.Accounts {
			funded[a.PublicKey.String()] = a.Balance
		}
		for j := range 5 {
			if pk := contracts.DevnetAccountKey("s1", j).Public(); funded[pk.String()] != contracts.DevnetAccountBalance {
				t.Errorf("node %d: account %d of the seed (%s) has %d", i, j, pk, funded[pk.String()])
			}
		}
		// Every node's own account is funded, so it can register content.
		for j, m := range tn.Nodes {
			mc, err := Load(filepath.Join(m.Home, ConfigFile))
			if err != nil {
				t.Fatal(err)
			}
			mo, err := mc.NodeOptions(pw, nil)
			if err != nil {
				t.Fatal(err)
			}
			if mo.AccountKey == nil {
				t.Fatalf("node %d has no account key", j)
			}
			if pk := mo.AccountKey.Public(); funded[pk.String()] != contracts.DevnetAccountBalance {
				t.Errorf("node %d's genesis: node %d's account %s has %d", i, j, pk, funded[pk.String()])
			}
		}
	}
	// Without accounts: no genesis file, no genesis.
	dir2 := t.TempDir()
	tn2, err := GenerateTestnet(TestnetOptions{Dir: dir2, Validators: 2, Keystore: fastKDF, ChainID: "tn-g"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir2, GenesisFileName)); tn2.Genesis != "" || !os.IsNotExist(err) {
		t.Errorf("a testnet without accounts has a genesis: %q %v", tn2.Genesis, err)
	}
	// Another committee's genesis is refused.
	com2, err := LoadCommittee(filepath.Join(dir2, CommitteeFileName))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := LoadGenesis(tn.Genesis, com2); err == nil || !strings.Contains(err.Error(), "BLS key") {
		t.Errorf("genesis of another committee: %v", err)
	}
}
