package store

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/dagd/dagd/dag"
)

// testEvidence returns evidence of an equivocation by author in round of
// epoch: two headers differing by their timestamp (variant picks them).
func testEvidence(epoch, round uint64, author dag.ValidatorID, variant dag.Time) *dag.Evidence {
	a := dag.NewHeader(epoch, round, author, 1000+variant, nil, nil)
	b := dag.NewHeader(epoch, round, author, 2000+variant, nil, nil)
	a.Signature, b.Signature = []byte{1}, []byte{2}
	return &dag.Evidence{First: a, Second: b}
}

// page returns up to limit records from slot from on, and the slot of
// the next one if there is one.
func page(t *testing.T, s *Store, from EvidenceSlot, limit int) ([]StoredEvidence, *EvidenceSlot) {
	t.Helper()
	var out []StoredEvidence
	var next *EvidenceSlot
	err := s.ScanEvidence(from, func(se StoredEvidence) bool {
		if len(out) == limit {
			next = &se.Slot
			return false
		}
		out = append(out, se)
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	return out, next
}

// slots returns the slots of every stored record, read a page of two at
// a time.
func slots(t *testing.T, s *Store) []EvidenceSlot {
	t.Helper()
	var out []EvidenceSlot
	from := EvidenceSlot{}
	for {
		recs, next := page(t, s, from, 2)
		for _, r := range recs {
			if SlotOf(r.Evidence) != r.Slot || !bytes.Equal(r.Evidence.Encode(), r.Encoding) {
				t.Fatalf("record %+v does not match its slot or encoding", r.Slot)
			}
			out = append(out, r.Slot)
		}
		if next == nil {
			return out
		}
		from = *next
	}
}

// TestEvidenceRecords pins the evidence records: written with a Ready's
// records, one per slot, capped with the oldest dropped first, kept
// across a reopen, and a damaged record skipped and logged.
func TestEvidenceRecords(t *testing.T) {
	dir := t.TempDir()
	var logs bytes.Buffer
	opts := Options{NoSync: true, MaxEvidence: 3, Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	s, err := Open(dir, opts, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Two pieces of evidence for one slot, in one write and the next:
	// one record, the first kept.
	first := testEvidence(1, 4, 2, 0)
	if _, err := s.Write(nil, nil, []*dag.Evidence{first, testEvidence(1, 4, 2, 7)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Write(nil, nil, []*dag.Evidence{testEvidence(1, 4, 2, 9)}); err != nil {
		t.Fatal(err)
	}
	recs, next := page(t, s, EvidenceSlot{}, 10)
	if len(recs) != 1 || next != nil || !bytes.Equal(recs[0].Encoding, first.Encode()) {
		t.Fatalf("after a duplicate: %d records, next %v; want the first one only", len(recs), next)
	}
	if s.EvidenceStored() != 1 {
		t.Fatalf("stored %d, want 1", s.EvidenceStored())
	}
	// The cap: 3 records; older ones go first, whether stored or new.
	evs := []*dag.Evidence{testEvidence(2, 1, 0, 0), testEvidence(0, 9, 1, 0), testEvidence(1, 6, 3, 0)}
	if _, err := s.Write(nil, nil, evs); err != nil {
		t.Fatal(err)
	}
	want := []EvidenceSlot{{1, 4, 2}, {1, 6, 3}, {2, 1, 0}}
	if got := slots(t, s); !equalSlots(got, want) {
		t.Fatalf("after the cap: %v, want %v", got, want)
	}
	if s.EvidenceStored() != 3 || s.EvidenceDropped() != 1 {
		t.Fatalf("stored %d dropped %d, want 3 and 1", s.EvidenceStored(), s.EvidenceDropped())
	}
	if _, err := s.Write(nil, nil, []*dag.Evidence{testEvidence(3, 0, 1, 0)}); err != nil {
		t.Fatal(err)
	}
	want = []EvidenceSlot{{1, 6, 3}, {2, 1, 0}, {3, 0, 1}}
	if got := slots(t, s); !equalSlots(got, want) {
		t.Fatalf("after a fourth: %v, want %v", got, want)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// Reopen: the records and their count are still there. Damage one.
	s, err = Open(dir, opts, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.EvidenceStored() != 3 {
		t.Fatalf("after reopen: stored %d, want 3", s.EvidenceStored())
	}
	if got := slots(t, s); !equalSlots(got, want) {
		t.Fatalf("after reopen: %v, want %v", got, want)
	}
	if err := s.Set(EvidenceKey(EvidenceSlot{2, 1, 0}), []byte{0xff, 1, 2}, true); err != nil {
		t.Fatal(err)
	}
	// A record filed under another slot is damaged too.
	if err := s.Set(EvidenceKey(EvidenceSlot{1, 6, 3}), testEvidence(1, 6, 2, 0).Encode(), true); err != nil {
		t.Fatal(err)
	}
	// And a key of the wrong form.
	if err := s.Set([]byte(EvidencePrefix+"x"), first.Encode(), true); err != nil {
		t.Fatal(err)
	}
	if got := slots(t, s); !equalSlots(got, []EvidenceSlot{{3, 0, 1}}) {
		t.Fatalf("with damaged records: %v, want only the sound one", got)
	}
	if n := strings.Count(logs.String(), "damaged evidence record skipped"); n < 3 {
		t.Fatalf("%d log lines of damaged records, want at least 3:\n%s", n, logs.String())
	}
	// From an epoch on.
	recs, _ = page(t, s, EvidenceSlot{Epoch: 3}, 10)
	if len(recs) != 1 || recs[0].Slot != (EvidenceSlot{3, 0, 1}) {
		t.Fatalf("from epoch 3: %d records", len(recs))
	}
}

func equalSlots(a, b []EvidenceSlot) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
