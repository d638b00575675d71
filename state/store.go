package state

import (
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
	"github.com/cockroachdb/pebble/v2/sstable"

	"github.com/dagd/dagd/crypto"
)

var (
	// ErrClosed is returned by the methods of a closed Store.
	ErrClosed = errors.New("state: store is closed")
	// ErrVersion is wrapped by Commit's error for a version other than
	// Version()+1.
	ErrVersion = errors.New("state: commit out of sequence")
	// ErrVersionUnavailable is wrapped by the errors of RootAt, Prove and
	// GetWithProof for a version after the latest or older than the kept
	// window (Options.KeepVersions).
	ErrVersionUnavailable = errors.New("state: version not available")
	// ErrInvalidUpdate is wrapped by Commit's error for an Update that
	// breaks the limits of Options.
	ErrInvalidUpdate = errors.New("state: invalid update")
)

// Store is the versioned, authenticated state on pebble. See the package
// comment.
type Store struct {
	db     *pebble.DB
	ownsDB bool
	prefix []byte
	opts   Options
	log    *slog.Logger
	cache  *nodeCache
	sem    chan struct{}

	commitMu  sync.Mutex // serializes Commit and Close
	staleFrom uint64     // stale lists of versions < staleFrom are gone; guarded by commitMu
	rootsFrom uint64     // root records of versions < rootsFrom are gone; guarded by commitMu

	// beforeApply, when set (by tests), runs after a commit's batch is
	// built and before it is applied; an error abandons the commit.
	beforeApply func() error

	mu      sync.RWMutex // guards the fields below against readers
	version uint64
	root    ref
	closed  bool
}

// Open opens (creating it if needed) a pebble database in dir holding one
// Store with an empty key prefix. Close closes the database too.
func Open(dir string, opts Options) (*Store, error) {
	opts.EnsureDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	var po *pebble.Options
	if opts.Pebble != nil {
		po = opts.Pebble.Clone()
	} else {
		po = DefaultPebbleOptions()
	}
	if po.Logger == nil {
		po.Logger = pebbleLogger{opts.Logger}
	}
	db, err := pebble.Open(dir, po)
	if err != nil {
		return nil, fmt.Errorf("state: open pebble in %s: %w", dir, err)
	}
	s, err := New(db, nil, opts)
	if err != nil {
		return nil, errors.Join(err, db.Close())
	}
	s.ownsDB = true
	return s, nil
}

// DefaultPebbleOptions returns the pebble options Open uses when
// Options.Pebble is nil, and that a node sharing one pebble database with a
// Store (New) should start from: pebble's defaults with a 64 MiB block
// cache, 64 MiB memtables, 10-bit Bloom filters on every level (tree node
// reads are point reads that most tables do not hold) and no block
// compression (tree nodes are mostly hashes, which do not compress).
func DefaultPebbleOptions() *pebble.Options {
	o := &pebble.Options{
		CacheSize:    64 << 20,
		MemTableSize: 64 << 20,
	}
	// The lower levels inherit the options of level 0.
	o.Levels[0].FilterPolicy = bloom.FilterPolicy(10)
	o.Levels[0].Compression = func() *sstable.CompressionProfile { return sstable.NoCompression }
	return o
}

// New returns the Store kept in db under prefix, so that one pebble
// database can hold a Store beside other data; no other writer may use keys
// that start with prefix, and only one Store at a time may use a prefix. A fresh prefix holds the empty state at version 0.
// Close leaves db open.
func New(db *pebble.DB, prefix []byte, opts Options) (*Store, error) {
	opts.EnsureDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if db == nil {
		return nil, errors.New("state: nil pebble database")
	}
	s := &Store{
		db:     db,
		prefix: slices.Clone(prefix),
		opts:   opts,
		log:    opts.Logger,
		cache:  newNodeCache(opts.NodeCacheSize),
		sem:    make(chan struct{}, opts.Parallelism-1),
		root:   emptyRef(),
	}
	head, found, err := s.read(s.key(nil, tagHead))
	if err != nil {
		return nil, fmt.Errorf("state: read head: %w", err)
	}
	if found {
		if len(head) != 9 || head[0] != formatV1 {
			return nil, fmt.Errorf("%w: head record of %d bytes", errCorrupt, len(head))
		}
		s.version = binary.BigEndian.Uint64(head[1:])
		if s.root, err = s.readRoot(s.version); err != nil {
			return nil, err
		}
	}
	s.log.Info("state store opened", "version", s.version, "root", s.root.hash.String())
	return s, nil
}

// Close closes the Store, and its pebble database if Open opened it. A
// commit in progress finishes first. Close is idempotent.
func (s *Store) Close() error {
	s.commitMu.Lock()
	defer s.commitMu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	if s.ownsDB {
		if err := s.db.Close(); err != nil {
			return fmt.Errorf("state: close pebble: %w", err)
		}
	}
	return nil
}

// key appends to b the Store's prefix, tag and parts.
func (s *Store) key(b []byte, tag byte, parts ...[]byte) []byte {
	b = append(b, s.prefix...)
	b = append(b, tag)
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

func versionBytes(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

// read returns a copy of the value of key, and whether it exists.
func (s *Store) read(key []byte) ([]byte, bool, error) {
	v, closer, err := s.db.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	out := append(make([]byte, 0, len(v)), v...)
	if err := closer.Close(); err != nil {
		return nil, false, err
	}
	return out, true, nil
}

// readRoot reads the root record of version v (version 0 is empty).
func (s *Store) readRoot(v uint64) (ref, error) {
	if v == 0 {
		return emptyRef(), nil
	}
	b, found, err := s.read(s.key(nil, tagRoot, versionBytes(v)))
	if err != nil {
		return ref{}, fmt.Errorf("state: read root of version %d: %w", v, err)
	}
	if !found {
		return ref{}, fmt.Errorf("%w: the root of version %d is pruned", ErrVersionUnavailable, v)
	}
	r, rest, err := decodeRef(b)
	if err != nil {
		return ref{}, fmt.Errorf("state: root of version %d: %w", v, err)
	}
	if len(rest) != 0 {
		return ref{}, fmt.Errorf("%w: %d trailing bytes after the root of version %d", errCorrupt, len(rest), v)
	}
	return r, nil
}

// loadInternal returns the stored internal node k, from the cache if it can.
func (s *Store) loadInternal(k nodeKey) (*internalNode, error) {
	if n, ok := s.cache.get(k); ok {
		return n, nil
	}
	key := appendNodeKey(append(make([]byte, 0, len(s.prefix)+1+8+2+crypto.DigestSize), s.prefix...), k)
	b, found, err := s.read(key)
	if err != nil {
		return nil, fmt.Errorf("state: read node (version %d, depth %d): %w", k.ver, k.depth, err)
	}
	if !found {
		return nil, fmt.Errorf("%w: missing node (version %d, depth %d)", errCorrupt, k.ver, k.depth)
	}
	n, err := decodeInternal(b)
	if err != nil {
		return nil, fmt.Errorf("state: node (version %d, depth %d): %w", k.ver, k.depth, err)
	}
	s.cache.put(k, n)
	return n, nil
}

// Version returns the latest committed version; 0 before the first commit.
func (s *Store) Version() uint64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.version
}

// Root returns the state root of the latest version (proof.EmptyHash() for
// the empty state).
func (s *Store) Root() crypto.Digest {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.root.hash
}

// rootAtLocked returns the root reference of version v; s.mu is held.
func (s *Store) rootAtLocked(v uint64) (ref, error) {
	if s.closed {
		return ref{}, ErrClosed
	}
	switch {
	case v > s.version:
		return ref{}, fmt.Errorf("%w: version %d is after the latest version %d", ErrVersionUnavailable, v, s.version)
	case v == s.version:
		return s.root, nil
	case s.version-v >= s.opts.KeepVersions:
		return ref{}, fmt.Errorf("%w: version %d is older than the %d kept versions up to %d",
			ErrVersionUnavailable, v, s.opts.KeepVersions, s.version)
	}
	return s.readRoot(v)
}

// RootAt returns the state root of version v, one of the
// Options.KeepVersions most recent versions.
func (s *Store) RootAt(v uint64) (crypto.Digest, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	r, err := s.rootAtLocked(v)
	if err != nil {
		return crypto.Digest{}, err
	}
	return r.hash, nil
}

// Get returns the value of key at the latest version, and whether key is
// present. A present key with an empty value gives a non-nil empty slice.
func (s *Store) Get(key []byte) ([]byte, bool, error) {
	return s.get(tagValue, key)
}

// GetMeta returns the caller record key (Update.SetMeta) at the latest
// version, and whether it exists.
func (s *Store) GetMeta(key []byte) ([]byte, bool, error) {
	return s.get(tagMeta, key)
}

func (s *Store) get(tag byte, key []byte) ([]byte, bool, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, false, ErrClosed
	}
	v, found, err := s.read(s.key(nil, tag, key))
	if err != nil {
		return nil, false, fmt.Errorf("state: get %x: %w", key, err)
	}
	return v, found, nil
}

// pebbleLogger sends pebble's logs to a slog.Logger.
type pebbleLogger struct{ l *slog.Logger }

// Infof logs at info level.
func (p pebbleLogger) Infof(format string, args ...any) {
	p.l.Info(fmt.Sprintf(format, args...), "component", "pebble")
}

// Errorf logs at error level.
func (p pebbleLogger) Errorf(format string, args ...any) {
	p.l.Error(fmt.Sprintf(format, args...), "component", "pebble")
}

// Fatalf logs at error level and panics: pebble calls it only for a state
// it cannot continue from, and requires that it does not return.
func (p pebbleLogger) Fatalf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	p.l.Error(msg, "component", "pebble", "fatal", true)
	panic("state: pebble: " + msg)
}
