package shard

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/dagd/dagd/crypto"
	"github.com/dagd/dagd/state"
)

// Errors of the Executor.
var (
	// ErrUndeclaredKey is wrapped by the error of a transaction that read
	// or wrote a key its Machine.Keys did not declare: a bug of the
	// machine, which stops execution.
	ErrUndeclaredKey = errors.New("shard: key not declared by the transaction")
	// ErrOutOfOrder is wrapped by Execute's error for a commit other than
	// the one after the last executed.
	ErrOutOfOrder = errors.New("shard: commit out of order")
)

// Commit is a committed sub-DAG as the executor takes it.
type Commit struct {
	// Seq is the commit's sequence number: the executor's next.
	Seq uint64
	// Time is the commit's consensus time in milliseconds.
	Time uint64
	// Txs are the commit's transactions in consensus order.
	Txs [][]byte
}

// Result is the outcome of one executed commit.
type Result struct {
	// Seq is the commit's sequence number, now the state's version.
	Seq uint64
	// Time is the consensus time the commit executed at (Env.Time).
	Time uint64
	// StateRoot is the state root after the commit.
	StateRoot crypto.Digest
	// TxRoot and ReceiptsRoot are the commit's Merkle roots (MerkleRoot).
	TxRoot, ReceiptsRoot crypto.Digest
	// Txs are the digests of the transactions that got a receipt, in
	// order, and Receipts their receipts: those whose signature verified
	// and that paid for their place (Receipt.Charged). The others are
	// counted (Counts.BadSignature, Counts.Unpaid) and leave no record.
	Txs      []crypto.Digest
	Receipts []Receipt
	// Counts classifies the commit's transactions.
	Counts Counts
	// Keys is the number of distinct state keys the commit declared.
	Keys int
	// CrossShard is the number of applied transactions whose keys fall
	// in more than one shard (it depends on Options.Shards).
	CrossShard int
	// Timings say where the time went (they decide nothing).
	Timings Timings
}

// Timings of the phases of one Execute.
type Timings struct {
	Decode, Verify, Apply, Commit time.Duration
}

// Executor executes committed transactions on a StateStore with a
// Machine; see the package comment. Execute calls are serialized; the
// other methods are safe for concurrent use.
type Executor[T any] struct {
	st   StateStore
	m    Machine[T]
	opts Options
	log  *slog.Logger

	mu    sync.Mutex // serializes Execute; guards what follows
	pos   position
	win   *window
	cache *valueCache // nil when disabled
}

// New returns an executor of m over st, resuming after the last commit st
// recorded: the dedup window is read back from st, so a restarted node
// executes each commit exactly once.
func New[T any](st StateStore, m Machine[T], opts Options) (*Executor[T], error) {
	opts.EnsureDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if st == nil || m == nil {
		return nil, errors.New("shard: New needs a state store and a machine")
	}
	e := &Executor[T]{st: st, m: m, opts: opts, log: opts.Logger, win: newWindow()}
	if opts.ValueCacheSize > 0 {
		e.cache = &valueCache{base: st, max: opts.ValueCacheSize, m: make(map[string]cachedValue)}
	}
	v, ok, err := st.GetMeta(positionKey())
	if err != nil {
		return nil, fmt.Errorf("shard: read position: %w", err)
	}
	if ok {
		if e.pos, err = decodePosition(v); err != nil {
			return nil, fmt.Errorf("shard: %w", err)
		}
	}
	if ver := st.Version(); ver != e.pos.seq {
		return nil, fmt.Errorf("shard: state at version %d but the executor's position says commit %d: not a store this executor wrote", ver, e.pos.seq)
	}
	if e.pos.seq > 0 {
		g, ok, err := st.GetMeta(genesisKey())
		if err != nil {
			return nil, fmt.Errorf("shard: read genesis id: %w", err)
		}
		var have crypto.Digest
		if ok {
			if len(g) != crypto.DigestSize {
				return nil, fmt.Errorf("shard: genesis id of %d bytes: %w", len(g), ErrMalformed)
			}
			copy(have[:], g)
		}
		if have != opts.GenesisID {
			return nil, fmt.Errorf("shard: the state was started from genesis %s, the options name %s", have.Short(), opts.GenesisID.Short())
		}
	}
	for seq := max(e.pos.lowLive, 1); seq <= e.pos.seq && e.pos.seq > 0; seq++ {
		v, ok, err := st.GetMeta(windowKey(seq))
		if err != nil {
			return nil, fmt.Errorf("shard: read dedup window: %w", err)
		}
		if !ok {
			continue
		}
		rec, err := decodeWindowRecord(seq, v)
		if err != nil {
			return nil, fmt.Errorf("shard: %w", err)
		}
		e.win.add(rec)
	}
	e.log.Debug("executor resumed", "seq", e.pos.seq, "time", e.pos.time, "window", e.win.size())
	return e, nil
}

// Position returns the last executed commit and the consensus time
// execution reached.
func (e *Executor[T]) Position() (seq, time uint64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.pos.seq, e.pos.time
}

// WindowSize returns the number of digests in the dedup window.
func (e *Executor[T]) WindowSize() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.win.size()
}

// candidate is a transaction that passed the dedup and expiry checks.
type candidate struct {
	raw  int // index in Commit.Txs
	info TxInfo
}

// decoded is one transaction after Decode and Keys.
type decoded[T any] struct {
	tx   T
	info TxInfo
	keys [][]byte
	err  error
}

// Execute executes commit c, which must follow the last executed one, and
// commits its writes, receipts and records to the state store as version
// c.Seq in one atomic write. On error nothing is written and the executor
// stays at the previous commit; an error of the Machine or of the store
// will recur, so the caller should stop. ctx is checked between phases.
func (e *Executor[T]) Execute(ctx context.Context, c Commit) (*Result, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if c.Seq != e.pos.seq+1 {
		return nil, fmt.Errorf("%w: commit %d, last executed %d", ErrOutOfOrder, c.Seq, e.pos.seq)
	}
	env := Env{ChainID: e.opts.ChainID, Seq: c.Seq, Time: max(c.Time, e.pos.time)}
	res := &Result{Seq: c.Seq, Time: env.Time}
	res.Counts.Received = uint32(len(c.Txs))

	// Decode, and list declared keys, on all workers.
	t0 := time.Now()
	dec := e.decode(c.Txs)
	// Drop what cannot run, in consensus order: undecodable, expired,
	// expiring too far ahead, or seen before.
	var cands []candidate
	seen := make(map[crypto.Digest]struct{}, len(c.Txs))
	for i := range dec {
		d := &dec[i]
		switch _, dup := seen[d.info.Digest]; {
		case d.err != nil:
			res.Counts.Malformed++
		case d.info.Expiry < env.Time:
			res.Counts.Expired++
		case d.info.Expiry-env.Time > e.opts.MaxTxLifetime:
			res.Counts.TooFar++
		case dup || e.win.has(d.info.Digest):
			res.Counts.Duplicate++
		default:
			seen[d.info.Digest] = struct{}{}
			cands = append(cands, candidate{raw: i, info: d.info})
		}
	}
	t1 := time.Now()
	res.Timings.Decode = t1.Sub(t0)
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	// Verify every signature in one batch spread over VerifyWorkers. A
	// transaction whose signature does not verify changes nothing and
	// gets no receipt: nobody paid for one.
	valid := make([]bool, len(cands))
	if e.opts.skipVerify {
		for i := range valid {
			valid[i] = true
		}
	} else if len(cands) > 0 {
		items := make([]crypto.AccountSig, 0, len(cands))
		at := make([]int, 0, len(cands))
		for i := range cands {
			if e.opts.Verified != nil && e.opts.Verified.Take(cands[i].info.Digest) {
				valid[i] = true // verified before, by the same rules
				continue
			}
			items, at = append(items, cands[i].info.Sig), append(at, i)
		}
		if len(items) > 0 {
			v, _ := crypto.VerifyAccountBatch(items, e.opts.VerifyWorkers)
			for j, i := range at {
				valid[i] = v[j]
			}
		}
	}
	t2 := time.Now()
	res.Timings.Verify = t2.Sub(t1)
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	// Apply, shard by shard, over an overlay of the state.
	receipts := make([]Receipt, len(cands))
	encoded := make([][]byte, len(cands))
	var txs []T
	var idx []int
	var keys [][][]byte
	for i, cd := range cands {
		if !valid[i] {
			res.Counts.BadSignature++
			continue
		}
		d := &dec[cd.raw]
		txs, idx, keys = append(txs, d.tx), append(idx, i), append(keys, d.keys)
	}
	var base baseReader = e.st
	if e.cache != nil {
		base = e.cache
	}
	var gen *genesisLayer
	if c.Seq == 1 && e.opts.Genesis != nil {
		gen = newGenesisLayer(e.st)
		if err := e.opts.Genesis(gen); err != nil {
			return nil, fmt.Errorf("shard: genesis: %w", err)
		}
		base = genesisReader{gen}
	}
	sch := plan(txs, idx, keys, e.opts.Shards, e.opts.Workers)
	res.Keys, res.CrossShard, res.Counts.Applied = len(sch.slots), sch.cross, uint32(len(txs))
	err := sch.run(base, len(txs) < parallelMin, func(v *view, p *planned[T]) error {
		r, err := e.m.Apply(env, v, p.tx)
		if err != nil {
			return fmt.Errorf("shard: apply %s: %w", cands[p.cand].info.Digest.Short(), err)
		}
		if r == nil {
			return fmt.Errorf("shard: apply %s: the machine returned no receipt", cands[p.cand].info.Digest.Short())
		}
		receipts[p.cand] = r
		if r.Charged() {
			encoded[p.cand] = r.Encode()
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	// Keep, in consensus order, the transactions that paid for their
	// place: only they get a receipt, a window entry and a leaf in the
	// commit's roots. A transaction that paid nothing (for another chain,
	// a fee below the minimum, a wrong nonce, a sender who cannot pay)
	// changed nothing and may be ordered by a Byzantine validator at no
	// cost, so it leaves nothing behind but its count: a copy of it that
	// comes again is simply applied again, and its nonce still lets it
	// run at most once.
	kept := make([]int, 0, len(cands))
	for i := range cands {
		switch r := receipts[i]; {
		case r == nil: // bad signature, counted above
		case !r.Charged():
			res.Counts.Unpaid++
		default:
			kept = append(kept, i)
			if r.OK() {
				res.Counts.OK++
			}
		}
	}
	res.Txs = make([]crypto.Digest, len(kept))
	res.Receipts = make([]Receipt, len(kept))
	leaves := make([][]byte, len(kept))
	for j, i := range kept {
		res.Txs[j], res.Receipts[j], leaves[j] = cands[i].info.Digest, receipts[i], encoded[i]
	}
	res.Counts.Receipts = uint32(len(kept))
	res.TxRoot = MerkleRoot(digestLeaves(res.Txs))
	res.ReceiptsRoot = MerkleRoot(leaves)
	t3 := time.Now()
	res.Timings.Apply = t3.Sub(t2)
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	// One update, built in a fixed order: the genesis writes by key, the
	// commit's writes by slot (first declaration in consensus order), then
	// the records.
	upd := state.NewUpdate()
	if gen != nil {
		for _, k := range gen.sortedKeys() {
			if v := gen.vals[k]; v.present {
				upd.Set([]byte(k), v.val)
			} else {
				upd.Delete([]byte(k))
			}
		}
	}
	for i := range sch.slots {
		s := &sch.slots[i]
		if !s.dirty {
			continue
		}
		if s.present {
			upd.Set(s.key, s.val)
		} else {
			upd.Delete(s.key)
		}
	}
	rec := windowRecord{seq: c.Seq, entries: make([]windowEntry, len(kept))}
	for j, i := range kept {
		upd.SetMeta(receiptKey(cands[i].info.Digest), (&ReceiptRecord{Seq: c.Seq, Index: uint32(j), Receipt: encoded[i]}).encode())
		rec.entries[j] = windowEntry{digest: cands[i].info.Digest, expiry: cands[i].info.Expiry}
		rec.maxExpiry = max(rec.maxExpiry, cands[i].info.Expiry)
	}
	drop := e.win.expiring(env.Time)
	for _, i := range drop {
		upd.DeleteMeta(windowKey(e.win.recs[i].seq))
	}
	if len(rec.entries) > 0 {
		upd.SetMeta(windowKey(c.Seq), rec.encode())
	}
	cr := &CommitRecord{Seq: c.Seq, Time: env.Time, PrevStateRoot: e.st.Root(), TxRoot: res.TxRoot, ReceiptsRoot: res.ReceiptsRoot, Counts: res.Counts}
	upd.SetMeta(commitKey(c.Seq), cr.encode())
	if c.Seq == 1 && (e.opts.Genesis != nil || !e.opts.GenesisID.IsZero()) {
		upd.SetMeta(genesisKey(), e.opts.GenesisID[:])
	}
	pos := position{seq: c.Seq, time: env.Time, lowLive: e.win.lowLive(drop, c.Seq, len(rec.entries) > 0)}
	upd.SetMeta(positionKey(), pos.encode())
	root, err := e.st.Commit(c.Seq, upd)
	if err != nil {
		return nil, fmt.Errorf("shard: commit %d: %w", c.Seq, err)
	}
	e.win.apply(drop, rec)
	e.pos = pos
	if e.cache != nil && gen == nil {
		e.cache.update(sch.slots)
	}
	res.StateRoot = root
	res.Timings.Commit = time.Since(t3)
	return res, nil
}

// decode decodes every transaction and lists the keys of those that
// decode, on up to Options.Workers goroutines.
func (e *Executor[T]) decode(raws [][]byte) []decoded[T] {
	dec := make([]decoded[T], len(raws))
	one := func(i int) {
		d := &dec[i]
		defer func() {
			if r := recover(); r != nil {
				d.err = fmt.Errorf("shard: machine panicked decoding transaction %d: %v", i, r)
			}
		}()
		d.tx, d.info, d.err = e.m.Decode(raws[i])
		if d.err == nil {
			d.keys = e.m.Keys(d.tx)
		}
	}
	workers := e.opts.Workers
	if len(raws) < parallelMin || workers == 1 {
		for i := range raws {
			one(i)
		}
		return dec
	}
	var wg sync.WaitGroup
	per := (len(raws) + workers - 1) / workers
	for lo := 0; lo < len(raws); lo += per {
		hi := min(lo+per, len(raws))
		wg.Go(func() {
			for i := lo; i < hi; i++ {
				one(i)
			}
		})
	}
	wg.Wait()
	return dec
}
