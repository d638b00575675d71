package dagsim

import (
	"encoding/binary"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/dagd/dagd/crypto"
)

// BatchOptions runs many seeds.
type BatchOptions struct {
	Options
	// SeedStart is the first seed; seeds SeedStart .. SeedStart+Seeds-1 run.
	SeedStart uint64
	Seeds     int
	// Parallel is how many seeds run at once (each run is single-threaded
	// and deterministic). Default GOMAXPROCS.
	Parallel int
	// Progress, if set, is called after each run completes.
	Progress func(done, total int, r Result)
}

// Summary is the outcome of a batch of runs. Its JSON form is the output of
// `dagd sim --json`.
type Summary struct {
	Runs                int       `json:"runs"`
	Validators          int       `json:"validators"`
	Byzantine           int       `json:"byzantine"`
	Rounds              uint64    `json:"rounds"`
	Crypto              string    `json:"crypto"`
	SeedStart           uint64    `json:"seed_start"`
	SafetyViolations    int       `json:"safety_violations"`
	LivenessFailures    int       `json:"liveness_failures"`
	MinCommittedLeaders int       `json:"min_committed_leaders"`
	FailedSeeds         []uint64  `json:"failed_seeds"`
	CommitLogDigest     string    `json:"commit_log_digest"`
	Failures            []Failure `json:"failures,omitempty"`
	ElapsedSeconds      float64   `json:"elapsed_s"`
	Totals              Stats     `json:"totals"`
}

// Failure describes one failed seed and how to replay it.
type Failure struct {
	Seed       uint64   `json:"seed"`
	Violations []string `json:"violations,omitempty"`
	Liveness   string   `json:"liveness,omitempty"`
	Replay     string   `json:"replay"`
}

// RunSeeds runs every seed of the batch and summarizes them. The commit log
// digest is BLAKE3 over (seed, last seq, log digest) of every run in seed
// order, so equal arguments give equal digests.
func RunSeeds(b BatchOptions) Summary {
	b.Options.ensureDefaults()
	if b.Parallel <= 0 {
		b.Parallel = runtime.GOMAXPROCS(0)
	}
	start := time.Now()
	results := make([]Result, b.Seeds)
	var (
		mu   sync.Mutex
		done int
		wg   sync.WaitGroup
	)
	next := make(chan int)
	for w := 0; w < b.Parallel; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				o := b.Options
				o.Seed = b.SeedStart + uint64(i)
				r := Run(o)
				mu.Lock()
				results[i] = r
				done++
				if b.Progress != nil {
					b.Progress(done, b.Seeds, r)
				}
				mu.Unlock()
			}
		}()
	}
	for i := 0; i < b.Seeds; i++ {
		next <- i
	}
	close(next)
	wg.Wait()

	s := Summary{Runs: b.Seeds, Validators: b.Validators, Byzantine: b.Byzantine, Rounds: b.Rounds, Crypto: b.Crypto,
		SeedStart: b.SeedStart, MinCommittedLeaders: -1, FailedSeeds: []uint64{}}
	h := crypto.NewHasher()
	for _, r := range results {
		var buf [16]byte
		binary.BigEndian.PutUint64(buf[:8], r.Seed)
		binary.BigEndian.PutUint64(buf[8:], r.LastSeq)
		_, _ = h.Write(buf[:])
		_, _ = h.Write(r.LogDigest[:])
		failed := false
		if len(r.Violations) > 0 {
			s.SafetyViolations++
			failed = true
		}
		if r.LivenessFailure != "" {
			s.LivenessFailures++
			failed = true
		}
		if failed {
			s.FailedSeeds = append(s.FailedSeeds, r.Seed)
			s.Failures = append(s.Failures, Failure{Seed: r.Seed, Violations: r.Violations, Liveness: r.LivenessFailure, Replay: b.replay(r.Seed)})
		}
		if s.MinCommittedLeaders < 0 || r.MinCommittedLeaders < s.MinCommittedLeaders {
			s.MinCommittedLeaders = r.MinCommittedLeaders
		}
		s.Totals.add(r.Stats)
	}
	var d crypto.Digest
	h.Sum(d[:0])
	s.CommitLogDigest = d.String()
	s.ElapsedSeconds = time.Since(start).Seconds()
	return s
}

func (b BatchOptions) replay(seed uint64) string {
	return fmt.Sprintf("dagd sim --validators %d --byzantine %d --rounds %d --crypto %s --seed-start %d --seeds 1",
		b.Validators, b.Byzantine, b.Rounds, b.Crypto, seed)
}

func (s *Stats) add(o Stats) {
	s.Messages += o.Messages
	s.Dropped += o.Dropped
	s.Duplicated += o.Duplicated
	s.Rejected += o.Rejected
	s.Crashes += o.Crashes
	s.TornWrites += o.TornWrites
	s.Partitions += o.Partitions
	s.Evidence += o.Evidence
	s.VirtualMillis += o.VirtualMillis
	s.MaxRound = max(s.MaxRound, o.MaxRound)
}
