package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2"

	"github.com/dagd/dagd/crypto"
	"github.com/dagd/dagd/dag"
)

// ErrNotFound says a key is absent.
var ErrNotFound = errors.New("store: not found")

// Store is the node's storage: a pebble database for the core's small
// records, the engine's index, the executor's preserved batches and the
// content records (keys.go lists every prefix), and a batch log (see
// batchLog) for batch bodies. It is the one owner of the database: it
// opens and closes it, and the executor and the content service read and
// write through its accessors (Get, Record, Set, Del, Scan, NewBatch),
// never through a pebble handle of their own. The node closes it last,
// after the content service and the executor have stopped (Node.release).
// The event loop writes the consensus records; the HTTP API, the executor
// and the content service read and write their own prefixes concurrently.
// Every accessor enters the Store's life (enter, leave): close waits for
// those in flight, and after it they return ErrClosed, where pebble
// would panic on its closed database (an API handler can outlive the
// server's shutdown timeout).
type Store struct {
	db     *pebble.DB
	blog   *batchLog
	noSync bool
	// maxSegments: beyond it the live batches of the oldest segment are
	// written again so that it can be removed.
	maxSegments int
	log         *slog.Logger
	// maxEvidence caps the evidence records (Options.MaxEvidence);
	// evStored counts them, evDropped those dropped since the open.
	maxEvidence int
	evStored    atomic.Int64
	evDropped   atomic.Uint64

	lifeMu sync.Mutex
	closed bool
	inUse  sync.WaitGroup
}

// ErrClosed is what every accessor returns once the store is closed.
var ErrClosed = errors.New("store: closed")

// enter registers an access to the database; it is false once the store
// is closed. Call leave when done.
func (s *Store) enter() bool {
	s.lifeMu.Lock()
	defer s.lifeMu.Unlock()
	if s.closed {
		return false
	}
	s.inUse.Add(1)
	return true
}

// leave ends an access registered by enter.
func (s *Store) leave() { s.inUse.Done() }

// pebbleLogger routes pebble's logs into slog.
type pebbleLogger struct{ l *slog.Logger }

func (p pebbleLogger) Infof(format string, args ...any) {
	p.l.Debug(fmt.Sprintf(format, args...), "component", "pebble")
}
func (p pebbleLogger) Errorf(format string, args ...any) {
	p.l.Error(fmt.Sprintf(format, args...), "component", "pebble")
}
func (p pebbleLogger) Fatalf(format string, args ...any) {
	// pebble calls Fatalf on unrecoverable corruption and expects no
	// return; log loudly and let pebble's own panic follow.
	p.l.Error(fmt.Sprintf(format, args...), "component", "pebble", "fatal", true)
	panic(fmt.Sprintf("pebble: "+format, args...))
}

// Options configures the store. Zero fields take the defaults in
// parentheses.
type Options struct {
	// CacheSize is pebble's block cache in bytes (32 MiB).
	CacheSize int64
	// MemTableSize is pebble's memtable size in bytes (32 MiB).
	MemTableSize uint64
	// BatchSegmentSize is the size at which the batch log starts a new
	// segment (64 MiB).
	BatchSegmentSize int64
	// NoSync writes without fsync: for benchmarks on throwaway data only.
	NoSync bool
	// Logger receives pebble's and the batch log's logs (discard).
	Logger *slog.Logger
	// MaxEvidence caps the equivocation evidence records the store keeps
	// (DefaultMaxEvidence): beyond it the oldest (lowest epoch, then
	// round) are dropped first, and counted (EvidenceDropped).
	MaxEvidence int
}

// EnsureDefaults fills the zero fields of o with their defaults.
func (o *Options) EnsureDefaults() {
	if o.CacheSize <= 0 {
		o.CacheSize = 32 << 20
	}
	if o.MemTableSize == 0 {
		o.MemTableSize = 32 << 20
	}
	if o.BatchSegmentSize <= 0 {
		o.BatchSegmentSize = 64 << 20
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.MaxEvidence <= 0 {
		o.MaxEvidence = DefaultMaxEvidence
	}
}

// Open opens (or creates) the store in dir: the pebble database in
// dir/pebble and the batch log in dir/batches. onStall, if not nil, is
// called when pebble stalls writes.
func Open(dir string, o Options, onStall func(reason string)) (*Store, error) {
	o.EnsureDefaults()
	cache := pebble.NewCache(o.CacheSize)
	defer cache.Unref()
	opts := &pebble.Options{
		Cache:        cache,
		MemTableSize: o.MemTableSize,
		Logger:       pebbleLogger{o.Logger},
	}
	opts.EventListener = &pebble.EventListener{
		WriteStallBegin: func(info pebble.WriteStallBeginInfo) {
			o.Logger.Warn("store write stall", "reason", info.Reason)
			if onStall != nil {
				onStall(info.Reason)
			}
		},
	}
	// What pebble holds is small and short-lived (certificates, votes):
	// compressing it costs CPU for little.
	opts.ApplyCompressionSettings(func() pebble.DBCompressionSettings { return pebble.DBCompressionNone })
	db, err := pebble.Open(filepath.Join(dir, "pebble"), opts)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", dir, err)
	}
	blog, err := openBatchLog(filepath.Join(dir, "batches"), o.BatchSegmentSize, o.Logger)
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	nev, err := countEvidence(db)
	if err != nil {
		_ = blog.close()
		_ = db.Close()
		return nil, err
	}
	s := &Store{db: db, blog: blog, noSync: o.NoSync, maxSegments: 16, log: o.Logger, maxEvidence: o.MaxEvidence}
	s.evStored.Store(nev)
	return s, nil
}

// Close waits for the accesses in flight, refuses new ones and closes the
// batch log and the database. The node calls it last on shutdown, once the
// content service and the executor have stopped writing; a second call
// does nothing.
func (s *Store) Close() error {
	s.lifeMu.Lock()
	already := s.closed
	s.closed = true
	s.lifeMu.Unlock()
	if already {
		return nil
	}
	s.inUse.Wait()
	errs := []error{s.blog.close()}
	if err := s.db.Close(); err != nil {
		errs = append(errs, fmt.Errorf("store: close store: %w", err))
	}
	return errors.Join(errs...)
}

// LoadDAGRecords returns every record the core persisted, keys without the
// engine's prefix.
func (s *Store) LoadDAGRecords() ([]dag.Record, error) {
	if !s.enter() {
		return nil, ErrClosed
	}
	defer s.leave()
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: []byte(DAGPrefix), UpperBound: PrefixEnd(DAGPrefix)})
	if err != nil {
		return nil, fmt.Errorf("store: load records: %w", err)
	}
	var out []dag.Record
	for ok := it.First(); ok; ok = it.Next() {
		k := bytes.Clone(it.Key()[len(DAGPrefix):])
		v, err := it.ValueAndErr()
		if err != nil {
			_ = it.Close()
			return nil, fmt.Errorf("store: load records: %w", err)
		}
		out = append(out, dag.Record{Key: k, Value: bytes.Clone(v)})
	}
	if err := it.Close(); err != nil {
		return nil, fmt.Errorf("store: load records: %w", err)
	}
	err = s.blog.all(func(d crypto.Digest, v []byte) error {
		out = append(out, dag.Record{Key: dag.BatchKey(d), Value: v})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Write makes recs, the commit index entries and the equivocation
// evidence durable, in order: batch bodies first (the batch log, synced),
// then everything else in one synced pebble batch. A crash in between
// leaves batches that no record references yet, which a restart handles
// like batches sealed but not proposed. Evidence is kept once per slot
// and capped (Options.MaxEvidence, oldest dropped first). It returns the
// bytes written.
func (s *Store) Write(recs []dag.Record, index []*CommitIndex, evidence []*dag.Evidence) (int, error) {
	if !s.enter() {
		return 0, ErrClosed
	}
	defer s.leave()
	var ops []batchOp
	for _, r := range recs {
		d, ok := dag.ParseBatchKey(r.Key)
		if !ok {
			continue
		}
		if r.Delete {
			ops = append(ops, batchOp{digest: d})
		} else {
			ops = append(ops, batchOp{digest: d, value: r.Value})
		}
	}
	nlog, err := s.blog.apply(ops, s.noSync)
	if err != nil {
		return 0, err
	}
	b := s.db.NewBatch()
	defer b.Close()
	for _, r := range recs {
		if dag.IsBatchKey(r.Key) {
			continue
		}
		var err error
		if r.Delete {
			err = b.Delete(DAGKey(r.Key), nil)
		} else {
			err = b.Set(DAGKey(r.Key), r.Value, nil)
		}
		if err != nil {
			return 0, fmt.Errorf("store: write: %w", err)
		}
	}
	for _, ci := range index {
		if err := b.Set(IndexKey(ci.Seq), ci.Encode(), nil); err != nil {
			return 0, fmt.Errorf("store: write: %w", err)
		}
	}
	stored, dropped, err := s.addEvidence(b, evidence)
	if err != nil {
		return 0, err
	}
	n := b.Len() + nlog
	if err := b.Commit(s.writeOpts(true)); err != nil {
		return 0, fmt.Errorf("store: write: %w", err)
	}
	s.evStored.Store(stored)
	s.evDropped.Add(uint64(dropped))
	return n, nil
}

// Get calls fn with the value of key while it is valid.
func (s *Store) Get(key []byte, fn func(v []byte) error) error {
	if !s.enter() {
		return ErrClosed
	}
	defer s.leave()
	v, closer, err := s.db.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("store: read %q: %w", key, err)
	}
	defer closer.Close()
	return fn(v)
}

// writeOpts returns the options of a write: synced if durable, unless the
// node does not sync at all (Options.NoSync).
func (s *Store) writeOpts(durable bool) *pebble.WriteOptions {
	if durable && !s.noSync {
		return pebble.Sync
	}
	return pebble.NoSync
}

// Record returns a copy of the value of key, or errNotFound.
func (s *Store) Record(key []byte) ([]byte, error) {
	var out []byte
	err := s.Get(key, func(v []byte) error {
		out = bytes.Clone(v)
		return nil
	})
	return out, err
}

// Set writes key, synced if durable (see writeOpts).
func (s *Store) Set(key, value []byte, durable bool) error {
	if !s.enter() {
		return ErrClosed
	}
	defer s.leave()
	if err := s.db.Set(key, value, s.writeOpts(durable)); err != nil {
		return fmt.Errorf("store: write %q: %w", key, err)
	}
	return nil
}

// Del deletes key, synced if durable (see writeOpts).
func (s *Store) Del(key []byte, durable bool) error {
	if !s.enter() {
		return ErrClosed
	}
	defer s.leave()
	if err := s.db.Delete(key, s.writeOpts(durable)); err != nil {
		return fmt.Errorf("store: delete %q: %w", key, err)
	}
	return nil
}

// Scan calls fn with each key under prefix (without the prefix) that
// sorts after prefix+after, and its value, in order, until fn returns
// false or limit keys were seen (limit <= 0: no limit). Keys and values
// are valid during the call only.
func (s *Store) Scan(prefix string, after []byte, limit int, fn func(k, v []byte) bool) error {
	if !s.enter() {
		return ErrClosed
	}
	defer s.leave()
	lower := append([]byte(prefix), after...)
	if len(after) > 0 {
		lower = append(lower, 0)
	}
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: PrefixEnd(prefix)})
	if err != nil {
		return fmt.Errorf("store: scan %q: %w", prefix, err)
	}
	n := 0
	for ok := it.First(); ok && (limit <= 0 || n < limit); ok = it.Next() {
		v, err := it.ValueAndErr()
		if err != nil {
			_ = it.Close()
			return fmt.Errorf("store: scan %q: %w", prefix, err)
		}
		n++
		if !fn(it.Key()[len(prefix):], v) {
			break
		}
	}
	if err := it.Close(); err != nil {
		return fmt.Errorf("store: scan %q: %w", prefix, err)
	}
	return nil
}

// WriteBatch is a set of writes to the store applied atomically by
// commit. It holds the store open (enter) until close: always close it.
type WriteBatch struct {
	s *Store
	b *pebble.Batch // nil: the store was closed
}

// NewBatch returns an empty write batch; on a closed store, one whose
// every operation returns errStoreClosed.
func (s *Store) NewBatch() *WriteBatch {
	if !s.enter() {
		return &WriteBatch{s: s}
	}
	return &WriteBatch{s: s, b: s.db.NewBatch()}
}

// Set adds a write of key to the batch.
func (w *WriteBatch) Set(key, value []byte) error {
	if w.b == nil {
		return ErrClosed
	}
	return w.b.Set(key, value, nil)
}

// Del adds a deletion of key to the batch.
func (w *WriteBatch) Del(key []byte) error {
	if w.b == nil {
		return ErrClosed
	}
	return w.b.Delete(key, nil)
}

// Commit applies the batch, synced if durable (see writeOpts).
func (w *WriteBatch) Commit(durable bool) error {
	if w.b == nil {
		return ErrClosed
	}
	return w.b.Commit(w.s.writeOpts(durable))
}

// Close releases the batch and its hold on the store; a second call does
// nothing.
func (w *WriteBatch) Close() {
	if w.b == nil {
		return
	}
	_ = w.b.Close()
	w.b = nil
	w.s.leave()
}

// GetBatch calls fn with the encoding of stored batch d.
func (s *Store) GetBatch(d crypto.Digest, fn func(v []byte) error) error {
	if !s.enter() {
		return ErrClosed
	}
	defer s.leave()
	return s.blog.get(d, fn)
}

// CompactBatches rewrites the live batches of the oldest batch-log segment
// when there are too many segments, so that it can be removed.
func (s *Store) CompactBatches() error {
	if !s.enter() {
		return ErrClosed
	}
	defer s.leave()
	ops := s.blog.oldLive(s.maxSegments)
	if len(ops) == 0 {
		return nil
	}
	_, err := s.blog.apply(ops, s.noSync)
	return err
}

// HasBatch reports whether batch d is stored.
func (s *Store) HasBatch(d crypto.Digest) bool {
	if !s.enter() {
		return false
	}
	defer s.leave()
	return s.blog.has(d)
}

// BatchSize returns the size of stored batch d's encoding.
func (s *Store) BatchSize(d crypto.Digest) (int64, bool) {
	if !s.enter() {
		return 0, false
	}
	defer s.leave()
	return s.blog.size(d)
}

// ReadBatch implements dag.BatchReader over the persisted batches.
func (s *Store) ReadBatch(d crypto.Digest) (*dag.Batch, bool) {
	var b *dag.Batch
	err := s.GetBatch(d, func(v []byte) error {
		var err error
		b, err = dag.DecodeBatch(v)
		return err
	})
	return b, err == nil
}

// CommitRecord reads the core's record of commit seq.
func (s *Store) CommitRecord(seq uint64) (*dag.CommitRecord, error) {
	var cr *dag.CommitRecord
	err := s.Get(DAGKey(dag.CommitKey(seq)), func(v []byte) error {
		var err error
		cr, err = dag.DecodeCommitRecord(v)
		return err
	})
	return cr, err
}

// CommitIndex is the engine's record of one commit: where its
// transactions are, so the API can serve them while the batches live.
type CommitIndex struct {
	Seq         uint64
	LeaderRound uint64
	Timestamp   dag.Time
	Digest      crypto.Digest
	Certs       int
	Batches     []IndexedBatch
}

// IndexedBatch is one batch of a CommitIndex: its digest, author and
// transaction count.
type IndexedBatch struct {
	Digest crypto.Digest
	Author dag.ValidatorID
	Txs    int
}

// TxCount returns the transactions of the commit.
func (ci *CommitIndex) TxCount() int {
	n := 0
	for _, b := range ci.Batches {
		n += b.Txs
	}
	return n
}

const indexVersion = 1

// Encode returns the entry's canonical encoding (DecodeCommitIndex).
func (ci *CommitIndex) Encode() []byte {
	b := make([]byte, 0, 1+8+8+8+32+4+4+len(ci.Batches)*38)
	b = append(b, indexVersion)
	b = binary.BigEndian.AppendUint64(b, ci.Seq)
	b = binary.BigEndian.AppendUint64(b, ci.LeaderRound)
	b = binary.BigEndian.AppendUint64(b, uint64(ci.Timestamp))
	b = append(b, ci.Digest[:]...)
	b = binary.BigEndian.AppendUint32(b, uint32(ci.Certs))
	b = binary.BigEndian.AppendUint32(b, uint32(len(ci.Batches)))
	for _, x := range ci.Batches {
		b = append(b, x.Digest[:]...)
		b = binary.BigEndian.AppendUint16(b, uint16(x.Author))
		b = binary.BigEndian.AppendUint32(b, uint32(x.Txs))
	}
	return b
}

// DecodeCommitIndex strictly decodes an index entry read from disk.
func DecodeCommitIndex(p []byte) (*CommitIndex, error) {
	const head = 1 + 8 + 8 + 8 + 32 + 4 + 4
	if len(p) < head || p[0] != indexVersion {
		return nil, fmt.Errorf("store: commit index entry of %d bytes: %w", len(p), dag.ErrMalformed)
	}
	ci := &CommitIndex{
		Seq:         binary.BigEndian.Uint64(p[1:]),
		LeaderRound: binary.BigEndian.Uint64(p[9:]),
		Timestamp:   dag.Time(binary.BigEndian.Uint64(p[17:])),
	}
	copy(ci.Digest[:], p[25:57])
	ci.Certs = int(binary.BigEndian.Uint32(p[57:]))
	n := binary.BigEndian.Uint32(p[61:])
	rest := p[head:]
	if uint64(n)*38 != uint64(len(rest)) {
		return nil, fmt.Errorf("store: commit index entry: %d batches in %d bytes: %w", n, len(rest), dag.ErrMalformed)
	}
	ci.Batches = make([]IndexedBatch, n)
	for i := range ci.Batches {
		x := rest[i*38:]
		copy(ci.Batches[i].Digest[:], x[:32])
		ci.Batches[i].Author = dag.ValidatorID(binary.BigEndian.Uint16(x[32:]))
		ci.Batches[i].Txs = int(binary.BigEndian.Uint32(x[34:]))
	}
	return ci, nil
}

// CommitIndex reads the index entry of commit seq.
func (s *Store) CommitIndex(seq uint64) (*CommitIndex, error) {
	var ci *CommitIndex
	err := s.Get(IndexKey(seq), func(v []byte) error {
		var err error
		ci, err = DecodeCommitIndex(v)
		return err
	})
	return ci, err
}
