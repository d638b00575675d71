package content

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/dagd/dagd/engine/store"

	"github.com/ipfs/go-cid"
	"golang.org/x/sync/semaphore"

	"github.com/dagd/dagd/erasure"
	"github.com/dagd/dagd/heal"
)

// GetResult says how a get went.
type GetResult struct {
	// CID names the content.
	CID cid.Cid
	// Size is the content's length in bytes.
	Size uint64
	// Chunks is the number of chunks written.
	Chunks int64
	// ShardsLocal and ShardsRemote count the shards used from this node's
	// store and fetched from other holders.
	ShardsLocal, ShardsRemote int64
	// ChunksRebuilt counts chunks that needed Reed-Solomon decoding.
	ChunksRebuilt int64
	// BadShards counts, by holder, shards that did not match the manifest
	// and were skipped.
	BadShards map[int]int
}

// Object is an object ready to be read: its manifest, checked
// against its CID and against its registration (the ledger's record, or
// else the local registry's certificate) when there is one.
type Object struct {
	// CID names the content.
	CID cid.Cid
	// Manifest describes its chunks and shards.
	Manifest *erasure.Manifest
	// Certificate is the certificate of the local registry, nil when this
	// node has none.
	Certificate *Certificate
	// Claim is what the registration says (k, n, manifest digest), from
	// the ledger when InLedger, else from Certificate; nil when this node
	// knows no registration (the manifest then came from a holder and was
	// checked against the CID only).
	Claim *Claim
	// InLedger says Claim is the executed state's record.
	InLedger bool
}

// Open finds the manifest of the object named by id: from this node's
// store when it holds shards of it, otherwise from the holders. It fails
// with ErrContentNotFound when no one has it.
func (s *Service) Open(ctx context.Context, id cid.Cid) (*Object, error) {
	ctx, done, ok := s.enter(ctx)
	if !ok {
		return nil, ErrStopped
	}
	defer done()
	return s.open(ctx, id)
}

// Get writes the content named by id to w: it fetches the manifest, then
// shards from any k holders per chunk (its own first, then data shards,
// then parity, in parallel within FetchWindow), checks each shard against
// the manifest before decoding and each chunk after, and writes only
// verified chunks, in order. A holder that serves a wrong shard is
// logged, counted and asked last from then on; the next holder's shard
// replaces it.
func (s *Service) Get(ctx context.Context, id cid.Cid, w io.Writer) (*GetResult, error) {
	ctx, done, ok := s.enter(ctx)
	if !ok {
		return nil, ErrStopped
	}
	defer done()
	obj, err := s.open(ctx, id)
	if err != nil {
		return nil, err
	}
	return s.read(ctx, obj, w)
}

// Read is Get for an object Open returned.
func (s *Service) Read(ctx context.Context, obj *Object, w io.Writer) (*GetResult, error) {
	ctx, done, ok := s.enter(ctx)
	if !ok {
		return nil, ErrStopped
	}
	defer done()
	return s.read(ctx, obj, w)
}

func (s *Service) open(ctx context.Context, id cid.Cid) (*Object, error) {
	if err := erasure.CheckCID(id); err != nil {
		return nil, err
	}
	obj := &Object{CID: id}
	if c, err := s.store.certificate(id); err == nil {
		obj.Certificate = c
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	if c, inLedger, err := s.claim(id); err == nil {
		obj.Claim, obj.InLedger = c, inLedger
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	m, err := s.findManifest(ctx, id, obj.Claim)
	if err != nil {
		return nil, err
	}
	obj.Manifest = m
	return obj, nil
}

// findManifest returns the manifest of id from the local store or from a
// holder, checked against id and the registration's claim (when not nil).
func (s *Service) findManifest(ctx context.Context, id cid.Cid, cert *Claim) (*erasure.Manifest, error) {
	fits := func(m *erasure.Manifest) bool { return cert == nil || cert.ManifestDigest == m.Digest() }
	if h, err := s.store.holding(id); err == nil {
		m, err := s.store.manifest(id, h)
		if err == nil && fits(m) {
			return m, nil
		}
		if err != nil {
			s.log.Warn("own manifest unusable", "cid", id.String(), "err", err)
			s.hs.wakeFor(id, true)
		}
	}
	// Asking holders takes per-peer request slots that repair needs too:
	// at most API.MaxContentLookups lookups ask at once, and a lookup
	// beyond is refused as busy before it asks anyone.
	release, err := s.lookupSlot()
	if err != nil {
		return nil, err
	}
	defer release()
	var candidates []int
	if cert != nil {
		candidates = heal.Holders(cert.N, s.v)
	} else {
		for i := 0; i < s.v; i++ {
			candidates = append(candidates, i)
		}
	}
	conn := s.connected()
	var first, later []int
	for _, v := range candidates {
		switch {
		case v == s.self:
		case conn[v] && !s.suspect(v):
			first = append(first, v)
		default:
			later = append(later, v)
		}
	}
	var errs []error
	for _, v := range append(first, later...) {
		m, err := s.fetchManifest(ctx, v, id)
		if err == nil && !fits(m) {
			err = fmt.Errorf("%w: manifest digest %s, registration says %s", erasure.ErrManifestMismatch, m.Digest(), cert.ManifestDigest)
		}
		if err == nil {
			return m, nil
		}
		if ctx.Err() != nil {
			return nil, context.Cause(ctx)
		}
		if errors.Is(err, erasure.ErrManifestMismatch) || errors.Is(err, erasure.ErrMalformedManifest) {
			s.log.Warn("holder served a bad manifest", "holder", v, "cid", id.String(), "err", err)
			s.scoreBad(v)
		}
		errs = append(errs, fmt.Errorf("validator %d: %w", v, err))
	}
	if cert == nil {
		return nil, fmt.Errorf("%w: %s is not registered here and no holder has its manifest (%w)", ErrContentNotFound, id, errors.Join(errs...))
	}
	return nil, fmt.Errorf("%w: no holder served the manifest of %s (%w)", ErrContentNotFound, id, errors.Join(errs...))
}

// fetchManifest asks one holder for a manifest and checks it against id.
func (s *Service) fetchManifest(ctx context.Context, v int, id cid.Cid) (*erasure.Manifest, error) {
	rid := s.nextRequestID()
	resp, err := s.request(ctx, v, rid, (&manifestRequest{ID: rid, CID: id.Bytes()}).encode())
	if err != nil {
		return nil, err
	}
	if resp.Status != statusOK {
		return nil, fmt.Errorf("%w: status %d", ErrContentNotFound, resp.Status)
	}
	return erasure.OpenManifest(id, resp.Body)
}

func (s *Service) read(ctx context.Context, obj *Object, w io.Writer) (*GetResult, error) {
	if !s.getSem.TryAcquire(1) {
		return nil, fmt.Errorf("%w: %d gets running", ErrContentBusy, s.opts.MaxConcurrentGets)
	}
	defer s.getSem.Release(1)
	src := s.newFetchSource(ctx, obj.CID, obj.Manifest)
	defer src.close()
	st, err := s.dec.Decode(src.ctx, obj.CID, obj.Manifest, src, w)
	res := &GetResult{CID: obj.CID, Size: obj.Manifest.ContentSize(), Chunks: st.Chunks, ChunksRebuilt: st.ChunksRebuilt}
	src.mu.Lock()
	res.ShardsLocal, res.ShardsRemote, res.BadShards = src.nLocal, src.nRemote, src.bad
	served := src.served
	src.mu.Unlock()
	if err == nil {
		// Every shard served and not reported bad verified: clear some
		// suspicion of the holders that served them.
		for v, n := range served {
			if v != s.self {
				s.scoreGoodN(v, n)
			}
		}
	}
	s.m.getBytes.Add(float64(st.Bytes))
	if err != nil {
		return res, fmt.Errorf("content: get %s: %w", obj.CID, err)
	}
	return res, nil
}

// errNotPlanned tells the decoder to skip a shard this source chose not
// to fetch (it has others planned); it is not a fault of any holder.
var errNotPlanned = errors.New("content: shard not planned")

// fetchSource serves shards to an erasure.Decoder: for each chunk it plans
// k shards (heal.Sources: own shards, then data, then parity, suspects
// last), fetches them ahead of the decoder within FetchWindow bytes, and
// falls back to the other shards, one by one, when planned ones fail.
type fetchSource struct {
	s      *Service
	id     cid.Cid
	idb    []byte
	m      *erasure.Manifest
	k, n   int
	ctx    context.Context
	cancel context.CancelFunc
	budget *semaphore.Weighted
	wg     sync.WaitGroup

	mu      sync.Mutex
	own     map[int]bool // shards in this node's store, believed good
	chunks  map[int]*chunkFetch
	down    map[int]bool // holders that failed to answer during this get
	nLocal  int64
	nRemote int64
	bad     map[int]int
	served  map[int]int // by holder: shards returned and not reported bad
	pruned  int         // chunks below this index are forgotten
}

type chunkFetch struct {
	plan     map[int]*future
	good     int
	returned map[int]int // shard -> holder that served it
}

type future struct {
	done   chan struct{}
	data   []byte
	err    error
	holder int
	held   int64 // budget to release
}

func (s *Service) newFetchSource(ctx context.Context, id cid.Cid, m *erasure.Manifest) *fetchSource {
	p := m.Params()
	ctx, cancel := context.WithCancel(ctx)
	src := &fetchSource{s: s, id: id, idb: id.Bytes(), m: m, k: p.DataShards, n: p.TotalShards(), ctx: ctx, cancel: cancel,
		budget: semaphore.NewWeighted(s.opts.FetchWindow), own: map[int]bool{}, chunks: map[int]*chunkFetch{},
		down: map[int]bool{}, bad: map[int]int{}, served: map[int]int{}}
	if h, err := s.store.holding(id); err == nil && h.ManifestDigest == m.Digest() {
		for _, j := range h.Shards {
			src.own[j] = true
		}
	}
	conn := s.connected()
	for v := 0; v < s.v; v++ {
		if v != s.self && !conn[v] {
			src.down[v] = true
		}
	}
	src.wg.Go(src.runPrefetch)
	return src
}

func (src *fetchSource) close() {
	src.cancel()
	src.wg.Wait()
}

// runPrefetch plans chunks in order, as far ahead as the budget allows.
func (src *fetchSource) runPrefetch() {
	for i := 0; i < src.m.NumChunks(); i++ {
		need := int64(src.k * src.m.ShardSize(i))
		if err := src.budget.Acquire(src.ctx, need); err != nil {
			return
		}
		if !src.ensure(i, need) {
			src.budget.Release(need)
		}
	}
}

// ensure plans chunk i and starts its fetches, unless it is planned
// already (then it reports false and the caller keeps its budget). held
// is the budget the caller acquired for it (0 for an on-demand plan).
func (src *fetchSource) ensure(i int, held int64) bool {
	src.mu.Lock()
	if _, ok := src.chunks[i]; ok {
		src.mu.Unlock()
		return false
	}
	order := heal.Sources(heal.Candidates{K: src.k, N: src.n, Validators: src.s.v, Self: src.s.self,
		Local:   func(j int) bool { return src.own[j] },
		Suspect: func(v int) bool { return src.down[v] || src.s.suspect(v) }})
	cf := &chunkFetch{plan: map[int]*future{}, returned: map[int]int{}}
	plan := order[:min(src.k, len(order))]
	per := int64(src.m.ShardSize(i))
	for _, j := range plan {
		f := &future{done: make(chan struct{}), holder: heal.Holder(j, src.s.v)}
		if held >= per {
			f.held, held = per, held-per
		}
		cf.plan[j] = f
	}
	src.chunks[i] = cf
	src.mu.Unlock()
	if held > 0 {
		src.budget.Release(held)
	}
	for j, f := range cf.plan {
		src.wg.Go(func() {
			f.data, f.err = src.fetch(src.ctx, i, j)
			close(f.done)
		})
	}
	return true
}

// fetch gets shard j of chunk i from this node's store or its holder.
func (src *fetchSource) fetch(ctx context.Context, i, j int) ([]byte, error) {
	s := src.s
	h := heal.Holder(j, s.v)
	if h == s.self {
		src.mu.Lock()
		own := src.own[j]
		src.mu.Unlock()
		if !own {
			return nil, fmt.Errorf("%w: own shard %d not held", errShardAbsent, j)
		}
		b, err := s.store.readShard(src.id, src.m, i, j, 0)
		if err == nil {
			src.mu.Lock()
			src.nLocal++
			src.mu.Unlock()
		}
		return b, err
	}
	if !s.isConnected(h) {
		src.mu.Lock()
		src.down[h] = true
		src.mu.Unlock()
		return nil, fmt.Errorf("%w: validator %d is not connected", errShardAbsent, h)
	}
	rid := s.nextRequestID()
	resp, err := s.request(ctx, h, rid, (&shardRequest{ID: rid, CID: src.idb, Chunk: uint32(i), Shard: uint16(j)}).encode())
	if err != nil {
		if ctx.Err() == nil {
			src.mu.Lock()
			src.down[h] = true
			src.mu.Unlock()
		}
		return nil, err
	}
	if resp.Status != statusOK {
		return nil, fmt.Errorf("%w: validator %d answered status %d: %s", errShardAbsent, h, resp.Status, truncate(string(resp.Body), 200))
	}
	src.mu.Lock()
	src.nRemote++
	src.mu.Unlock()
	return resp.Body, nil
}

// Get implements erasure.ShardSource.
func (src *fetchSource) Get(ctx context.Context, i, j int) ([]byte, error) {
	src.ensure(i, 0)
	src.mu.Lock()
	// The decoder works on a few chunks at a time, in order: chunks far
	// behind i are written, forget them.
	for keep := 4*src.s.opts.Concurrency + 16; src.pruned < i-keep; src.pruned++ {
		delete(src.chunks, src.pruned)
	}
	cf := src.chunks[i]
	f := cf.plan[j]
	if f == nil {
		remaining := 0
		for x := range cf.plan {
			if x > j {
				remaining++
			}
		}
		if remaining >= src.k-cf.good {
			src.mu.Unlock()
			return nil, errNotPlanned
		}
		src.mu.Unlock()
		data, err := src.fetch(ctx, i, j) // a fallback, on demand
		if err != nil {
			return nil, err
		}
		src.mu.Lock()
		cf.good++
		cf.returned[j] = heal.Holder(j, src.s.v)
		src.served[cf.returned[j]]++
		src.mu.Unlock()
		return data, nil
	}
	src.mu.Unlock()
	select {
	case <-f.done:
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
	src.mu.Lock()
	defer src.mu.Unlock()
	if f.held > 0 {
		src.budget.Release(f.held)
		f.held = 0
	}
	data, err := f.data, f.err
	f.data = nil // the decoder holds it now
	if err != nil {
		return nil, err
	}
	cf.good++
	cf.returned[j] = f.holder
	src.served[f.holder]++
	return data, nil
}

// ReportBadShard implements erasure.ShardReporter: a shard that did not
// verify is blamed on the holder that served it.
func (src *fetchSource) ReportBadShard(_ context.Context, se *erasure.ShardError) {
	if errors.Is(se.Err, errNotPlanned) {
		return
	}
	src.mu.Lock()
	cf := src.chunks[se.Chunk]
	holder, served := -1, false // a pruned chunk is written: nothing to blame
	if cf != nil {
		holder, served = cf.returned[se.Shard]
		if served {
			delete(cf.returned, se.Shard)
			cf.good--
		}
	}
	if served {
		src.bad[holder]++
		src.served[holder]--
		if holder == src.s.self {
			src.own[se.Shard] = false
		}
	}
	src.mu.Unlock()
	s := src.s
	switch {
	case !served:
		s.log.Debug("shard unavailable", "cid", src.id.String(), "chunk", se.Chunk, "shard", se.Shard, "err", se.Err)
	case holder == s.self:
		s.log.Warn("own shard does not match the manifest; scheduling repair", "cid", src.id.String(), "chunk", se.Chunk, "shard", se.Shard, "err", se.Err)
		s.hs.wakeFor(src.id, true)
	default:
		s.m.badShards.WithLabelValues(fmt.Sprint(holder)).Inc()
		s.scoreBad(holder)
		s.log.Warn("holder served a bad shard; skipped", "holder", holder, "cid", src.id.String(), "chunk", se.Chunk, "shard", se.Shard, "err", se.Err)
	}
}
