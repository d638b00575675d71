package dag

import "github.com/dagd/dagd/crypto"

// RecentDigests is a set of at most a fixed number of digests that
// forgets the oldest first: a bounded memory of checks already done
// (certificates that failed or passed their signature check), fed by
// peers and so never allowed to grow. The zero value is unusable; use
// NewRecentDigests. It is not safe for concurrent use.
type RecentDigests struct {
	set  map[crypto.Digest]struct{}
	ring []crypto.Digest
	next int
}

// NewRecentDigests returns an empty set that holds up to capacity
// digests (at least 1).
func NewRecentDigests(capacity int) *RecentDigests {
	capacity = max(capacity, 1)
	return &RecentDigests{set: make(map[crypto.Digest]struct{}, capacity), ring: make([]crypto.Digest, 0, capacity)}
}

// Add remembers d, forgetting the oldest digest when the set is full.
func (r *RecentDigests) Add(d crypto.Digest) {
	if _, dup := r.set[d]; dup {
		return
	}
	if len(r.ring) < cap(r.ring) {
		r.ring = append(r.ring, d)
	} else {
		delete(r.set, r.ring[r.next])
		r.ring[r.next] = d
		r.next = (r.next + 1) % len(r.ring)
	}
	r.set[d] = struct{}{}
}

// Has reports whether d is remembered.
func (r *RecentDigests) Has(d crypto.Digest) bool {
	_, ok := r.set[d]
	return ok
}

// Len returns how many digests are remembered.
func (r *RecentDigests) Len() int { return len(r.set) }
