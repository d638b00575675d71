package dagsim

import "testing"

func TestQuick(t *testing.T) {
	for seed := uint64(1); seed <= 40; seed++ {
		r := Run(Options{Validators: 4, Byzantine: 1, Seed: seed})
		t.Logf("seed %d: viol=%v live=%q minLeaders=%d seq=%d stats=%+v", seed, r.Violations, r.LivenessFailure, r.MinCommittedLeaders, r.LastSeq, r.Stats)
	}
}
