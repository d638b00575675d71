package store

import (
	"bytes"
	"errors"
	"testing"

	"github.com/dagd/dagd/dag"
)

// TestBatchLogPeek: peek reads the start of a stored batch, all of a
// short one, and nothing of a missing one; the peeked start of a real
// batch gives its author and count.
func TestBatchLogPeek(t *testing.T) {
	l := openTestLog(t, t.TempDir(), 1<<20)
	defer l.close()
	b := &dag.Batch{Epoch: 1, Author: 2, Worker: 0, Transactions: [][]byte{[]byte("one"), []byte("two"), bytes.Repeat([]byte{1}, 500)}}
	enc := b.Encode()
	if _, err := l.apply([]batchOp{{digest: blogDigest(1), value: enc}, {digest: blogDigest(2), value: []byte("short")}}, true); err != nil {
		t.Fatal(err)
	}
	var got []byte
	if err := l.peek(blogDigest(1), dag.BatchHeaderSize, func(v []byte) error { got = bytes.Clone(v); return nil }); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, enc[:dag.BatchHeaderSize]) {
		t.Fatalf("peek = %x, want %x", got, enc[:dag.BatchHeaderSize])
	}
	if bh, err := dag.PeekBatch(got); err != nil || bh.Author != 2 || bh.Count != 3 {
		t.Errorf("dag.PeekBatch of the peeked bytes = %+v, %v", bh, err)
	}
	if err := l.peek(blogDigest(2), dag.BatchHeaderSize, func(v []byte) error { got = bytes.Clone(v); return nil }); err != nil || string(got) != "short" {
		t.Errorf("peek of a short value = %q, %v", got, err)
	}
	if err := l.peek(blogDigest(3), dag.BatchHeaderSize, func([]byte) error { return nil }); !errors.Is(err, ErrNotFound) {
		t.Errorf("peek of a missing batch: %v", err)
	}
}
