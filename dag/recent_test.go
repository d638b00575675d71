package dag

import (
	"testing"

	"github.com/dagd/dagd/crypto"
)

func TestRecentDigestsForgetsOldestFirst(t *testing.T) {
	r := NewRecentDigests(3)
	d := func(i byte) crypto.Digest { return crypto.Hash([]byte{i}) }
	for i := byte(0); i < 3; i++ {
		r.Add(d(i))
	}
	r.Add(d(1)) // present: neither added again nor refreshed
	if r.Len() != 3 || !r.Has(d(0)) || !r.Has(d(1)) || !r.Has(d(2)) {
		t.Fatalf("after 3 adds: len %d", r.Len())
	}
	r.Add(d(3))
	if r.Has(d(0)) || !r.Has(d(1)) || !r.Has(d(3)) || r.Len() != 3 {
		t.Fatal("the oldest digest was not the one forgotten")
	}
	r.Add(d(4))
	r.Add(d(5))
	if r.Has(d(1)) || r.Has(d(2)) || !r.Has(d(3)) || !r.Has(d(4)) || !r.Has(d(5)) || r.Len() != 3 {
		t.Fatal("the ring did not wrap in order")
	}
}
