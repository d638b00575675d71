package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// runDagd runs the dagd command line in-process with args and returns its
// standard output and error.
func runDagd(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := newRootCmd()
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	if err != nil {
		t.Logf("dagd %v: %v\nstderr: %s", args, err, errOut.String())
	}
	return out.String(), err
}

// TestZKCommandsEndToEnd drives the zk subcommands as a user does: a
// setup, two identities in a group, three proofs (two members in one
// scope, then one of them again in the same scope), one batch verify. The
// reused nullifier is rejected by name and the command exits with 1; a
// proof against a root the verifier does not accept is rejected too.
func TestZKCommandsEndToEnd(t *testing.T) {
	dir := t.TempDir()
	p := func(name string) string { return filepath.Join(dir, name) }
	const depth = "4" // a small tree keeps the setup quick; the circuit is the same
	must := func(args ...string) string {
		t.Helper()
		out, err := runDagd(t, args...)
		if err != nil {
			t.Fatalf("dagd %v: %v", args, err)
		}
		return out
	}
	must("zk", "setup", "--out", dir, "--depth", depth, "--json")
	for _, id := range []string{"alice", "bob"} {
		must("zk", "identity", "new", "--out", p(id+".id"))
		must("zk", "group", "add", "--group", p("group.json"), "--depth", depth, "--identity", p(id+".id"))
	}
	if fi, err := os.Stat(p("alice.id")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("identity file mode: %v, %v", fi, err)
	}
	prove := func(id, scope, signal, out string) {
		must("zk", "prove", "--pk", p("membership.pk"), "--group", p("group.json"), "--identity", p(id+".id"),
			"--scope", scope, "--signal", signal, "--out", p(out))
	}
	prove("alice", "proposal-1", "yes", "a1.proof")
	prove("bob", "proposal-1", "no", "b1.proof")
	prove("alice", "proposal-1", "no", "a2.proof") // second signal in the same scope

	out, err := runDagd(t, "zk", "verify", "--vk", p("membership.vk"), "--group", p("group.json"), "--json",
		p("a1.proof"), p("b1.proof"), p("a2.proof"))
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != 1 {
		t.Fatalf("verify with a reused nullifier: err %v, want exit status 1", err)
	}
	var res struct {
		AllValid bool `json:"all_valid"`
		Batched  bool `json:"batched"`
		Proofs   []struct {
			File    string `json:"file"`
			Verdict string `json:"verdict"`
			Valid   bool   `json:"valid"`
		} `json:"proofs"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("verify --json output: %v\n%s", err, out)
	}
	if res.AllValid || !res.Batched || len(res.Proofs) != 3 {
		t.Fatalf("verify summary: %+v", res)
	}
	if !res.Proofs[0].Valid || !res.Proofs[1].Valid || res.Proofs[2].Valid {
		t.Fatalf("verdicts: %+v; want valid, valid, rejected", res.Proofs)
	}
	if res.Proofs[2].Verdict != "nullifier-reused" {
		t.Fatalf("third proof verdict %q, want nullifier-reused", res.Proofs[2].Verdict)
	}

	// The two distinct proofs verify on their own.
	must("zk", "verify", "--vk", p("membership.vk"), "--group", p("group.json"), p("a1.proof"), p("b1.proof"))

	// After a new member joins, the group's root moves: a verifier that
	// accepts only the current root rejects proofs made against the old one.
	must("zk", "identity", "new", "--out", p("carol.id"))
	must("zk", "group", "add", "--group", p("group.json"), "--identity", p("carol.id"))
	if _, err := runDagd(t, "zk", "verify", "--vk", p("membership.vk"), "--group", p("group.json"), p("a1.proof")); err == nil {
		t.Fatal("a proof against a stale root was accepted with --group")
	}

	// A truncated proof file is reported as unreadable, not a crash.
	b, err := os.ReadFile(p("b1.proof"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p("cut.proof"), b[:len(b)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	out, err = runDagd(t, "zk", "verify", "--vk", p("membership.vk"), "--json", p("cut.proof"))
	if err == nil {
		t.Fatal("a truncated proof was accepted")
	}
	if !bytes.Contains([]byte(out), []byte(`"unreadable"`)) {
		t.Fatalf("truncated proof verdict: %s", out)
	}
}
