package engine

import (
	"errors"
	"testing"

	"github.com/dagd/dagd/dag"
)

// TestStoreUseAfterClose: the store is the one owner of the node's pebble
// database, closed last on shutdown. A reader that outlives the shutdown
// (an API handler still running after the server's shutdown timeout) gets
// ErrStopped from every accessor, where pebble itself would panic on its
// closed database; and close waits for a write batch in flight.
func TestStoreUseAfterClose(t *testing.T) {
	opts := Options{DataDir: t.TempDir(), NoSync: true}
	opts.EnsureDefaults()
	s, err := openStore(opts.DataDir, &opts, nil)
	if err != nil {
		t.Fatal(err)
	}
	b := &dag.Batch{Author: 1, Transactions: [][]byte{{1, 2, 3}}}
	enc := b.Encode()
	d := dag.BatchDigest(enc)
	ci := &commitIndex{Seq: 1, Batches: []indexedBatch{{Digest: d, Txs: 1}}}
	if _, err := s.write([]dag.Record{{Key: dag.BatchKey(d), Value: enc}}, []*commitIndex{ci}); err != nil {
		t.Fatal(err)
	}
	if err := s.set(contentKey(certPrefix, []byte{1}), []byte{2}, true); err != nil {
		t.Fatal(err)
	}

	// A batch in flight holds close back until it is released.
	wb := s.newBatch()
	if err := wb.set(contentKey(regPrefix, []byte{1}), []byte{3}); err != nil {
		t.Fatal(err)
	}
	closed := make(chan error, 1)
	go func() { closed <- s.close() }()
	// close has to wait for wb; committing it must still work.
	select {
	case err := <-closed:
		t.Fatalf("close returned (%v) while a write batch was in flight", err)
	default:
	}
	if err := wb.commit(false); err != nil {
		t.Fatalf("commit of a batch begun before close: %v", err)
	}
	wb.close()
	if err := <-closed; err != nil {
		t.Fatal(err)
	}

	stopped := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, ErrStopped) {
			t.Errorf("%s after close: %v, want ErrStopped", what, err)
		}
	}
	_, err = s.commitIndex(1)
	stopped("commitIndex", err)
	_, err = s.commitRecord(1)
	stopped("commitRecord", err)
	_, err = s.record(contentKey(certPrefix, []byte{1}))
	stopped("record", err)
	stopped("set", s.set(contentKey(certPrefix, []byte{9}), []byte{1}, true))
	stopped("del", s.del(contentKey(certPrefix, []byte{1}), false))
	stopped("scan", s.scan(certPrefix, nil, 0, func(_, _ []byte) bool { return true }))
	stopped("getBatch", s.getBatch(d, func([]byte) error { return nil }))
	stopped("peekStoredBatch", s.peekStoredBatch(d, func([]byte) error { return nil }))
	stopped("compactBatches", s.compactBatches())
	_, err = s.write(nil, []*commitIndex{ci})
	stopped("write", err)
	_, err = s.loadDAGRecords()
	stopped("loadDAGRecords", err)
	wb = s.newBatch()
	stopped("batch set", wb.set(contentKey(regPrefix, []byte{2}), []byte{1}))
	stopped("batch commit", wb.commit(true))
	wb.close()
	if _, ok := s.ReadBatch(d); ok {
		t.Error("ReadBatch after close found the batch")
	}
	if c := s.ReadCertificates(0, 10); c != nil {
		t.Errorf("ReadCertificates after close: %d certificates", len(c))
	}
	if err := s.close(); err != nil {
		t.Errorf("second close: %v", err)
	}
}
