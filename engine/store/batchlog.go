package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/dagd/dagd/crypto"
	"github.com/dagd/dagd/dag"
)

// batchLog stores batch bodies outside pebble, in append-only segment
// files. Batches are large and short-lived (deleted a few seconds after
// they are written, when their certificates fall below the GC round): in
// pebble every byte went through the WAL, the memtable, a flush and
// compactions, and the flushes of four stores made the WAL fsyncs of the
// others wait for seconds. Here a batch is written once and its space
// comes back when the whole segment is dead.
//
// Record: length u32 (of what follows the CRC) | crc32c u32 | op u8 |
// digest [32] | batch (op put only). A delete is a record too, so that a
// restart does not bring deleted batches back (an own batch would be
// proposed again). Segments are deleted oldest first, and only when every
// batch they hold is dead, so a delete record is never lost while the put
// it cancels is still on disk. A torn record at the end of the last
// segment (a crash during a write) is cut off at open; damage anywhere
// else is an error.
//
// The event loop writes; the API reads concurrently.
type batchLog struct {
	dir     string
	segSize int64
	log     *slog.Logger

	mu    sync.RWMutex
	index map[crypto.Digest]batchLoc
	segs  []*segment // ascending ids; the last is the one appended to
	buf   []byte
}

type batchLoc struct {
	seg  *segment
	off  int64 // of the batch body
	size int
}

type segment struct {
	id        uint64
	f         *os.File
	size      int64
	live      int   // puts not yet deleted
	liveBytes int64 // their bodies
}

const (
	opPut      = 1
	opDel      = 2
	recHead    = 4 + 4 + 1 + crypto.DigestSize
	maxRecBody = 1 + crypto.DigestSize + dag.MaxMessageSize
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func segName(id uint64) string { return fmt.Sprintf("%016d.batches", id) }

// openBatchLog opens (or creates) the log in dir and replays it.
func openBatchLog(dir string, segSize int64, logger *slog.Logger) (*batchLog, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("store: batch log: %w", err)
	}
	l := &batchLog{dir: dir, segSize: segSize, log: logger, index: make(map[crypto.Digest]batchLoc)}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("store: batch log: %w", err)
	}
	var ids []uint64
	for _, e := range ents {
		name, ok := strings.CutSuffix(e.Name(), ".batches")
		if !ok {
			continue
		}
		id, err := strconv.ParseUint(name, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("store: batch log: unexpected file %s", e.Name())
		}
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for i, id := range ids {
		if err := l.replay(id, i == len(ids)-1); err != nil {
			l.close()
			return nil, err
		}
	}
	if len(l.segs) == 0 {
		if err := l.rotate(); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// replay reads segment id into the index. In the last segment a torn
// tail is truncated.
func (l *batchLog) replay(id uint64, last bool) error {
	path := filepath.Join(l.dir, segName(id))
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("store: batch log: %w", err)
	}
	seg := &segment{id: id, f: f}
	l.segs = append(l.segs, seg)
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("store: batch log: %w", err)
	}
	var off int64
	head := make([]byte, recHead)
	for off < st.Size() {
		bad := func(why string) error {
			if !last {
				return fmt.Errorf("store: batch log %s: %s at offset %d", path, why, off)
			}
			l.log.Warn("batch log: cutting a torn tail", "segment", path, "offset", off, "reason", why)
			if err := f.Truncate(off); err != nil {
				return fmt.Errorf("store: batch log: %w", err)
			}
			seg.size = off
			return nil
		}
		if _, err := f.ReadAt(head, off); err != nil {
			return bad("truncated record header")
		}
		n := int64(binary.BigEndian.Uint32(head))
		if n < 1+crypto.DigestSize || n > maxRecBody || off+8+n > st.Size() {
			return bad(fmt.Sprintf("record length %d", n))
		}
		rec := make([]byte, n)
		if _, err := f.ReadAt(rec, off+8); err != nil {
			return bad("truncated record")
		}
		if crc32.Checksum(rec, castagnoli) != binary.BigEndian.Uint32(head[4:]) {
			return bad("checksum mismatch")
		}
		var d crypto.Digest
		copy(d[:], rec[1:])
		switch rec[0] {
		case opPut:
			l.drop(d)
			size := int(n) - 1 - crypto.DigestSize
			l.index[d] = batchLoc{seg: seg, off: off + recHead, size: size}
			seg.live++
			seg.liveBytes += int64(size)
		case opDel:
			l.drop(d)
		default:
			return bad(fmt.Sprintf("unknown op %d", rec[0]))
		}
		off += 8 + n
	}
	seg.size = off
	return nil
}

// drop removes d from the index and its segment's live counts.
func (l *batchLog) drop(d crypto.Digest) bool {
	loc, ok := l.index[d]
	if !ok {
		return false
	}
	delete(l.index, d)
	loc.seg.live--
	loc.seg.liveBytes -= int64(loc.size)
	return true
}

func (l *batchLog) rotate() error {
	var id uint64 = 1
	if n := len(l.segs); n > 0 {
		id = l.segs[n-1].id + 1
	}
	f, err := os.OpenFile(filepath.Join(l.dir, segName(id)), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return fmt.Errorf("store: batch log: %w", err)
	}
	if err := syncDir(l.dir); err != nil {
		_ = f.Close()
		return err
	}
	l.segs = append(l.segs, &segment{id: id, f: f})
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("store: batch log: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("store: batch log: sync dir: %w", err)
	}
	return nil
}

// batchOp is one change to apply.
type batchOp struct {
	digest crypto.Digest
	value  []byte // nil: delete
}

// apply appends ops in order and, unless noSync, makes them durable
// before it returns. Deletes of unknown batches are skipped.
func (l *batchLog) apply(ops []batchOp, noSync bool) (int, error) {
	if len(ops) == 0 {
		return 0, nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	seg := l.segs[len(l.segs)-1]
	if seg.size >= l.segSize {
		if err := l.rotate(); err != nil {
			return 0, err
		}
		seg = l.segs[len(l.segs)-1]
	}
	buf := l.buf[:0]
	type applied struct {
		op   batchOp
		off  int64
		size int
	}
	var done []applied
	present := make(map[crypto.Digest]bool) // this call's view over the index
	for _, op := range ops {
		if op.value == nil {
			here, seen := present[op.digest]
			if !seen {
				_, here = l.index[op.digest]
			}
			if !here {
				continue
			}
			present[op.digest] = false
		} else {
			present[op.digest] = true
		}
		start := len(buf)
		buf = append(buf, make([]byte, 8)...)
		if op.value == nil {
			buf = append(buf, opDel)
		} else {
			buf = append(buf, opPut)
		}
		buf = append(buf, op.digest[:]...)
		buf = append(buf, op.value...)
		body := buf[start+8:]
		binary.BigEndian.PutUint32(buf[start:], uint32(len(body)))
		binary.BigEndian.PutUint32(buf[start+4:], crc32.Checksum(body, castagnoli))
		done = append(done, applied{op: op, off: seg.size + int64(start) + recHead, size: len(op.value)})
	}
	if len(buf) == 0 {
		return 0, nil
	}
	if _, err := seg.f.WriteAt(buf, seg.size); err != nil {
		return 0, fmt.Errorf("store: batch log write: %w", err)
	}
	if !noSync {
		if err := seg.f.Sync(); err != nil {
			return 0, fmt.Errorf("store: batch log sync: %w", err)
		}
	}
	seg.size += int64(len(buf))
	if cap(buf) <= 4<<20 {
		l.buf = buf
	} else {
		l.buf = nil
	}
	for _, a := range done {
		l.drop(a.op.digest)
		if a.op.value != nil {
			l.index[a.op.digest] = batchLoc{seg: seg, off: a.off, size: a.size}
			seg.live++
			seg.liveBytes += int64(a.size)
		}
	}
	l.removeDead()
	return len(buf), nil
}

// removeDead deletes the oldest segments while they hold no live batch.
func (l *batchLog) removeDead() {
	for len(l.segs) > 1 && l.segs[0].live == 0 {
		s := l.segs[0]
		_ = s.f.Close()
		if err := os.Remove(filepath.Join(l.dir, segName(s.id))); err != nil {
			l.log.Error("batch log: remove segment", "segment", s.id, "err", err)
		}
		l.segs = l.segs[1:]
	}
}

// oldLive returns the live batches of the oldest segment when it is
// mostly dead and there are several segments: the caller writes them
// again (apply) so that the segment can go. Batches that are never
// deleted (stored but never referenced) would otherwise pin old segments.
func (l *batchLog) oldLive(maxSegs int) []batchOp {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if len(l.segs) <= maxSegs {
		return nil
	}
	old := l.segs[0]
	var ops []batchOp
	for d, loc := range l.index {
		if loc.seg != old {
			continue
		}
		v := make([]byte, loc.size)
		if _, err := old.f.ReadAt(v, loc.off); err != nil {
			return nil
		}
		ops = append(ops, batchOp{digest: d, value: v})
	}
	slices.SortFunc(ops, func(a, b batchOp) int { return strings.Compare(string(a.digest[:]), string(b.digest[:])) })
	return ops
}

// get calls fn with batch d's encoding.
func (l *batchLog) get(d crypto.Digest, fn func(v []byte) error) error {
	l.mu.RLock()
	loc, ok := l.index[d]
	if !ok {
		l.mu.RUnlock()
		return ErrNotFound
	}
	v := make([]byte, loc.size)
	_, err := loc.seg.f.ReadAt(v, loc.off)
	l.mu.RUnlock()
	if err != nil && !(errors.Is(err, io.EOF) && loc.size == 0) {
		return fmt.Errorf("store: batch log read: %w", err)
	}
	return fn(v)
}

// size returns the size of batch d's encoding, false when it is not
// stored.
func (l *batchLog) size(d crypto.Digest) (int64, bool) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	loc, ok := l.index[d]
	return int64(loc.size), ok
}

// has reports whether batch d is stored.
func (l *batchLog) has(d crypto.Digest) bool {
	l.mu.RLock()
	defer l.mu.RUnlock()
	_, ok := l.index[d]
	return ok
}

// all calls fn for every stored batch (at startup).
func (l *batchLog) all(fn func(d crypto.Digest, v []byte) error) error {
	l.mu.RLock()
	ds := make([]crypto.Digest, 0, len(l.index))
	for d := range l.index {
		ds = append(ds, d)
	}
	l.mu.RUnlock()
	for _, d := range ds {
		if err := l.get(d, func(v []byte) error { return fn(d, v) }); err != nil {
			return err
		}
	}
	return nil
}

// stats returns the number of segments and live batches.
func (l *batchLog) stats() (segments, batches int) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return len(l.segs), len(l.index)
}

func (l *batchLog) close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	var errs []error
	for _, s := range l.segs {
		if err := s.f.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	l.segs = nil
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("store: batch log close: %w", err)
	}
	return nil
}
