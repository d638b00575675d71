package loadtest

import (
	"context"
	"testing"
	"time"

	"github.com/dagd/dagd/engine"
)

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

func checkReport(t *testing.T, rep *Report, rate float64, dur time.Duration) {
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
	rep, err := Run(context.Background(), target, Options{Rate: 2000, TxSize: 256, Duration: 2 * time.Second})
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
	target, err := NewHTTPTarget(addrs, HTTPOptions{PollInterval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Run(context.Background(), target, Options{Rate: 1000, TxSize: 128, Duration: 2 * time.Second, Tick: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	checkReport(t, rep, 1000, 2*time.Second)
}
