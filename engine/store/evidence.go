package store

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/cockroachdb/pebble/v2"

	"github.com/dagd/dagd/dag"
)

// DefaultMaxEvidence is the number of evidence records the store keeps
// when Options.MaxEvidence is zero. A Byzantine validator can equivocate
// in every round, so the records are capped; a record is about 1-10 KB
// (two headers), so the default costs at most some tens of MB of disk.
const DefaultMaxEvidence = 10_000

// EvidenceSlot names what one evidence record is about: the epoch, round
// and author of the two conflicting headers. The store keeps one record
// per slot.
type EvidenceSlot struct {
	Epoch  uint64
	Round  uint64
	Author dag.ValidatorID
}

// SlotOf returns the slot of ev, that of its first header.
func SlotOf(ev *dag.Evidence) EvidenceSlot {
	return EvidenceSlot{Epoch: ev.First.Epoch, Round: ev.First.Round, Author: ev.First.Author}
}

// evidenceKeyLen is the length of an evidence key without its prefix.
const evidenceKeyLen = 8 + 8 + 2

// EvidenceKey returns the key of the evidence record of slot sl:
// EvidencePrefix, epoch, round, author, big-endian, so that keys sort
// oldest first.
func EvidenceKey(sl EvidenceSlot) []byte {
	k := make([]byte, 0, len(EvidencePrefix)+evidenceKeyLen)
	k = append(k, EvidencePrefix...)
	k = binary.BigEndian.AppendUint64(k, sl.Epoch)
	k = binary.BigEndian.AppendUint64(k, sl.Round)
	return binary.BigEndian.AppendUint16(k, uint16(sl.Author))
}

// parseEvidenceKey parses an evidence key without its prefix.
func parseEvidenceKey(k []byte) (EvidenceSlot, bool) {
	if len(k) != evidenceKeyLen {
		return EvidenceSlot{}, false
	}
	return EvidenceSlot{
		Epoch:  binary.BigEndian.Uint64(k),
		Round:  binary.BigEndian.Uint64(k[8:]),
		Author: dag.ValidatorID(binary.BigEndian.Uint16(k[16:])),
	}, true
}

// StoredEvidence is one evidence record read back from the store.
type StoredEvidence struct {
	// Slot is the record's slot (its key).
	Slot EvidenceSlot
	// Evidence is the decoded record.
	Evidence *dag.Evidence
	// Encoding is its canonical encoding, as stored.
	Encoding []byte
}

// decodeStoredEvidence checks one record read from disk: a key of the
// right form, a strict decoding, and headers of the key's slot.
func decodeStoredEvidence(k, v []byte) (StoredEvidence, error) {
	sl, ok := parseEvidenceKey(k)
	if !ok {
		return StoredEvidence{}, fmt.Errorf("store: evidence key of %d bytes: %w", len(k), dag.ErrMalformed)
	}
	ev, err := dag.DecodeEvidence(v)
	if err != nil {
		return StoredEvidence{}, fmt.Errorf("store: evidence %+v: %w", sl, err)
	}
	for _, h := range []*dag.Header{ev.First, ev.Second} {
		if h.Epoch != sl.Epoch || h.Round != sl.Round || h.Author != sl.Author {
			return StoredEvidence{}, fmt.Errorf("store: evidence %+v holds a header of another slot: %w", sl, dag.ErrMalformed)
		}
	}
	return StoredEvidence{Slot: sl, Evidence: ev, Encoding: bytes.Clone(v)}, nil
}

// countEvidence counts the evidence records on disk (at open; at most
// about MaxEvidence keys, values not read).
func countEvidence(db *pebble.DB) (int64, error) {
	it, err := db.NewIter(&pebble.IterOptions{LowerBound: []byte(EvidencePrefix), UpperBound: PrefixEnd(EvidencePrefix)})
	if err != nil {
		return 0, fmt.Errorf("store: count evidence: %w", err)
	}
	var n int64
	for ok := it.First(); ok; ok = it.Next() {
		n++
	}
	if err := it.Close(); err != nil {
		return 0, fmt.Errorf("store: count evidence: %w", err)
	}
	return n, nil
}

// addEvidence adds to b the records of evs whose slot has none yet (one
// per slot, the first kept), and, beyond MaxEvidence records, the
// deletion of the oldest ones: it returns the records the store will
// hold once b is committed and how many were dropped (an evidence
// record never written counts as dropped too). Only the event loop
// writes evidence (Write), so the count cannot change under it.
func (s *Store) addEvidence(b *pebble.Batch, evs []*dag.Evidence) (stored int64, dropped int, err error) {
	stored = s.evStored.Load()
	if len(evs) == 0 {
		return stored, 0, nil
	}
	fresh := map[string][]byte{}
	for _, ev := range evs {
		k := EvidenceKey(SlotOf(ev))
		if _, ok := fresh[string(k)]; ok {
			continue
		}
		_, closer, err := s.db.Get(k)
		if err == nil {
			_ = closer.Close()
			continue // this slot has its record already
		}
		if err != pebble.ErrNotFound {
			return 0, 0, fmt.Errorf("store: evidence: %w", err)
		}
		fresh[string(k)] = ev.Encode()
	}
	excess := stored + int64(len(fresh)) - int64(s.maxEvidence)
	// The oldest keys go first, whether on disk or new: merge the first
	// excess keys on disk with the new keys and drop the first excess.
	var old [][]byte
	if excess > 0 {
		it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: []byte(EvidencePrefix), UpperBound: PrefixEnd(EvidencePrefix)})
		if err != nil {
			return 0, 0, fmt.Errorf("store: evidence: %w", err)
		}
		for ok := it.First(); ok && int64(len(old)) < excess; ok = it.Next() {
			old = append(old, bytes.Clone(it.Key()))
		}
		if err := it.Close(); err != nil {
			return 0, 0, fmt.Errorf("store: evidence: %w", err)
		}
	}
	for range max(excess, 0) {
		var oldest []byte
		for k := range fresh {
			if oldest == nil || k < string(oldest) {
				oldest = []byte(k)
			}
		}
		if len(old) > 0 && (oldest == nil || bytes.Compare(old[0], oldest) < 0) {
			if err := b.Delete(old[0], nil); err != nil {
				return 0, 0, fmt.Errorf("store: evidence: %w", err)
			}
			old = old[1:]
			stored--
		} else {
			delete(fresh, string(oldest))
		}
		dropped++
	}
	for k, v := range fresh {
		if err := b.Set([]byte(k), v, nil); err != nil {
			return 0, 0, fmt.Errorf("store: evidence: %w", err)
		}
		stored++
	}
	return stored, dropped, nil
}

// EvidenceStored returns the number of evidence records the store holds.
func (s *Store) EvidenceStored() int64 { return s.evStored.Load() }

// EvidenceDropped returns the evidence records dropped since the store
// was opened because of the cap, Options.MaxEvidence.
func (s *Store) EvidenceDropped() uint64 { return s.evDropped.Load() }

// ScanEvidence calls fn with each evidence record from slot from on,
// oldest first, until fn returns false. A damaged record (a key of the
// wrong form, an encoding that does not decode strictly, headers of
// another slot) is skipped and logged, never passed to fn. The records
// are read one at a time: the caller bounds what it keeps.
func (s *Store) ScanEvidence(from EvidenceSlot, fn func(se StoredEvidence) bool) error {
	if !s.enter() {
		return ErrClosed
	}
	defer s.leave()
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: EvidenceKey(from), UpperBound: PrefixEnd(EvidencePrefix)})
	if err != nil {
		return fmt.Errorf("store: read evidence: %w", err)
	}
	for ok := it.First(); ok; ok = it.Next() {
		k := it.Key()[len(EvidencePrefix):]
		v, err := it.ValueAndErr()
		if err != nil {
			_ = it.Close()
			return fmt.Errorf("store: read evidence: %w", err)
		}
		se, err := decodeStoredEvidence(k, v)
		if err != nil {
			s.log.Error("damaged evidence record skipped", "key", fmt.Sprintf("%x", k), "err", err)
			continue
		}
		if !fn(se) {
			break
		}
	}
	if err := it.Close(); err != nil {
		return fmt.Errorf("store: read evidence: %w", err)
	}
	return nil
}
