package dagsim

import (
	"fmt"
	"testing"

	"github.com/dagd/dagd/dag"
)

// TestSeeds runs a spread of seeded simulations as part of the suite; the
// command `dagd sim` runs hundreds more.
func TestSeeds(t *testing.T) {
	for _, tc := range []struct {
		n, byz, seeds int
		crypto        string
	}{
		{4, 0, 8, "fast"},
		{4, 1, 8, "fast"},
		{7, 2, 4, "fast"},
		{10, 3, 2, "fast"},
		{4, 1, 1, "bls"},
	} {
		t.Run(fmt.Sprintf("n=%d/byz=%d/%s", tc.n, tc.byz, tc.crypto), func(t *testing.T) {
			s := RunSeeds(BatchOptions{Options: Options{Validators: tc.n, Byzantine: tc.byz, Crypto: tc.crypto}, SeedStart: 1000, Seeds: tc.seeds})
			for _, f := range s.Failures {
				t.Errorf("seed %d failed: %v %s\nreplay: %s", f.Seed, f.Violations, f.Liveness, f.Replay)
			}
			if s.MinCommittedLeaders < 5 {
				t.Errorf("an honest validator committed only %d leaders", s.MinCommittedLeaders)
			}
			if s.Totals.Messages == 0 || s.Totals.Dropped == 0 {
				t.Errorf("no faults were injected: %+v", s.Totals)
			}
		})
	}
}

// TestSameSeedSameLog checks determinism: one seed gives byte-identical
// commit logs, another seed another log.
func TestSameSeedSameLog(t *testing.T) {
	a := Run(Options{Validators: 4, Byzantine: 1, Seed: 42})
	b := Run(Options{Validators: 4, Byzantine: 1, Seed: 42})
	c := Run(Options{Validators: 4, Byzantine: 1, Seed: 43})
	if a.LastSeq == 0 {
		t.Fatal("nothing committed")
	}
	if a.LogDigest != b.LogDigest || a.LastSeq != b.LastSeq || a.Stats != b.Stats {
		t.Fatalf("seed 42 ran twice differently: %x/%d %+v vs %x/%d %+v", a.LogDigest, a.LastSeq, a.Stats, b.LogDigest, b.LastSeq, b.Stats)
	}
	if a.LogDigest == c.LogDigest {
		t.Fatal("seeds 42 and 43 gave the same commit log")
	}
	s1 := RunSeeds(BatchOptions{Options: Options{Validators: 4}, SeedStart: 7, Seeds: 3})
	s2 := RunSeeds(BatchOptions{Options: Options{Validators: 4}, SeedStart: 7, Seeds: 3, Parallel: 1})
	if s1.CommitLogDigest != s2.CommitLogDigest {
		t.Fatal("parallelism changed the commit log digest")
	}
}

func TestByzantineBoundEnforced(t *testing.T) {
	r := Run(Options{Validators: 4, Byzantine: 2, Seed: 1})
	if len(r.Violations) == 0 {
		t.Fatal("2 Byzantine of 4 accepted")
	}
}

func TestDiskDropsTornTail(t *testing.T) {
	d := newDisk()
	d.write([]dag.Record{{Key: []byte("a"), Value: []byte("1")}})
	d.tornWrite([]dag.Record{{Key: []byte("b"), Value: []byte("2")}, {Key: []byte("c"), Value: []byte("3")}}, func(n int) int { return n - 1 })
	if _, ok := d.kv["b"]; !ok {
		t.Fatal("record before the torn one lost")
	}
	if _, ok := d.kv["c"]; ok {
		t.Fatal("torn record survived")
	}
	if string(d.kv["a"]) != "1" {
		t.Fatal("earlier record damaged")
	}
}
