package state

import (
	"encoding/binary"
	"fmt"

	"github.com/dagd/dagd/crypto"
	"github.com/dagd/dagd/state/proof"
)

// Prove returns a proof that key holds its value, or holds nothing, at
// version, one of the Options.KeepVersions most recent versions. Check it
// with proof.VerifyProof against RootAt(version). GetWithProof also returns
// the value.
func (s *Store) Prove(key []byte, version uint64) (*proof.Proof, error) {
	_, p, err := s.GetWithProof(key, version)
	return p, err
}

// GetWithProof returns the value of key at version (nil when absent) and the
// proof of it: an inclusion proof when key is present, else a non-inclusion
// proof. version is one of the Options.KeepVersions most recent versions.
func (s *Store) GetWithProof(key []byte, version uint64) ([]byte, *proof.Proof, error) {
	return s.getWithProof(proof.KeyHash(key), version)
}

// getWithProof is GetWithProof for the key whose hash is kh.
func (s *Store) getWithProof(kh crypto.Digest, version uint64) ([]byte, *proof.Proof, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	p, end, err := s.pathLocked(kh, version)
	if err != nil || end.kind != kindLeaf {
		return nil, p, err
	}
	vh, value, err := s.loadLeaf(end)
	if err != nil {
		return nil, nil, err
	}
	p.Leaf = &proof.Leaf{KeyHash: end.kh, ValueHash: vh}
	if end.kh != kh {
		return nil, p, nil
	}
	return value, p, nil
}

// pathLocked walks the path kh of version from the root and returns the
// siblings on it and the empty subtree or leaf where it ends; s.mu is held.
func (s *Store) pathLocked(kh crypto.Digest, version uint64) (*proof.Proof, ref, error) {
	cur, err := s.rootAtLocked(version)
	if err != nil {
		return nil, ref{}, err
	}
	p := &proof.Proof{}
	for depth := 0; ; depth++ {
		switch cur.kind {
		case kindEmpty, kindLeaf:
			return p, cur, nil
		case kindInternal:
			if depth >= proof.PathBits {
				return nil, ref{}, fmt.Errorf("%w: internal node at depth %d", errCorrupt, depth)
			}
			n, err := s.loadInternal(makeNodeKey(cur.ver, depth, kh))
			if err != nil {
				return nil, ref{}, err
			}
			b := proof.Bit(kh, depth)
			p.Siblings = append(p.Siblings, n.child[1-b].hash)
			cur = n.child[b]
		default:
			return nil, ref{}, fmt.Errorf("%w: node kind %d", errCorrupt, cur.kind)
		}
	}
}

// loadLeaf reads the stored leaf r and checks it against r.
func (s *Store) loadLeaf(r ref) (crypto.Digest, []byte, error) {
	var ver [8]byte
	binary.BigEndian.PutUint64(ver[:], r.ver)
	b, found, err := s.read(s.key(nil, tagLeaf, ver[:], r.kh[:]))
	if err != nil {
		return crypto.Digest{}, nil, fmt.Errorf("state: read leaf (version %d): %w", r.ver, err)
	}
	if !found {
		return crypto.Digest{}, nil, fmt.Errorf("%w: missing leaf (version %d)", errCorrupt, r.ver)
	}
	vh, key, value, err := decodeLeaf(b)
	if err != nil {
		return crypto.Digest{}, nil, err
	}
	h := proof.NewHasher()
	if h.Key(key) != r.kh || h.Value(value) != vh || h.Leaf(r.kh, vh) != r.hash {
		return crypto.Digest{}, nil, fmt.Errorf("%w: leaf (version %d) does not match its hash", errCorrupt, r.ver)
	}
	if value == nil {
		value = []byte{} // present, empty
	}
	return vh, value, nil
}
