package engine

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dagd/dagd/dag"
	"github.com/dagd/dagd/internal/testwait"
)

// TestRestartCatchesUpBeyondGC stops a validator until the others have
// collected (garbage) the rounds it stopped at, then restarts it: the
// history it must order comes from the peers' disks (their retained
// certificate records, served through store.ReadCertificates), not their
// memory. Without that reader it stayed stuck for good: every sync answer
// began at the peers' GC round, too far ahead of its own.
func TestRestartCatchesUpBeyondGC(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// A small GC depth and rounds ahead make the gap quick to open.
	opts := dag.Options{GCDepth: 4, MaxRoundsAhead: 8, MaxHeaderDelay: 20}
	logs := &tailWriter{max: 400}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	d, err := StartDevnet(ctx, DevnetOptions{BaseDir: t.TempDir(), DAG: opts, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	defer func() {
		if t.Failed() {
			t.Logf("last node logs:\n%s", logs.String())
		}
	}()
	log := newDigestLog(t)
	log.follow(ctx, d.Subscribe(SubscribeOptions{}))

	testwait.Until(t, testTimeout, "every node to commit", func() bool { return log.minSeq(4) >= 2 })
	stoppedAt := d.Node(3).Status().Round
	if err := d.StopNode(3); err != nil {
		t.Fatalf("stop node 3: %v", err)
	}
	// Far beyond GCDepth and MaxRoundsAhead: the peers' memory no longer
	// holds what node 3 needs.
	gap := 3 * (opts.GCDepth + opts.MaxRoundsAhead)
	testwait.Until(t, testTimeout, "nodes 0..2 to move far ahead", func() bool { return d.Node(0).Status().Round > stoppedAt+gap })
	restarted := time.Now()
	if err := d.StartNode(3); err != nil {
		t.Fatalf("restart node 3: %v", err)
	}
	target := log.minSeq(3) + 2
	testwait.Until(t, testTimeout, "node 3 to catch up", func() bool { return log.minSeq(4) >= target })
	t.Logf("node 3 stopped at round %d, caught up to seq %d in %v (node 0 at round %d)", stoppedAt, log.minSeq(4),
		time.Since(restarted).Round(time.Millisecond), d.Node(0).Status().Round)
	log.check()
}

// tailWriter keeps the last max lines written to it, for a failing test
// to print.
type tailWriter struct {
	mu    sync.Mutex
	max   int
	lines []string
}

func (w *tailWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.lines = append(w.lines, strings.TrimRight(string(p), "\n"))
	if len(w.lines) > w.max {
		w.lines = w.lines[len(w.lines)-w.max:]
	}
	return len(p), nil
}

func (w *tailWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return strings.Join(w.lines, "\n")
}
