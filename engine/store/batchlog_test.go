package store

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/dagd/dagd/crypto"
)

func blogDigest(i int) crypto.Digest { return crypto.Hash([]byte(fmt.Sprint("batch", i))) }

func blogValue(i, size int) []byte { return bytes.Repeat([]byte{byte(i)}, size) }

func openTestLog(t *testing.T, dir string, seg int64) *batchLog {
	t.Helper()
	l, err := openBatchLog(dir, seg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func wantBatches(t *testing.T, l *batchLog, present map[int]int) {
	t.Helper()
	_, n := l.stats()
	if n != len(present) {
		t.Errorf("%d batches stored, want %d", n, len(present))
	}
	for i, size := range present {
		err := l.get(blogDigest(i), func(v []byte) error {
			if !bytes.Equal(v, blogValue(i, size)) {
				return fmt.Errorf("batch %d: wrong bytes", i)
			}
			return nil
		})
		if err != nil {
			t.Errorf("batch %d: %v", i, err)
		}
	}
}

func TestBatchLogReopen(t *testing.T) {
	dir := t.TempDir()
	l := openTestLog(t, dir, 1<<20)
	ops := []batchOp{}
	for i := 0; i < 10; i++ {
		ops = append(ops, batchOp{digest: blogDigest(i), value: blogValue(i, 100+i)})
	}
	// Put and delete in the same call, and a delete of an unknown batch.
	ops = append(ops, batchOp{digest: blogDigest(3)}, batchOp{digest: blogDigest(99)})
	if _, err := l.apply(ops, false); err != nil {
		t.Fatal(err)
	}
	if _, err := l.apply([]batchOp{{digest: blogDigest(4)}, {digest: blogDigest(5), value: blogValue(5, 105)}}, false); err != nil {
		t.Fatal(err)
	}
	want := map[int]int{0: 100, 1: 101, 2: 102, 5: 105, 6: 106, 7: 107, 8: 108, 9: 109}
	wantBatches(t, l, want)
	if err := l.close(); err != nil {
		t.Fatal(err)
	}
	l = openTestLog(t, dir, 1<<20)
	defer l.close()
	wantBatches(t, l, want)
	if err := l.get(blogDigest(3), func([]byte) error { return nil }); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleted batch 3: %v", err)
	}
}

func TestBatchLogTornTail(t *testing.T) {
	dir := t.TempDir()
	l := openTestLog(t, dir, 1<<20)
	for i := 0; i < 3; i++ {
		if _, err := l.apply([]batchOp{{digest: blogDigest(i), value: blogValue(i, 1000)}}, false); err != nil {
			t.Fatal(err)
		}
	}
	l.close()
	path := filepath.Join(dir, segName(1))
	st, _ := os.Stat(path)
	for _, cut := range []int64{1, 10, 500, 1040} {
		if err := os.Truncate(path, st.Size()-cut); err != nil {
			t.Fatal(err)
		}
		l = openTestLog(t, dir, 1<<20)
		wantBatches(t, l, map[int]int{0: 1000, 1: 1000})
		// The log goes on after the cut.
		if _, err := l.apply([]batchOp{{digest: blogDigest(2), value: blogValue(2, 1000)}}, false); err != nil {
			t.Fatal(err)
		}
		l.close()
		st, _ = os.Stat(path)
	}
	// A flipped bit in the last record is cut off too.
	data, _ := os.ReadFile(path)
	data[len(data)-5] ^= 1
	os.WriteFile(path, data, 0o640)
	l = openTestLog(t, dir, 1<<20)
	wantBatches(t, l, map[int]int{0: 1000, 1: 1000})
	l.close()
}

func TestBatchLogSegments(t *testing.T) {
	dir := t.TempDir()
	l := openTestLog(t, dir, 4096)
	for i := 0; i < 20; i++ {
		if _, err := l.apply([]batchOp{{digest: blogDigest(i), value: blogValue(i, 1500)}}, true); err != nil {
			t.Fatal(err)
		}
	}
	segs, _ := l.stats()
	if segs < 5 {
		t.Fatalf("%d segments for 30 KB at 4 KB each", segs)
	}
	// Deleting everything but batch 0 keeps every segment: the oldest
	// is pinned, and later ones hold the deletes.
	var dels []batchOp
	for i := 1; i < 20; i++ {
		dels = append(dels, batchOp{digest: blogDigest(i)})
	}
	if _, err := l.apply(dels, true); err != nil {
		t.Fatal(err)
	}
	if s, _ := l.stats(); s != segs+0 && s != segs+1 {
		t.Fatalf("segments went from %d to %d while the oldest is live", segs, s)
	}
	// Rewriting the pinned batch lets all the old segments go.
	if err := (&Store{blog: l, noSync: true, maxSegments: 2}).CompactBatches(); err != nil {
		t.Fatal(err)
	}
	if s, _ := l.stats(); s != 1 {
		t.Errorf("%d segments after compaction, want 1", s)
	}
	wantBatches(t, l, map[int]int{0: 1500})
	l.close()
	l = openTestLog(t, dir, 4096)
	defer l.close()
	wantBatches(t, l, map[int]int{0: 1500})
}

func TestBatchLogDamageInOldSegment(t *testing.T) {
	dir := t.TempDir()
	l := openTestLog(t, dir, 1000)
	for i := 0; i < 3; i++ {
		l.apply([]batchOp{{digest: blogDigest(i), value: blogValue(i, 1200)}}, true)
	}
	l.close()
	path := filepath.Join(dir, segName(1))
	data, _ := os.ReadFile(path)
	data[100] ^= 1
	os.WriteFile(path, data, 0o640)
	if _, err := openBatchLog(dir, 1000, slog.New(slog.DiscardHandler)); err == nil {
		t.Fatal("damage in a sealed segment was not reported")
	}
}

// FuzzBatchLogReplay: whatever a segment file holds, opening the log
// never panics, and what it accepts it can read back.
func FuzzBatchLogReplay(f *testing.F) {
	dir := f.TempDir()
	l, _ := openBatchLog(dir, 1<<20, slog.New(slog.DiscardHandler))
	l.apply([]batchOp{{digest: blogDigest(1), value: []byte("hello")}, {digest: blogDigest(2), value: []byte("x")}, {digest: blogDigest(1)}}, true)
	l.close()
	seed, _ := os.ReadFile(filepath.Join(dir, segName(1)))
	f.Add(seed)
	f.Add([]byte{})
	f.Add([]byte{0, 0, 0, 33, 1, 2, 3, 4, 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, segName(1)), data, 0o640); err != nil {
			t.Fatal(err)
		}
		l, err := openBatchLog(dir, 1<<20, slog.New(slog.DiscardHandler))
		if err != nil {
			return
		}
		defer l.close()
		err = l.all(func(crypto.Digest, []byte) error { return nil })
		if err != nil {
			t.Fatalf("accepted log does not read back: %v", err)
		}
	})
}
