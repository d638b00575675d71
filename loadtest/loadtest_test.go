package loadtest

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"
)

func TestHistogramPercentiles(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	h := NewHistogram()
	var vals []uint64
	for range 200_000 {
		// Log-normal-ish latencies from 1 µs to minutes, and some exact
		// small values.
		v := uint64(math.Exp(rng.NormFloat64()*2 + 12))
		if rng.IntN(10) == 0 {
			v = uint64(rng.IntN(300))
		}
		h.Record(v)
		vals = append(vals, v)
	}
	slices.Sort(vals)
	for _, q := range []float64{0.01, 0.5, 0.9, 0.95, 0.99, 0.999} {
		exact := vals[int(math.Ceil(q*float64(len(vals))))-1]
		got := h.Quantile(q)
		if diff := math.Abs(float64(got)-float64(exact)) / float64(max(exact, 1)); diff > 0.01 {
			t.Errorf("q%.3f: got %d, exact %d (%.2f%% off)", q, got, exact, 100*diff)
		}
	}
	if h.Count() != uint64(len(vals)) || h.Max() != vals[len(vals)-1] || h.Min() != vals[0] {
		t.Errorf("count %d max %d min %d, want %d %d %d", h.Count(), h.Max(), h.Min(), len(vals), vals[len(vals)-1], vals[0])
	}
}

func TestHistogramBuckets(t *testing.T) {
	// Every value lands in a bucket whose range holds it, and bucket
	// ranges are contiguous and increasing.
	var prevHi uint64
	for i := 0; i < buckets; i++ {
		lo, hi := bucketRange(i)
		if i > 0 && lo != prevHi+1 {
			t.Fatalf("bucket %d starts at %d, previous ended at %d", i, lo, prevHi)
		}
		if bucketOf(lo) != i || bucketOf(hi) != i {
			t.Fatalf("bucket %d [%d, %d] maps to %d and %d", i, lo, hi, bucketOf(lo), bucketOf(hi))
		}
		if lo >= linear && float64(hi-lo+1)/float64(lo) > 1.0/subCount+1e-12 {
			t.Fatalf("bucket %d [%d, %d] is wider than 1/%d", i, lo, hi, subCount)
		}
		prevHi = hi
	}
	if prevHi != math.MaxUint64 {
		t.Fatalf("buckets end at %d", prevHi)
	}
}

func TestTxRoundTrip(t *testing.T) {
	now := time.Unix(1700000000, 123456789)
	for _, size := range []int{0, HeaderSize, 100, 513} {
		tx := MakeTx(TxHeader{Run: 42, Seq: 7, Sent: now}, size)
		if len(tx) != max(size, HeaderSize) {
			t.Errorf("size %d: got %d bytes", size, len(tx))
		}
		h, err := ParseTx(tx[:HeaderSize])
		if err != nil || h.Run != 42 || h.Seq != 7 || !h.Sent.Equal(now) {
			t.Errorf("size %d: parsed %+v, %v", size, h, err)
		}
	}
	if _, err := ParseTx([]byte("not a load transaction at all")); err == nil {
		t.Error("parsed a foreign transaction")
	}
	if a, b := MakeTx(TxHeader{Seq: 1}, 512), MakeTx(TxHeader{Seq: 2}, 512); string(a[HeaderSize:]) == string(b[HeaderSize:]) {
		t.Error("fillers of different transactions are equal")
	}
}

func TestConsistency(t *testing.T) {
	c := NewConsistency(3)
	d := func(b byte) [32]byte { return [32]byte{b} }
	for seq := uint64(1); seq <= 5; seq++ {
		for node := 0; node < 3; node++ {
			c.Observe(node, seq, d(byte(seq)))
		}
	}
	c.Observe(0, 6, d(6))
	c.Observe(0, 3, d(3)) // a repeat
	r := c.Result()
	if !r.Consistent || r.CommonSeqs != 5 || !slices.Equal(r.Highest, []uint64{6, 5, 5}) {
		t.Fatalf("got %+v", r)
	}
	c.Observe(1, 6, d(66))
	r = c.Result()
	if r.Consistent || len(r.Mismatches) != 1 || r.Mismatches[0].Seq != 6 || r.Mismatches[0].NodeA != 0 || r.Mismatches[0].NodeB != 1 {
		t.Fatalf("mismatch not reported: %+v", r)
	}
	if r.String() == "" {
		t.Error("no description")
	}
}

// fakeTarget commits every accepted transaction after delay, at the node
// it was sent to, and refuses as busy every busyEvery-th request. All
// nodes report the same digests unless fork is set.
type fakeTarget struct {
	nodes     int
	delay     time.Duration
	busyEvery int
	fork      bool

	mu    sync.Mutex
	reqs  int
	seq   []uint64
	fn    func(Observation)
	timer []*time.Timer
}

func (f *fakeTarget) Nodes() int { return f.nodes }

func (f *fakeTarget) Submit(_ context.Context, node int, txs [][]byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reqs++
	if f.busyEvery > 0 && f.reqs%f.busyEvery == 0 {
		return 0, &SubmitError{Reason: "node_busy", Busy: true, Err: errors.New("busy")}
	}
	f.seq[node]++
	seq := f.seq[node]
	fn := f.fn
	f.timer = append(f.timer, time.AfterFunc(f.delay, func() {
		digest := [32]byte{byte(seq), byte(seq >> 8)}
		if f.fork && node == 1 {
			digest[31] = 1
		}
		// Each node commits its own requests as one commit per request:
		// only their digests matter to the consistency check, and
		// every node reaches every seq through the others.
		for n := 0; n < f.nodes; n++ {
			ob := Observation{Node: n, Seq: seq, Digest: digest, At: time.Now()}
			if n == node {
				ob.Txs = txs
			}
			if f.fork && n == 1 {
				ob.Digest[31] = 1
			}
			fn(ob)
		}
	}))
	return len(txs), nil
}

func (f *fakeTarget) Follow(_ context.Context, fn func(Observation)) (func(), error) {
	f.mu.Lock()
	f.fn = fn
	f.seq = make([]uint64, f.nodes)
	f.mu.Unlock()
	return func() {}, nil
}

func (f *fakeTarget) Round(context.Context) (uint64, error) { return 1, nil }

func TestRunAgainstFake(t *testing.T) {
	// One node so that seqs stay in order for the consistency check.
	f := &fakeTarget{nodes: 1, delay: 50 * time.Millisecond, busyEvery: 10}
	var snaps []Snapshot
	rep, err := Run(context.Background(), f, Options{Rate: 2000, TxSize: 100, Duration: time.Second, Tick: time.Millisecond,
		ReportEvery: 200 * time.Millisecond, OnSnapshot: func(s Snapshot) { snaps = append(snaps, s) }})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Offered != 2000 {
		t.Errorf("offered %d, want 2000 (open loop at 2000/s for 1s)", rep.Offered)
	}
	if rep.Accepted+rep.Rejected+rep.Failed+rep.Dropped != rep.Offered {
		t.Errorf("counts do not add up: %+v", rep)
	}
	if rep.Rejected == 0 || rep.RejectReasons["node_busy"] != rep.Rejected {
		t.Errorf("busy refusals not counted: %+v", rep)
	}
	if rep.CommittedTx != rep.Accepted {
		t.Errorf("committed %d of %d accepted", rep.CommittedTx, rep.Accepted)
	}
	// Latency is the delay plus the tick and scheduling noise.
	if rep.Latency.P50 < 49 || rep.Latency.P50 > 120 || rep.Latency.P99 < rep.Latency.P50 {
		t.Errorf("latency %+v, want about 50 ms", rep.Latency)
	}
	if !rep.Consistent {
		t.Errorf("inconsistent: %+v", rep.Consistency)
	}
	if len(snaps) < 3 {
		t.Errorf("%d live snapshots in 1 s at 200 ms", len(snaps))
	}
}

func TestRunDetectsFork(t *testing.T) {
	f := &fakeTarget{nodes: 2, delay: 10 * time.Millisecond, fork: true}
	rep, err := Run(context.Background(), f, Options{Rate: 500, Duration: 200 * time.Millisecond, Drain: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Consistent || len(rep.Consistency.Mismatches) == 0 {
		t.Errorf("fork not detected: %+v", rep.Consistency)
	}
}

func TestRunOpenLoopDoesNotWait(t *testing.T) {
	// A target that takes a long time to answer: the generator must
	// still offer the full rate, dropping what does not fit the queues.
	f := &slowTarget{d: 300 * time.Millisecond}
	rep, err := Run(context.Background(), f, Options{Rate: 5000, Duration: 500 * time.Millisecond, Concurrency: 1, QueuePerNode: 2,
		Drain: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Offered != 2500 {
		t.Errorf("offered %d, want 2500", rep.Offered)
	}
	if rep.Dropped == 0 || rep.RejectReasons["client_queue_full"] == 0 {
		t.Errorf("a stalled target did not make the client drop: %+v", rep)
	}
}

type slowTarget struct{ d time.Duration }

func (s *slowTarget) Nodes() int { return 1 }
func (s *slowTarget) Submit(ctx context.Context, _ int, txs [][]byte) (int, error) {
	select {
	case <-time.After(s.d):
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	return len(txs), nil
}
func (s *slowTarget) Follow(context.Context, func(Observation)) (func(), error) {
	return func() {}, nil
}
func (s *slowTarget) Round(context.Context) (uint64, error) { return 0, nil }

func TestOptionsValidate(t *testing.T) {
	for _, o := range []Options{{}, {Rate: -1}, {Rate: 1, Duration: -time.Second}} {
		o.EnsureDefaults()
		if o.Validate() == nil {
			t.Errorf("%+v accepted", o)
		}
	}
}

// stateTarget is a committee whose nodes all commit seqs 1..commits with
// equal digests and report executing them (ExecutionFollower) from seq
// liveFrom on, and list every state root (StateRootLister). The root of
// seq forkSeq differs at node forkNode, in the live reports (live) or in
// the list only (a commit executed before the follower started).
type stateTarget struct {
	nodes, forkNode    int
	commits, liveFrom  uint64
	forkSeq            uint64
	live               bool
	listed, liveFollow int // calls, for the test
}

func (s *stateTarget) root(node int, seq uint64, live bool) [32]byte {
	r := [32]byte{byte(seq)}
	if node == s.forkNode && seq == s.forkSeq && live == s.live {
		r[31] = 1
	}
	return r
}

func (s *stateTarget) Nodes() int { return s.nodes }
func (s *stateTarget) Submit(_ context.Context, _ int, txs [][]byte) (int, error) {
	return len(txs), nil
}
func (s *stateTarget) Round(context.Context) (uint64, error) { return 1, nil }
func (s *stateTarget) Follow(_ context.Context, fn func(Observation)) (func(), error) {
	for seq := uint64(1); seq <= s.commits; seq++ {
		for n := range s.nodes {
			fn(Observation{Node: n, Seq: seq, Digest: [32]byte{byte(seq)}, At: time.Now()})
		}
	}
	return func() {}, nil
}

func (s *stateTarget) FollowExecution(_ context.Context, fn func(ExecObservation)) (func(), error) {
	s.liveFollow++
	for seq := s.liveFrom; seq <= s.commits; seq++ {
		for n := range s.nodes {
			fn(ExecObservation{Node: n, Seq: seq, StateRoot: s.root(n, seq, true), At: time.Now()})
		}
	}
	return func() {}, nil
}

func (s *stateTarget) StateRoots(_ context.Context, node int, from uint64, max int) ([][32]byte, error) {
	s.listed++
	var roots [][32]byte
	for seq := from; seq <= s.commits && len(roots) < max; seq++ {
		roots = append(roots, s.root(node, seq, false))
	}
	return roots, nil
}

// TestRunDetectsStateRootFork: a run is consistent only if every node
// reached the same state root at every commit, whether the difference
// shows in the executed commits followed live or only in the final
// comparison of every commit from the first.
func TestRunDetectsStateRootFork(t *testing.T) {
	run := func(s *stateTarget) *Report {
		t.Helper()
		rep, err := Run(context.Background(), s, Options{Rate: 100, Duration: 50 * time.Millisecond, Drain: 10 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		if s.liveFollow != 1 || s.listed == 0 {
			t.Fatalf("followed %d times, listed %d times", s.liveFollow, s.listed)
		}
		return rep
	}
	// Agreement: consistent, every commit compared.
	rep := run(&stateTarget{nodes: 3, forkNode: -1, commits: 20, liveFrom: 5})
	if !rep.Consistent || rep.StateConsistency == nil || !rep.StateConsistency.Consistent || rep.StateConsistency.CommonSeqs != 20 {
		t.Fatalf("agreeing nodes: consistent %v, state %+v", rep.Consistent, rep.StateConsistency)
	}
	for _, tc := range []struct {
		name string
		s    *stateTarget
	}{
		{"live", &stateTarget{nodes: 3, forkNode: 1, forkSeq: 7, live: true, commits: 20, liveFrom: 5}},
		{"before the follower", &stateTarget{nodes: 3, forkNode: 2, forkSeq: 2, commits: 20, liveFrom: 5}},
	} {
		rep := run(tc.s)
		sc := rep.StateConsistency
		if rep.Consistent || sc == nil || sc.Consistent || len(sc.Mismatches) == 0 || sc.Mismatches[0].Seq != tc.s.forkSeq ||
			sc.Mismatches[0].NodeB != tc.s.forkNode {
			t.Errorf("%s: node %d's state root differs at seq %d: consistent %v, state %+v", tc.name, tc.s.forkNode, tc.s.forkSeq,
				rep.Consistent, sc)
		}
		if !rep.Consistency.Consistent {
			t.Errorf("%s: the commit digests agree: %+v", tc.name, rep.Consistency)
		}
	}
}
