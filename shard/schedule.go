package shard

import (
	"bytes"
	"fmt"
	"slices"
	"sync"
)

// planned is one transaction of a commit's schedule.
type planned[T any] struct {
	tx    T
	cand  int      // its receipt's position in the commit
	keys  [][]byte // declared keys, sorted and distinct
	slots []int32  // the slot of each key
	lane  int      // the worker whose lane runs it
	waits []int32  // earlier transactions of other lanes it must wait for
	done  chan struct{}
}

// schedule is the plan of one commit: its transactions in consensus
// order, the overlay slots of the keys they declared, and the lanes.
//
// Lanes: shard s (ShardOf) belongs to lane s mod workers. A transaction
// runs in the lane of the shard of its smallest key (its home shard), so a
// transaction whose keys all fall in one shard runs in that shard's lane.
// Each lane runs its transactions in consensus order. For every key, a
// transaction depends on the last earlier transaction that declared the
// key; when that one runs in another lane, the transaction waits until it
// is done before it starts. That is the whole schedule.
type schedule[T any] struct {
	txs     []planned[T]
	slots   []slot
	workers int
	cross   int
}

// plan builds the schedule. keys[i] are the declared keys of txs[i] (plan
// sorts them in place and drops duplicates).
func plan[T any](txs []T, cands []int, keys [][][]byte, shards, workers int) *schedule[T] {
	s := &schedule[T]{txs: make([]planned[T], len(txs)), workers: workers}
	index := make(map[string]int32)
	var last []int32 // per slot: the last transaction that declared it
	for i := range txs {
		p := &s.txs[i]
		p.tx, p.cand = txs[i], cands[i]
		ks := keys[i]
		slices.SortFunc(ks, bytes.Compare)
		ks = slices.CompactFunc(ks, bytes.Equal)
		p.keys = ks
		p.slots = make([]int32, len(ks))
		home := 0
		if len(ks) > 0 {
			home = ShardOf(ks[0], shards)
		}
		p.lane = home % workers
		crosses := false
		for j, k := range ks {
			if !crosses && j > 0 && ShardOf(k, shards) != home {
				crosses = true
			}
			id, ok := index[string(k)]
			if !ok {
				id = int32(len(s.slots))
				index[string(k)] = id
				s.slots = append(s.slots, slot{key: k})
				last = append(last, -1)
			}
			p.slots[j] = id
			if prev := last[id]; prev >= 0 && s.txs[prev].lane != p.lane && !slices.Contains(p.waits, prev) {
				p.waits = append(p.waits, prev)
				if s.txs[prev].done == nil {
					s.txs[prev].done = make(chan struct{})
				}
			}
			last[id] = int32(i)
		}
		if crosses {
			s.cross++
		}
	}
	return s
}

// run executes the schedule: serially in consensus order when serial is
// set, else one goroutine per lane. apply runs one transaction with the
// view set to its keys. The first error (by transaction order) is
// returned; the slots are then unusable.
func (s *schedule[T]) run(base baseReader, serial bool, apply func(v *view, p *planned[T]) error) error {
	if serial || s.workers == 1 {
		v := &view{base: base, slots: s.slots}
		for i := range s.txs {
			p := &s.txs[i]
			v.keys, v.idx = p.keys, p.slots
			if err := safeApply(apply, v, p); err != nil {
				return err
			}
		}
		return nil
	}
	lanes := make([][]int32, s.workers)
	for i := range s.txs {
		lanes[s.txs[i].lane] = append(lanes[s.txs[i].lane], int32(i))
	}
	abort := make(chan struct{})
	var once sync.Once
	errs := make([]error, len(s.txs)) // the failing transaction's slot only
	var wg sync.WaitGroup
	for _, lane := range lanes {
		if len(lane) == 0 {
			continue
		}
		wg.Go(func() {
			v := &view{base: base, slots: s.slots}
			for _, i := range lane {
				p := &s.txs[i]
				for _, j := range p.waits {
					select {
					case <-s.txs[j].done:
					case <-abort:
						return
					}
				}
				v.keys, v.idx = p.keys, p.slots
				if err := safeApply(apply, v, p); err != nil {
					errs[i] = err
					once.Do(func() { close(abort) })
					return
				}
				if p.done != nil {
					close(p.done)
				}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// safeApply turns a panic of the machine into an error, so that a bug in
// one transaction stops the executor rather than the process.
func safeApply[T any](apply func(v *view, p *planned[T]) error, v *view, p *planned[T]) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("shard: machine panicked on transaction %d: %v", p.cand, r)
		}
	}()
	return apply(v, p)
}
