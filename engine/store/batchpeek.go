package store

import (
	"errors"
	"fmt"
	"io"

	"github.com/dagd/dagd/crypto"
	"github.com/dagd/dagd/dag"
)

// peek calls fn with the first n bytes (fewer if the batch is shorter) of
// batch d's encoding, without reading the rest: a commit needs only the
// author and the transaction count of most of its batches.
func (l *batchLog) peek(d crypto.Digest, n int, fn func(v []byte) error) error {
	l.mu.RLock()
	loc, ok := l.index[d]
	if !ok {
		l.mu.RUnlock()
		return ErrNotFound
	}
	v := make([]byte, min(n, loc.size))
	_, err := loc.seg.f.ReadAt(v, loc.off)
	l.mu.RUnlock()
	if err != nil && !(errors.Is(err, io.EOF) && len(v) == 0) {
		return fmt.Errorf("store: batch log read: %w", err)
	}
	return fn(v)
}

// PeekBatch calls fn with the start of stored batch d's encoding
// (dag.BatchHeaderSize bytes; see dag.PeekBatch).
func (s *Store) PeekBatch(d crypto.Digest, fn func(v []byte) error) error {
	if !s.enter() {
		return ErrClosed
	}
	defer s.leave()
	return s.blog.peek(d, dag.BatchHeaderSize, fn)
}
