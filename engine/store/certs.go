package store

import (
	"bytes"

	"github.com/cockroachdb/pebble/v2"

	"github.com/dagd/dagd/dag"
)

// ReadCertificates implements dag.CertificateReader: up to limit persisted
// certificates of rounds at or above from, ascending by round, then
// author. The core answers a peer's sync request below its GC round from
// here: the records of collected certificates stay on disk RetainRounds
// longer for exactly that, so a validator that was down or paused for
// more than GCDepth rounds can still fetch the history it must order.
// It runs on the event loop; limit (the core's SyncLimit) bounds the work.
func (s *Store) ReadCertificates(from uint64, limit int) []*dag.Certificate {
	if !s.enter() {
		return nil
	}
	defer s.leave()
	lo, hi := dag.CertKeyRange(from)
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: DAGKey(lo), UpperBound: DAGKey(hi)})
	if err != nil {
		return nil
	}
	defer it.Close()
	var out []*dag.Certificate
	for ok := it.First(); ok && len(out) < limit; ok = it.Next() {
		if _, _, ok := dag.ParseCertKey(it.Key()[len(DAGPrefix):]); !ok {
			continue
		}
		v, err := it.ValueAndErr()
		if err != nil {
			break
		}
		c, err := dag.DecodeCertificate(bytes.Clone(v)) // v is the iterator's until Next
		if err != nil {
			continue
		}
		out = append(out, c)
	}
	return out
}
