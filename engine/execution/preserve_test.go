package execution

import (
	"fmt"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dagd/dagd/crypto"
	"github.com/dagd/dagd/dag"
	"github.com/dagd/dagd/engine/store"
)

// TestExecutionPreservesBatches checks that a batch the core deletes
// before its commit is executed stays readable by the executor (a synced
// copy), that the copy goes once the commit is executed, and that a
// restart drops copies of executed commits and keeps the others.
func TestExecutionPreservesBatches(t *testing.T) {
	st, err := store.Open(t.TempDir(), store.Options{NoSync: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	newExec := func() *Executor {
		m, err := newMetrics(prometheus.NewRegistry())
		if err != nil {
			t.Fatal(err)
		}
		return &Executor{store: st, held: make(map[crypto.Digest]uint64), preserved: make(map[crypto.Digest]uint64), m: m}
	}
	e := newExec()
	batch := func(i byte) (crypto.Digest, dag.Record) {
		b := &dag.Batch{Author: 1, Transactions: [][]byte{{i, 1, 2, 3}}}
		enc := b.Encode()
		d := dag.BatchDigest(enc)
		return d, dag.Record{Key: dag.BatchKey(d), Value: enc}
	}
	d1, r1 := batch(1)
	d2, r2 := batch(2)
	d9, r9 := batch(9)
	if _, err := st.Write([]dag.Record{r1, r2, r9}, nil, nil); err != nil {
		t.Fatal(err)
	}
	del := func(ds ...crypto.Digest) []dag.Record {
		var out []dag.Record
		for _, d := range ds {
			out = append(out, dag.Record{Key: dag.BatchKey(d), Delete: true})
		}
		return out
	}
	idx := []*store.CommitIndex{{Seq: 1, Batches: []store.IndexedBatch{{Digest: d1}}}, {Seq: 2, Batches: []store.IndexedBatch{{Digest: d2}}}}
	// Commits 1 and 2 arrive; the core deletes their batches and an
	// uncommitted one at once.
	recs := del(d1, d2, d9)
	if err := e.Hold(recs, idx); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Write(recs, idx, nil); err != nil {
		t.Fatal(err)
	}
	read := func(e *Executor, d crypto.Digest) error {
		return e.readBatch(d, func(v []byte) error {
			b, err := dag.DecodeBatch(v)
			if err == nil && len(b.Transactions) != 1 {
				err = fmt.Errorf("batch of %d transactions", len(b.Transactions))
			}
			return err
		})
	}
	for _, d := range []crypto.Digest{d1, d2} {
		if err := read(e, d); err != nil {
			t.Fatalf("preserved batch %s: %v", d.Short(), err)
		}
	}
	if err := read(e, d9); err == nil {
		t.Fatal("an uncommitted batch was preserved")
	}
	// Commit 1 executed: its copy goes.
	e.executed.Store(1)
	if err := e.release(1); err != nil {
		t.Fatal(err)
	}
	if err := read(e, d1); err == nil {
		t.Fatal("the copy of an executed commit's batch stayed")
	}
	// A restart at executed 1 keeps commit 2's copy; at executed 2 drops it.
	e2 := newExec()
	if err := e2.loadPreserved(1); err != nil || len(e2.preserved) != 1 || read(e2, d2) != nil {
		t.Fatalf("after a restart: %v %v", e2.preserved, err)
	}
	e3 := newExec()
	if err := e3.loadPreserved(2); err != nil || len(e3.preserved) != 0 || read(e3, d2) == nil {
		t.Fatalf("after a restart past the commit: %v %v", e3.preserved, err)
	}
}
