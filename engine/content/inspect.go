package content

import (
	"github.com/ipfs/go-cid"

	"github.com/dagd/dagd/contracts"
	"github.com/dagd/dagd/engine/client"
	"github.com/dagd/dagd/engine/store"
	"github.com/dagd/dagd/erasure"
)

// Inspector reads what a service holds and believes, for tests and
// diagnostics of a node; it changes nothing.
type Inspector struct{ s *Service }

// Inspect returns the service's Inspector.
func (s *Service) Inspect() Inspector { return Inspector{s} }

// Holding returns the shard indices this node holds of id;
// store.ErrNotFound when it holds none.
func (i Inspector) Holding(id cid.Cid) ([]int, error) {
	h, err := i.s.store.holding(id)
	if err != nil {
		return nil, err
	}
	return h.Shards, nil
}

// Shard reads shard j of chunk c of id from this node's files.
func (i Inspector) Shard(id cid.Cid, m *erasure.Manifest, c, j int) ([]byte, error) {
	return i.s.store.readShard(id, m, c, j, 0)
}

// Certificate returns the local registry's certificate of id;
// store.ErrNotFound when it has none.
func (i Inspector) Certificate(id cid.Cid) (*Certificate, error) {
	return i.s.store.certificate(id)
}

// Records counts the certificate and holding records in the store.
func (i Inspector) Records() int {
	n := 0
	for _, p := range []string{store.CertPrefix, store.HoldingPrefix} {
		_ = i.s.store.scan(p, nil, 0, func(_, _ []byte) bool { n++; return true })
	}
	return n
}

// Suspect reports whether validator v served bad shards recently.
func (i Inspector) Suspect(v int) bool { return i.s.suspect(v) }

// UploadWindows returns, per holder, the shard bytes sent and not yet
// acknowledged.
func (i Inspector) UploadWindows() []int64 {
	out := make([]int64, len(i.s.windows))
	for v, w := range i.s.windows {
		w.mu.Lock()
		out[v] = w.out
		w.mu.Unlock()
	}
	return out
}

// Registration returns id's registration in the ledger, as StatContent
// reports it.
func (i Inspector) Registration(id cid.Cid) *client.ContentRegistration {
	return i.s.registration(id)
}

// LedgerRecord returns the ledger's record of id; an error wrapping
// store.ErrNotFound when it has none, or ErrExpired (with the record)
// when its paid retention is over.
func (i Inspector) LedgerRecord(id cid.Cid) (*contracts.Content, error) {
	return i.s.ledger.record(id)
}

// ConsensusTime returns the consensus time (ms) of the last commit the
// service indexed.
func (i Inspector) ConsensusTime() uint64 { return i.s.ledger.now.Load() }
