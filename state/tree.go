package state

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"

	"github.com/dagd/dagd/crypto"
	"github.com/dagd/dagd/state/proof"
)

// errKeyHashCollision reports two distinct keys with one BLAKE3 key hash,
// which the tree cannot hold. It has never been observed.
var errKeyHashCollision = errors.New("state: two keys have the same key hash")

// op is one tree update of a commit, or (keep) an existing leaf that a
// commit carries along unchanged while it rebuilds the subtree around it.
type op struct {
	kh    crypto.Digest
	vh    crypto.Digest // sets only
	lh    crypto.Digest // sets: LeafHash(kh, vh); keep: the leaf's hash
	key   []byte
	value []byte
	ver   uint64 // keep only: the version of the existing leaf
	del   bool
	keep  bool
}

func (o *op) live() bool { return !o.del }

// prepareOps turns u's tree entries into ops sorted by key hash, their
// hashes computed on up to par goroutines.
func prepareOps(u *Update, par, threshold int) ([]op, error) {
	ops := make([]op, 0, len(u.tree))
	for k, e := range u.tree {
		ops = append(ops, op{key: []byte(k), value: e.value, del: e.del})
	}
	hashRange := func(ops []op) {
		h := proof.NewHasher()
		for i := range ops {
			o := &ops[i]
			o.kh = h.Key(o.key)
			if !o.del {
				o.vh = h.Value(o.value)
				o.lh = h.Leaf(o.kh, o.vh)
			}
		}
	}
	if par > 1 && len(ops) >= 2*threshold {
		var wg sync.WaitGroup
		chunk := (len(ops) + par - 1) / par
		for start := 0; start < len(ops); start += chunk {
			part := ops[start:min(start+chunk, len(ops))]
			wg.Go(func() { hashRange(part) })
		}
		wg.Wait()
	} else {
		hashRange(ops)
	}
	slices.SortFunc(ops, func(a, b op) int { return bytes.Compare(a.kh[:], b.kh[:]) })
	for i := 1; i < len(ops); i++ {
		if ops[i].kh == ops[i-1].kh {
			return nil, fmt.Errorf("%w: %x and %x", errKeyHashCollision, ops[i-1].key, ops[i].key)
		}
	}
	return ops, nil
}

// commitJob is the shared context of one commit's tree computation.
type commitJob struct {
	s         *Store
	ver       uint64
	threshold int
	sem       chan struct{} // tokens for extra goroutines
}

// worker computes subtrees on one goroutine. stale collects the key
// suffixes of the stored nodes the new tree no longer contains.
type worker struct {
	job      *commitJob
	h        *proof.Hasher
	stale    [][]byte
	replaced []nodeKey // the stale internal nodes, to drop from the cache
}

// splitAt returns the index of the first op whose path has bit depth set;
// ops are sorted and share their first depth bits.
func splitAt(ops []op, depth int) int {
	return sort.Search(len(ops), func(i int) bool { return proof.Bit(ops[i].kh, depth) == 1 })
}

// pair computes the left and right subtrees, in parallel when there are
// enough updates below and a goroutine token is free. The stale nodes are
// collected in the same order either way: left, then right.
func (w *worker) pair(n int, left, right func(*worker) (ref, error)) (ref, ref, error) {
	if n >= w.job.threshold {
		select {
		case w.job.sem <- struct{}{}:
			var l ref
			var lerr error
			wl := &worker{job: w.job, h: proof.NewHasher()}
			done := make(chan struct{})
			go func() {
				defer func() { <-w.job.sem; close(done) }()
				l, lerr = left(wl)
			}()
			wr := &worker{job: w.job, h: w.h}
			r, rerr := right(wr)
			<-done
			if err := errors.Join(lerr, rerr); err != nil {
				return ref{}, ref{}, err
			}
			w.stale = append(w.stale, wl.stale...)
			w.stale = append(w.stale, wr.stale...)
			w.replaced = append(w.replaced, wl.replaced...)
			w.replaced = append(w.replaced, wr.replaced...)
			return l, r, nil
		default:
		}
	}
	l, err := left(w)
	if err != nil {
		return ref{}, ref{}, err
	}
	r, err := right(w)
	if err != nil {
		return ref{}, ref{}, err
	}
	return l, r, nil
}

// update applies ops, sorted and all under the position of cur (depth bits
// shared by their paths), to the subtree cur and returns the new subtree.
func (w *worker) update(depth int, cur ref, ops []op) (ref, error) {
	if len(ops) == 0 {
		return cur, nil
	}
	switch cur.kind {
	case kindEmpty:
		return w.build(depth, ops)
	case kindLeaf:
		return w.build(depth, w.mergeLeaf(cur, ops))
	case kindInternal:
		if depth >= proof.PathBits {
			return ref{}, fmt.Errorf("%w: internal node at depth %d", errCorrupt, depth)
		}
		path := ops[0].kh
		n, err := w.job.s.loadInternal(makeNodeKey(cur.ver, depth, path))
		if err != nil {
			return ref{}, err
		}
		split := splitAt(ops, depth)
		l, r, err := w.pair(len(ops),
			func(w *worker) (ref, error) { return w.update(depth+1, n.child[0], ops[:split]) },
			func(w *worker) (ref, error) { return w.update(depth+1, n.child[1], ops[split:]) })
		if err != nil {
			return ref{}, err
		}
		return w.join(depth, path, cur, n, l, r), nil
	default:
		return ref{}, fmt.Errorf("%w: node kind %d", errCorrupt, cur.kind)
	}
}

// mergeLeaf folds the existing leaf cur into ops: it is deleted, replaced,
// kept unchanged (a set of the same value), or carried along beside the new
// keys. The leaf's own op may be rewritten in place: this subtree owns ops.
func (w *worker) mergeLeaf(cur ref, ops []op) []op {
	i := sort.Search(len(ops), func(i int) bool { return bytes.Compare(ops[i].kh[:], cur.kh[:]) >= 0 })
	keep := op{kh: cur.kh, lh: cur.hash, ver: cur.ver, keep: true}
	if i < len(ops) && ops[i].kh == cur.kh {
		if !ops[i].del && ops[i].lh == cur.hash {
			ops[i] = keep // same value: the stored leaf stays
			return ops
		}
		w.stale = append(w.stale, appendLeafKey(nil, cur.ver, cur.kh))
		return ops
	}
	merged := make([]op, 0, len(ops)+1)
	merged = append(merged, ops[:i]...)
	merged = append(merged, keep)
	return append(merged, ops[i:]...)
}

// build returns the subtree at depth holding exactly the live entries of
// ops (sets and kept leaves; deletes are of absent keys and do nothing).
func (w *worker) build(depth int, ops []op) (ref, error) {
	live, last := 0, -1
	for i := range ops {
		if ops[i].live() {
			live++
			last = i
			if live > 1 {
				break
			}
		}
	}
	switch live {
	case 0:
		return emptyRef(), nil
	case 1:
		o := &ops[last]
		if o.keep {
			return ref{kind: kindLeaf, ver: o.ver, hash: o.lh, kh: o.kh}, nil
		}
		return ref{kind: kindLeaf, ver: w.job.ver, hash: o.lh, kh: o.kh,
			leaf: &leafWrite{vh: o.vh, key: o.key, value: o.value}}, nil
	}
	if depth >= proof.PathBits {
		return ref{}, errKeyHashCollision
	}
	split := splitAt(ops, depth)
	l, r, err := w.pair(len(ops),
		func(w *worker) (ref, error) { return w.build(depth+1, ops[:split]) },
		func(w *worker) (ref, error) { return w.build(depth+1, ops[split:]) })
	if err != nil {
		return ref{}, err
	}
	return w.join(depth, ops[0].kh, emptyRef(), nil, l, r), nil
}

// join returns the node at depth (on path) with children l and r, in the
// compressed form: nothing for two empty children, the leaf itself for a
// leaf beside an empty subtree, else an internal node, the stored one (cur,
// whose children are old) when nothing below changed. A stored internal
// node that is replaced is marked stale.
func (w *worker) join(depth int, path crypto.Digest, cur ref, old *internalNode, l, r ref) ref {
	var res ref
	switch {
	case l.kind == kindEmpty && r.kind == kindEmpty:
		res = emptyRef()
	case l.kind == kindEmpty && r.kind == kindLeaf:
		res = r
	case r.kind == kindEmpty && l.kind == kindLeaf:
		res = l
	default:
		if old != nil && sameNode(old.child[0], l) && sameNode(old.child[1], r) {
			return cur
		}
		res = ref{kind: kindInternal, ver: w.job.ver, hash: w.h.Internal(l.hash, r.hash),
			inner: &internalNode{child: [2]ref{l, r}}}
	}
	if cur.kind == kindInternal {
		k := makeNodeKey(cur.ver, depth, path)
		w.stale = append(w.stale, appendNodeKey(nil, k))
		w.replaced = append(w.replaced, k)
	}
	return res
}
