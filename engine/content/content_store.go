package content

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dagd/dagd/engine/store"

	"github.com/ipfs/go-cid"

	"github.com/dagd/dagd/erasure"
	"github.com/dagd/dagd/heal"
)

// errShardAbsent says a shard is not stored (no file, or the file is
// shorter than the shard's range).
var errShardAbsent = errors.New("content: shard not stored")

// contentStore keeps shard bodies in files and everything it knows about
// them in pebble.
//
// Shard bodies do not go into pebble: they are large immutable blobs (a put
// of 200 MB writes 400 MB of shards across a devnet at n/k = 2), and pebble
// would write every byte to its WAL, its memtable, then an sstable, then
// compact it again, in the same database whose synced writes carry the
// consensus records (bench/storage.md: 0.37 GB/s into pebble against 1.0
// GB/s into files). Each object a node holds has a directory
//
//	content/objects/<cid>/manifest   the canonical manifest
//	content/objects/<cid>/s<j>       shard j of every chunk, chunk i at offset i*stride
//
// where stride is ceil(chunk size / k), the size of every shard but the
// last chunk's.
//
// Every file reaches its name by a rename of a synced file, followed by a
// sync of the directory: an upload is staged under content/staging/ and
// moved into place only once every shard matched the manifest (finalize);
// a repair writes the rebuilt shards into a copy of the shard file and
// renames it over the file (beginRepair); an adopted object's manifest
// goes through a temporary file (writeFileAtomic). A crash leaves the old
// file or the new one under each name, never a torn one.
//
// What the node holds is what pebble says, not what the directory
// listing says: the holding record (holdingRec: the shards, the digest of
// the manifest they were verified against, when they were stored and last
// found intact) is written, synced, after the files are in place, and
// removed before they are deleted. At open the store deletes the staging
// area, object directories without a holding record (a crash between the
// rename and the record) and temporary files. File names are only
// addresses: every shard read is checked against the manifest before use
// (gets, repairs, audits), and the manifest against the CID and against the
// holding record's digest. Pebble also holds the local registry of
// certificates and the ledger index (content_ledger.go).
type contentStore struct {
	// kv is the node's store, which owns the database: the content
	// records are under the c/ prefixes of keys.go.
	kv     *store.Store
	dir    string
	noSync bool
	clock  Clock // the time of holding records (StoredAt, VerifiedAt)
	log    *slog.Logger

	// mu serialises the operations that create, replace or remove an
	// object's directory.
	mu        sync.Mutex
	manifests *manifestCache
}

// holdingRec is what a node records of an object it stores: the shards it
// holds and the manifest they were verified against, when they were
// stored and when they were last found intact (stored or audited):
//
//	version u8 (2) | stored at (unix ms) u64 | verified at (unix ms) u64 |
//	manifest digest [32] | size u64 | chunk size u32 | k u16 | n u16 |
//	shard count u16 | shards u16...
type holdingRec struct {
	StoredAt       time.Time
	VerifiedAt     time.Time
	ManifestDigest erasure.Hash
	Size           uint64
	Params         erasure.Params
	Shards         []int
}

func (h *holdingRec) encode() []byte {
	b := make([]byte, 0, 1+8+8+32+8+4+2+2+2+2*len(h.Shards))
	b = append(b, holdingVersion)
	b = binary.BigEndian.AppendUint64(b, uint64(h.StoredAt.UnixMilli()))
	b = binary.BigEndian.AppendUint64(b, uint64(h.VerifiedAt.UnixMilli()))
	b = append(b, h.ManifestDigest[:]...)
	b = binary.BigEndian.AppendUint64(b, h.Size)
	b = binary.BigEndian.AppendUint32(b, uint32(h.Params.ChunkSize))
	b = binary.BigEndian.AppendUint16(b, uint16(h.Params.DataShards))
	b = binary.BigEndian.AppendUint16(b, uint16(h.Params.TotalShards()))
	b = binary.BigEndian.AppendUint16(b, uint16(len(h.Shards)))
	for _, j := range h.Shards {
		b = binary.BigEndian.AppendUint16(b, uint16(j))
	}
	return b
}

// decodeHoldingRec decodes a holding record read from disk, strictly.
func decodeHoldingRec(p []byte) (*holdingRec, error) {
	r := &frameReader{p: p}
	if v := r.u8("version"); r.err == nil && v != holdingVersion {
		return nil, fmt.Errorf("content: holding record version %d", v)
	}
	h := &holdingRec{StoredAt: time.UnixMilli(int64(r.u64("stored at"))), VerifiedAt: time.UnixMilli(int64(r.u64("verified at")))}
	copy(h.ManifestDigest[:], r.bytes(erasure.HashSize, "manifest digest"))
	h.Size = r.u64("size")
	cs, k, n := int(r.u32("chunk size")), int(r.u16("k")), int(r.u16("n"))
	h.Params = erasure.Params{ChunkSize: cs, DataShards: k, ParityShards: n - k}
	cnt := int(r.u16("shard count"))
	for i := 0; i < cnt && r.err == nil; i++ {
		j := int(r.u16("shard"))
		if j >= n || (i > 0 && j <= h.Shards[i-1]) {
			return nil, fmt.Errorf("content: holding record: shard %d out of order or range", j)
		}
		h.Shards = append(h.Shards, j)
	}
	if err := r.end("holding record"); err != nil {
		return nil, err
	}
	if err := h.Params.Validate(); err != nil {
		return nil, fmt.Errorf("content: holding record: %w", err)
	}
	return h, nil
}

// holdingVersion is the version byte of the holding record.
const holdingVersion = 2

// stride returns the offset between two chunks' shards in a shard file.
func stride(p erasure.Params) int64 {
	return int64((p.ChunkSize + p.DataShards - 1) / p.DataShards)
}

func openContentStore(kv *store.Store, dir string, noSync bool, clock Clock, log *slog.Logger) (*contentStore, error) {
	s := &contentStore{kv: kv, dir: dir, noSync: noSync, clock: clock, log: log, manifests: newManifestCache(64 << 20)}
	// Staged uploads do not survive a restart: their sessions are gone.
	if err := os.RemoveAll(s.stagingRoot()); err != nil {
		return nil, fmt.Errorf("content: staging: %w", err)
	}
	for _, d := range []string{s.stagingRoot(), s.objectsRoot()} {
		if err := os.MkdirAll(d, 0o750); err != nil {
			return nil, fmt.Errorf("content: store: %w", err)
		}
	}
	if err := s.reconcile(); err != nil {
		return nil, err
	}
	return s, nil
}

// tmpSuffix marks a file being written, renamed into place once synced.
const tmpSuffix = ".tmp"

// reconcile makes the object directories agree with the holding records:
// a directory without a record is deleted (its files were renamed into
// place but the record was never written, or it was being removed), and
// so are temporary files left by a crash.
func (s *contentStore) reconcile() error {
	entries, err := os.ReadDir(s.objectsRoot())
	if err != nil {
		return fmt.Errorf("content: store: %w", err)
	}
	orphans, temps := 0, 0
	for _, e := range entries {
		dir := filepath.Join(s.objectsRoot(), e.Name())
		id, err := erasure.ParseCID(e.Name())
		keep := err == nil && e.IsDir()
		if keep {
			_, err := s.holding(id)
			keep = !errors.Is(err, store.ErrNotFound) // an unreadable record: the audit decides
		}
		if !keep {
			if err := os.RemoveAll(dir); err != nil {
				return fmt.Errorf("content: store: remove %s: %w", dir, err)
			}
			orphans++
			continue
		}
		files, err := os.ReadDir(dir)
		if err != nil {
			return fmt.Errorf("content: store: %w", err)
		}
		for _, f := range files {
			if strings.HasSuffix(f.Name(), tmpSuffix) {
				if err := os.Remove(filepath.Join(dir, f.Name())); err != nil {
					return fmt.Errorf("content: store: %w", err)
				}
				temps++
			}
		}
	}
	if orphans > 0 || temps > 0 {
		s.log.Info("content store: removed what no holding record names", "directories", orphans, "temporary_files", temps)
	}
	return nil
}

func (s *contentStore) stagingRoot() string { return filepath.Join(s.dir, "staging") }
func (s *contentStore) objectsRoot() string { return filepath.Join(s.dir, "objects") }

// objectDir returns the directory of an object. The CID's base32 string is
// safe as a file name.
func (s *contentStore) objectDir(id cid.Cid) string {
	return filepath.Join(s.objectsRoot(), id.String())
}

func shardFileName(j int) string { return "s" + strconv.Itoa(j) }

// getRecord returns a copy of a content record, or errNotFound.
func (s *contentStore) getRecord(key []byte) ([]byte, error) {
	v, err := s.kv.Record(key)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("content: record: %w", err)
	}
	return v, err
}

// holding returns the holding record of an object, or errNotFound.
func (s *contentStore) holding(id cid.Cid) (*holdingRec, error) {
	v, err := s.getRecord(store.ContentKey(store.HoldingPrefix, id.Bytes()))
	if err != nil {
		return nil, err
	}
	h, err := decodeHoldingRec(v)
	if err != nil {
		return nil, fmt.Errorf("content: holding of %s: %w", id, err)
	}
	return h, nil
}

// certificate returns the registered certificate of an object, or
// errNotFound. Certificates are verified before they are stored.
func (s *contentStore) certificate(id cid.Cid) (*Certificate, error) {
	v, err := s.getRecord(store.ContentKey(store.CertPrefix, id.Bytes()))
	if err != nil {
		return nil, err
	}
	return DecodeCertificate(v)
}

// putCertificate registers a verified certificate unless one is already
// registered for its CID; it returns the registered one and whether it
// is the one given.
func (s *contentStore) putCertificate(c *Certificate) (*Certificate, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, err := s.certificate(c.CID); err == nil {
		return old, false, nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, false, err
	}
	if err := s.kv.Set(store.ContentKey(store.CertPrefix, c.CID.Bytes()), c.Encode(), true); err != nil {
		return nil, false, fmt.Errorf("content: register %s: %w", c.CID, err)
	}
	return c, true, nil
}

// scan calls fn with each record under prefix whose CID sorts after
// `after`, in order, until fn returns false or limit records were seen
// (limit <= 0: no limit). Values are valid during the call only.
func (s *contentStore) scan(prefix string, after []byte, limit int, fn func(id, v []byte) bool) error {
	if err := s.kv.Scan(prefix, after, limit, fn); err != nil {
		return fmt.Errorf("content: scan: %w", err)
	}
	return nil
}

// manifest returns the manifest of a held object, checked against its CID
// and against the digest of the holding record, from the cache when it
// is there.
func (s *contentStore) manifest(id cid.Cid, h *holdingRec) (*erasure.Manifest, error) {
	if m := s.manifests.get(id.KeyString()); m != nil && m.Digest() == h.ManifestDigest {
		return m, nil
	}
	return s.loadManifest(id, h)
}

// loadManifest is manifest read from disk: an audit checks the file.
func (s *contentStore) loadManifest(id cid.Cid, h *holdingRec) (*erasure.Manifest, error) {
	key := id.KeyString()
	b, err := os.ReadFile(filepath.Join(s.objectDir(id), "manifest"))
	if err != nil {
		return nil, fmt.Errorf("content: manifest of %s: %w", id, err)
	}
	m, err := erasure.OpenManifest(id, b)
	if err != nil {
		return nil, fmt.Errorf("content: stored manifest of %s: %w", id, err)
	}
	if d := erasure.Sum(b); d != h.ManifestDigest {
		return nil, fmt.Errorf("content: stored manifest of %s has digest %s, holding record says %s", id, d, h.ManifestDigest)
	}
	s.manifests.put(key, m, len(b))
	return m, nil
}

// manifestBytes returns the stored manifest file of an object.
func (s *contentStore) manifestBytes(id cid.Cid) ([]byte, error) {
	return os.ReadFile(filepath.Join(s.objectDir(id), "manifest"))
}

// readShard reads shard j of chunk i of a held object into a new buffer
// with room bytes free in front (for a frame header): data is buf[room:].
// An absent file or range is errShardAbsent; the bytes are not verified.
func (s *contentStore) readShard(id cid.Cid, m *erasure.Manifest, i, j, room int) (buf []byte, err error) {
	if i < 0 || i >= m.NumChunks() || j < 0 || j >= m.Params().TotalShards() {
		return nil, fmt.Errorf("%w: chunk %d shard %d outside the manifest", erasure.ErrShardIndex, i, j)
	}
	f, err := os.Open(filepath.Join(s.objectDir(id), shardFileName(j)))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s chunk %d shard %d", errShardAbsent, id, i, j)
	}
	if err != nil {
		return nil, fmt.Errorf("content: read shard: %w", err)
	}
	defer f.Close()
	size := m.ShardSize(i)
	buf = make([]byte, room+size)
	n, err := f.ReadAt(buf[room:], int64(i)*stride(m.Params()))
	if n < size {
		if err == nil || errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%w: %s chunk %d shard %d: %w", errShardAbsent, id, i, j, heal.ErrShort)
		}
		return nil, fmt.Errorf("content: read shard: %w", err)
	}
	return buf, nil
}

// shardRepair writes rebuilt shards of a held object: for each shard file
// it touches, a copy of the file (s<j>.tmp) receives the rebuilt ranges,
// and commit syncs the copies, renames them over the files and syncs the
// directory. Until then readers see the old files.
type shardRepair struct {
	s     *contentStore
	id    cid.Cid
	dir   string
	st    int64
	files map[int]*os.File
	err   error
}

// beginRepair starts writing rebuilt shards of a held object (m is its
// manifest); the shards written must be verified against m.
func (s *contentStore) beginRepair(id cid.Cid, m *erasure.Manifest) *shardRepair {
	return &shardRepair{s: s, id: id, dir: s.objectDir(id), st: stride(m.Params()), files: map[int]*os.File{}}
}

// write puts one rebuilt shard into its file's copy.
func (r *shardRepair) write(ref heal.ShardRef, data []byte) error {
	if r.err != nil {
		return r.err
	}
	f := r.files[ref.Shard]
	if f == nil {
		tmp := filepath.Join(r.dir, shardFileName(ref.Shard)+tmpSuffix)
		var err error
		f, err = os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o640)
		if err != nil {
			r.err = fmt.Errorf("content: repair %s: %w", r.id, err)
			return r.err
		}
		r.files[ref.Shard] = f
		// Start from what the file holds: the shards that are intact.
		if src, err := os.Open(filepath.Join(r.dir, shardFileName(ref.Shard))); err == nil {
			_, err = io.Copy(f, src)
			_ = src.Close()
			if err != nil {
				r.err = fmt.Errorf("content: repair %s: copy shard file: %w", r.id, err)
				return r.err
			}
		} else if !errors.Is(err, fs.ErrNotExist) {
			r.err = fmt.Errorf("content: repair %s: %w", r.id, err)
			return r.err
		}
	}
	if _, err := f.WriteAt(data, int64(ref.Chunk)*r.st); err != nil {
		r.err = fmt.Errorf("content: repair %s: %w", r.id, err)
		return r.err
	}
	return nil
}

// commit syncs the copies and renames them into place.
func (r *shardRepair) commit() error {
	if r.err != nil || len(r.files) == 0 {
		return r.err
	}
	s := r.s
	for _, f := range r.files {
		if !s.noSync {
			if err := f.Sync(); err != nil {
				return fmt.Errorf("content: repair %s: %w", r.id, err)
			}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.holding(r.id); err != nil {
		return fmt.Errorf("content: repair %s: %w", r.id, err) // removed meanwhile
	}
	for j, f := range r.files {
		_ = f.Close()
		delete(r.files, j)
		if err := os.Rename(f.Name(), filepath.Join(r.dir, shardFileName(j))); err != nil {
			_ = os.Remove(f.Name())
			return fmt.Errorf("content: repair %s: %w", r.id, err)
		}
	}
	return s.syncDir(r.dir)
}

// abort drops the copies not committed.
func (r *shardRepair) abort() {
	for j, f := range r.files {
		_ = f.Close()
		_ = os.Remove(f.Name())
		delete(r.files, j)
	}
}

// markVerified records that the shards of an object, with the manifest of
// the given digest, were all found intact at t.
func (s *contentStore) markVerified(id cid.Cid, digest erasure.Hash, t time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h, err := s.holding(id)
	if err != nil || h.ManifestDigest != digest {
		return
	}
	h.VerifiedAt = t
	if err := s.kv.Set(store.ContentKey(store.HoldingPrefix, id.Bytes()), h.encode(), false); err != nil {
		s.log.Warn("holding record not updated", "cid", id.String(), "err", err)
	}
}

// adopt records that this node holds the given shards of an object whose
// manifest it has verified, creating the object's directory and manifest
// file: the first step of repairing an object it never received.
func (s *contentStore) adopt(id cid.Cid, m *erasure.Manifest, shards []int) (*holdingRec, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	dir := s.objectDir(id)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("content: adopt %s: %w", id, err)
	}
	if err := s.syncDir(s.objectsRoot()); err != nil {
		return nil, err
	}
	if err := s.writeFileAtomic(filepath.Join(dir, "manifest"), m.Encode()); err != nil {
		return nil, err
	}
	// Nothing verified yet: the audit that follows reads every shard.
	h := &holdingRec{StoredAt: s.clock.Now(), ManifestDigest: m.Digest(), Size: m.ContentSize(), Params: m.Params(), Shards: shards}
	if err := s.kv.Set(store.ContentKey(store.HoldingPrefix, id.Bytes()), h.encode(), true); err != nil {
		return nil, fmt.Errorf("content: adopt %s: %w", id, err)
	}
	return h, nil
}

// finalize moves a verified staging directory into place: shard files
// synced and renamed over any older ones, the manifest written, the
// directory synced, then the holding record written. The caller has
// checked every staged shard against m.
func (s *contentStore) finalize(id cid.Cid, m *erasure.Manifest, stage string, shards []int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	dir := s.objectDir(id)
	if old, err := s.holding(id); err == nil && old.ManifestDigest != m.Digest() {
		// Another manifest of the same (one-chunk) content, never
		// certified (the caller checked): replace it whole.
		if err := os.RemoveAll(dir); err != nil {
			return fmt.Errorf("content: replace %s: %w", id, err)
		}
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("content: store %s: %w", id, err)
	}
	if err := writeFileSync(filepath.Join(stage, "manifest"), m.Encode(), !s.noSync); err != nil {
		return err
	}
	names := []string{"manifest"}
	for _, j := range shards {
		names = append(names, shardFileName(j))
	}
	for _, name := range names {
		src := filepath.Join(stage, name)
		if _, err := os.Stat(src); errors.Is(err, fs.ErrNotExist) {
			continue // no chunk (empty content)
		}
		if err := os.Rename(src, filepath.Join(dir, name)); err != nil {
			return fmt.Errorf("content: store %s: %w", id, err)
		}
	}
	if err := s.syncDir(dir); err != nil {
		return err
	}
	if err := s.syncDir(s.objectsRoot()); err != nil {
		return err
	}
	now := s.clock.Now() // every shard was just checked against m
	h := &holdingRec{StoredAt: now, VerifiedAt: now, ManifestDigest: m.Digest(), Size: m.ContentSize(), Params: m.Params(), Shards: shards}
	if err := s.kv.Set(store.ContentKey(store.HoldingPrefix, id.Bytes()), h.encode(), true); err != nil {
		return fmt.Errorf("content: store %s: %w", id, err)
	}
	s.manifests.drop(id.KeyString())
	return nil
}

// remove deletes an object this node holds: its holding record first,
// then its files.
func (s *contentStore) remove(id cid.Cid) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.kv.Del(store.ContentKey(store.HoldingPrefix, id.Bytes()), true); err != nil {
		return fmt.Errorf("content: remove %s: %w", id, err)
	}
	s.manifests.drop(id.KeyString())
	if err := os.RemoveAll(s.objectDir(id)); err != nil {
		return fmt.Errorf("content: remove %s: %w", id, err)
	}
	return nil
}

func (s *contentStore) syncDir(dir string) error {
	if s.noSync {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("content: sync %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("content: sync %s: %w", dir, err)
	}
	return nil
}

// writeFileAtomic writes a file under a temporary name, syncs it, renames
// it into place and syncs the directory.
func (s *contentStore) writeFileAtomic(path string, data []byte) error {
	tmp := path + tmpSuffix
	if err := writeFileSync(tmp, data, !s.noSync); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("content: write %s: %w", path, err)
	}
	return s.syncDir(filepath.Dir(path))
}

func writeFileSync(path string, data []byte, sync bool) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		return fmt.Errorf("content: write %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		return fmt.Errorf("content: write %s: %w", path, err)
	}
	if sync {
		if err := f.Sync(); err != nil {
			_ = f.Close()
			return fmt.Errorf("content: write %s: %w", path, err)
		}
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("content: write %s: %w", path, err)
	}
	return nil
}

// manifestCache keeps decoded manifests, bounded by their encoded size.
type manifestCache struct {
	mu    sync.Mutex
	limit int
	size  int
	items map[string]*manifestEntry
	clock uint64
}

type manifestEntry struct {
	m    *erasure.Manifest
	size int
	used uint64
}

func newManifestCache(limit int) *manifestCache {
	return &manifestCache{limit: limit, items: make(map[string]*manifestEntry)}
}

func (c *manifestCache) get(key string) *erasure.Manifest {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.items[key]
	if !ok {
		return nil
	}
	c.clock++
	e.used = c.clock
	return e.m
}

func (c *manifestCache) put(key string, m *erasure.Manifest, size int) {
	if size > c.limit/4 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.items[key]; ok {
		c.size -= old.size
	}
	c.clock++
	c.items[key] = &manifestEntry{m: m, size: size, used: c.clock}
	c.size += size
	for c.size > c.limit {
		var victim string
		var oldest uint64 = ^uint64(0)
		for k, e := range c.items {
			if e.used < oldest {
				victim, oldest = k, e.used
			}
		}
		c.size -= c.items[victim].size
		delete(c.items, victim)
	}
}

func (c *manifestCache) drop(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[key]; ok {
		c.size -= e.size
		delete(c.items, key)
	}
}
