package execution

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"github.com/dagd/dagd/crypto"
	"github.com/dagd/dagd/dag"
	"github.com/dagd/dagd/engine/store"
)

// holdCommit keeps the batches of commit ci until it is executed
// (loop-owned).
func (e *Executor) holdCommit(ci *store.CommitIndex) {
	hc := heldCommit{seq: ci.Seq}
	for _, b := range ci.Batches {
		if e.held[b.Digest] < ci.Seq {
			e.held[b.Digest] = ci.Seq
		}
		hc.batches = append(hc.batches, b.Digest)
	}
	e.heldQ = append(e.heldQ, hc)
}

// Hold runs on the event loop before each write of recs and index: it
// registers the new commits' batches and preserves those that the write
// is about to delete while a commit not executed yet still needs them.
// The core deletes a batch RetainRounds after garbage collection; an
// executor that falls that far behind reads the copy instead. The copy is
// synced before the write that deletes the batch, and its key is outside
// the core's records, so a restart neither loses it nor shows it to the
// core.
func (e *Executor) Hold(recs []dag.Record, index []*store.CommitIndex) error {
	executed := e.executed.Load()
	for len(e.heldQ) > 0 && e.heldQ[0].seq <= executed {
		for _, d := range e.heldQ[0].batches {
			if e.held[d] <= executed {
				delete(e.held, d)
			}
		}
		e.heldQ = e.heldQ[1:]
	}
	if len(e.heldQ) == 0 {
		e.heldQ = nil // let the backing array go
	}
	for _, ci := range index {
		if ci.Seq > executed {
			e.holdCommit(ci)
		}
	}
	var b *store.WriteBatch
	for _, r := range recs {
		d, isBatch := dag.ParseBatchKey(r.Key)
		if !r.Delete || !isBatch {
			continue
		}
		seq, ok := e.held[d]
		if !ok || seq <= executed {
			continue
		}
		if b == nil {
			b = e.store.NewBatch()
			defer b.Close()
		}
		err := e.store.GetBatch(d, func(v []byte) error {
			val := binary.BigEndian.AppendUint64(make([]byte, 0, 8+len(v)), seq)
			return b.Set(store.PreservedKey(d), append(val, v...))
		})
		if err != nil {
			return fmt.Errorf("execution: preserve batch %s of commit %d: %w", d.Short(), seq, err)
		}
		e.presTotal.Add(1)
		e.presMu.Lock()
		e.preserved[d] = seq
		e.m.deferred.Set(float64(len(e.preserved)))
		e.presMu.Unlock()
	}
	if b == nil {
		return nil
	}
	if err := b.Commit(true); err != nil {
		return fmt.Errorf("execution: preserve batches: %w", err)
	}
	return nil
}

// loadPreserved reads back the preserved batches at start, dropping those
// of commits already executed.
func (e *Executor) loadPreserved(executed uint64) error {
	var stale [][]byte
	err := e.store.Scan(store.PreservedPrefix, nil, 0, func(k, v []byte) bool {
		if len(k) != crypto.DigestSize || len(v) < 8 {
			stale = append(stale, append([]byte(store.PreservedPrefix), k...))
			return true
		}
		var d crypto.Digest
		copy(d[:], k)
		if seq := binary.BigEndian.Uint64(v); seq > executed {
			e.preserved[d] = seq
		} else {
			stale = append(stale, store.PreservedKey(d))
		}
		return true
	})
	if err != nil {
		return fmt.Errorf("execution: preserved batches: %w", err)
	}
	for _, k := range stale {
		if err := e.store.Del(k, false); err != nil {
			return fmt.Errorf("execution: preserved batches: %w", err)
		}
	}
	e.m.deferred.Set(float64(len(e.preserved)))
	return nil
}

// readBatch calls fn with the encoding of batch d: from the batch log, or
// from its preserved copy.
func (e *Executor) readBatch(d crypto.Digest, fn func(v []byte) error) error {
	err := e.store.GetBatch(d, fn)
	if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	err = e.store.Get(store.PreservedKey(d), func(v []byte) error {
		if len(v) < 8 {
			return fmt.Errorf("execution: preserved batch %s of %d bytes: %w", d.Short(), len(v), dag.ErrMalformed)
		}
		return fn(v[8:])
	})
	return err
}

// release deletes the preserved copies of the batches of commits up to
// seq, once executed. A crash before it leaves copies that loadPreserved
// deletes.
func (e *Executor) release(seq uint64) error {
	e.presMu.Lock()
	defer e.presMu.Unlock()
	if len(e.preserved) == 0 {
		return nil
	}
	var done []crypto.Digest
	for d, s := range e.preserved {
		if s <= seq {
			done = append(done, d)
		}
	}
	if len(done) == 0 {
		return nil
	}
	slices.SortFunc(done, func(a, b crypto.Digest) int { return bytes.Compare(a[:], b[:]) })
	b := e.store.NewBatch()
	defer b.Close()
	for _, d := range done {
		if err := b.Del(store.PreservedKey(d)); err != nil {
			return fmt.Errorf("execution: release preserved batches: %w", err)
		}
	}
	if err := b.Commit(false); err != nil {
		return fmt.Errorf("execution: release preserved batches: %w", err)
	}
	for _, d := range done {
		delete(e.preserved, d)
	}
	e.m.deferred.Set(float64(len(e.preserved)))
	return nil
}
