package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/dagd/dagd/loadtest"
)

// The main job runs the whole pipeline by default: signed transfers that
// are executed, not opaque payloads that never are.
func TestDevnetDefaultWorkloadExecutes(t *testing.T) {
	f := newDevnetCmd().Flags().Lookup("workload")
	if f == nil || f.DefValue != "transfers" {
		t.Fatalf("devnet --workload defaults to %v, want transfers", f)
	}
}

// An opaque workload never executes: its progress line must not report
// executed=0 tx/s, which reads as a fault.
func TestSnapshotLineShowsExecutionOnlyWhenItRuns(t *testing.T) {
	s := loadtest.Snapshot{Elapsed: time.Second, CommittedTPS: 900, ExecutedTPS: 880}
	var b bytes.Buffer
	printSnapshot(&b, s, true)
	if !strings.Contains(b.String(), "executed=880 tx/s") {
		t.Errorf("executing workload: %q lacks the executed rate", b.String())
	}
	b.Reset()
	printSnapshot(&b, s, false)
	if strings.Contains(b.String(), "executed") || !strings.Contains(b.String(), "committed=900 tx/s") {
		t.Errorf("opaque workload: %q", b.String())
	}
}
