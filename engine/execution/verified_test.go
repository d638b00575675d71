package execution

import (
	"testing"

	"github.com/dagd/dagd/crypto"
)

// TestVerifiedSetBounded: beyond its size the set forgets the oldest.
func TestVerifiedSetBounded(t *testing.T) {
	s := NewVerifiedSet(2)
	d := func(i byte) crypto.Digest { return crypto.Digest{i} }
	s.Add([]crypto.Digest{d(1), d(2), d(3)})
	s.Add([]crypto.Digest{d(4)})
	if s.Take(d(1)) || s.Take(d(2)) || !s.Take(d(3)) || !s.Take(d(4)) || s.Take(d(4)) {
		t.Fatal("set of 2 does not hold the last two exactly")
	}
	if len(s.m) != 0 || len(s.ring) != 2 {
		t.Fatalf("%d digests, ring of %d", len(s.m), len(s.ring))
	}
	var nilSet *VerifiedSet
	nilSet.Add([]crypto.Digest{d(1)}) // no execution: nothing to remember
}
