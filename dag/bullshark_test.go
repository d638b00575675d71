package dag

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/dagd/dagd/crypto"
)

// randomDAG builds a certificate DAG of the given number of rounds. Each
// round holds at least a quorum of authors; slow authors skip rounds, a
// missing author never appears, and Byzantine authors reference a bare
// quorum of parents chosen to avoid the leader.
func randomDAG(rng *rand.Rand, c *Committee, rounds int, byz int) []*Certificate {
	n := c.Size()
	perm := rng.Perm(n)
	byzantine := make([]bool, n)
	for _, i := range perm[:byz] {
		byzantine[i] = true
	}
	missing := -1
	if byz > 0 && rng.IntN(2) == 0 {
		missing = perm[0] // a Byzantine author that never shows up
	}
	prev := GenesisCertificates(c)
	var all []*Certificate
	for r := 1; r <= rounds; r++ {
		var row []*Certificate
		var present []int
		for a := 0; a < n; a++ {
			if a == missing {
				continue
			}
			if rng.Float64() < 0.15 { // slow this round
				continue
			}
			present = append(present, a)
		}
		// Make sure a quorum is present.
		for _, a := range rng.Perm(n) {
			if stakeOf(c, present) >= c.QuorumThreshold() {
				break
			}
			if a != missing && !slices.Contains(present, a) {
				present = append(present, a)
			}
		}
		slices.Sort(present)
		leader := c.Leader(uint64(r - 1))
		for _, a := range present {
			var parents []*Certificate
			if byzantine[a] {
				// A bare quorum, leaving the leader out when possible.
				cands := slices.Clone(prev)
				rng.Shuffle(len(cands), func(i, j int) { cands[i], cands[j] = cands[j], cands[i] })
				slices.SortStableFunc(cands, func(x, y *Certificate) int {
					return boolInt(x.Author() == leader) - boolInt(y.Author() == leader)
				})
				for _, p := range cands {
					if stakeOfCerts(c, parents) >= c.QuorumThreshold() {
						break
					}
					parents = append(parents, p)
				}
			} else {
				// Every parent seen in time; some arrive late and are left out.
				for _, p := range prev {
					if rng.Float64() < 0.8 {
						parents = append(parents, p)
					}
				}
				for _, p := range rng.Perm(len(prev)) {
					if stakeOfCerts(c, parents) >= c.QuorumThreshold() {
						break
					}
					if !slices.Contains(parents, prev[p]) {
						parents = append(parents, prev[p])
					}
				}
			}
			ds := make([]crypto.Digest, len(parents))
			var ts Time
			for i, p := range parents {
				ds[i] = p.Digest()
				ts = max(ts, p.Header.Timestamp)
			}
			h := NewHeader(c.Epoch(), uint64(r), ValidatorID(a), ts+Time(rng.IntN(50)), nil, ds)
			cert := &Certificate{Header: h, CommitteeSize: n}
			row = append(row, cert)
			all = append(all, cert)
		}
		prev = row
	}
	return all
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func stakeOf(c *Committee, ids []int) uint64 {
	var s uint64
	for _, i := range ids {
		s += c.Stake(ValidatorID(i))
	}
	return s
}

func stakeOfCerts(c *Committee, cs []*Certificate) uint64 {
	var s uint64
	for _, x := range cs {
		s += c.Stake(x.Author())
	}
	return s
}

// deliver feeds certificates to a fresh orderer in the given order through
// a buffer that holds each until its parents are in, and returns the log.
func deliver(t *testing.T, c *Committee, gcDepth uint64, order []*Certificate) []*CommittedSubDAG {
	t.Helper()
	o := NewOrderer(c, gcDepth)
	var log []*CommittedSubDAG
	waiting := make(map[crypto.Digest][]*Certificate)
	var add func(x *Certificate)
	add = func(x *Certificate) {
		if missing := o.MissingParents(x); len(missing) > 0 {
			waiting[missing[0]] = append(waiting[missing[0]], x)
			return
		}
		subs, err := o.Add(x)
		if err != nil {
			t.Fatalf("add %s: %v", x, err)
		}
		log = append(log, subs...)
		d := x.Digest()
		kids := waiting[d]
		delete(waiting, d)
		for _, k := range kids {
			add(k)
		}
	}
	for _, x := range order {
		add(x)
	}
	return log
}

func logDigests(log []*CommittedSubDAG) []crypto.Digest {
	out := make([]crypto.Digest, len(log))
	for i, s := range log {
		out[i] = s.Digest
	}
	return out
}

// TestCommitOrderInvariance delivers random DAGs in many orders and checks
// that every order commits the same sequence.
func TestCommitOrderInvariance(t *testing.T) {
	orders := 100
	rounds := 300
	if testing.Short() {
		orders, rounds = 20, 120
	}
	for _, tc := range []struct{ n, byz int }{{4, 0}, {4, 1}, {7, 2}, {10, 3}} {
		t.Run(fmt.Sprintf("n=%d/byz=%d", tc.n, tc.byz), func(t *testing.T) {
			seed := uint64(tc.n*100 + tc.byz)
			rng := rand.New(rand.NewPCG(seed, 1))
			c, err := EqualStakeCommittee(0, tc.n)
			if err != nil {
				t.Fatal(err)
			}
			dagCerts := randomDAG(rng, c, rounds, tc.byz)
			ref := deliver(t, c, 50, dagCerts)
			if len(ref) < rounds/10 {
				t.Fatalf("only %d commits over %d rounds: the generator or the rule is broken", len(ref), rounds)
			}
			checkLog(t, ref)
			want := logDigests(ref)
			for k := 0; k < orders; k++ {
				order := slices.Clone(dagCerts)
				if k%2 == 0 {
					rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
				} else {
					// Nearly causal: rounds blurred by a random lag.
					key := make(map[crypto.Digest]float64, len(order))
					for _, x := range order {
						key[x.Digest()] = float64(x.Round()) + rng.ExpFloat64()*3
					}
					slices.SortStableFunc(order, func(a, b *Certificate) int {
						ka, kb := key[a.Digest()], key[b.Digest()]
						switch {
						case ka < kb:
							return -1
						case ka > kb:
							return 1
						}
						return 0
					})
				}
				got := logDigests(deliver(t, c, 50, order))
				if !slices.Equal(got, want) {
					t.Fatalf("seed %d order %d: %d commits differ from the %d of causal delivery", seed, k, len(got), len(want))
				}
			}
		})
	}
}

// checkLog checks a commit log for double commits and causal completeness.
func checkLog(t *testing.T, log []*CommittedSubDAG) {
	t.Helper()
	seen := make(map[crypto.Digest]bool)
	var prevTS Time
	for i, s := range log {
		if s.Seq != uint64(i+1) {
			t.Fatalf("commit %d has seq %d", i+1, s.Seq)
		}
		if s.Timestamp < prevTS {
			t.Fatalf("commit %d: consensus time went back", s.Seq)
		}
		prevTS = s.Timestamp
		if s.Certificates[len(s.Certificates)-1] != s.Leader {
			t.Fatalf("commit %d does not end with its leader", s.Seq)
		}
		for _, c := range s.Certificates {
			if seen[c.Digest()] {
				t.Fatalf("%s committed twice", c)
			}
			seen[c.Digest()] = true
		}
	}
}

func TestLeaderScheduleIsStakeWeighted(t *testing.T) {
	c, err := NewCommittee(3, []uint64{1, 1, 2, 4})
	if err != nil {
		t.Fatal(err)
	}
	counts := make([]int, 4)
	for r := uint64(0); r < 8000; r += 2 {
		counts[c.Leader(r)]++
	}
	// Expected shares 1/8, 1/8, 2/8, 4/8 of 4000.
	for i, want := range []int{500, 500, 1000, 2000} {
		if counts[i] < want*8/10 || counts[i] > want*12/10 {
			t.Errorf("validator %d led %d rounds, want about %d", i, counts[i], want)
		}
	}
	if c.Leader(10) != c.Leader(10) {
		t.Error("leader schedule not deterministic")
	}
}

func TestCommitteeThresholds(t *testing.T) {
	for _, tc := range []struct {
		n                int
		quorum, validity uint64
		maxFaulty        uint64
	}{{1, 1, 1, 0}, {4, 3, 2, 1}, {7, 5, 3, 2}, {10, 7, 4, 3}, {100, 67, 34, 33}} {
		c, err := EqualStakeCommittee(0, tc.n)
		if err != nil {
			t.Fatal(err)
		}
		if c.QuorumThreshold() != tc.quorum || c.ValidityThreshold() != tc.validity || c.MaxFaultyStake() != tc.maxFaulty {
			t.Errorf("n=%d: quorum %d validity %d f %d, want %d %d %d", tc.n, c.QuorumThreshold(), c.ValidityThreshold(), c.MaxFaultyStake(), tc.quorum, tc.validity, tc.maxFaulty)
		}
	}
	if _, err := NewCommittee(0, []uint64{1, 0}); err == nil {
		t.Error("zero stake accepted")
	}
	if _, err := NewCommittee(0, nil); err == nil {
		t.Error("empty committee accepted")
	}
}
