package inproc

import (
	"context"
	"testing"
	"time"

	"github.com/dagd/dagd/engine/execution"
	"github.com/dagd/dagd/internal/testwait"

	"github.com/dagd/dagd/contracts"
	"github.com/dagd/dagd/crypto"
	"github.com/dagd/dagd/dag"
	"github.com/dagd/dagd/engine"
	"github.com/dagd/dagd/loadtest"
)

// These tests run the load generator end to end against devnets in this
// process: through DevnetTarget, and through loadtest.HTTPTarget over the
// nodes' public API.

func startDevnet(t *testing.T, api bool) *engine.Devnet {
	t.Helper()
	d, err := engine.StartDevnet(context.Background(), engine.DevnetOptions{BaseDir: t.TempDir(), InMemoryNetwork: true, API: api})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := d.Close(); err != nil {
			t.Errorf("close devnet: %v", err)
		}
	})
	return d
}

func checkReport(t *testing.T, rep *loadtest.Report, rate float64, dur time.Duration) {
	t.Helper()
	want := uint64(rate * dur.Seconds())
	if rep.Offered != want {
		t.Errorf("offered %d, want %d", rep.Offered, want)
	}
	if rep.Accepted+rep.Rejected+rep.Failed+rep.Dropped != rep.Offered {
		t.Errorf("counts do not add up: %+v", rep)
	}
	// Nearly everything commits within the drain (a batch of an orphaned
	// certificate commits only once its author proposes it again, after
	// garbage collection, which may be after the drain).
	if rep.CommittedTx < rep.Accepted*9/10 || rep.CommittedTx > rep.Accepted {
		t.Errorf("committed %d of %d accepted", rep.CommittedTx, rep.Accepted)
	}
	if rep.Latency.P50 <= 0 || rep.Latency.P99 < rep.Latency.P50 {
		t.Errorf("latency %+v", rep.Latency)
	}
	if !rep.Consistent || rep.Consistency.CommonSeqs == 0 {
		t.Errorf("consistency %+v", rep.Consistency)
	}
	if rep.Rounds == 0 {
		t.Error("no rounds")
	}
}

func TestDevnetTarget(t *testing.T) {
	d := startDevnet(t, false)
	target := NewDevnetTarget(d)
	rep, err := loadtest.Run(context.Background(), target, loadtest.Options{Rate: 2000, TxSize: 256, Duration: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	checkReport(t, rep, 2000, 2*time.Second)
	if err := target.Err(); err != nil {
		t.Errorf("follower: %v", err)
	}
}

func TestHTTPTarget(t *testing.T) {
	d := startDevnet(t, true)
	var addrs []string
	for i := 0; i < d.Size(); i++ {
		addrs = append(addrs, d.Node(i).APIAddr())
	}
	target, err := loadtest.NewHTTPTarget(addrs, loadtest.HTTPOptions{PollInterval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := loadtest.Run(context.Background(), target, loadtest.Options{Rate: 1000, TxSize: 128, Duration: 2 * time.Second, Tick: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	checkReport(t, rep, 1000, 2*time.Second)
}

// TestDevnetTransfers runs the transfers workload on an in-process devnet:
// every transaction executes, and every validator reaches the same state
// roots.
func TestDevnetTransfers(t *testing.T) {
	d, err := engine.StartDevnet(context.Background(), engine.DevnetOptions{BaseDir: t.TempDir(), InMemoryNetwork: true, Accounts: 600})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := d.Close(); err != nil {
			t.Errorf("close devnet: %v", err)
		}
	})
	keys := make([]*crypto.AccountPrivateKey, 600)
	for i := range keys {
		keys[i] = d.AccountKey(i)
	}
	wl, err := loadtest.NewTransfers(loadtest.TransferOptions{Keys: keys, ChainID: d.ChainID()})
	if err != nil {
		t.Fatal(err)
	}
	target := NewDevnetTarget(d)
	rep, err := loadtest.Run(context.Background(), target, loadtest.Options{Rate: 500, Duration: 2 * time.Second, Workload: wl, Drain: testwait.Timeout(t, 60*time.Second), DrainQuiet: testwait.Timeout(t, 30*time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	// Everything committed executes; a batch of an orphaned certificate
	// commits late, once its author proposes it again (see checkReport),
	// and its account waits for it meanwhile.
	// An account sends again only once its last transaction committed:
	// on a slow machine (the race detector) the workload runs out of idle
	// accounts and drops offers (workload_idle); what it sent must commit.
	if rep.Offered != 1000 || rep.ExecutedTx != rep.CommittedTx || rep.ExecRejectedTx != 0 || rep.Rejected != 0 ||
		rep.Accepted < rep.Offered/2 || rep.CommittedTx < rep.Accepted*9/10 {
		t.Errorf("offered %d accepted %d committed %d executed %d rejected %d %v (dropped %d %v)", rep.Offered, rep.Accepted, rep.CommittedTx, rep.ExecutedTx,
			rep.ExecRejectedTx, rep.ReceiptCodes, rep.Dropped, rep.RejectReasons)
	}
	if !rep.Consistent || rep.StateConsistency == nil || rep.StateConsistency.CommonSeqs == 0 || rep.ExecLatency == nil {
		t.Errorf("consistency %+v state %+v", rep.Consistency, rep.StateConsistency)
	}
	if err := target.Err(); err != nil {
		t.Errorf("follower: %v", err)
	}
}

// TestHTTPTransfers runs the transfers workload over the nodes' HTTP API:
// whole transactions followed at their node, receipts read one by one,
// state roots compared at every commit.
func TestHTTPTransfers(t *testing.T) {
	const accounts = 400
	d, err := engine.StartDevnet(context.Background(), engine.DevnetOptions{BaseDir: t.TempDir(), InMemoryNetwork: true, API: true, Accounts: accounts})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := d.Close(); err != nil {
			t.Errorf("close devnet: %v", err)
		}
	})
	var addrs []string
	keys := make([]*crypto.AccountPrivateKey, accounts)
	for i := range keys {
		keys[i] = d.AccountKey(i)
	}
	for i := 0; i < d.Size(); i++ {
		addrs = append(addrs, d.Node(i).APIAddr())
	}
	target, err := loadtest.NewHTTPTarget(addrs, loadtest.HTTPOptions{PollInterval: 10 * time.Millisecond, FullTransactions: true, Receipts: true})
	if err != nil {
		t.Fatal(err)
	}
	wl, err := loadtest.NewTransfers(loadtest.TransferOptions{Keys: keys, ChainID: d.ChainID()})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := loadtest.Run(context.Background(), target, loadtest.Options{Rate: 300, Duration: 2 * time.Second, Workload: wl, Drain: testwait.Timeout(t, 60*time.Second), DrainQuiet: testwait.Timeout(t, 30*time.Second),
		Tick: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if rep.ExecutedTx != rep.CommittedTx || rep.ExecOKTx != rep.ExecutedTx || rep.Rejected != 0 ||
		rep.Accepted < rep.Offered/2 || rep.CommittedTx < rep.Accepted*9/10 {
		t.Errorf("offered %d accepted %d committed %d executed %d ok %d %v (dropped %d %v)", rep.Offered, rep.Accepted, rep.CommittedTx, rep.ExecutedTx,
			rep.ExecOKTx, rep.ReceiptCodes, rep.Dropped, rep.RejectReasons)
	}
	sc := rep.StateConsistency
	if !rep.Consistent || sc == nil || sc.CommonSeqs < rep.Consistency.CommonSeqs || rep.ExecLatency == nil {
		t.Errorf("consistency %+v state %+v", rep.Consistency, sc)
	}
}

// TestDevnetMixed runs the mixed workload on an in-process devnet: every
// operation gets an ok receipt at least once, the deliberate failures
// fail with their code and nothing else fails, and every validator
// reaches the same state root at every commit.
func TestDevnetMixed(t *testing.T) {
	const accounts = 12 // two starting with each chapter
	d, err := engine.StartDevnet(context.Background(), engine.DevnetOptions{BaseDir: t.TempDir(), InMemoryNetwork: true, Accounts: accounts,
		DAG: dag.Options{MaxBatchDelay: 5, MaxHeaderDelay: 20}, TickInterval: 5 * time.Millisecond,
		Execution: execution.Options{Params: contracts.Params{UnbondingPeriod: uint64(loadtest.MixedUnbondingPeriod / time.Millisecond)}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := d.Close(); err != nil {
			t.Errorf("close devnet: %v", err)
		}
	})
	keys := make([]*crypto.AccountPrivateKey, accounts)
	for i := range keys {
		keys[i] = d.AccountKey(i)
	}
	wl, err := loadtest.NewMixed(loadtest.MixedOptions{Keys: keys, ChainID: d.ChainID(), Validators: d.Size(), UnbondingPeriod: loadtest.MixedUnbondingPeriod})
	if err != nil {
		t.Fatal(err)
	}
	target := NewDevnetTarget(d)
	rep, err := loadtest.Run(context.Background(), target, loadtest.Options{Rate: 200, Duration: 9 * time.Second, Workload: wl, Drain: testwait.Timeout(t, 60*time.Second), DrainQuiet: testwait.Timeout(t, 30*time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("executed %d (ok %d, expected failures %d, unexpected %d %v); by op %v", rep.ExecutedTx, rep.ExecOKTx,
		rep.ExpectedFailures, rep.UnexpectedTx, rep.UnexpectedCodes, rep.ReceiptsByOp)
	for _, s := range append(loadtest.MixedSteps(), loadtest.MixedStep{Label: "transfer", Op: contracts.OpTransfer, Expect: contracts.CodeOK}) {
		if rep.ReceiptsByOp[s.Label][s.Expect.String()] == 0 {
			t.Errorf("%s: no %s receipt: %v", s.Label, s.Expect, rep.ReceiptsByOp[s.Label])
		}
		if s.Expect != contracts.CodeOK && rep.ReceiptsByOp[s.Label][contracts.CodeOK.String()] > 0 {
			t.Errorf("%s: meant to fail with %s, succeeded", s.Label, s.Expect)
		}
	}
	if rep.UnexpectedTx != 0 || rep.ExpectedFailures == 0 || rep.ExecOKTx+rep.ExecRejectedTx != rep.ExecutedTx ||
		rep.ReceiptCodes[contracts.CodeCycle.String()]+rep.ReceiptCodes[contracts.CodeSoulbound.String()] != rep.ExpectedFailures {
		t.Errorf("receipts: %d executed, %d ok, %d rejected, %d expected failures, %d unexpected %v, codes %v", rep.ExecutedTx,
			rep.ExecOKTx, rep.ExecRejectedTx, rep.ExpectedFailures, rep.UnexpectedTx, rep.UnexpectedCodes, rep.ReceiptCodes)
	}
	sc := rep.StateConsistency
	if !rep.Consistent || sc == nil || sc.CommonSeqs < rep.Consistency.CommonSeqs || sc.CommonSeqs == 0 {
		t.Errorf("consistency %+v, state %+v", rep.Consistency, sc)
	}
	if err := target.Err(); err != nil {
		t.Errorf("follower: %v", err)
	}
}
