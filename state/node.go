package state

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/dagd/dagd/crypto"
	"github.com/dagd/dagd/state/proof"
)

// Key tags, after the Store's prefix (see the package comment).
const (
	tagHead  = 'h'
	tagRoot  = 'r'
	tagNode  = 'n'
	tagLeaf  = 'l'
	tagStale = 's'
	tagValue = 'v'
	tagMeta  = 'm'
)

// Node kinds, as stored in references.
const (
	kindEmpty    byte = 0
	kindLeaf     byte = 1
	kindInternal byte = 2
)

const formatV1 byte = 1

// errCorrupt is wrapped by every error about bytes read back from pebble
// that are not what the Store wrote.
var errCorrupt = errors.New("state: corrupt store")

// ref refers to a child subtree: its kind, the version its node was written
// at, its hash and, for a leaf, its key hash. While a commit builds a tree,
// inner or leaf holds the content of a node it created.
type ref struct {
	kind  byte
	ver   uint64
	hash  crypto.Digest
	kh    crypto.Digest // leaf only
	inner *internalNode // set on internal nodes created by the running commit
	leaf  *leafWrite    // set on leaves created by the running commit
}

// sameNode reports whether a and b refer to the same stored node.
func sameNode(a, b ref) bool {
	return a.kind == b.kind && a.ver == b.ver && a.hash == b.hash && a.kh == b.kh
}

// stripped returns r without the pointers to nodes a commit is building.
func (r ref) stripped() ref {
	r.inner, r.leaf = nil, nil
	return r
}

func emptyRef() ref { return ref{kind: kindEmpty, hash: proof.EmptyHash()} }

// internalNode is an internal node: its left and right children.
type internalNode struct {
	child [2]ref
}

// leafWrite is the content of a leaf a commit creates.
type leafWrite struct {
	vh         crypto.Digest
	key, value []byte
}

const (
	refEmptySize    = 1
	refInternalSize = 1 + 8 + crypto.DigestSize
	refLeafSize     = 1 + 8 + 2*crypto.DigestSize
)

func appendRef(b []byte, r ref) []byte {
	b = append(b, r.kind)
	switch r.kind {
	case kindInternal:
		b = binary.BigEndian.AppendUint64(b, r.ver)
		b = append(b, r.hash[:]...)
	case kindLeaf:
		b = binary.BigEndian.AppendUint64(b, r.ver)
		b = append(b, r.hash[:]...)
		b = append(b, r.kh[:]...)
	}
	return b
}

// decodeRef decodes one reference from the front of b and returns the rest.
func decodeRef(b []byte) (ref, []byte, error) {
	if len(b) < 1 {
		return ref{}, nil, fmt.Errorf("%w: truncated node reference", errCorrupt)
	}
	var r ref
	r.kind = b[0]
	switch r.kind {
	case kindEmpty:
		return emptyRef(), b[refEmptySize:], nil
	case kindInternal:
		if len(b) < refInternalSize {
			return ref{}, nil, fmt.Errorf("%w: truncated internal node reference", errCorrupt)
		}
		r.ver = binary.BigEndian.Uint64(b[1:9])
		copy(r.hash[:], b[9:refInternalSize])
		return r, b[refInternalSize:], nil
	case kindLeaf:
		if len(b) < refLeafSize {
			return ref{}, nil, fmt.Errorf("%w: truncated leaf reference", errCorrupt)
		}
		r.ver = binary.BigEndian.Uint64(b[1:9])
		copy(r.hash[:], b[9:9+crypto.DigestSize])
		copy(r.kh[:], b[9+crypto.DigestSize:refLeafSize])
		return r, b[refLeafSize:], nil
	default:
		return ref{}, nil, fmt.Errorf("%w: unknown node kind %d", errCorrupt, r.kind)
	}
}

// appendInternal appends the stored form of n to b.
func appendInternal(b []byte, n *internalNode) []byte {
	b = append(b, formatV1)
	b = appendRef(b, n.child[0])
	return appendRef(b, n.child[1])
}

func decodeInternal(b []byte) (*internalNode, error) {
	if len(b) < 1 || b[0] != formatV1 {
		return nil, fmt.Errorf("%w: internal node has an unknown format", errCorrupt)
	}
	n := &internalNode{}
	rest := b[1:]
	var err error
	for i := range n.child {
		if n.child[i], rest, err = decodeRef(rest); err != nil {
			return nil, err
		}
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes after an internal node", errCorrupt, len(rest))
	}
	// A stored internal node always has two leaves or more below it.
	l, r := n.child[0].kind, n.child[1].kind
	if (l == kindEmpty && r != kindInternal) || (r == kindEmpty && l != kindInternal) {
		return nil, fmt.Errorf("%w: internal node with children of kinds %d and %d", errCorrupt, l, r)
	}
	return n, nil
}

// appendLeaf appends the stored form of a leaf to b.
func appendLeaf(b []byte, w *leafWrite) []byte {
	b = append(b, formatV1)
	b = append(b, w.vh[:]...)
	b = binary.AppendUvarint(b, uint64(len(w.key)))
	b = append(b, w.key...)
	return append(b, w.value...)
}

// decodeLeaf decodes a stored leaf. The slices it returns alias b.
func decodeLeaf(b []byte) (vh crypto.Digest, key, value []byte, err error) {
	if len(b) < 1+crypto.DigestSize || b[0] != formatV1 {
		return vh, nil, nil, fmt.Errorf("%w: leaf node is truncated or has an unknown format", errCorrupt)
	}
	copy(vh[:], b[1:1+crypto.DigestSize])
	rest := b[1+crypto.DigestSize:]
	n, m := binary.Uvarint(rest)
	if m <= 0 || n > uint64(len(rest)-m) || m != len(binary.AppendUvarint(nil, n)) {
		return vh, nil, nil, fmt.Errorf("%w: leaf node has a bad key length", errCorrupt)
	}
	rest = rest[m:]
	return vh, rest[:n], rest[n:], nil
}

// nodeKey names an internal node: the version it was written at and its
// position, depth bits of path (the rest of path is zero).
type nodeKey struct {
	ver   uint64
	depth uint16
	path  crypto.Digest
}

// maskPath returns the first depth bits of path, the rest set to zero.
func maskPath(path crypto.Digest, depth int) crypto.Digest {
	var p crypto.Digest
	full := depth / 8
	copy(p[:full], path[:full])
	if rem := depth % 8; rem != 0 {
		p[full] = path[full] & (0xff << uint(8-rem))
	}
	return p
}

func makeNodeKey(ver uint64, depth int, path crypto.Digest) nodeKey {
	return nodeKey{ver: ver, depth: uint16(depth), path: maskPath(path, depth)}
}

// appendNodeKey appends the key suffix (after the Store prefix) of an
// internal node.
func appendNodeKey(b []byte, k nodeKey) []byte {
	b = append(b, tagNode)
	b = binary.BigEndian.AppendUint64(b, k.ver)
	b = binary.BigEndian.AppendUint16(b, k.depth)
	return append(b, k.path[:(int(k.depth)+7)/8]...)
}

// appendLeafKey appends the key suffix (after the Store prefix) of a leaf.
func appendLeafKey(b []byte, ver uint64, kh crypto.Digest) []byte {
	b = append(b, tagLeaf)
	b = binary.BigEndian.AppendUint64(b, ver)
	return append(b, kh[:]...)
}

// validNodeKeySuffix reports whether s is a key suffix appendNodeKey or
// appendLeafKey could have written; the pruner checks it before deleting.
func validNodeKeySuffix(s []byte) bool {
	if len(s) < 1+8 {
		return false
	}
	switch s[0] {
	case tagLeaf:
		return len(s) == 1+8+crypto.DigestSize
	case tagNode:
		if len(s) < 1+8+2 {
			return false
		}
		depth := int(binary.BigEndian.Uint16(s[9:11]))
		return depth <= proof.PathBits && len(s) == 1+8+2+(depth+7)/8
	}
	return false
}
