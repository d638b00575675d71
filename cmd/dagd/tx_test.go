package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/multiformats/go-multihash"

	"github.com/dagd/dagd/contracts"
	"github.com/dagd/dagd/crypto"
	"github.com/dagd/dagd/engine"
	"github.com/dagd/dagd/engine/client"
	"github.com/dagd/dagd/internal/testwait"
	"github.com/dagd/dagd/state/proof"
)

// runDagdIn runs the dagd command line in-process with stdin as its
// standard input; it returns standard output and the error.
func runDagdIn(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	root := newRootCmd()
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetIn(strings.NewReader(stdin))
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	if err != nil {
		t.Logf("dagd %v: %v\nstderr: %s", args, err, errOut.String())
	}
	return out.String(), err
}

func exitStatus(err error) int {
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	if err != nil {
		return 1
	}
	return 0
}

// writePassword writes a password file and returns its path.
func writePassword(t *testing.T, dir, name, pw string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(pw+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestKeysCommands drives keys add, list and show as a user does: a key
// is stored encrypted (mode 0600, the password nowhere in it), is never
// overwritten, is recovered from its seed, takes its password from a file
// or the environment, and a wrong password is refused when it signs.
func TestKeysCommands(t *testing.T) {
	dir := t.TempDir()
	kr := filepath.Join(dir, "keys")
	pw := writePassword(t, dir, "pw", "correct horse")
	wrong := writePassword(t, dir, "wrong", "battery staple")
	t.Setenv(keyPasswordEnv, "")
	must := func(stdin string, args ...string) string {
		t.Helper()
		out, err := runDagdIn(t, stdin, args...)
		if err != nil {
			t.Fatalf("dagd %v: %v", args, err)
		}
		return out
	}
	var alice keyEntry
	if err := json.Unmarshal([]byte(must("", "keys", "add", "alice", "--keyring", kr, "--password-file", pw, "--scrypt-n", "16", "--json")), &alice); err != nil {
		t.Fatal(err)
	}
	if len(alice.PublicKey) != 64 || alice.Address != alice.PublicKey || alice.Name != "alice" {
		t.Fatalf("keys add: %+v", alice)
	}
	file := filepath.Join(kr, "alice"+keyFileSuffix)
	fi, err := os.Stat(file)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode: %v %v", fi, err)
	}
	data, _ := os.ReadFile(file)
	if bytes.Contains(data, []byte("correct horse")) || !bytes.Contains(data, []byte(alice.PublicKey)) {
		t.Fatalf("key file holds the password or lacks the public key:\n%s", data)
	}
	// Never overwritten.
	if _, err := runDagdIn(t, "", "keys", "add", "alice", "--keyring", kr, "--password-file", pw, "--scrypt-n", "16"); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Fatalf("second keys add alice: %v, want a refusal", err)
	}
	if again, _ := os.ReadFile(file); !bytes.Equal(again, data) {
		t.Fatal("the existing key file changed")
	}
	// Recovered from its seed on standard input.
	seed := crypto.Hash([]byte("dagd keys test seed"))
	want := crypto.AccountKeyFromSeed(seed).Public()
	var bob keyEntry
	if err := json.Unmarshal([]byte(must(hex.EncodeToString(seed[:])+"\n", "keys", "add", "bob", "--recover", "--keyring", kr, "--password-file", pw, "--scrypt-n", "16", "--json")), &bob); err != nil {
		t.Fatal(err)
	}
	if bob.PublicKey != want.String() {
		t.Fatalf("recovered key %s, want %s", bob.PublicKey, want)
	}
	if _, err := runDagdIn(t, "zz\n", "keys", "add", "bad", "--recover", "--keyring", kr, "--password-file", pw, "--scrypt-n", "16"); exitStatus(err) != 2 {
		t.Fatalf("recover from a malformed seed: %v, want exit status 2", err)
	}
	// The password from the environment; none at all is refused.
	t.Setenv(keyPasswordEnv, "from the environment")
	must("", "keys", "add", "carol", "--keyring", kr, "--scrypt-n", "16")
	t.Setenv(keyPasswordEnv, "")
	if _, err := runDagdIn(t, "", "keys", "add", "dave", "--keyring", kr, "--scrypt-n", "16"); exitStatus(err) != 2 || !strings.Contains(err.Error(), keyPasswordEnv) {
		t.Fatalf("keys add without a password: %v", err)
	}
	for _, bad := range []string{"../evil", ".hidden", "a/b", strings.Repeat("x", 65)} {
		if _, err := runDagdIn(t, "", "keys", "add", bad, "--keyring", kr, "--password-file", pw, "--scrypt-n", "16"); exitStatus(err) != 2 {
			t.Errorf("keys add %q: %v, want exit status 2", bad, err)
		}
	}
	// list and show need no password.
	var list []keyEntry
	if err := json.Unmarshal([]byte(must("", "keys", "list", "--keyring", kr, "--json")), &list); err != nil {
		t.Fatal(err)
	}
	if len(list) != 3 || list[0].Name != "alice" || list[1].PublicKey != bob.PublicKey || list[2].Name != "carol" {
		t.Fatalf("keys list: %+v", list)
	}
	if out := must("", "keys", "list", "--keyring", kr); !strings.Contains(out, "bob") || !strings.Contains(out, bob.PublicKey) {
		t.Fatalf("keys list text:\n%s", out)
	}
	if out := must("", "keys", "show", "bob", "--keyring", kr); !strings.Contains(out, "public key:  "+bob.PublicKey) || !strings.Contains(out, "address:") {
		t.Fatalf("keys show text:\n%s", out)
	}
	if _, err := runDagdIn(t, "", "keys", "show", "nobody", "--keyring", kr); err == nil || !strings.Contains(err.Error(), "no key") {
		t.Fatalf("keys show of a missing key: %v", err)
	}
	// Signing: the wrong password is refused; the right one signs
	// offline with --dry-run.
	sign := []string{"tx", "transfer", "bob", "7", "--from", "alice", "--keyring", kr, "--dry-run", "--nonce", "3", "--chain-id", "c1"}
	_, err = runDagdIn(t, "", append(sign, "--password-file", wrong)...)
	if !errors.Is(err, errWrongKeyPassword) || !strings.Contains(err.Error(), "wrong password") {
		t.Fatalf("signing with a wrong password: %v", err)
	}
	out := must("", append(sign, "--password-file", pw)...)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	raw, err := hex.DecodeString(lines[len(lines)-1])
	if err != nil {
		t.Fatalf("dry-run output:\n%s", out)
	}
	tx, err := contracts.DecodeTx(raw)
	if err != nil || !tx.VerifySignature() || tx.Sender.String() != alice.PublicKey || tx.Nonce != 3 || tx.ChainID != "c1" ||
		tx.Fee != contracts.DefaultMinFee {
		t.Fatalf("signed transaction %+v: %v", tx, err)
	}
	if op, ok := tx.Op.(*contracts.Transfer); !ok || op.To != want || op.Amount != 7 {
		t.Fatalf("operation %+v", tx.Op)
	}
	if !strings.Contains(out, tx.Digest().String()) {
		t.Fatalf("dry-run does not print the digest:\n%s", out)
	}
	t.Setenv(keyPasswordEnv, "from the environment")
	must("", "tx", "transfer", "alice", "1", "--from", "carol", "--keyring", kr, "--dry-run", "--nonce", "0", "--chain-id", "c1")
}

// txFixture is an in-process executing devnet (two funded accounts) and
// a keyring holding alice (devnet account 0) and bob (new), with helpers
// that run dagd tx and dagd query against node 0.
type txFixture struct {
	t      *testing.T
	d      *engine.Devnet
	node   string
	kr, pw string
	// common are the flags every tx and query takes.
	common []string
}

// newTxFixture starts the devnet, waits for its genesis commit to execute
// (nothing is proven before) and makes the keys; t's cleanup stops it.
func newTxFixture(t *testing.T) *txFixture {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	d, err := engine.StartDevnet(ctx, engine.DevnetOptions{BaseDir: t.TempDir(), API: true, InMemoryNetwork: true, NoSync: true, Accounts: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Close() })
	node := d.Node(0).APIAddr()
	// Nothing is proven before the first commit (the genesis) executes.
	testwait.Until(t, 30*time.Second, "the devnet's first commit to execute", func() bool { return d.Node(0).Status().LastExecutedSeq != 0 })
	dir := t.TempDir()
	kr := filepath.Join(dir, "keys")
	pw := writePassword(t, dir, "pw", "devnet password")
	t.Setenv(keyPasswordEnv, "")
	// alice is the devnet's funded account 0; bob is new.
	if _, err := runDagdIn(t, "", "keys", "add", "alice", "--devnet-account", "0", "--keyring", kr, "--password-file", pw, "--scrypt-n", "16"); err != nil {
		t.Fatal(err)
	}
	if _, err := runDagdIn(t, "", "keys", "add", "bob", "--keyring", kr, "--password-file", pw, "--scrypt-n", "16"); err != nil {
		t.Fatal(err)
	}
	return &txFixture{t: t, d: d, node: node, kr: kr, pw: pw, common: []string{"--node", node, "--keyring", kr}}
}

// tx runs dagd tx ARGS --wait --json and decodes what it prints.
func (f *txFixture) tx(args ...string) (txOutput, error) {
	f.t.Helper()
	out, err := runDagdIn(f.t, "", append(append(args, f.common...), "--password-file", f.pw, "--wait", "--json")...)
	var o txOutput
	if jerr := json.Unmarshal([]byte(out), &o); jerr != nil {
		f.t.Fatalf("dagd %v: output %q: %v (command error %v)", args, out, jerr, err)
	}
	return o, err
}

// mustTx is tx of a transaction that must succeed.
func (f *txFixture) mustTx(args ...string) txOutput {
	f.t.Helper()
	o, err := f.tx(args...)
	if err != nil || o.Receipt == nil || !o.Receipt.OK {
		f.t.Fatalf("dagd %v: %v, receipt %+v", args, err, o.Receipt)
	}
	return o
}

// query runs dagd query ARGS --json and checks that its proof verified.
func (f *txFixture) query(args ...string) stateAnswer {
	f.t.Helper()
	out, err := runDagdIn(f.t, "", append(append([]string{"query"}, args...), append(f.common, "--json")...)...)
	if err != nil {
		f.t.Fatalf("query %v: %v", args, err)
	}
	var a stateAnswer
	if err := json.Unmarshal([]byte(out), &a); err != nil {
		f.t.Fatalf("query %v: %q: %v", args, out, err)
	}
	if !a.Verified || len(a.StateRoot) != 64 || a.Seq == 0 {
		f.t.Fatalf("query %v: not verified: %+v", args, a)
	}
	return a
}

// TestTxCommandsEndToEnd drives tx and query against an in-process
// executing devnet: a transfer with --wait and the balances it changed,
// queried with verified proofs; a transfer beyond the balance and the
// transfer of a soulbound token exit with status 1 and the reason; a
// token is created, minted and transferred; a --dry-run transaction is
// broadcast later; a receipt is queried.
func TestTxCommandsEndToEnd(t *testing.T) {
	f := newTxFixture(t)
	d, node, pw, common := f.d, f.node, f.pw, f.common
	tx, mustTx, query := f.tx, f.mustTx, f.query

	// A transfer, and the balances it changed.
	o := mustTx("tx", "transfer", "bob", "50000", "--from", "alice")
	if o.Receipt.Tx != o.Tx || o.Nonce != 0 || o.Fee != strconv.Itoa(contracts.DefaultMinFee) || o.ChainID != d.ChainID() {
		t.Fatalf("transfer: %+v", o)
	}
	seq := strconv.FormatUint(o.Receipt.Seq, 10)
	bob := query("account", "bob", "--seq", seq)
	if !bob.Exists || bob.Value["balance"] != "50000" || bob.Value["nonce"] != "0" || bob.Proof != "inclusion" || bob.Seq != o.Receipt.Seq {
		t.Fatalf("bob after the transfer: %+v", bob)
	}
	alice := query("account", d.AccountKey(0).Public().String(), "--seq", seq)
	if alice.Value["balance"] != strconv.FormatUint(contracts.DevnetAccountBalance-50000-contracts.DefaultMinFee, 10) || alice.Value["nonce"] != "1" {
		t.Fatalf("alice after the transfer: %+v", alice)
	}
	nobody := query("account", crypto.AccountKeyFromSeed(crypto.Hash([]byte("nobody"))).Public().String())
	if nobody.Exists || nobody.Proof != "non-inclusion" {
		t.Fatalf("an unknown account: %+v", nobody)
	}
	out, err := runDagdIn(t, "", append([]string{"query", "account", "bob"}, common...)...)
	if err != nil || !strings.Contains(out, "balance      50000") || !strings.Contains(out, "verified against state root ") || !strings.Contains(out, " at seq ") {
		t.Fatalf("query account text: %q %v", out, err)
	}

	// A transfer beyond the balance fails with its reason.
	o, err = tx("tx", "transfer", "alice", "1000000000", "--from", "bob")
	if exitStatus(err) != 1 || !strings.Contains(err.Error(), "insufficient") || o.Receipt == nil || o.Receipt.CodeName != "insufficient_balance" {
		t.Fatalf("transfer beyond the balance: %v, receipt %+v", err, o.Receipt)
	}

	// A token: create, mint, transfer.
	o = mustTx("tx", "token", "create", "Gold", "GLD", "--cap", "1000000", "--decimals", "2", "--from", "alice")
	token := o.Created["token"]
	if len(token) != 64 {
		t.Fatalf("token create: %+v", o)
	}
	mustTx("tx", "token", "mint", token, "alice", "1000", "--from", "alice")
	o = mustTx("tx", "token", "transfer", token, "bob", "250", "--from", "alice")
	seq = strconv.FormatUint(o.Receipt.Seq, 10)
	if b := query("balance", token, "bob", "--seq", seq); b.Value["amount"] != "250" || b.Proof != "inclusion" {
		t.Fatalf("bob's balance of the token: %+v", b)
	}
	if b := query("balance", token, "alice", "--seq", seq); b.Value["amount"] != "750" {
		t.Fatalf("alice's balance of the token: %+v", b)
	}
	if tk := query("token", token, "--seq", seq); tk.Value["supply"] != "1000" || tk.Value["cap"] != "1000000" || tk.Value["symbol"] != "GLD" {
		t.Fatalf("token: %+v", tk)
	}

	// A soulbound token cannot be transferred.
	o = mustTx("tx", "collection", "create", "Badges", "BDG", "--soulbound", "--from", "alice")
	badge := o.Created["collection"] + "/1"
	mh, err := multihash.Sum([]byte("badge metadata"), multihash.SHA2_256, -1)
	if err != nil {
		t.Fatal(err)
	}
	mustTx("tx", "soulbound", "issue", badge, "bob", "--metadata", cid.NewCidV1(cid.Raw, mh).String(), "--from", "alice")
	o, err = tx("tx", "nft", "transfer", badge, "alice", "--from", "bob")
	if exitStatus(err) != 1 || !strings.Contains(err.Error(), "soulbound") || o.Receipt == nil || o.Receipt.CodeName != "soulbound" {
		t.Fatalf("transfer of a soulbound token: %v, receipt %+v", err, o.Receipt)
	}
	if n := query("nft", badge); n.Value["owner"] != bob.What[len("account "):] || n.Value["soulbound"] != "true" {
		t.Fatalf("the badge: %+v", n)
	}

	// Composable tokens: attach reads the parent's path with proofs; the
	// child follows its root to its new owner.
	o = mustTx("tx", "collection", "create", "Gear", "GEAR", "--from", "alice")
	coll := o.Created["collection"]
	md := cid.NewCidV1(cid.Raw, mh).String()
	mustTx("tx", "nft", "mint", coll+"/1", "alice", "--metadata", md, "--from", "alice")
	mustTx("tx", "nft", "mint", coll+"/2", "alice", "--metadata", md, "--from", "alice")
	mustTx("tx", "nft", "attach", coll+"/2", coll+"/1", "--from", "alice")
	mustTx("tx", "nft", "transfer", coll+"/1", "bob", "--from", "alice")
	if n := query("nft", coll+"/2"); n.Value["owner"] != bob.What[len("account "):] || n.Value["parent"] != coll+"/1" || n.Value["metadata"] != md {
		t.Fatalf("the attached token: %+v", n)
	}

	// Signed now, broadcast later; then its receipt queried.
	out, err = runDagdIn(t, "", append([]string{"tx", "transfer", "bob", "5", "--from", "alice", "--dry-run", "--password-file", pw}, common...)...)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	out, err = runDagdIn(t, lines[len(lines)-1]+"\n", "tx", "broadcast", "-", "--node", node, "--wait", "--json")
	o = txOutput{}
	if err != nil || json.Unmarshal([]byte(out), &o) != nil || o.Receipt == nil || !o.Receipt.OK || o.Op != "transfer" {
		t.Fatalf("broadcast: %v %q", err, out)
	}
	out, err = runDagdIn(t, "", "query", "receipt", o.Tx, "--node", node, "--json")
	var ri client.ReceiptInfo
	if err != nil || json.Unmarshal([]byte(out), &ri) != nil || ri.Tx != o.Tx || !ri.OK || ri.Events[0].Type != "transfer" {
		t.Fatalf("query receipt: %v %q", err, out)
	}
	if _, err := runDagdIn(t, "", "query", "receipt", crypto.Hash([]byte("never sent")).String(), "--node", node); exitStatus(err) != 1 {
		t.Fatalf("query receipt of an unknown transaction: %v", err)
	}
}

// TestTxSubmitRefused checks that a submission the node refuses prints
// the node's reason and exits with status 1.
func TestTxSubmitRefused(t *testing.T) {
	for _, c := range []struct {
		status       int
		reason, text string
	}{
		{http.StatusServiceUnavailable, client.ReasonQueueFull, "submission queue full (64 requests)"},
		{http.StatusRequestEntityTooLarge, client.ReasonTxTooLarge, "20000 bytes, limit 16384"},
		{http.StatusBadRequest, client.ReasonBadRequest, "transaction 0 does not parse"},
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodPost || r.URL.Path != "/v1/transactions" {
				http.NotFound(w, r)
				return
			}
			_, _ = io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(c.status)
			_ = json.NewEncoder(w).Encode(client.SubmitResponse{Rejected: 1, Reason: c.reason, Error: c.text})
		}))
		dir := t.TempDir()
		kr := filepath.Join(dir, "keys")
		pw := writePassword(t, dir, "pw", "pw")
		if _, err := runDagdIn(t, "", "keys", "add", "a", "--keyring", kr, "--password-file", pw, "--scrypt-n", "16"); err != nil {
			t.Fatal(err)
		}
		_, err := runDagdIn(t, "", "tx", "transfer", "a", "1", "--from", "a", "--keyring", kr, "--password-file", pw, "--nonce", "0",
			"--chain-id", "c", "--node", strings.TrimPrefix(srv.URL, "http://"), "--wait")
		srv.Close()
		if exitStatus(err) != 1 || !strings.Contains(err.Error(), c.reason) || !strings.Contains(err.Error(), c.text) {
			t.Errorf("refused with %s: %v, want exit status 1 with the reason", c.reason, err)
		}
	}
}

// twoKeyTree is a state of two keys whose paths part at the root, with
// its root and proofs built by hand from state/proof's hashes.
type twoKeyTree struct {
	k1, k2, v1, v2 []byte
	root           crypto.Digest
}

func newTwoKeyTree(t *testing.T) *twoKeyTree {
	tr := &twoKeyTree{k1: []byte("key one"), v1: []byte("value one"), v2: []byte("value two")}
	for i := 0; ; i++ {
		k := []byte(fmt.Sprintf("key two %d", i))
		if proof.Bit(proof.KeyHash(k), 0) != proof.Bit(proof.KeyHash(tr.k1), 0) {
			tr.k2 = k
			break
		}
	}
	l1 := proof.LeafHash(proof.KeyHash(tr.k1), proof.ValueHash(tr.v1))
	l2 := proof.LeafHash(proof.KeyHash(tr.k2), proof.ValueHash(tr.v2))
	if proof.Bit(proof.KeyHash(tr.k1), 0) == 0 {
		tr.root = proof.InternalHash(l1, l2)
	} else {
		tr.root = proof.InternalHash(l2, l1)
	}
	return tr
}

// proofOf returns the hex proof of key: k1's leaf beside k2's (an
// inclusion proof of k1, a non-inclusion proof of a key on k1's side).
func (tr *twoKeyTree) proofOf(t *testing.T) string {
	p := &proof.Proof{Siblings: []crypto.Digest{proof.LeafHash(proof.KeyHash(tr.k2), proof.ValueHash(tr.v2))},
		Leaf: &proof.Leaf{KeyHash: proof.KeyHash(tr.k1), ValueHash: proof.ValueHash(tr.v1)}}
	b, err := p.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// TestStateProofVerification checks the verifying path of the queries:
// honest inclusion and non-inclusion answers verify; a tampered value, a
// tampered proof, a present key claimed absent, a missing proof, an answer
// about another key, and a proof against a root other than the one the
// commit records are all rejected.
func TestStateProofVerification(t *testing.T) {
	tr := newTwoKeyTree(t)
	var absent []byte // on k1's side of the root, so k1's leaf proves it absent
	for i := 0; ; i++ {
		k := []byte(fmt.Sprintf("absent %d", i))
		if proof.Bit(proof.KeyHash(k), 0) == proof.Bit(proof.KeyHash(tr.k1), 0) {
			absent = k
			break
		}
	}
	honest := func(key []byte) client.StateValue {
		sv := client.StateValue{Key: hex.EncodeToString(key), Seq: 7, StateRoot: tr.root.String(), Proof: tr.proofOf(t)}
		if bytes.Equal(key, tr.k1) {
			sv.Exists, sv.Value = true, hex.EncodeToString(tr.v1)
		}
		return sv
	}
	sv := honest(tr.k1)
	pv, err := verifyStateValue(&sv, tr.k1)
	if err != nil || !bytes.Equal(pv.Value, tr.v1) || pv.Root != tr.root || pv.Seq != 7 {
		t.Fatalf("honest inclusion: %+v %v", pv, err)
	}
	sv = honest(absent)
	if pv, err := verifyStateValue(&sv, absent); err != nil || pv.Value != nil {
		t.Fatalf("honest non-inclusion: %+v %v", pv, err)
	}
	tamper := map[string]func(sv *client.StateValue){
		"value": func(sv *client.StateValue) { sv.Value = hex.EncodeToString([]byte("value 1")) },
		"proof": func(sv *client.StateValue) {
			b, _ := hex.DecodeString(sv.Proof)
			b[len(b)-1] ^= 1
			sv.Proof = hex.EncodeToString(b)
		},
		"root":          func(sv *client.StateValue) { sv.StateRoot = crypto.Hash([]byte("other")).String() },
		"claims absent": func(sv *client.StateValue) { sv.Exists, sv.Value = false, "" },
		"no proof":      func(sv *client.StateValue) { sv.Proof = "" },
		"other key":     func(sv *client.StateValue) { sv.Key = hex.EncodeToString(tr.k2) },
		"bad encoding":  func(sv *client.StateValue) { sv.Proof = "zz" },
	}
	for name, f := range tamper {
		sv := honest(tr.k1)
		f(&sv)
		if _, err := verifyStateValue(&sv, tr.k1); !errors.Is(err, errProof) {
			t.Errorf("tampered %s: %v, want %v", name, err, errProof)
		}
	}

	// Through the client: the root must be the one the commit records.
	recorded := tr.root
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.URL.Path == "/v1/commits/7":
			_ = json.NewEncoder(w).Encode(map[string]any{"seq": 7, "state_root": recorded.String(), "tx_root": recorded.String(), "receipts_root": recorded.String()})
		case strings.HasPrefix(r.URL.Path, "/v1/state/"):
			key, _ := hex.DecodeString(strings.TrimPrefix(r.URL.Path, "/v1/state/"))
			_ = json.NewEncoder(w).Encode(honest(key))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	c, err := newLedgerClient(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if pv, err := c.provenState(ctx, tr.k1, 0); err != nil || !bytes.Equal(pv.Value, tr.v1) {
		t.Fatalf("provenState: %+v %v", pv, err)
	}
	if pv, err := c.provenState(ctx, absent, 7); err != nil || pv.Value != nil {
		t.Fatalf("provenState of an absent key: %+v %v", pv, err)
	}
	if _, err := c.provenState(ctx, tr.k1, 8); !errors.Is(err, errProof) {
		t.Fatalf("an answer for another commit than asked: %v", err)
	}
	c, _ = newLedgerClient(srv.URL)
	recorded = crypto.Hash([]byte("the chain's real root"))
	_, err = c.provenState(ctx, tr.k1, 0)
	if !errors.Is(err, errProof) || !strings.Contains(err.Error(), "records") {
		t.Fatalf("a proof against a root the commit does not record: %v", err)
	}
	// The command itself fails loudly.
	out, err := runDagdIn(t, "", "query", "token", crypto.Hash([]byte("t")).String(), "--node", strings.TrimPrefix(srv.URL, "http://"))
	if err == nil || !errors.Is(err, errProof) {
		t.Fatalf("query with a bad proof: %v, output %q", err, out)
	}
}

// TestTxCommandsMoreOperations drives the tx subcommands that
// TestTxCommandsEndToEnd leaves out, each followed by proven queries of
// what it changed: token burn, approve and transfer-from; nft detach and
// burn; soulbound revoke (issuer) and burn (holder); sft create, mint,
// transfer, batch-transfer and burn; bond, unbond and an early withdraw;
// vesting transfer and claim. Each area has rejections too: they exit with
// status 1 and their receipt's code, and change nothing but the fee.
func TestTxCommandsMoreOperations(t *testing.T) {
	f := newTxFixture(t)
	tx, mustTx, query := f.tx, f.mustTx, f.query
	kr := keyring{dir: f.kr}
	pub := func(name string) string {
		t.Helper()
		ke, err := kr.show(name)
		if err != nil {
			t.Fatal(err)
		}
		return ke.PublicKey
	}
	alice, bob := pub("alice"), pub("bob")
	if alice != f.d.AccountKey(0).Public().String() {
		t.Fatalf("alice is %s, not devnet account 0", alice)
	}
	num := func(what, s string) uint64 {
		t.Helper()
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("%s: %q is not an amount", what, s)
		}
		return v
	}
	seqOf := func(o txOutput) string { return strconv.FormatUint(o.Receipt.Seq, 10) }
	fee := func(o txOutput) uint64 { t.Helper(); return num("fee", o.Receipt.Fee) }
	// amount reads an amount query (balance, allowance, sft-balance) at
	// the commit of o.
	amount := func(o txOutput, args ...string) uint64 {
		t.Helper()
		a := query(append(args, "--seq", seqOf(o))...)
		return num(fmt.Sprint(args), a.Value["amount"])
	}
	// native reads an account's native balance at the commit of o.
	native := func(o txOutput, who string) uint64 {
		t.Helper()
		a := query("account", who, "--seq", seqOf(o))
		return num("balance of "+who, a.Value["balance"])
	}
	// rejected runs a transaction that must fail with receipt code code;
	// the fee is charged all the same.
	rejected := func(code string, args ...string) txOutput {
		t.Helper()
		o, err := tx(args...)
		if exitStatus(err) != 1 || err == nil || !strings.Contains(err.Error(), code) || o.Receipt == nil || o.Receipt.OK ||
			o.Receipt.CodeName != code || o.Receipt.Reason == "" || fee(o) != num("fee", o.Fee) {
			t.Fatalf("dagd %v: %v, receipt %+v; want exit status 1 with %s", args, err, o.Receipt, code)
		}
		return o
	}

	// bob needs native tokens for his fees.
	const bobFunds = 200_000
	o := mustTx("tx", "transfer", "bob", strconv.Itoa(bobFunds), "--from", "alice")
	if got := native(o, "bob"); got != bobFunds {
		t.Fatalf("bob's native balance %d, want %d", got, bobFunds)
	}

	// Fungible tokens: burn, approve, transfer-from.
	const minted, burnt, allowed, moved = 1000, 300, 200, 150
	o = mustTx("tx", "token", "create", "Silver", "SLV", "--cap", "5000", "--from", "alice")
	token := o.Created["token"]
	mustTx("tx", "token", "mint", token, "alice", strconv.Itoa(minted), "--from", "alice")
	o = mustTx("tx", "token", "burn", token, strconv.Itoa(burnt), "--from", "alice")
	if tk := query("token", token, "--seq", seqOf(o)); tk.Value["supply"] != strconv.Itoa(minted-burnt) || tk.Value["cap"] != "5000" {
		t.Fatalf("the token after a burn of %d: %+v", burnt, tk)
	}
	if got := amount(o, "balance", token, "alice"); got != minted-burnt {
		t.Fatalf("alice's balance after the burn: %d, want %d", got, minted-burnt)
	}
	// Burning more than the balance changes nothing.
	o = rejected("insufficient_balance", "tx", "token", "burn", token, strconv.Itoa(minted-burnt+1), "--from", "alice")
	if tk := query("token", token, "--seq", seqOf(o)); tk.Value["supply"] != strconv.Itoa(minted-burnt) {
		t.Fatalf("the token after a refused burn: %+v", tk)
	}
	if got := amount(o, "balance", token, "alice"); got != minted-burnt {
		t.Fatalf("alice's balance after a refused burn: %d, want %d", got, minted-burnt)
	}
	// bob may move no token of alice's before she approves.
	rejected("allowance_exceeded", "tx", "token", "transfer-from", token, "alice", "bob", "1", "--from", "bob")
	o = mustTx("tx", "token", "approve", token, "bob", strconv.Itoa(allowed), "--from", "alice")
	if got := amount(o, "allowance", token, "alice", "bob"); got != allowed {
		t.Fatalf("bob's allowance: %d, want %d", got, allowed)
	}
	if got := amount(o, "allowance", token, "bob", "alice"); got != 0 {
		t.Fatalf("the allowance the other way: %d, want 0", got)
	}
	o = mustTx("tx", "token", "transfer-from", token, "alice", "bob", strconv.Itoa(moved), "--from", "bob")
	if o.Sender != bob || o.Receipt.Events[0].Attrs["spender"] != bob || o.Receipt.Events[0].Attrs["from"] != alice {
		t.Fatalf("transfer-from: %+v, events %+v", o, o.Receipt.Events)
	}
	if got := amount(o, "balance", token, "alice"); got != minted-burnt-moved {
		t.Fatalf("alice's balance after transfer-from: %d, want %d", got, minted-burnt-moved)
	}
	if got := amount(o, "balance", token, "bob"); got != moved {
		t.Fatalf("bob's balance after transfer-from: %d, want %d", got, moved)
	}
	if got := amount(o, "allowance", token, "alice", "bob"); got != allowed-moved {
		t.Fatalf("bob's allowance after transfer-from: %d, want %d", got, allowed-moved)
	}
	// Beyond what is left of the allowance: refused, nothing moves.
	o = rejected("allowance_exceeded", "tx", "token", "transfer-from", token, "alice", "bob", strconv.Itoa(allowed-moved+1), "--from", "bob")
	if a, b, al := amount(o, "balance", token, "alice"), amount(o, "balance", token, "bob"), amount(o, "allowance", token, "alice", "bob"); a != minted-burnt-moved || b != moved || al != allowed-moved {
		t.Fatalf("after a transfer-from beyond the allowance: alice %d, bob %d, allowance %d", a, b, al)
	}
	// Approving 0 revokes what is left.
	o = mustTx("tx", "token", "approve", token, "bob", "0", "--from", "alice")
	if got := amount(o, "allowance", token, "alice", "bob"); got != 0 {
		t.Fatalf("the allowance after approve 0: %d", got)
	}
	rejected("allowance_exceeded", "tx", "token", "transfer-from", token, "alice", "bob", "1", "--from", "bob")

	// Non-fungible tokens: detach, burn.
	mh, err := multihash.Sum([]byte("more metadata"), multihash.SHA2_256, -1)
	if err != nil {
		t.Fatal(err)
	}
	md := cid.NewCidV1(cid.Raw, mh).String()
	o = mustTx("tx", "collection", "create", "Tools", "TOOL", "--from", "alice")
	coll := o.Created["collection"]
	parent, child := coll+"/1", coll+"/2"
	mustTx("tx", "nft", "mint", parent, "alice", "--metadata", md, "--from", "alice")
	mustTx("tx", "nft", "mint", child, "alice", "--metadata", md, "--from", "alice")
	// detach refuses a token that is not attached before signing.
	if _, err := runDagdIn(t, "", append([]string{"tx", "nft", "detach", child, "--from", "alice", "--password-file", f.pw}, f.common...)...); exitStatus(err) != 2 || !strings.Contains(err.Error(), "not attached") {
		t.Fatalf("detach of a root: %v, want exit status 2", err)
	}
	o = mustTx("tx", "nft", "attach", child, parent, "--from", "alice")
	if n := query("nft", child, "--seq", seqOf(o)); n.Value["parent"] != parent || n.Value["owner"] != alice {
		t.Fatalf("the attached token: %+v", n)
	}
	// A token with a child cannot be burnt; only the root's owner
	// detaches or burns.
	rejected("attached", "tx", "nft", "burn", parent, "--from", "alice")
	rejected("attached", "tx", "nft", "burn", child, "--from", "alice")
	rejected("unauthorized", "tx", "nft", "detach", child, "--from", "bob")
	o = mustTx("tx", "nft", "detach", child, "--from", "alice")
	n := query("nft", child, "--seq", seqOf(o))
	if _, has := n.Value["parent"]; has || !n.Exists || n.Value["owner"] != alice || n.Value["metadata"] != md {
		t.Fatalf("the detached token: %+v", n)
	}
	if p := query("nft", parent, "--seq", seqOf(o)); p.Value["children"] != "0" || p.Value["owner"] != alice {
		t.Fatalf("the parent after the detach: %+v", p)
	}
	rejected("unauthorized", "tx", "nft", "burn", child, "--from", "bob")
	o = mustTx("tx", "nft", "burn", child, "--from", "alice")
	if n := query("nft", child, "--seq", seqOf(o)); n.Exists || n.Proof != "non-inclusion" || n.Value != nil {
		t.Fatalf("the burnt token: %+v", n)
	}
	if p := query("nft", parent, "--seq", seqOf(o)); !p.Exists || p.Value["owner"] != alice {
		t.Fatalf("the other token after the burn: %+v", p)
	}
	rejected("not_found", "tx", "nft", "burn", child, "--from", "alice")

	// Soulbound tokens: the issuer revokes, the holder burns; neither
	// may do the other's part.
	o = mustTx("tx", "collection", "create", "Diplomas", "DIP", "--soulbound", "--from", "alice")
	badges := o.Created["collection"]
	revoked, burned := badges+"/1", badges+"/2"
	mustTx("tx", "soulbound", "issue", revoked, "bob", "--metadata", md, "--from", "alice")
	o = mustTx("tx", "soulbound", "issue", burned, "bob", "--metadata", md, "--from", "alice")
	for _, id := range []string{revoked, burned} {
		if b := query("nft", id, "--seq", seqOf(o)); b.Value["owner"] != bob || b.Value["soulbound"] != "true" {
			t.Fatalf("badge %s: %+v", id, b)
		}
	}
	rejected("unauthorized", "tx", "soulbound", "revoke", revoked, "--from", "bob")
	o = rejected("unauthorized", "tx", "soulbound", "burn", burned, "--from", "alice")
	if b := query("nft", burned, "--seq", seqOf(o)); b.Value["owner"] != bob {
		t.Fatalf("badge after the issuer's refused burn: %+v", b)
	}
	o = mustTx("tx", "soulbound", "revoke", revoked, "--from", "alice")
	if b := query("nft", revoked, "--seq", seqOf(o)); b.Exists || b.Proof != "non-inclusion" {
		t.Fatalf("the revoked badge: %+v", b)
	}
	if b := query("nft", burned, "--seq", seqOf(o)); !b.Exists || b.Value["owner"] != bob {
		t.Fatalf("the other badge after the revoke: %+v", b)
	}
	o = mustTx("tx", "soulbound", "burn", burned, "--from", "bob")
	if b := query("nft", burned, "--seq", seqOf(o)); b.Exists || b.Proof != "non-inclusion" {
		t.Fatalf("the burnt badge: %+v", b)
	}
	// revoke is for soulbound tokens only.
	rejected("unauthorized", "tx", "soulbound", "revoke", parent, "--from", "alice")

	// Semi-fungible tokens: create, mint, transfer, batch-transfer, burn.
	o = mustTx("tx", "sft", "create", "Tickets", "TIX", "--from", "alice")
	class := o.Created["class"]
	if c := query("class", class, "--seq", seqOf(o)); c.Value["creator"] != alice || c.Value["symbol"] != "TIX" || c.Value["name"] != "Tickets" {
		t.Fatalf("the class: %+v", c)
	}
	const mint1, mint2, send1, batch1, batch2, burn2 = 100, 50, 30, 10, 20, 5
	mustTx("tx", "sft", "mint", class, "1", "alice", strconv.Itoa(mint1), "--from", "alice")
	o = mustTx("tx", "sft", "mint", class, "2", "alice", strconv.Itoa(mint2), "--from", "alice")
	rejected("unauthorized", "tx", "sft", "mint", class, "1", "bob", "1", "--from", "bob")
	sft := func(o txOutput, id, who string) uint64 { t.Helper(); return amount(o, "sft-balance", class, id, who) }
	if a1, a2, b1 := sft(o, "1", "alice"), sft(o, "2", "alice"), sft(o, "1", "bob"); a1 != mint1 || a2 != mint2 || b1 != 0 {
		t.Fatalf("after the mints: alice %d and %d, bob %d", a1, a2, b1)
	}
	o = mustTx("tx", "sft", "transfer", class, "1", "bob", strconv.Itoa(send1), "--from", "alice")
	if a1, b1, a2 := sft(o, "1", "alice"), sft(o, "1", "bob"), sft(o, "2", "alice"); a1 != mint1-send1 || b1 != send1 || a2 != mint2 {
		t.Fatalf("after the transfer: alice %d (id 2: %d), bob %d", a1, a2, b1)
	}
	o = mustTx("tx", "sft", "batch-transfer", class, "bob", fmt.Sprintf("1:%d", batch1), fmt.Sprintf("2:%d", batch2), "--from", "alice")
	wantA1, wantA2, wantB1, wantB2 := uint64(mint1-send1-batch1), uint64(mint2-batch2), uint64(send1+batch1), uint64(batch2)
	check := func(o txOutput, when string) {
		t.Helper()
		if a1, a2, b1, b2 := sft(o, "1", "alice"), sft(o, "2", "alice"), sft(o, "1", "bob"), sft(o, "2", "bob"); a1 != wantA1 || a2 != wantA2 || b1 != wantB1 || b2 != wantB2 {
			t.Fatalf("%s: alice %d/%d, bob %d/%d; want %d/%d, %d/%d", when, a1, a2, b1, b2, wantA1, wantA2, wantB1, wantB2)
		}
	}
	check(o, "after the batch transfer")
	// All or nothing: the second item is beyond alice's balance, so the
	// first does not move either.
	o = rejected("insufficient_balance", "tx", "sft", "batch-transfer", class, "bob", "1:1", fmt.Sprintf("2:%d", wantA2+1), "--from", "alice")
	check(o, "after a refused batch transfer")
	o = mustTx("tx", "sft", "burn", class, "2", strconv.Itoa(burn2), "--from", "alice")
	wantA2 -= burn2
	check(o, "after the burn")
	o = rejected("insufficient_balance", "tx", "sft", "burn", class, "2", strconv.Itoa(int(wantB2)+1), "--from", "bob")
	check(o, "after a refused burn")

	// Staking: bond moves native tokens into validator 0's stake; unbond
	// starts an entry that withdraw refuses before the unbonding period.
	const bonded, unbonded = 50_000, 20_000
	before := query("validator", "0")
	t0, s0 := num("tokens", before.Value["tokens"]), num("shares", before.Value["shares"])
	if !before.Exists || t0 == 0 || s0 == 0 || before.Value["jailed"] != "false" {
		t.Fatalf("validator 0: %+v", before)
	}
	nativeBefore := num("alice's balance", query("account", "alice").Value["balance"])
	o = mustTx("tx", "bond", "0", strconv.Itoa(bonded), "--from", "alice")
	if got, want := native(o, "alice"), nativeBefore-bonded-fee(o); got != want {
		t.Fatalf("alice's native balance after the bond: %d, want %d", got, want)
	}
	v := query("validator", "0", "--seq", seqOf(o))
	newShares := uint64(bonded) * s0 / t0
	t1, s1 := t0+bonded, s0+newShares
	if num("tokens", v.Value["tokens"]) != t1 || num("shares", v.Value["shares"]) != s1 || o.Receipt.Events[0].Attrs["shares"] != strconv.FormatUint(newShares, 10) {
		t.Fatalf("validator 0 after a bond of %d: %+v (was %d tokens, %d shares), events %+v", bonded, v, t0, s0, o.Receipt.Events)
	}
	rejected("not_found", "tx", "bond", "99", "1", "--from", "alice")
	rejected("not_found", "tx", "unbond", "0", "1", "--from", "bob")
	o = rejected("insufficient_balance", "tx", "unbond", "0", strconv.Itoa(bonded+1), "--from", "alice")
	if v := query("validator", "0", "--seq", seqOf(o)); num("tokens", v.Value["tokens"]) != t1 {
		t.Fatalf("validator 0 after a refused unbond: %+v", v)
	}
	nativeBefore = native(o, "alice")
	o = mustTx("tx", "unbond", "0", strconv.Itoa(unbonded), "--from", "alice")
	entry, unbondFee := o.Created["unbonding"], fee(o)
	if entry != strconv.FormatUint(o.Nonce, 10) || o.Receipt.Events[0].Attrs["entry"] != entry || o.Receipt.Events[0].Attrs["amount"] != strconv.Itoa(unbonded) {
		t.Fatalf("unbond: %+v, events %+v", o, o.Receipt.Events)
	}
	release := num("release", o.Receipt.Events[0].Attrs["release"])
	if v := query("validator", "0", "--seq", seqOf(o)); num("tokens", v.Value["tokens"]) != t1-unbonded {
		t.Fatalf("validator 0 after an unbond of %d: %+v", unbonded, v)
	}
	// The unbonded stake is not paid out yet: only the fee left.
	if got, want := native(o, "alice"), nativeBefore-fee(o); got != want {
		t.Fatalf("alice's native balance after the unbond: %d, want %d", got, want)
	}
	o = rejected("locked", "tx", "withdraw", entry, "--from", "alice")
	if !strings.Contains(o.Receipt.Reason, "locked until "+strconv.FormatUint(release, 10)) {
		t.Fatalf("early withdraw: reason %q, want the release time %d", o.Receipt.Reason, release)
	}
	if got, want := native(o, "alice"), nativeBefore-unbondFee-fee(o); got != want {
		t.Fatalf("alice's native balance after a refused withdraw: %d, want %d", got, want)
	}
	rejected("not_found", "tx", "withdraw", entry, "--from", "bob")

	// Vesting: a time-lock that opened long ago is claimed whole by its
	// beneficiary alone; one that opens in an hour is locked.
	const vested, later = 7_000, 3_000
	nativeBefore = native(o, "alice")
	o = mustTx("tx", "vesting", "transfer", "bob", strconv.Itoa(vested), "--start", "1000", "--from", "alice")
	open := o.Created["schedule"]
	if got, want := native(o, "alice"), nativeBefore-vested-fee(o); got != want {
		t.Fatalf("alice's native balance after the vesting transfer: %d, want %d", got, want)
	}
	s := query("vesting", open, "--seq", seqOf(o))
	if !s.Exists || s.Value["beneficiary"] != bob || s.Value["total"] != strconv.Itoa(vested) || s.Value["claimed"] != "0" ||
		s.Value["start"] != "1000" || s.Value["duration"] != "0" || s.Value["cliff"] != "0" {
		t.Fatalf("the schedule: %+v", s)
	}
	rejected("unauthorized", "tx", "vesting", "claim", open, "--from", "alice")
	bobBefore := native(o, "bob")
	o = mustTx("tx", "vesting", "claim", open, "--from", "bob")
	if got, want := native(o, "bob"), bobBefore+vested-fee(o); got != want || o.Receipt.Events[0].Attrs["amount"] != strconv.Itoa(vested) {
		t.Fatalf("bob's native balance after the claim: %d, want %d; events %+v", got, want, o.Receipt.Events)
	}
	if s := query("vesting", open, "--seq", seqOf(o)); s.Exists || s.Proof != "non-inclusion" {
		t.Fatalf("the fully claimed schedule: %+v", s)
	}
	rejected("not_found", "tx", "vesting", "claim", open, "--from", "bob")
	o = mustTx("tx", "vesting", "transfer", "bob", strconv.Itoa(later), "--start", "1h", "--from", "alice")
	locked := o.Created["schedule"]
	start := num("start", query("vesting", locked, "--seq", seqOf(o)).Value["start"])
	o = rejected("locked", "tx", "vesting", "claim", locked, "--from", "bob")
	if !strings.Contains(o.Receipt.Reason, "locked until "+strconv.FormatUint(start, 10)) {
		t.Fatalf("early claim: reason %q, want the start %d", o.Receipt.Reason, start)
	}
	if s := query("vesting", locked, "--seq", seqOf(o)); s.Value["claimed"] != "0" || s.Value["total"] != strconv.Itoa(later) {
		t.Fatalf("the locked schedule after a refused claim: %+v", s)
	}
	// A cliff longer than the duration is refused by the module.
	rejected("invalid", "tx", "vesting", "transfer", "bob", "1", "--start", "1000", "--duration", "1s", "--cliff", "2s", "--from", "alice")
}

// TestTxRefusesSmallOrderRecipient: the CLI refuses a small-order key (the
// all-zero key among them) as an account, before signing anything: anyone
// can sign for such a key (issue 13, finding 11).
func TestTxRefusesSmallOrderRecipient(t *testing.T) {
	dir := t.TempDir()
	kr := filepath.Join(dir, "keys")
	pw := writePassword(t, dir, "pw", "pw")
	if _, err := runDagdIn(t, "", "keys", "add", "a", "--keyring", kr, "--password-file", pw, "--scrypt-n", "16"); err != nil {
		t.Fatal(err)
	}
	for _, to := range []string{strings.Repeat("00", 32), "01" + strings.Repeat("00", 31)} {
		_, err := runDagdIn(t, "", "tx", "transfer", to, "1", "--from", "a", "--keyring", kr, "--password-file", pw, "--nonce", "0",
			"--chain-id", "c", "--node", "127.0.0.1:1")
		if err == nil || !strings.Contains(err.Error(), "small order") {
			t.Errorf("transfer to %s: %v, want a refusal naming the small order", to, err)
		}
	}
}
