package execution

import (
	"sync"

	"github.com/dagd/dagd/crypto"
)

// VerifiedSetSize bounds the digests the node's VerifiedSet remembers:
// about 5 MB.
const VerifiedSetSize = 1 << 16

// VerifiedSet remembers the digests of the transactions whose signatures
// admission verified, for the executor (shard.Options.Verified), which
// then does not verify them a second time: a transaction's validity is a
// function of its bytes, which the digest names. It is bounded: beyond
// its size the oldest digests are forgotten (then verified again). It is
// safe for concurrent use.
type VerifiedSet struct {
	mu   sync.Mutex
	m    map[crypto.Digest]struct{}
	ring []crypto.Digest // insertion order, to forget the oldest
	next int             // the ring's oldest entry once it is full
}

// NewVerifiedSet returns a set that remembers up to size digests (at
// least one).
func NewVerifiedSet(size int) *VerifiedSet {
	size = max(size, 1)
	return &VerifiedSet{m: make(map[crypto.Digest]struct{}, size), ring: make([]crypto.Digest, 0, size)}
}

// Add remembers ds; a nil set ignores them.
func (s *VerifiedSet) Add(ds []crypto.Digest) {
	if s == nil || len(ds) == 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range ds {
		if len(s.ring) < cap(s.ring) {
			s.ring = append(s.ring, d)
		} else {
			delete(s.m, s.ring[s.next]) // it may be gone, or named again later: a miss costs a verification only
			s.ring[s.next] = d
			s.next = (s.next + 1) % len(s.ring)
		}
		s.m[d] = struct{}{}
	}
}

// Take implements shard.VerifiedSet: it reports whether d was verified,
// and forgets it.
func (s *VerifiedSet) Take(d crypto.Digest) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.m[d]; ok {
		delete(s.m, d)
		return true
	}
	return false
}
