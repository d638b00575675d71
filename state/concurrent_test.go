package state

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/dagd/dagd/state/proof"
)

// TestConcurrentReadsDuringCommits proves and reads while commits (with
// parallel hashing and pruning) run: every proof verifies against the root
// of the version it was made for. Run it with -race.
func TestConcurrentReadsDuringCommits(t *testing.T) {
	o := testOptions()
	o.KeepVersions = 2
	s := openTest(t, o)
	rng := rand.New(rand.NewPCG(21, 22))
	m := newModel()
	if _, err := s.Commit(1, randomUpdate(rng, m, 300, 500)); err != nil {
		t.Fatal(err)
	}
	var stop atomic.Bool
	var verified atomic.Int64
	var wg sync.WaitGroup
	for r := 0; r < 2; r++ {
		wg.Go(func() {
			rr := rand.New(rand.NewPCG(uint64(r), 1))
			for !stop.Load() {
				v := s.Version()
				root, err := s.RootAt(v)
				if errors.Is(err, ErrVersionUnavailable) {
					continue // pruned between the two calls
				}
				if err != nil {
					t.Errorf("RootAt(%d): %v", v, err)
					return
				}
				key := []byte(fmt.Sprintf("key-%d", rr.IntN(550)))
				value, p, err := s.GetWithProof(key, v)
				if errors.Is(err, ErrVersionUnavailable) {
					continue
				}
				if err != nil {
					t.Errorf("GetWithProof: %v", err)
					return
				}
				if err := proof.VerifyProof(root, key, value, p); err != nil {
					t.Errorf("proof at version %d rejected: %v", v, err)
					return
				}
				if _, _, err := s.Get(key); err != nil {
					t.Errorf("Get: %v", err)
					return
				}
				verified.Add(1)
			}
		})
	}
	commits := 40
	if testing.Short() {
		commits = 15
	}
	for v := uint64(2); v <= uint64(commits); v++ {
		root, err := s.Commit(v, randomUpdate(rng, m, 100+rng.IntN(200), 500))
		if err != nil {
			t.Fatal(err)
		}
		if root != refRootOf(m.tree) {
			t.Fatalf("version %d: root differs from the reference", v)
		}
	}
	stop.Store(true)
	wg.Wait()
	if verified.Load() == 0 {
		t.Fatal("no proof was verified during the commits")
	}
	t.Logf("%d proofs verified during %d commits", verified.Load(), commits-1)
	checkContents(t, s, m, 500)
}
