package state

import (
	"bytes"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/dagd/dagd/crypto"
	"github.com/dagd/dagd/state/proof"
)

// refEntry is a leaf of the reference tree: a path and a value hash.
type refEntry struct{ kh, vh crypto.Digest }

// refRootOf computes, from scratch and without any store, the root of the
// compressed sparse Merkle tree holding m (the package comment of
// state/proof).
func refRootOf(m map[string][]byte) crypto.Digest {
	es := make([]refEntry, 0, len(m))
	for k, v := range m {
		es = append(es, refEntry{proof.KeyHash([]byte(k)), proof.ValueHash(v)})
	}
	return refRootOfEntries(es)
}

func refRootOfEntries(es []refEntry) crypto.Digest {
	slices.SortFunc(es, func(a, b refEntry) int { return bytes.Compare(a.kh[:], b.kh[:]) })
	var sub func(es []refEntry, depth int) crypto.Digest
	sub = func(es []refEntry, depth int) crypto.Digest {
		switch len(es) {
		case 0:
			return proof.EmptyHash()
		case 1:
			return proof.LeafHash(es[0].kh, es[0].vh)
		}
		i := 0
		for i < len(es) && proof.Bit(es[i].kh, depth) == 0 {
			i++
		}
		return proof.InternalHash(sub(es[:i], depth+1), sub(es[i:], depth+1))
	}
	return sub(es, 0)
}

// testOptions are small-machine options: no fsync, a store on a fresh
// in-memory file system, parallel hashing of even small subtrees.
func testOptions() Options {
	return Options{
		NoSync:            true,
		Parallelism:       3,
		ParallelThreshold: 4,
		KeepVersions:      5,
		Pebble:            &pebble.Options{FS: vfs.NewMem()},
	}
}

func openTest(t testing.TB, opts Options) *Store {
	t.Helper()
	s, err := Open("db", opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// model is the reference the store is compared with: the tree contents and
// the caller records.
type model struct {
	tree map[string][]byte
	meta map[string][]byte
}

func newModel() *model { return &model{tree: map[string][]byte{}, meta: map[string][]byte{}} }

func (m *model) clone() *model { return &model{tree: maps.Clone(m.tree), meta: maps.Clone(m.meta)} }

// randomUpdate draws n random operations over a key space of size keys,
// applies them to m and returns them as an Update.
func randomUpdate(rng *rand.Rand, m *model, n, keys int) *Update {
	u := NewUpdate()
	for i := 0; i < n; i++ {
		key := []byte(fmt.Sprintf("key-%d", rng.IntN(keys)))
		switch r := rng.IntN(10); {
		case r < 5:
			v := make([]byte, rng.IntN(24))
			for j := range v {
				v[j] = byte(rng.Uint32())
			}
			u.Set(key, v)
			m.tree[string(key)] = v
		case r < 6: // set the current value again
			if v, ok := m.tree[string(key)]; ok {
				u.Set(key, v)
			}
		case r < 9:
			u.Delete(key)
			delete(m.tree, string(key))
		default:
			mk := []byte(fmt.Sprintf("meta-%d", rng.IntN(8)))
			if rng.IntN(3) == 0 {
				u.DeleteMeta(mk)
				delete(m.meta, string(mk))
			} else {
				v := []byte(fmt.Sprintf("pos-%d", rng.Uint64()))
				u.SetMeta(mk, v)
				m.meta[string(mk)] = v
			}
		}
	}
	return u
}

// checkContents compares every key of the key space, and the caller
// records, between s and m.
func checkContents(t testing.TB, s *Store, m *model, keys int) {
	t.Helper()
	for i := 0; i < keys; i++ {
		key := []byte(fmt.Sprintf("key-%d", i))
		got, ok, err := s.Get(key)
		if err != nil {
			t.Fatalf("Get(%s): %v", key, err)
		}
		want, wantOK := m.tree[string(key)]
		if ok != wantOK || !bytes.Equal(got, want) || (ok && got == nil) {
			t.Fatalf("Get(%s) = %x, %v; want %x, %v", key, got, ok, want, wantOK)
		}
	}
	for i := 0; i < 8; i++ {
		key := []byte(fmt.Sprintf("meta-%d", i))
		got, ok, err := s.GetMeta(key)
		if err != nil {
			t.Fatalf("GetMeta(%s): %v", key, err)
		}
		want, wantOK := m.meta[string(key)]
		if ok != wantOK || !bytes.Equal(got, want) {
			t.Fatalf("GetMeta(%s) = %q, %v; want %q, %v", key, got, ok, want, wantOK)
		}
	}
}

// checkProof proves key at version, verifies the proof against
// RootAt(version) and checks it tells what m says.
func checkProof(t testing.TB, s *Store, m map[string][]byte, key []byte, version uint64) {
	t.Helper()
	root, err := s.RootAt(version)
	if err != nil {
		t.Fatalf("RootAt(%d): %v", version, err)
	}
	value, p, err := s.GetWithProof(key, version)
	if err != nil {
		t.Fatalf("GetWithProof(%s, %d): %v", key, version, err)
	}
	want, ok := m[string(key)]
	if (value != nil) != ok || !bytes.Equal(value, want) {
		t.Fatalf("GetWithProof(%s, %d) value %x, want %x (present %v)", key, version, value, want, ok)
	}
	if err := proof.VerifyProof(root, key, value, p); err != nil {
		t.Fatalf("proof of %s at version %d rejected: %v", key, version, err)
	}
	if ok != p.Inclusion(key) {
		t.Fatalf("proof of %s: Inclusion = %v, want %v", key, p.Inclusion(key), ok)
	}
	// The opposite claim fails with the same proof.
	var opposite []byte
	if !ok {
		opposite = []byte{}
	}
	if err := proof.VerifyProof(root, key, opposite, p); err == nil {
		t.Fatalf("proof of %s at version %d also proves the opposite", key, version)
	}
	enc, err := p.MarshalBinary()
	if err != nil {
		t.Fatalf("MarshalBinary: %v", err)
	}
	q, err := proof.Unmarshal(enc)
	if err != nil || !q.Equal(p) {
		t.Fatalf("proof does not round-trip: %v", err)
	}
	// Tampered proofs and other roots are rejected.
	if _, err := proof.Unmarshal(enc[:len(enc)-1]); err == nil {
		t.Fatal("a truncated proof decodes")
	}
	if len(q.Siblings) > 0 {
		i := len(key) % len(q.Siblings)
		q.Siblings[i][0] ^= 0x40
		if err := proof.VerifyProof(root, key, value, q); err == nil {
			t.Fatalf("proof of %s with sibling %d flipped accepted", key, i)
		}
	}
	if err := proof.VerifyProof(crypto.Hash(root[:]), key, value, p); err == nil {
		t.Fatalf("proof of %s accepted against another root", key)
	}
}

// dump returns every key/value pair of db, in order.
func dump(t testing.TB, db *pebble.DB) [][2]string {
	t.Helper()
	it, err := db.NewIter(nil)
	if err != nil {
		t.Fatal(err)
	}
	var out [][2]string
	for ok := it.First(); ok; ok = it.Next() {
		out = append(out, [2]string{string(it.Key()), string(it.Value())})
	}
	if err := it.Close(); err != nil {
		t.Fatal(err)
	}
	return out
}
