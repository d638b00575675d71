package heal

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/dagd/dagd/erasure"
)

func TestAssignment(t *testing.T) {
	cases := []struct {
		n, v      int
		validator int
		want      []int
	}{
		{4, 4, 0, []int{0}},
		{4, 4, 3, []int{3}},
		{8, 4, 1, []int{1, 5}},
		{10, 4, 1, []int{1, 5, 9}},
		{10, 4, 3, []int{3, 7}},
		{3, 4, 3, nil},
		{3, 4, 2, []int{2}},
	}
	for _, c := range cases {
		got := ShardsOf(c.validator, c.n, c.v)
		if !slices.Equal(got, c.want) {
			t.Errorf("ShardsOf(%d, n=%d, v=%d) = %v, want %v", c.validator, c.n, c.v, got, c.want)
		}
		for _, j := range got {
			if Holder(j, c.v) != c.validator {
				t.Errorf("Holder(%d, %d) = %d, want %d", j, c.v, Holder(j, c.v), c.validator)
			}
		}
	}
	// Every shard has exactly one holder, and Holders lists those with any.
	for _, v := range []int{1, 4, 7} {
		for n := 1; n <= 20; n++ {
			seen := map[int]int{}
			var holders []int
			for i := 0; i < v; i++ {
				s := ShardsOf(i, n, v)
				for _, j := range s {
					seen[j]++
				}
				if len(s) > 0 {
					holders = append(holders, i)
				}
			}
			for j := 0; j < n; j++ {
				if seen[j] != 1 {
					t.Fatalf("n=%d v=%d: shard %d held %d times", n, v, j, seen[j])
				}
			}
			if got := Holders(n, v); !slices.Equal(got, holders) {
				t.Fatalf("Holders(%d, %d) = %v, want %v", n, v, got, holders)
			}
		}
	}
	if Holder(-1, 4) != -1 || Holder(1, 0) != -1 || ShardsOf(4, 8, 4) != nil || ShardsOf(-1, 8, 4) != nil {
		t.Error("out-of-range inputs not refused")
	}
}

// object encodes content with erasure and keeps every shard.
func object(t *testing.T, size, k, n int) (*erasure.Manifest, map[[2]int][]byte) {
	t.Helper()
	shards := map[[2]int][]byte{}
	enc, err := erasure.NewEncoder(&erasure.Options{ChunkSize: 1 << 10, DataShards: k, ParityShards: n - k})
	if err != nil {
		t.Fatal(err)
	}
	data := make([]byte, size)
	for i := range data {
		data[i] = byte(i * 7)
	}
	_, m, err := enc.Encode(context.Background(), bytes.NewReader(data), int64(size), sink(func(c, s int, b []byte) {
		shards[[2]int{c, s}] = bytes.Clone(b)
	}))
	if err != nil {
		t.Fatal(err)
	}
	return m, shards
}

type sink func(c, s int, b []byte)

func (f sink) Put(_ context.Context, c, s int, b []byte) error { f(c, s, b); return nil }

func TestAudit(t *testing.T) {
	m, shards := object(t, 5*1024+10, 2, 4)
	// Validator 1 of 4 holds shard 1 of each of the 6 chunks: chunk 2
	// missing, chunk 4 corrupt, chunk 5 short.
	read := func(c, s int) ([]byte, error) {
		b := shards[[2]int{c, s}]
		switch c {
		case 2:
			return nil, errors.New("no such file")
		case 4:
			b = bytes.Clone(b)
			b[0] ^= 1
		case 5:
			return nil, fmt.Errorf("read: %w", ErrShort)
		}
		return b, nil
	}
	rep, err := Audit(m, ShardsOf(1, 4, 4), read, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Good != 3 || rep.Missing() != 2 || rep.Corrupt() != 1 {
		t.Fatalf("report: good %d missing %d corrupt %d, want 3 2 1", rep.Good, rep.Missing(), rep.Corrupt())
	}
	want := []Finding{{ShardRef{2, 1}, FaultMissing}, {ShardRef{4, 1}, FaultCorrupt}, {ShardRef{5, 1}, FaultMissing}}
	if !slices.Equal(rep.Findings, want) {
		t.Fatalf("findings %v, want %v", rep.Findings, want)
	}
	if got := rep.Chunks(); len(got) != 3 || got[1].Chunk != 4 || !slices.Equal(got[1].Shards, []int{1}) {
		t.Fatalf("chunks %v", got)
	}
	// A wrong length is corrupt, not missing.
	if f := Classify(m, 0, 1, shards[[2]int{0, 1}][:10], nil); f != FaultCorrupt {
		t.Errorf("short bytes: %v, want corrupt", f)
	}
	if f := Classify(m, 99, 1, []byte{1}, nil); f != FaultCorrupt {
		t.Errorf("chunk outside the manifest: %v, want corrupt", f)
	}
	// stop ends the audit early.
	stop := errors.New("stop")
	calls := 0
	_, err = Audit(m, []int{1}, read, func() error {
		calls++
		if calls > 2 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) {
		t.Errorf("Audit with stop: %v", err)
	}
}

// TestSourcesRebuild: whatever shards Sources proposes, taken in order
// while skipping failures, rebuild the chunk through erasure.Reconstruct.
func TestSourcesRebuild(t *testing.T) {
	m, shards := object(t, 3000, 3, 7)
	for self := 0; self < 7; self++ {
		for failing := 0; failing < 7; failing++ {
			damaged := []int{self}
			order := Sources(Candidates{K: 3, N: 7, Validators: 7, Self: self, Exclude: damaged,
				Suspect: func(v int) bool { return v == failing }})
			if slices.Contains(order, self) {
				t.Fatalf("self %d: own damaged shard proposed: %v", self, order)
			}
			in := make([][]byte, 7)
			got := 0
			for _, j := range order {
				if got == 3 {
					break
				}
				if j == failing {
					continue // it serves nothing
				}
				in[j] = shards[[2]int{0, j}]
				got++
			}
			if got < 3 {
				t.Fatalf("self %d failing %d: only %d sources", self, failing, got)
			}
			if _, err := erasure.Reconstruct(m, 0, in); err != nil {
				t.Fatalf("self %d failing %d: %v", self, failing, err)
			}
			if !bytes.Equal(in[self], shards[[2]int{0, self}]) {
				t.Fatalf("self %d: rebuilt shard differs", self)
			}
		}
	}
}

func TestSourcesOrder(t *testing.T) {
	c := Candidates{K: 2, N: 6, Validators: 4, Self: 2,
		Local:   func(j int) bool { return j == 2 },
		Suspect: func(v int) bool { return v == 0 },
		Exclude: []int{5}}
	// Shards: 0 (v0 suspect, data), 1 (v1 data), 2 (local), 3 (v3), 4 (v0 suspect), 5 excluded;
	// shard 6 would be self's own but n=6.
	got := Sources(c)
	want := []int{2, 1, 3, 0, 4}
	if !slices.Equal(got, want) {
		t.Fatalf("Sources = %v, want %v", got, want)
	}
	// Own shards not on hand are never proposed: no one else has them.
	c.Local = nil
	c.N = 8 // shard 6 is validator 2's too
	if got := Sources(c); slices.Contains(got, 2) || slices.Contains(got, 6) {
		t.Fatalf("own shards proposed: %v", got)
	}
}

func TestScores(t *testing.T) {
	s := NewScores(3)
	if s.Suspect(1) {
		t.Fatal("clean holder suspect")
	}
	s.Bad(1)
	if !s.Suspect(1) {
		t.Fatal("holder not suspect after a bad shard")
	}
	for range Penalty - 1 {
		s.Good(1)
	}
	if !s.Suspect(1) {
		t.Fatal("suspicion faded too early")
	}
	s.Good(1)
	if s.Suspect(1) {
		t.Fatal("suspicion never fades")
	}
	s.Bad(-1)
	s.Bad(7)
	s.Good(9)
	if s.Suspect(7) || s.Suspect(-1) {
		t.Fatal("out-of-range holders")
	}
}
