package engine

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/dagd/dagd/engine/client"
	"github.com/dagd/dagd/engine/execution"

	"github.com/dagd/dagd/contracts"
	"github.com/dagd/dagd/crypto"
	"github.com/dagd/dagd/dag"
	"github.com/dagd/dagd/internal/testwait"
	"github.com/dagd/dagd/state/proof"
)

func getJSON(t *testing.T, url string, want int, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != want {
		var e client.ErrorBody
		_ = json.NewDecoder(resp.Body).Decode(&e)
		t.Fatalf("GET %s: status %d (%+v), want %d", url, resp.StatusCode, e, want)
	}
	if v != nil {
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			t.Fatalf("GET %s: %v", url, err)
		}
	}
}

// waitExecuted waits until every running node of d executed at least seq.
func waitExecuted(t *testing.T, d *Devnet, seq uint64) {
	t.Helper()
	testwait.For(t, testTimeout, func() error {
		for i := 0; i < d.Size(); i++ {
			if n := d.Node(i); n != nil {
				st := n.Status()
				if st.ExecutionError != "" {
					t.Fatalf("node %d: execution failed: %s", i, st.ExecutionError)
				}
				if st.LastExecutedSeq < seq {
					return fmt.Errorf("node %d executed up to commit %d, waiting for %d", i, st.LastExecutedSeq, seq)
				}
			}
		}
		return nil
	})
}

// waitReceipt polls node's receipt of d until it exists.
func waitReceipt(t *testing.T, n *Node, d crypto.Digest) *client.ReceiptInfo {
	t.Helper()
	var ri client.ReceiptInfo
	testwait.For(t, testTimeout, func() error {
		resp, err := http.Get("http://" + n.APIAddr() + "/v1/receipts/" + d.String())
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("no receipt for %s yet (HTTP %d)", d.Short(), resp.StatusCode)
		}
		if err := json.NewDecoder(resp.Body).Decode(&ri); err != nil {
			t.Fatal(err)
		}
		return nil
	})
	return &ri
}

// sameExecution checks that every node recorded the same roots for
// commits 1..seq.
func sameExecution(t *testing.T, d *Devnet, seq uint64) {
	t.Helper()
	for s := uint64(1); s <= seq; s++ {
		var ref *client.CommitExecution
		for i := 0; i < d.Size(); i++ {
			n := d.Node(i)
			if n == nil {
				continue
			}
			ce, err := n.commitExecution(s)
			if err != nil || ce == nil {
				t.Fatalf("node %d commit %d: %v %v", i, s, ce, err)
			}
			if ref == nil {
				ref = ce
			} else if *ce != *ref {
				t.Fatalf("commit %d: node %d recorded %+v, another node %+v", s, i, ce, ref)
			}
			if root, ok, err := n.ExecutedStateRoot(s); err != nil || !ok || root.String() != ce.StateRoot {
				t.Fatalf("node %d commit %d: ExecutedStateRoot %s %v %v, recorded %s", i, s, root, ok, err, ce.StateRoot)
			}
		}
	}
}

// TestExecutionEndToEnd runs signed transfers through a devnet: receipts,
// identical state roots on every validator, accounts and state with
// proofs that verify, the commit endpoints' roots, and a validator that
// restarts and resumes execution where it stopped.
func TestExecutionEndToEnd(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const accounts = 16
	d, err := StartDevnet(ctx, DevnetOptions{Validators: 4, InMemoryNetwork: true, NoSync: true, API: true, Accounts: accounts,
		Execution: execution.Options{Shards: 8, Workers: 3}})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	min := contracts.NewModule(contracts.Params{}).Params().MinFee
	nonces := make([]uint64, accounts)
	transfer := func(from, to int, amount uint64) *contracts.Tx {
		tx := contracts.NewSignedTx(d.AccountKey(from), d.ChainID(), nonces[from], min, uint64(time.Now().UnixMilli())+60_000,
			contracts.NewTransfer(d.AccountKey(to).Public(), amount))
		nonces[from]++
		return tx
	}
	var txs []*contracts.Tx
	var raws [][]byte
	for round := range 5 {
		for a := range 8 {
			tx := transfer(a, (a+1+round)%accounts, 1000+uint64(a))
			txs = append(txs, tx)
			raws = append(raws, tx.Encode())
		}
	}
	bad := transfer(9, 10, 5)
	bad.Signature[3] ^= 1
	nonces[9]--
	// Admission refuses the bad signature and takes the rest.
	accepted, err := d.Submit(ctx, 0, append(raws, bad.Encode()))
	var se *SubmitError
	if !errors.As(err, &se) || se.Reason != ReasonInvalidTx || accepted != len(raws) || len(se.Rejected) != 1 ||
		se.Rejected[0].Index != len(raws) || se.Rejected[0].Reason != TxBadSignature {
		t.Fatalf("submit with a bad signature: %d accepted, %v", accepted, err)
	}
	// Duplicates through another validator: admitted while their nonces
	// are not yet executed there, refused (nonce_used) after.
	if _, err := d.Submit(ctx, 1, raws[:3]); err != nil && !(errors.As(err, &se) && se.Reason == ReasonInvalidTx) {
		t.Fatal(err)
	}
	n0 := d.Node(0)
	var last uint64
	for _, tx := range txs {
		ri := waitReceipt(t, n0, tx.Digest())
		if !ri.OK || ri.CodeName != "ok" || ri.Fee != strconv.FormatUint(min, 10) || len(ri.Events) == 0 {
			t.Fatalf("receipt %+v", ri)
		}
		last = max(last, ri.Seq)
	}
	waitExecuted(t, d, last)
	sameExecution(t, d, last)

	// Balances, with a proof against the recorded root.
	base := "http://" + n0.APIAddr()
	var st client.Status
	getJSON(t, base+"/v1/status", 200, &st)
	if st.LastExecutedSeq < last || len(st.StateRoot) != 64 || st.ExecutedTxs < uint64(len(txs)) || st.ChainID != d.ChainID() {
		t.Fatalf("status %+v", st)
	}
	for a := range accounts {
		var ai client.AccountInfo
		pk := d.AccountKey(a).Public()
		getJSON(t, base+"/v1/accounts/"+hex.EncodeToString(pk[:])+"?proof=1&seq="+strconv.FormatUint(last, 10), 200, &ai)
		want := uint64(contracts.DevnetAccountBalance)
		for _, tx := range txs {
			op := tx.Op.(*contracts.Transfer)
			if tx.Sender == pk {
				want -= op.Amount + tx.Fee
			}
			if op.To == pk {
				want += op.Amount
			}
		}
		if !ai.Exists || ai.Balance != strconv.FormatUint(want, 10) || ai.Nonce != nonces[a] {
			t.Fatalf("account %d: %+v, want balance %d nonce %d", a, ai, want, nonces[a])
		}
		verifyStateProof(t, &ai.State, contracts.AccountKey(pk), true)
	}
	// A key nobody wrote: a non-inclusion proof.
	var sv client.StateValue
	absent := []byte("no such key")
	getJSON(t, base+"/v1/state/"+hex.EncodeToString(absent), 200, &sv)
	if sv.Exists {
		t.Fatal("absent key exists")
	}
	verifyStateProof(t, &sv, absent, false)
	// The commit endpoint carries the roots.
	var ci client.CommitInfo
	ri := waitReceipt(t, n0, txs[len(txs)-1].Digest())
	getJSON(t, base+"/v1/commits/"+strconv.FormatUint(ri.Seq, 10), 200, &ci)
	if ci.CommitExecution == nil || ci.ReceiptsRoot != ri.ReceiptsRoot || ci.TxRoot != ri.TxRoot || len(ci.StateRoot) != 64 {
		t.Fatalf("commit %d: %+v (receipt %+v)", ri.Seq, ci.CommitExecution, ri)
	}
	// Bad input.
	getJSON(t, base+"/v1/receipts/xyz", 400, nil)
	getJSON(t, base+"/v1/receipts/"+crypto.Hash([]byte("x")).String(), 404, nil)
	getJSON(t, base+"/v1/accounts/abcd", 400, nil)
	getJSON(t, base+"/v1/accounts/"+hex.EncodeToString(make([]byte, 32))+"?proof=maybe", 400, nil)
	getJSON(t, base+"/v1/state/zz", 400, nil)
	getJSON(t, base+"/v1/state/00?seq=0", 400, nil)
	getJSON(t, base+"/v1/state/00?seq=99999999", 404, nil)

	// A validator stops, the others go on, it restarts and catches up
	// with the same roots.
	if err := d.StopNode(2); err != nil {
		t.Fatal(err)
	}
	var more []*contracts.Tx
	for a := range 8 {
		more = append(more, transfer(a, a+8, 7))
	}
	var mraws [][]byte
	for _, tx := range more {
		mraws = append(mraws, tx.Encode())
	}
	if _, err := d.Submit(ctx, 0, mraws); err != nil {
		t.Fatal(err)
	}
	for _, tx := range more {
		last = max(last, waitReceipt(t, n0, tx.Digest()).Seq)
	}
	if err := d.StartNode(2); err != nil {
		t.Fatal(err)
	}
	waitExecuted(t, d, last)
	sameExecution(t, d, last)
	ri2 := waitReceipt(t, d.Node(2), more[0].Digest())
	if !ri2.OK {
		t.Fatalf("restarted node's receipt: %+v", ri2)
	}
}

func verifyStateProof(t *testing.T, sv *client.StateValue, key []byte, present bool) {
	t.Helper()
	root, err := crypto.ParseDigest(sv.StateRoot)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := hex.DecodeString(sv.Proof)
	if err != nil {
		t.Fatal(err)
	}
	p, err := proof.Unmarshal(raw)
	if err != nil {
		t.Fatal(err)
	}
	var value []byte
	if present {
		if value, err = hex.DecodeString(sv.Value); err != nil {
			t.Fatal(err)
		}
	}
	if err := proof.VerifyProof(root, key, value, p); err != nil {
		t.Fatalf("proof of %x: %v", key, err)
	}
	if present {
		if err := proof.VerifyProof(root, key, append(value, 1), p); err == nil {
			t.Fatal("a proof verified a wrong value")
		}
	}
}

// TestExecutionBehindRetention holds one validator's executor until the
// core has deleted batches of commits it has not run (GCDepth 4,
// RetainRounds 1), so that it must keep preserved copies; restarts it while
// it is behind and still held, so that it reads them back; then lets it run
// and checks it ends with the same roots as the others. The executor is held
// by a channel, not slowed by a delay, so the condition is reached however
// fast or slow the machine is.
func TestExecutionBehindRetention(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const accounts = 8
	release := make(chan struct{}) // closed: the slow executor may run
	d, err := StartDevnet(ctx, DevnetOptions{Validators: 4, InMemoryNetwork: true, NoSync: true, API: true, Accounts: accounts,
		DAG: dag.Options{GCDepth: 4, RetainRounds: 1},
		Configure: func(i int, o *Options) {
			if i == 0 {
				o.testExecHold = func(ctx context.Context, _ uint64) error {
					select {
					case <-release:
						return nil
					case <-ctx.Done():
						return ctx.Err()
					}
				}
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	min := contracts.NewModule(contracts.Params{}).Params().MinFee
	nonces := make([]uint64, accounts)
	var last uint64
	var preserved uint64 // by the slow validator, over its restarts
	for round := range 6 {
		var raws [][]byte
		var digests []crypto.Digest
		for a := range accounts {
			tx := contracts.NewSignedTx(d.AccountKey(a), d.ChainID(), nonces[a], min, uint64(time.Now().UnixMilli())+60_000,
				contracts.NewTransfer(d.AccountKey((a+1)%accounts).Public(), 3))
			nonces[a]++
			raws, digests = append(raws, tx.Encode()), append(digests, tx.Digest())
		}
		if _, err := d.Submit(ctx, 1+round%3, raws); err != nil {
			t.Fatal(err)
		}
		for _, dg := range digests {
			last = max(last, waitReceipt(t, d.Node(1), dg).Seq)
		}
		if round == 3 {
			// The held executor has run nothing: once the core has moved
			// GCDepth rounds past the first commits, their batches exist
			// only as the executor's preserved copies.
			testwait.Until(t, testTimeout, "the held executor to preserve a batch the core deleted", func() bool {
				total, _ := d.Node(0).exec.Preserved()
				return total > 0
			})
			if got := d.Node(0).Status().LastExecutedSeq; got != 0 {
				t.Fatalf("the held executor executed up to commit %d", got)
			}
			// Restart the slow validator while it is behind.
			total, _ := d.Node(0).exec.Preserved()
			preserved += total
			if err := d.StopNode(0); err != nil {
				t.Fatal(err)
			}
			if err := d.StartNode(0); err != nil {
				t.Fatal(err)
			}
			if _, reloaded := d.Node(0).exec.Preserved(); reloaded == 0 {
				t.Fatal("the restarted executor read back no preserved batch")
			}
		}
	}
	close(release)
	waitExecuted(t, d, last)
	total, _ := d.Node(0).exec.Preserved()
	preserved += total
	sameExecution(t, d, last)
	t.Logf("the slow validator preserved %d batches", preserved)
	var ai client.AccountInfo
	pk := d.AccountKey(0).Public()
	getJSON(t, "http://"+d.Node(0).APIAddr()+"/v1/accounts/"+hex.EncodeToString(pk[:]), 200, &ai)
	if ai.Nonce != nonces[0] {
		t.Fatalf("account 0 on the slow validator: nonce %d, want %d", ai.Nonce, nonces[0])
	}
}
