package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dagd/dagd/engine"
	"github.com/dagd/dagd/engine/client"
	"github.com/dagd/dagd/internal/testwait"
)

// TestContentCommands drives put, get and stat against an in-process
// devnet as a user does: the CID is put's last line, get -o writes the
// same bytes, stat describes the coding, the certificate and the ledger
// registration, and a malformed CID is refused with a clear error.
func TestContentCommands(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	d, err := engine.StartDevnet(ctx, engine.DevnetOptions{BaseDir: t.TempDir(), API: true, InMemoryNetwork: true, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	dir := t.TempDir()
	in := filepath.Join(dir, "in.bin")
	data := bytes.Repeat([]byte("dagd content "), 300_000) // 3.9 MB: four chunks
	if err := os.WriteFile(in, data, 0o644); err != nil {
		t.Fatal(err)
	}
	node0, node2 := d.Node(0).APIAddr(), d.Node(2).APIAddr()
	out, err := runDagd(t, "put", "--node", node0, in)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	id := lines[len(lines)-1]
	if !strings.HasPrefix(id, "b") {
		t.Fatalf("put printed %q, want a CID as the last line", out)
	}
	outFile := filepath.Join(dir, "out.bin")
	if _, err := runDagd(t, "get", "--node", node2, id, "-o", outFile); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(outFile)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("get -o wrote %d bytes (%v), want the %d put", len(got), err, len(data))
	}
	if _, err := os.Stat(outFile + ".partial"); !os.IsNotExist(err) {
		t.Errorf("partial file left: %v", err)
	}
	out, err = runDagd(t, "get", "--node", node2, id)
	if err != nil || out != string(data) {
		t.Fatalf("get to stdout: %d bytes, %v", len(out), err)
	}
	out, err = runDagd(t, "stat", "--node", node2, id, "--json")
	if err != nil {
		t.Fatal(err)
	}
	var st client.ContentStat
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatal(err)
	}
	if st.Size != uint64(len(data)) || st.Chunks != 4 || st.K != 2 || st.N != 4 || st.Overhead != 2 || !st.Registered ||
		len(st.Holders) != 4 || len(st.Signers) < 3 {
		t.Fatalf("stat: %+v", st)
	}
	out, err = runDagd(t, "stat", "--node", node0, id)
	if err != nil || !strings.Contains(out, "k=2 n=4") || !strings.Contains(out, "overhead n/k = 2.00x") {
		t.Fatalf("stat text: %q %v", out, err)
	}
	// Node 0 registers the put in the ledger: once the transaction
	// executes, stat through any node shows its commit and digest.
	testwait.For(t, time.Minute, func() error {
		if strings.Contains(out, "registered     yes, commit ") && strings.Contains(out, ", tx ") {
			return nil
		}
		if out, err = runDagd(t, "stat", "--node", node2, id); err != nil {
			t.Fatal(err)
		}
		return fmt.Errorf("stat does not show the ledger registration yet: %q", out)
	})
	// k and n per put; standard input.
	root := newRootCmd()
	var stdout bytes.Buffer
	root.SetOut(&stdout)
	root.SetErr(&bytes.Buffer{})
	root.SetIn(bytes.NewReader(data[:5000]))
	root.SetArgs([]string{"put", "--node", node0, "--k", "1", "--n", "3", "-", "--json"})
	if err := root.ExecuteContext(context.Background()); err != nil {
		t.Fatal(err)
	}
	var pr client.ContentPutResponse
	if err := json.Unmarshal(stdout.Bytes(), &pr); err != nil || pr.K != 1 || pr.N != 3 || pr.Size != 5000 {
		t.Fatalf("put --k 1 --n 3 -: %+v %v", pr, err)
	}

	for _, bad := range []string{"nonsense", "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy"} {
		_, err := runDagd(t, "get", "--node", node0, bad)
		var ee *exitError
		if err == nil || !strings.Contains(err.Error(), "malformed CID") || !errors.As(err, &ee) || ee.code != 2 {
			t.Errorf("get %s: %v, want a malformed CID error with exit status 2", bad, err)
		}
	}
	if _, err := runDagd(t, "put", "--node", node0, filepath.Join(dir, "missing")); err == nil {
		t.Error("put of a missing file succeeded")
	}
}

// TestPutPaidByAccount: dagd put --from KEY computes the CID locally and
// pays from KEY's account; the node registers the content with that
// account as registrant. (A node's refusal of unpaid puts is pinned by
// engine's TestContentPaidPut.)
func TestPutPaidByAccount(t *testing.T) {
	f := newTxFixture(t)
	dir := t.TempDir()
	in := filepath.Join(dir, "in.bin")
	data := bytes.Repeat([]byte("paid content "), 200_000) // 2.6 MB: three chunks
	if err := os.WriteFile(in, data, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := runDagd(t, "put", "--node", f.node, "--from", "alice", "--keyring", f.kr, "--password-file", f.pw, "--retention", "48h", in, "--json")
	if err != nil {
		t.Fatal(err)
	}
	var pr client.ContentPutResponse
	if err := json.Unmarshal([]byte(out), &pr); err != nil {
		t.Fatal(err)
	}
	shown, err := runDagd(t, "keys", "show", "alice", "--keyring", f.kr)
	if err != nil {
		t.Fatal(err)
	}
	if pr.Registration == nil || pr.Registration.Registrant == "" || !strings.Contains(shown, "public key:  "+pr.Registration.Registrant) {
		t.Fatalf("put --from: registration %+v, alice %q", pr.Registration, shown)
	}
	stat := func() *client.ContentRegistration {
		st, err := runDagd(t, "stat", "--node", f.node, pr.CID, "--json")
		if err != nil {
			t.Fatal(err)
		}
		var s client.ContentStat
		if err := json.Unmarshal([]byte(st), &s); err != nil {
			t.Fatal(err)
		}
		return s.Ledger
	}
	var reg *client.ContentRegistration
	testwait.For(t, time.Minute, func() error {
		if reg = stat(); reg == nil || !reg.Registered {
			return fmt.Errorf("not registered yet: %+v", reg)
		}
		return nil
	})
	if reg.Registrant != pr.Registration.Registrant {
		t.Fatalf("registered by %s, paid by %s", reg.Registrant, pr.Registration.Registrant)
	}
	// A signed renewal pays for a day more.
	f.mustTx("tx", "renew-content", pr.CID, "24h", "--from", "alice")
	if got := stat(); got.Expiry != reg.Expiry+24*3600*1000 {
		t.Fatalf("renewed expiry %d, was %d", got.Expiry, reg.Expiry)
	}
	if _, err := runDagd(t, "put", "--node", f.node, "--from", "alice", "--keyring", f.kr, "--password-file", f.pw, "-"); err == nil || !strings.Contains(err.Error(), "FILE") {
		t.Fatalf("put --from of standard input: %v", err)
	}
}
