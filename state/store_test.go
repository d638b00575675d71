package state

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/dagd/dagd/crypto"
	"github.com/dagd/dagd/state/proof"
)

func seedFor(t *testing.T) uint64 {
	seed := rand.Uint64()
	t.Logf("seed %d (set it in the test to replay)", seed)
	return seed
}

// TestModelRandomWorkload runs random Set/Delete/SetMeta/Commit sequences
// against an in-memory model: after every commit the contents match the
// model, the root equals the root of the model computed from scratch, and
// proofs of random keys at kept versions verify.
func TestModelRandomWorkload(t *testing.T) {
	seed := seedFor(t)
	rng := rand.New(rand.NewPCG(seed, 7))
	const keys = 400
	commits := 150
	if testing.Short() {
		commits = 40
	}
	s := openTest(t, testOptions())
	m := newModel()
	history := map[uint64]*model{0: m.clone()}
	roots := map[uint64]crypto.Digest{0: proof.EmptyHash()}
	if s.Root() != proof.EmptyHash() || s.Version() != 0 {
		t.Fatalf("fresh store at version %d root %x", s.Version(), s.Root())
	}
	for v := uint64(1); v <= uint64(commits); v++ {
		n := rng.IntN(40)
		if rng.IntN(15) == 0 {
			n = 600 // a large batch, hashed in parallel
		}
		upd := randomUpdate(rng, m, n, keys)
		root, err := s.Commit(v, upd)
		if err != nil {
			t.Fatalf("Commit(%d): %v", v, err)
		}
		if want := refRootOf(m.tree); root != want {
			t.Fatalf("version %d: root %x, reference root %x", v, root, want)
		}
		if s.Root() != root || s.Version() != v {
			t.Fatalf("after Commit(%d): Version %d Root %x", v, s.Version(), s.Root())
		}
		history[v] = m.clone()
		roots[v] = root
		checkContents(t, s, m, keys)
		if v%5 == 0 {
			oldest := v - min(v, s.opts.KeepVersions-1)
			for i := 0; i < 15; i++ {
				pv := oldest + rng.Uint64N(v-oldest+1)
				if got, err := s.RootAt(pv); err != nil || got != roots[pv] {
					t.Fatalf("RootAt(%d) = %x, %v; want %x", pv, got, err, roots[pv])
				}
				key := []byte(fmt.Sprintf("key-%d", rng.IntN(keys+50)))
				checkProof(t, s, history[pv].tree, key, pv)
			}
			if oldest > 0 {
				if _, err := s.RootAt(oldest - 1); !errors.Is(err, ErrVersionUnavailable) {
					t.Fatalf("RootAt(%d) below the window: %v", oldest-1, err)
				}
				if _, err := s.Prove([]byte("key-1"), oldest-1); !errors.Is(err, ErrVersionUnavailable) {
					t.Fatalf("Prove at %d below the window: %v", oldest-1, err)
				}
			}
		}
	}
	if _, err := s.RootAt(s.Version() + 1); !errors.Is(err, ErrVersionUnavailable) {
		t.Fatalf("RootAt(future): %v", err)
	}
	checkNodesAreExactlyReachable(t, s)
}

// checkNodesAreExactlyReachable walks the trees of every kept version and
// checks that the stored nodes are exactly the nodes they reach: pruning
// deleted everything else, and nothing reachable is missing.
func checkNodesAreExactlyReachable(t *testing.T, s *Store) {
	t.Helper()
	reach := map[string]bool{}
	var walk func(r ref, depth int, path crypto.Digest)
	walk = func(r ref, depth int, path crypto.Digest) {
		switch r.kind {
		case kindLeaf:
			reach[string(s.key(appendLeafKey(nil, r.ver, r.kh)[:0], tagLeaf, appendLeafKey(nil, r.ver, r.kh)[1:]))] = true
		case kindInternal:
			k := makeNodeKey(r.ver, depth, path)
			reach[string(appendNodeKey(append([]byte(nil), s.prefix...), k))] = true
			n, err := s.loadInternal(k)
			if err != nil {
				t.Fatalf("kept version reaches a missing node: %v", err)
			}
			walk(n.child[0], depth+1, path)
			right := path
			right[depth/8] |= 0x80 >> uint(depth%8)
			walk(n.child[1], depth+1, right)
		}
	}
	v := s.Version()
	oldest := v - min(v, s.opts.KeepVersions-1)
	for pv := oldest; pv <= v; pv++ {
		s.mu.RLock()
		r, err := s.rootAtLocked(pv)
		s.mu.RUnlock()
		if err != nil {
			t.Fatalf("root of kept version %d: %v", pv, err)
		}
		walk(r, 0, crypto.Digest{})
	}
	stored := map[string]bool{}
	stale := 0
	for _, kv := range dump(t, s.db) {
		k := []byte(kv[0])
		if !bytes.HasPrefix(k, s.prefix) || len(k) <= len(s.prefix) {
			continue
		}
		switch k[len(s.prefix)] {
		case tagNode, tagLeaf:
			stored[kv[0]] = true
		case tagStale:
			rest := []byte(kv[1])
			for len(rest) > 0 {
				suffix, r, err := nextStale(rest)
				if err != nil {
					t.Fatalf("stale list: %v", err)
				}
				rest = r
				stale++
				if !reach[string(append(append([]byte(nil), s.prefix...), suffix...))] {
					t.Errorf("stale list names a node no kept version reaches")
				}
			}
		case tagRoot:
		}
	}
	for k := range reach {
		if !stored[k] {
			t.Errorf("reachable node %x is not stored", k)
		}
	}
	extra := 0
	for k := range stored {
		if !reach[k] {
			extra++
		}
	}
	if extra > 0 {
		t.Errorf("%d stored nodes are reachable from no kept version (pruning missed them)", extra)
	}
	if len(reach) == 0 {
		t.Fatal("the walk reached no node")
	}
	t.Logf("%d nodes stored for %d kept versions, %d stale index entries", len(stored), v-oldest+1, stale)
}

// TestRootDependsOnlyOnContents reaches the same contents through different
// histories, batchings and parallelism and gets the same root.
func TestRootDependsOnlyOnContents(t *testing.T) {
	seed := seedFor(t)
	rng := rand.New(rand.NewPCG(seed, 11))
	n := 600
	if testing.Short() {
		n = 200
	}
	final := map[string][]byte{}
	for i := 0; i < n; i++ {
		final[fmt.Sprintf("acct/%d", i)] = []byte(fmt.Sprintf("balance %d", rng.Uint32()))
	}
	final["empty"] = []byte{}
	want := refRootOf(final)
	keys := make([]string, 0, len(final))
	for k := range final {
		keys = append(keys, k)
	}

	// One batch, sequential.
	o := testOptions()
	o.Parallelism = 1
	a := openTest(t, o)
	u := NewUpdate()
	for k, v := range final {
		u.Set([]byte(k), v)
	}
	if root, err := a.Commit(1, u); err != nil || root != want {
		t.Fatalf("one batch: root %x, %v; want %x", root, err, want)
	}

	// Many small batches in a random order, with detours: wrong values
	// later corrected, keys inserted then deleted, deletes of absent keys.
	b := openTest(t, testOptions())
	rng.Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
	v := uint64(0)
	for i := 0; i < len(keys); {
		u := NewUpdate()
		for j := 0; j < 1+rng.IntN(30) && i < len(keys); j++ {
			k := keys[i]
			u.Set([]byte(k), []byte("wrong"))
			u.Set([]byte("tmp/"+k), []byte("x"))
			u.Delete([]byte("never/" + k))
			i++
		}
		v++
		if _, err := b.Commit(v, u); err != nil {
			t.Fatal(err)
		}
	}
	u = NewUpdate()
	for k, val := range final {
		u.Set([]byte(k), val)
		u.Delete([]byte("tmp/" + k))
	}
	v++
	if root, err := b.Commit(v, u); err != nil || root != want {
		t.Fatalf("many batches: root %x, %v; want %x", root, err, want)
	}

	// One key per commit in reverse order, then a no-op commit.
	c := openTest(t, testOptions())
	for i := len(keys) - 1; i >= 0; i-- {
		u := NewUpdate()
		u.Set([]byte(keys[i]), final[keys[i]])
		if _, err := c.Commit(c.Version()+1, u); err != nil {
			t.Fatal(err)
		}
	}
	if root, err := c.Commit(c.Version()+1, nil); err != nil || root != want {
		t.Fatalf("one key per commit: root %x, %v; want %x", root, err, want)
	}

	// Deleting everything returns to the empty root.
	u = NewUpdate()
	for k := range final {
		u.Delete([]byte(k))
	}
	if root, err := c.Commit(c.Version()+1, u); err != nil || root != proof.EmptyHash() {
		t.Fatalf("after deleting all: root %x, %v", root, err)
	}
}

// TestParallelEqualsSequential commits the same random updates with
// sequential and parallel hashing: the roots and every stored byte match.
func TestParallelEqualsSequential(t *testing.T) {
	seed := seedFor(t)
	seq, par := testOptions(), testOptions()
	seq.Parallelism = 1
	par.Parallelism, par.ParallelThreshold = 4, 2
	a, b := openTest(t, seq), openTest(t, par)
	ma, mb := newModel(), newModel()
	ra, rb := rand.New(rand.NewPCG(seed, 1)), rand.New(rand.NewPCG(seed, 1))
	for v := uint64(1); v <= 20; v++ {
		n := 50 + ra.IntN(1500)
		rb.IntN(1500)
		ua, ub := randomUpdate(ra, ma, n, 3000), randomUpdate(rb, mb, n, 3000)
		x, err := a.Commit(v, ua)
		if err != nil {
			t.Fatal(err)
		}
		y, err := b.Commit(v, ub)
		if err != nil {
			t.Fatal(err)
		}
		if x != y {
			t.Fatalf("version %d: sequential root %x, parallel root %x", v, x, y)
		}
	}
	da, db := dump(t, a.db), dump(t, b.db)
	if len(da) != len(db) {
		t.Fatalf("sequential store has %d records, parallel %d", len(da), len(db))
	}
	for i := range da {
		if da[i] != db[i] {
			t.Fatalf("record %d differs: %x vs %x", i, da[i][0], db[i][0])
		}
	}
}

// TestReopen closes and reopens a store on disk: same version, roots,
// contents and proofs, and commits continue from there.
func TestReopen(t *testing.T) {
	seed := seedFor(t)
	rng := rand.New(rand.NewPCG(seed, 3))
	dir := t.TempDir()
	opts := Options{NoSync: true, KeepVersions: 4}
	s, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	m := newModel()
	roots := map[uint64]crypto.Digest{}
	for v := uint64(1); v <= 12; v++ {
		if roots[v], err = s.Commit(v, randomUpdate(rng, m, 80, 300)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, _, err := s.Get([]byte("key-1")); !errors.Is(err, ErrClosed) {
		t.Fatalf("Get after Close: %v", err)
	}
	if _, err := s.Commit(13, nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("Commit after Close: %v", err)
	}
	if _, err := s.Prove([]byte("key-1"), 12); !errors.Is(err, ErrClosed) {
		t.Fatalf("Prove after Close: %v", err)
	}

	s, err = Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Version() != 12 || s.Root() != roots[12] {
		t.Fatalf("reopened at version %d root %x; want 12, %x", s.Version(), s.Root(), roots[12])
	}
	for v := uint64(9); v <= 12; v++ {
		if got, err := s.RootAt(v); err != nil || got != roots[v] {
			t.Fatalf("RootAt(%d) after reopen = %x, %v; want %x", v, got, err, roots[v])
		}
	}
	checkContents(t, s, m, 300)
	for i := 0; i < 30; i++ {
		checkProof(t, s, m.tree, []byte(fmt.Sprintf("key-%d", rng.IntN(330))), 12)
	}
	for v := uint64(13); v <= 20; v++ {
		root, err := s.Commit(v, randomUpdate(rng, m, 80, 300))
		if err != nil {
			t.Fatal(err)
		}
		if root != refRootOf(m.tree) {
			t.Fatalf("version %d after reopen: root differs from the reference", v)
		}
	}
	checkContents(t, s, m, 300)
	checkNodesAreExactlyReachable(t, s)
}

// TestCrashLeavesLastVersion crashes the file system under an open store:
// synced commits survive whole, an abandoned half-built batch leaves no
// trace, and an unsynced commit is either whole or absent.
func TestCrashLeavesLastVersion(t *testing.T) {
	seed := seedFor(t)
	rng := rand.New(rand.NewPCG(seed, 5))
	fs := vfs.NewCrashableMem()
	opts := Options{KeepVersions: 3, Pebble: &pebble.Options{FS: fs}} // synced commits
	s, err := Open("db", opts)
	if err != nil {
		t.Fatal(err)
	}
	m := newModel()
	var root crypto.Digest
	for v := uint64(1); v <= 6; v++ {
		if root, err = s.Commit(v, randomUpdate(rng, m, 60, 200)); err != nil {
			t.Fatal(err)
		}
	}
	synced := m.clone()

	// A commit abandoned after its batch is built: nothing changes.
	half := m.clone()
	upd := randomUpdate(rng, half, 100, 200)
	injected := errors.New("injected failure before apply")
	s.beforeApply = func() error { return injected }
	if _, err := s.Commit(7, upd); !errors.Is(err, injected) {
		t.Fatalf("Commit with a failing hook: %v", err)
	}
	s.beforeApply = nil
	if s.Version() != 6 || s.Root() != root {
		t.Fatalf("after an abandoned commit: version %d root %x", s.Version(), s.Root())
	}
	checkContents(t, s, synced, 200)
	// And an Update built but never committed.
	_ = randomUpdate(rng, half.clone(), 100, 200)

	crashed := fs.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: 0})
	r, err := Open("db", Options{KeepVersions: 3, Pebble: &pebble.Options{FS: crashed}})
	if err != nil {
		t.Fatalf("open after crash: %v", err)
	}
	if r.Version() != 6 || r.Root() != root {
		t.Fatalf("after crash: version %d root %x; want 6, %x", r.Version(), r.Root(), root)
	}
	checkContents(t, r, synced, 200)
	checkProof(t, r, synced.tree, []byte("key-3"), 6)
	if got, err := r.Commit(7, upd); err != nil || got != refRootOf(half.tree) {
		t.Fatalf("commit after crash: %x, %v", got, err)
	}
	checkNodesAreExactlyReachable(t, r)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}

	// Unsynced commits: after a crash that keeps a random part of the
	// unsynced data, the store is at some version it committed, whole.
	ns, err := Open("db", Options{KeepVersions: 3, NoSync: true, Pebble: &pebble.Options{FS: crashed}})
	if err != nil {
		t.Fatal(err)
	}
	states := map[uint64]*model{7: half.clone()}
	roots := map[uint64]crypto.Digest{7: ns.Root()}
	for v := uint64(8); v <= 11; v++ {
		if roots[v], err = ns.Commit(v, randomUpdate(rng, half, 50, 200)); err != nil {
			t.Fatal(err)
		}
		states[v] = half.clone()
	}
	seen := map[uint64]bool{}
	for i := 0; i < 6; i++ {
		c := crashed.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: 20 * i, RNG: rand.New(rand.NewPCG(seed, uint64(i)))})
		cs, err := Open("db", Options{KeepVersions: 3, Pebble: &pebble.Options{FS: c}})
		if err != nil {
			t.Fatalf("open after crash %d: %v", i, err)
		}
		v := cs.Version()
		if states[v] == nil || cs.Root() != roots[v] {
			t.Fatalf("crash %d: store at version %d root %x, not a committed state", i, v, cs.Root())
		}
		seen[v] = true
		checkContents(t, cs, states[v], 200)
		if err := cs.Close(); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("unsynced crashes recovered to versions %v", seen)
	if err := ns.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestSharedDatabase keeps two stores and foreign data in one pebble
// database under different prefixes.
func TestSharedDatabase(t *testing.T) {
	db, err := pebble.Open("db", &pebble.Options{FS: vfs.NewMem(), Logger: pebbleLogger{testOptionsLogger().Logger}})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	foreign := map[string]string{"a": "1", "b/": "2", "state": "3", "zzz": "4"}
	for k, v := range foreign {
		if err := db.Set([]byte(k), []byte(v), pebble.Sync); err != nil {
			t.Fatal(err)
		}
	}
	a, err := New(db, []byte("state/a/"), Options{NoSync: true, KeepVersions: 1})
	if err != nil {
		t.Fatal(err)
	}
	b, err := New(db, []byte("state/b/"), Options{NoSync: true, KeepVersions: 2})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	ma, mb := newModel(), newModel()
	for v := uint64(1); v <= 10; v++ {
		ra, err := a.Commit(v, randomUpdate(rng, ma, 60, 100))
		if err != nil {
			t.Fatal(err)
		}
		rb, err := b.Commit(v, randomUpdate(rng, mb, 60, 100))
		if err != nil {
			t.Fatal(err)
		}
		if ra != refRootOf(ma.tree) || rb != refRootOf(mb.tree) {
			t.Fatalf("version %d: a root matches %v, b root matches %v", v, ra == refRootOf(ma.tree), rb == refRootOf(mb.tree))
		}
	}
	checkContents(t, a, ma, 100)
	checkContents(t, b, mb, 100)
	checkNodesAreExactlyReachable(t, a)
	checkNodesAreExactlyReachable(t, b)
	for k, v := range foreign {
		got, closer, err := db.Get([]byte(k))
		if err != nil || string(got) != v {
			t.Fatalf("foreign key %q: %q, %v", k, got, err)
		}
		closer.Close()
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	// Closing a store from New leaves the database open.
	if _, _, err := b.Get([]byte("key-1")); err != nil {
		t.Fatalf("Get on the other store after Close: %v", err)
	}
	a2, err := New(db, []byte("state/a/"), Options{})
	if err != nil || a2.Version() != 10 || a2.Root() != refRootOf(ma.tree) {
		t.Fatalf("reopened prefix store: version %d, %v", a2.Version(), err)
	}
}

func TestMetaIsOutsideTheTree(t *testing.T) {
	s := openTest(t, testOptions())
	u := NewUpdate()
	u.Set([]byte("k"), []byte("v"))
	u.SetMeta([]byte("exec/position"), []byte("round 7"))
	u.SetMeta([]byte("k"), []byte("a caller record named like a tree key"))
	root, err := s.Commit(1, u)
	if err != nil {
		t.Fatal(err)
	}
	if root != refRootOf(map[string][]byte{"k": []byte("v")}) {
		t.Fatal("caller records changed the root")
	}
	if v, ok, err := s.GetMeta([]byte("exec/position")); err != nil || !ok || string(v) != "round 7" {
		t.Fatalf("GetMeta = %q, %v, %v", v, ok, err)
	}
	if v, ok, err := s.Get([]byte("k")); err != nil || !ok || string(v) != "v" {
		t.Fatalf("Get = %q, %v, %v", v, ok, err)
	}
	u = NewUpdate()
	u.DeleteMeta([]byte("exec/position"))
	if root2, err := s.Commit(2, u); err != nil || root2 != root {
		t.Fatalf("a caller-record-only commit: root %x, %v; want %x", root2, err, root)
	}
	if _, ok, err := s.GetMeta([]byte("exec/position")); err != nil || ok {
		t.Fatalf("deleted caller record: found %v, %v", ok, err)
	}
	if v, ok, _ := s.GetMeta([]byte("k")); !ok || string(v) != "a caller record named like a tree key" {
		t.Fatalf("GetMeta(k) = %q, %v", v, ok)
	}
	if s.Version() != 2 {
		t.Fatalf("version %d", s.Version())
	}
}

func TestEmptyValueIsPresent(t *testing.T) {
	s := openTest(t, testOptions())
	u := NewUpdate()
	u.Set([]byte("nil"), nil)
	u.Set([]byte("empty"), []byte{})
	u.Set([]byte("full"), []byte("x"))
	if _, err := s.Commit(1, u); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"nil", "empty"} {
		v, ok, err := s.Get([]byte(k))
		if err != nil || !ok || v == nil || len(v) != 0 {
			t.Fatalf("Get(%s) = %v, %v, %v; want a present empty value", k, v, ok, err)
		}
		value, p, err := s.GetWithProof([]byte(k), 1)
		if err != nil || value == nil || len(value) != 0 {
			t.Fatalf("GetWithProof(%s) = %v, %v", k, value, err)
		}
		if err := proof.VerifyProof(s.Root(), []byte(k), []byte{}, p); err != nil {
			t.Fatalf("inclusion of an empty value rejected: %v", err)
		}
		if err := proof.VerifyProof(s.Root(), []byte(k), nil, p); err == nil {
			t.Fatal("a present empty value proven absent")
		}
	}
	u = NewUpdate()
	u.Delete([]byte("empty"))
	if _, err := s.Commit(2, u); err != nil {
		t.Fatal(err)
	}
	checkProof(t, s, map[string][]byte{"nil": {}, "full": []byte("x")}, []byte("empty"), 2)
	checkProof(t, s, map[string][]byte{"nil": {}, "full": []byte("x"), "empty": {}}, []byte("empty"), 1)
}

func TestCommitRejectsBadInput(t *testing.T) {
	o := testOptions()
	o.MaxKeySize, o.MaxValueSize, o.MaxUpdateLen = 8, 16, 4
	s := openTest(t, o)
	u := NewUpdate()
	u.Set([]byte("a"), []byte("1"))
	root, err := s.Commit(1, u)
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		v   uint64
		upd func(*Update)
		err error
	}{
		"same version":  {1, func(*Update) {}, ErrVersion},
		"skip version":  {3, func(*Update) {}, ErrVersion},
		"zero version":  {0, func(*Update) {}, ErrVersion},
		"long key":      {2, func(u *Update) { u.Set([]byte("123456789"), nil) }, ErrInvalidUpdate},
		"long meta key": {2, func(u *Update) { u.SetMeta([]byte("123456789"), nil) }, ErrInvalidUpdate},
		"long value":    {2, func(u *Update) { u.Set([]byte("k"), make([]byte, 17)) }, ErrInvalidUpdate},
		"long meta":     {2, func(u *Update) { u.SetMeta([]byte("k"), make([]byte, 17)) }, ErrInvalidUpdate},
		"too many": {2, func(u *Update) {
			for i := 0; i < 3; i++ {
				u.Set([]byte{byte(i)}, nil)
			}
			u.DeleteMeta([]byte("x"))
			u.Delete([]byte("y"))
		}, ErrInvalidUpdate},
	} {
		u := NewUpdate()
		u.Set([]byte("b"), []byte("2"))
		c.upd(u)
		if _, err := s.Commit(c.v, u); !errors.Is(err, c.err) {
			t.Errorf("%s: Commit error %v, want %v", name, err, c.err)
		}
		if s.Version() != 1 || s.Root() != root {
			t.Fatalf("%s: a rejected commit changed the store", name)
		}
	}
	if _, ok, _ := s.Get([]byte("b")); ok {
		t.Fatal("a rejected commit wrote a value")
	}
	u.Reset()
	if u.Len() != 0 {
		t.Fatalf("Len after Reset = %d", u.Len())
	}
}

func TestOptionsValidate(t *testing.T) {
	var o Options
	o.EnsureDefaults()
	if err := o.Validate(); err != nil {
		t.Fatalf("defaults invalid: %v", err)
	}
	if o.KeepVersions != DefaultKeepVersions || o.Parallelism < 1 || o.NodeCacheSize != DefaultNodeCacheSize || o.Logger == nil {
		t.Fatalf("defaults not applied: %+v", o)
	}
	for name, mut := range map[string]func(*Options){
		"parallelism": func(o *Options) { o.Parallelism = -1 },
		"threshold":   func(o *Options) { o.ParallelThreshold = 1 },
		"key size":    func(o *Options) { o.MaxKeySize = -1 },
		"value size":  func(o *Options) { o.MaxValueSize = -5 },
		"update len":  func(o *Options) { o.MaxUpdateLen = -1 },
		"logger":      func(o *Options) { o.Logger = nil },
	} {
		o := Options{}
		o.EnsureDefaults()
		mut(&o)
		if err := o.Validate(); err == nil {
			t.Errorf("%s: invalid options accepted", name)
		}
		if _, err := New(nil, nil, o); err == nil {
			t.Errorf("%s: New accepted invalid options", name)
		}
	}
	if _, err := New(nil, nil, Options{}); err == nil {
		t.Error("New accepted a nil database")
	}
}

// TestCorruptNodesAreErrors damages stored nodes: reads return errors that
// say so, and nothing panics.
func TestCorruptNodesAreErrors(t *testing.T) {
	s := openTest(t, testOptions())
	m := newModel()
	rng := rand.New(rand.NewPCG(9, 9))
	if _, err := s.Commit(1, randomUpdate(rng, m, 200, 100)); err != nil {
		t.Fatal(err)
	}
	s.cache = nil // read every node from pebble
	damaged := 0
	for _, kv := range dump(t, s.db) {
		if kv[0][0] == tagNode || kv[0][0] == tagLeaf {
			if err := s.db.Set([]byte(kv[0]), []byte(kv[1])[:len(kv[1])/2], pebble.NoSync); err != nil {
				t.Fatal(err)
			}
			damaged++
		}
	}
	if damaged == 0 {
		t.Fatal("no node to damage")
	}
	if _, err := s.Prove([]byte("key-1"), 1); !errors.Is(err, errCorrupt) {
		t.Fatalf("Prove over damaged nodes: %v", err)
	}
	if _, err := s.Commit(2, randomUpdate(rng, m, 20, 100)); !errors.Is(err, errCorrupt) {
		t.Fatalf("Commit over damaged nodes: %v", err)
	}
}

// TestKeyHashCollisionIsAnError feeds the tree builder two updates with one
// key hash, which BLAKE3 makes unreachable through keys.
func TestKeyHashCollisionIsAnError(t *testing.T) {
	s := openTest(t, testOptions())
	kh := proof.KeyHash([]byte("x"))
	ops := []op{{kh: kh, key: []byte("x")}, {kh: kh, key: []byte("y")}}
	s.commitMu.Lock()
	defer s.commitMu.Unlock()
	if _, err := s.commitOps(1, emptyRef(), ops, nil); !errors.Is(err, errKeyHashCollision) {
		t.Fatalf("colliding key hashes: %v", err)
	}
}

// TestDeepPaths builds trees from crafted key hashes that share long
// prefixes, down to leaves at depth 256, and checks the roots against the
// reference and that deletes collapse the paths again.
func TestDeepPaths(t *testing.T) {
	s := openTest(t, testOptions())
	var base crypto.Digest
	for i := range base {
		base[i] = 0x5a
	}
	mk := func(flipBit int, tag byte) op {
		kh := base
		if flipBit >= 0 {
			kh[flipBit/8] ^= 0x80 >> uint(flipBit%8)
		}
		v := []byte{tag}
		vh := proof.ValueHash(v)
		return op{kh: kh, vh: vh, lh: proof.LeafHash(kh, vh), key: []byte{tag}, value: v}
	}
	all := []op{mk(-1, 0), mk(255, 1), mk(200, 2), mk(3, 3), mk(0, 4)}
	sortOps := func(ops []op) []op {
		out := append([]op(nil), ops...)
		for i := range out {
			for j := i + 1; j < len(out); j++ {
				if bytes.Compare(out[j].kh[:], out[i].kh[:]) < 0 {
					out[i], out[j] = out[j], out[i]
				}
			}
		}
		return out
	}
	refOf := func(ops []op) crypto.Digest {
		es := make([]refEntry, len(ops))
		for i, o := range ops {
			es[i] = refEntry{o.kh, o.vh}
		}
		return refRootOfEntries(es)
	}
	commit := func(ops []op) crypto.Digest {
		s.commitMu.Lock()
		defer s.commitMu.Unlock()
		root, err := s.commitOps(s.version+1, s.root, sortOps(ops), nil)
		if err != nil {
			t.Fatal(err)
		}
		return root
	}
	// Insert one at a time, then check.
	for i := range all {
		if got, want := commit(all[i:i+1]), refOf(all[:i+1]); got != want {
			t.Fatalf("after inserting %d crafted keys: root %x, want %x", i+1, got, want)
		}
	}
	// Delete the deepest pair's partner: its sibling leaf moves up 255 levels.
	del := all[1]
	del.del = true
	if got, want := commit([]op{del}), refOf([]op{all[0], all[2], all[3], all[4]}); got != want {
		t.Fatalf("after delete: root %x, want %x", got, want)
	}
	// A fresh store built in one batch agrees.
	s2 := openTest(t, testOptions())
	s2.commitMu.Lock()
	root, err := s2.commitOps(1, emptyRef(), sortOps([]op{all[0], all[2], all[3], all[4]}), nil)
	s2.commitMu.Unlock()
	if err != nil || root != s.Root() {
		t.Fatalf("one-batch root %x, %v; incremental %x", root, err, s.Root())
	}
	// The proof of the leaf at depth 201 has 201 siblings.
	s.mu.RLock()
	p, end, err := s.pathLocked(all[2].kh, s.Version())
	s.mu.RUnlock()
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Siblings) != 201 || end.kind != kindLeaf || end.kh != all[2].kh {
		t.Fatalf("deep proof: %d siblings, end %+v", len(p.Siblings), end)
	}
	h := proof.LeafHash(all[2].kh, all[2].vh)
	for i := len(p.Siblings) - 1; i >= 0; i-- {
		if proof.Bit(all[2].kh, i) == 0 {
			h = proof.InternalHash(h, p.Siblings[i])
		} else {
			h = proof.InternalHash(p.Siblings[i], h)
		}
	}
	if h != s.Root() {
		t.Fatal("deep proof does not lead to the root")
	}
	if b, err := p.MarshalBinary(); err != nil || len(b) > 3+26+4*32+64 {
		t.Fatalf("deep proof of mostly empty siblings encodes to %d bytes, %v", len(b), err)
	}
}

func testOptionsLogger() *Options {
	o := &Options{}
	o.EnsureDefaults()
	return o
}
