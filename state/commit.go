package state

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"github.com/cockroachdb/pebble/v2"

	"github.com/dagd/dagd/crypto"
	"github.com/dagd/dagd/state/proof"
)

// Commit applies upd (nil for no change) as version, which must be
// Version()+1, and returns the new state root. It writes the new tree
// nodes, the values, the caller records, the root and the new head in one
// atomic pebble batch, synced unless Options.NoSync, and in the same batch
// deletes the nodes that left the window of kept versions. On error nothing
// is written and the Store stays at its previous version.
//
// The root depends only on the resulting contents: not on the order of the
// updates, the batching of commits, or Options.Parallelism.
func (s *Store) Commit(version uint64, upd *Update) (crypto.Digest, error) {
	s.commitMu.Lock()
	defer s.commitMu.Unlock()
	s.mu.RLock()
	closed, cur, curRoot := s.closed, s.version, s.root
	s.mu.RUnlock()
	if closed {
		return crypto.Digest{}, ErrClosed
	}
	if version != cur+1 {
		return crypto.Digest{}, fmt.Errorf("%w: commit of version %d at version %d", ErrVersion, version, cur)
	}
	if upd == nil {
		upd = &Update{}
	}
	if err := s.checkUpdate(upd); err != nil {
		return crypto.Digest{}, err
	}
	ops, err := prepareOps(upd, s.opts.Parallelism, s.opts.ParallelThreshold)
	if err != nil {
		return crypto.Digest{}, fmt.Errorf("state: commit %d: %w", version, err)
	}
	return s.commitOps(version, curRoot, ops, upd.meta)
}

// commitOps is Commit after the checks, with the tree updates as ops sorted
// by key hash. s.commitMu is held.
func (s *Store) commitOps(version uint64, curRoot ref, ops []op, meta map[string]entry) (crypto.Digest, error) {
	job := &commitJob{s: s, ver: version, threshold: s.opts.ParallelThreshold, sem: s.sem}
	w := &worker{job: job, h: proof.NewHasher()}
	root, err := w.update(0, curRoot, ops)
	if err != nil {
		return crypto.Digest{}, fmt.Errorf("state: commit %d: %w", version, err)
	}

	b := s.db.NewBatch()
	defer func() { _ = b.Close() }() // a committed batch closes without error; a failed one is discarded
	cw := &batchWriter{s: s, b: b}
	cw.nodes(&root, 0, crypto.Digest{})
	if s.opts.KeepVersions == 1 {
		// No kept version needs a node that left the tree at this version.
		for _, suffix := range w.stale {
			cw.singleDel(cw.key(suffix[0], suffix[1:]))
		}
	} else if len(w.stale) > 0 {
		cw.set(cw.key(tagStale, versionBytes(version)), appendStaleList(nil, w.stale))
	}
	for i := range ops {
		o := &ops[i]
		switch {
		case o.keep: // the same value was set again
		case o.del:
			cw.del(cw.key(tagValue, o.key))
		default:
			cw.set(cw.key(tagValue, o.key), o.value)
		}
	}
	metaKeys := make([]string, 0, len(meta))
	for k := range meta {
		metaKeys = append(metaKeys, k)
	}
	slices.Sort(metaKeys)
	for _, k := range metaKeys {
		if e := meta[k]; e.del {
			cw.del(cw.key(tagMeta, []byte(k)))
		} else {
			cw.set(cw.key(tagMeta, []byte(k)), e.value)
		}
	}
	cw.set(cw.key(tagRoot, versionBytes(version)), appendRef(nil, root.stripped()))
	cw.set(cw.key(tagHead), binary.BigEndian.AppendUint64([]byte{formatV1}, version))
	staleFrom, rootsFrom, err := s.prune(cw, version)
	if err == nil {
		err = cw.err
	}
	if err == nil && s.beforeApply != nil {
		err = s.beforeApply()
	}
	if err != nil {
		return crypto.Digest{}, fmt.Errorf("state: commit %d: build batch: %w", version, err)
	}

	wo := pebble.Sync
	if s.opts.NoSync {
		wo = pebble.NoSync
	}
	s.mu.Lock()
	err = b.Commit(wo)
	if err == nil {
		s.version, s.root = version, root.stripped()
	}
	s.mu.Unlock()
	if err != nil {
		return crypto.Digest{}, fmt.Errorf("state: commit %d: apply batch: %w", version, err)
	}
	s.staleFrom, s.rootsFrom = staleFrom, rootsFrom
	for _, k := range w.replaced {
		s.cache.remove(k)
	}
	for _, c := range cw.cached {
		s.cache.put(c.k, c.n)
	}
	s.log.Debug("state committed", "version", version, "root", root.hash.Short(),
		"updates", len(ops), "meta", len(meta), "batch_bytes", b.Len())
	return root.hash, nil
}

// checkUpdate enforces the size limits of Options on upd.
func (s *Store) checkUpdate(upd *Update) error {
	if n := upd.Len(); n > s.opts.MaxUpdateLen {
		return fmt.Errorf("%w: %d entries, at most %d", ErrInvalidUpdate, n, s.opts.MaxUpdateLen)
	}
	for _, m := range []map[string]entry{upd.tree, upd.meta} {
		for k, e := range m {
			if len(k) > s.opts.MaxKeySize {
				return fmt.Errorf("%w: key of %d bytes, at most %d", ErrInvalidUpdate, len(k), s.opts.MaxKeySize)
			}
			if len(e.value) > s.opts.MaxValueSize {
				return fmt.Errorf("%w: value of %d bytes for key %x, at most %d",
					ErrInvalidUpdate, len(e.value), k, s.opts.MaxValueSize)
			}
		}
	}
	return nil
}

type cachedNode struct {
	k nodeKey
	n *internalNode
}

// batchWriter fills one commit's batch, keeping the first error.
type batchWriter struct {
	s      *Store
	b      *pebble.Batch
	err    error
	kb, vb []byte // scratch buffers: the batch copies what it is given
	cached []cachedNode
}

// key builds the Store key of tag and parts in the scratch key buffer.
func (cw *batchWriter) key(tag byte, parts ...[]byte) []byte {
	cw.kb = cw.s.key(cw.kb[:0], tag, parts...)
	return cw.kb
}

func (cw *batchWriter) set(k, v []byte) {
	if cw.err == nil {
		cw.err = cw.b.Set(k, v, nil)
	}
}

func (cw *batchWriter) del(k []byte) {
	if cw.err == nil {
		cw.err = cw.b.Delete(k, nil)
	}
}

// singleDel deletes a key that was set exactly once and never overwritten:
// a node, a stale list or a root record, each named by the version that
// wrote it. When a compaction brings the set and the single delete
// together, both vanish, where a plain tombstone would have to travel on to
// the bottom level.
func (cw *batchWriter) singleDel(k []byte) {
	if cw.err == nil {
		cw.err = cw.b.SingleDelete(k, nil)
	}
}

// nodes writes the nodes the commit created in the subtree r at depth on
// path, left before right.
func (cw *batchWriter) nodes(r *ref, depth int, path crypto.Digest) {
	if r.leaf != nil {
		var ver [8]byte
		binary.BigEndian.PutUint64(ver[:], r.ver)
		cw.vb = appendLeaf(cw.vb[:0], r.leaf)
		cw.set(cw.key(tagLeaf, ver[:], r.kh[:]), cw.vb)
	}
	if r.inner == nil {
		return
	}
	k := makeNodeKey(r.ver, depth, path)
	cw.kb = appendNodeKey(append(cw.kb[:0], cw.s.prefix...), k)
	cw.vb = appendInternal(cw.vb[:0], r.inner)
	cw.set(cw.kb, cw.vb)
	cw.cached = append(cw.cached, cachedNode{k, &internalNode{child: [2]ref{r.inner.child[0].stripped(), r.inner.child[1].stripped()}}})
	cw.nodes(&r.inner.child[0], depth+1, path)
	right := path
	right[depth/8] |= 0x80 >> uint(depth%8)
	cw.nodes(&r.inner.child[1], depth+1, right)
}

// prune adds to the batch the deletion of every node that no version from
// version-KeepVersions+1 on contains, with its stale list, and of
// the root records older than that. It returns the new low bounds of the
// stale index and of the root records.
func (s *Store) prune(cw *batchWriter, version uint64) (staleFrom, rootsFrom uint64, err error) {
	keep := s.opts.KeepVersions
	if version < keep {
		return s.staleFrom, s.rootsFrom, nil
	}
	oldest := version - keep + 1 // the oldest version still kept
	// Nodes stale since a version <= oldest are in no kept version.
	lo := s.key(nil, tagStale, versionBytes(s.staleFrom))
	hi := s.key(nil, tagStale, versionBytes(oldest+1))
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return 0, 0, fmt.Errorf("prune: %w", err)
	}
	n := 0
	for ok := it.First(); ok; ok = it.Next() {
		val, err := it.ValueAndErr()
		if err != nil {
			return 0, 0, errors.Join(fmt.Errorf("prune: read stale list: %w", err), it.Close())
		}
		rest := val
		for len(rest) > 0 {
			var suffix []byte
			if suffix, rest, err = nextStale(rest); err != nil {
				return 0, 0, errors.Join(fmt.Errorf("prune: stale list %x: %w", it.Key(), err), it.Close())
			}
			cw.singleDel(cw.key(suffix[0], suffix[1:]))
			n++
		}
		cw.singleDel(it.Key())
	}
	if err := errors.Join(it.Error(), it.Close()); err != nil {
		return 0, 0, fmt.Errorf("prune: %w", err)
	}
	// Root records of versions below oldest: normally just oldest-1.
	lo = s.key(nil, tagRoot, versionBytes(s.rootsFrom))
	hi = s.key(nil, tagRoot, versionBytes(oldest))
	if it, err = s.db.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi}); err != nil {
		return 0, 0, fmt.Errorf("prune: %w", err)
	}
	for ok := it.First(); ok; ok = it.Next() {
		cw.singleDel(it.Key())
	}
	if err := errors.Join(it.Error(), it.Close()); err != nil {
		return 0, 0, fmt.Errorf("prune: %w", err)
	}
	if n > 0 {
		s.log.Debug("state pruned", "nodes", n, "oldest_kept", oldest)
	}
	return oldest + 1, oldest, nil
}

// appendStaleList appends the stored form of a version's stale list: each
// node key suffix with its length as a uvarint before it.
func appendStaleList(b []byte, suffixes [][]byte) []byte {
	for _, sfx := range suffixes {
		b = binary.AppendUvarint(b, uint64(len(sfx)))
		b = append(b, sfx...)
	}
	return b
}

// nextStale decodes the first node key suffix of a stale list and returns
// it and the rest of the list.
func nextStale(b []byte) (suffix, rest []byte, err error) {
	n, m := binary.Uvarint(b)
	if m <= 0 || n > uint64(len(b)-m) || m != len(binary.AppendUvarint(nil, n)) {
		return nil, nil, fmt.Errorf("%w: stale list has a bad length", errCorrupt)
	}
	suffix, rest = b[m:m+int(n)], b[m+int(n):]
	if !validNodeKeySuffix(suffix) {
		return nil, nil, fmt.Errorf("%w: stale list names no node: %x", errCorrupt, suffix)
	}
	return suffix, rest, nil
}
