package state

import (
	"bytes"
	"errors"
	"testing"

	"github.com/dagd/dagd/crypto"
	"github.com/dagd/dagd/state/proof"
)

// FuzzDecodeNode feeds arbitrary bytes, as read back from disk, to the node
// decoders: they never panic, report errCorrupt, and accept only what the
// encoders write.
func FuzzDecodeNode(f *testing.F) {
	kh := proof.KeyHash([]byte("k"))
	vh := proof.ValueHash([]byte("v"))
	leafRef := ref{kind: kindLeaf, ver: 3, hash: proof.LeafHash(kh, vh), kh: kh}
	innerRef := ref{kind: kindInternal, ver: 9, hash: proof.InternalHash(kh, vh)}
	for _, n := range []*internalNode{
		{child: [2]ref{leafRef, innerRef}},
		{child: [2]ref{emptyRef(), innerRef}},
		{child: [2]ref{leafRef, leafRef}},
	} {
		f.Add(appendInternal(nil, n))
	}
	f.Add(appendLeaf(nil, &leafWrite{vh: vh, key: []byte("k"), value: []byte("v")}))
	f.Add(appendLeaf(nil, &leafWrite{vh: vh, key: bytes.Repeat([]byte("k"), 200)}))
	f.Add(appendRef(nil, leafRef))
	f.Add([]byte{formatV1, 0x80, 0x00})
	f.Add(appendStaleList(nil, [][]byte{appendLeafKey(nil, 4, kh), appendNodeKey(nil, makeNodeKey(5, 13, kh))}))
	f.Fuzz(func(t *testing.T, data []byte) {
		if n, err := decodeInternal(data); err == nil {
			if !bytes.Equal(appendInternal(nil, n), data) {
				t.Fatalf("internal node re-encodes differently: %x", data)
			}
		} else if !errors.Is(err, errCorrupt) {
			t.Fatalf("decodeInternal error without errCorrupt: %v", err)
		}
		if vh, key, value, err := decodeLeaf(data); err == nil {
			if !bytes.Equal(appendLeaf(nil, &leafWrite{vh: vh, key: key, value: value}), data) {
				t.Fatalf("leaf re-encodes differently: %x", data)
			}
		} else if !errors.Is(err, errCorrupt) {
			t.Fatalf("decodeLeaf error without errCorrupt: %v", err)
		}
		if r, rest, err := decodeRef(data); err == nil {
			if !bytes.Equal(appendRef(nil, r), data[:len(data)-len(rest)]) {
				t.Fatalf("reference re-encodes differently: %x", data)
			}
		} else if !errors.Is(err, errCorrupt) {
			t.Fatalf("decodeRef error without errCorrupt: %v", err)
		}
		var listed [][]byte
		for rest := data; len(rest) > 0; {
			suffix, r, err := nextStale(rest)
			if err != nil {
				if !errors.Is(err, errCorrupt) {
					t.Fatalf("nextStale error without errCorrupt: %v", err)
				}
				listed = nil
				break
			}
			listed, rest = append(listed, suffix), r
		}
		if listed != nil && !bytes.Equal(appendStaleList(nil, listed), data) {
			t.Fatalf("stale list re-encodes differently: %x", data)
		}
		if validNodeKeySuffix(data) {
			switch data[0] {
			case tagLeaf, tagNode:
			default:
				t.Fatalf("validNodeKeySuffix accepted tag %q", data[0])
			}
		}
	})
}

func TestNodeKeys(t *testing.T) {
	var path crypto.Digest
	for i := range path {
		path[i] = 0xff
	}
	for _, depth := range []int{0, 1, 7, 8, 9, 255, 256} {
		k := makeNodeKey(42, depth, path)
		if got := proof.CommonPrefixBits(k.path, path); got != depth {
			t.Fatalf("depth %d: masked path keeps %d bits", depth, got)
		}
		b := appendNodeKey(nil, k)
		if !validNodeKeySuffix(b) || len(b) != 1+8+2+(depth+7)/8 {
			t.Fatalf("depth %d: node key %x", depth, b)
		}
	}
	if !validNodeKeySuffix(appendLeafKey(nil, 1, path)) {
		t.Fatal("leaf key rejected")
	}
	for _, bad := range [][]byte{nil, {tagNode}, {tagStale, 0, 0, 0, 0, 0, 0, 0, 0}, append(appendLeafKey(nil, 1, path), 0)} {
		if validNodeKeySuffix(bad) {
			t.Fatalf("bad node key %x accepted", bad)
		}
	}
}
