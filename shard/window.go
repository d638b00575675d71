package shard

import (
	"encoding/binary"
	"fmt"

	"github.com/dagd/dagd/crypto"
)

// window is the dedup window: the digests of the transactions that got a
// receipt and whose expiry has not passed. Each executed commit adds one
// record (its digests with their expiries), kept in memory and, under
// windowKey(seq), in the state store; once the consensus time passes the
// latest expiry of a record, every transaction of it would be dropped as
// expired anyway, so the record is deleted, in the batch of the commit
// that passes it. MaxTxLifetime bounds how long a record lives.
type window struct {
	seen map[crypto.Digest]struct{}
	recs []windowRecord // ascending seq
}

type windowEntry struct {
	digest crypto.Digest
	expiry uint64
}

type windowRecord struct {
	seq       uint64
	maxExpiry uint64
	entries   []windowEntry
}

func newWindow() *window { return &window{seen: make(map[crypto.Digest]struct{})} }

func (w *window) has(d crypto.Digest) bool { _, ok := w.seen[d]; return ok }

// size returns the number of digests remembered.
func (w *window) size() int { return len(w.seen) }

// expiring returns the indexes of the records every transaction of which
// expired before time t.
func (w *window) expiring(t uint64) []int {
	var out []int
	for i, r := range w.recs {
		if r.maxExpiry < t {
			out = append(out, i)
		}
	}
	return out
}

// apply removes the records at indexes drop (from expiring) and adds rec
// (when it has entries), after the commit that did so is durable.
func (w *window) apply(drop []int, rec windowRecord) {
	if len(drop) > 0 {
		kept := w.recs[:0]
		j := 0
		for i, r := range w.recs {
			if j < len(drop) && drop[j] == i {
				j++
				for _, e := range r.entries {
					delete(w.seen, e.digest)
				}
				continue
			}
			kept = append(kept, r)
		}
		clear(w.recs[len(kept):])
		w.recs = kept
	}
	w.add(rec)
}

func (w *window) add(rec windowRecord) {
	if len(rec.entries) == 0 {
		return
	}
	for _, e := range rec.entries {
		w.seen[e.digest] = struct{}{}
	}
	w.recs = append(w.recs, rec)
}

// lowLive returns the oldest record's seq after dropping drop and adding
// a record at seq (if it has entries), or seq+1 when none is left.
func (w *window) lowLive(drop []int, seq uint64, adding bool) uint64 {
	j := 0
	for i, r := range w.recs {
		if j < len(drop) && drop[j] == i {
			j++
			continue
		}
		return r.seq
	}
	if adding {
		return seq
	}
	return seq + 1
}

func (r *windowRecord) encode() []byte {
	b := make([]byte, 0, 5+len(r.entries)*(crypto.DigestSize+8))
	b = append(b, recordVersion)
	b = binary.BigEndian.AppendUint32(b, uint32(len(r.entries)))
	for _, e := range r.entries {
		b = append(b, e.digest[:]...)
		b = binary.BigEndian.AppendUint64(b, e.expiry)
	}
	return b
}

func decodeWindowRecord(seq uint64, b []byte) (windowRecord, error) {
	const per = crypto.DigestSize + 8
	if len(b) < 5 || b[0] != recordVersion {
		return windowRecord{}, fmt.Errorf("window record %d of %d bytes: %w", seq, len(b), ErrMalformed)
	}
	n := binary.BigEndian.Uint32(b[1:])
	p := b[5:]
	if uint64(n)*per != uint64(len(p)) {
		return windowRecord{}, fmt.Errorf("window record %d: %d entries in %d bytes: %w", seq, n, len(p), ErrMalformed)
	}
	r := windowRecord{seq: seq, entries: make([]windowEntry, n)}
	for i := range r.entries {
		copy(r.entries[i].digest[:], p[i*per:])
		r.entries[i].expiry = binary.BigEndian.Uint64(p[i*per+crypto.DigestSize:])
		r.maxExpiry = max(r.maxExpiry, r.entries[i].expiry)
	}
	return r, nil
}
