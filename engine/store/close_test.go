package store

import (
	"errors"
	"testing"

	"github.com/dagd/dagd/dag"
)

// TestStoreUseAfterClose: the store is the one owner of the node's pebble
// database, closed last on shutdown. A reader that outlives the shutdown
// (an API handler still running after the server's shutdown timeout) gets
// ErrClosed from every accessor, where pebble itself would panic on its
// closed database; and close waits for a write batch in flight.
func TestStoreUseAfterClose(t *testing.T) {
	s, err := Open(t.TempDir(), Options{NoSync: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	b := &dag.Batch{Author: 1, Transactions: [][]byte{{1, 2, 3}}}
	enc := b.Encode()
	d := dag.BatchDigest(enc)
	ci := &CommitIndex{Seq: 1, Batches: []IndexedBatch{{Digest: d, Txs: 1}}}
	if _, err := s.Write([]dag.Record{{Key: dag.BatchKey(d), Value: enc}}, []*CommitIndex{ci}, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Set(ContentKey(CertPrefix, []byte{1}), []byte{2}, true); err != nil {
		t.Fatal(err)
	}

	// A batch in flight holds close back until it is released.
	wb := s.NewBatch()
	if err := wb.Set(ContentKey(RegPrefix, []byte{1}), []byte{3}); err != nil {
		t.Fatal(err)
	}
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	// close has to wait for wb; committing it must still work.
	select {
	case err := <-closed:
		t.Fatalf("close returned (%v) while a write batch was in flight", err)
	default:
	}
	if err := wb.Commit(false); err != nil {
		t.Fatalf("commit of a batch begun before close: %v", err)
	}
	wb.Close()
	if err := <-closed; err != nil {
		t.Fatal(err)
	}

	stopped := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, ErrClosed) {
			t.Errorf("%s after close: %v, want ErrClosed", what, err)
		}
	}
	_, err = s.CommitIndex(1)
	stopped("commitIndex", err)
	_, err = s.CommitRecord(1)
	stopped("commitRecord", err)
	_, err = s.Record(ContentKey(CertPrefix, []byte{1}))
	stopped("record", err)
	stopped("set", s.Set(ContentKey(CertPrefix, []byte{9}), []byte{1}, true))
	stopped("del", s.Del(ContentKey(CertPrefix, []byte{1}), false))
	stopped("scan", s.Scan(CertPrefix, nil, 0, func(_, _ []byte) bool { return true }))
	stopped("getBatch", s.GetBatch(d, func([]byte) error { return nil }))
	stopped("peekStoredBatch", s.PeekBatch(d, func([]byte) error { return nil }))
	stopped("compactBatches", s.CompactBatches())
	_, err = s.Write(nil, []*CommitIndex{ci}, nil)
	stopped("write", err)
	_, err = s.LoadDAGRecords()
	stopped("loadDAGRecords", err)
	wb = s.NewBatch()
	stopped("batch set", wb.Set(ContentKey(RegPrefix, []byte{2}), []byte{1}))
	stopped("batch commit", wb.Commit(true))
	wb.Close()
	if _, ok := s.ReadBatch(d); ok {
		t.Error("ReadBatch after close found the batch")
	}
	if c := s.ReadCertificates(0, 10); c != nil {
		t.Errorf("ReadCertificates after close: %d certificates", len(c))
	}
	if err := s.Close(); err != nil {
		t.Errorf("second close: %v", err)
	}
}
