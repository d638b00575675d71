package content

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/dagd/dagd/engine/store"

	"github.com/ipfs/go-cid"

	"github.com/dagd/dagd/erasure"
	"github.com/dagd/dagd/heal"
)

// healState is the engine side of package heal: every AuditInterval a node
// lists the registered objects it should hold shards of (the ledger's
// registrations it executed, and the certificates of its local registry;
// see content_ledger.go) and schedules an audit of each (heal.Scheduler:
// bounded concurrency, backoff on failure).
// An audit reads every own shard and checks it against the manifest
// (heal.Audit); missing or corrupt shards are rebuilt from k shards of
// other holders (heal.Sources picks them, erasure's Reconstruct rebuilds and
// verifies) and written again. An object this node never received (it was
// down during the put) is adopted: its manifest fetched from a holder and
// checked against the registration, then every shard rebuilt. The same pass
// pulls a page of another validator's registry, and deletes objects stored
// without a registration for longer than UncertifiedTTL.
//
// An object whose shards were verified less than half an AuditInterval ago
// (they were just stored, each checked against the manifest, or just
// audited) is not read again when a registration schedules it: only a
// forced audit (a get found an own shard bad) or the next pass reads it.
type healState struct {
	s    *Service
	wake chan struct{}

	mu      sync.Mutex
	sched   *heal.Scheduler
	objects map[string]objHealth
	// forced are the objects whose next audit must read every shard,
	// however recently they were verified.
	forced map[string]bool
	cursor []byte
	peer   int
	// pulling says a registry pull is under way.
	pulling bool
}

// objHealth is what the last audit of an object found.
type objHealth struct {
	good, missing int
}

func newHealState(s *Service) (*healState, error) {
	sched, err := heal.NewScheduler(&heal.Options{Concurrency: s.opts.RepairConcurrency,
		BackoffMin: s.opts.RepairBackoffMin, BackoffMax: s.opts.RepairBackoffMax})
	if err != nil {
		return nil, fmt.Errorf("content: %w", err)
	}
	return &healState{s: s, wake: make(chan struct{}, 1), sched: sched, objects: map[string]objHealth{},
		forced: map[string]bool{}, peer: s.self}, nil
}

func (h *healState) poke() {
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

// notify schedules an audit of a newly registered object this node
// should hold shards of.
func (h *healState) notify(c *Certificate) {
	if len(heal.ShardsOf(h.s.self, c.N, h.s.v)) == 0 {
		return
	}
	h.wakeFor(c.CID, false)
}

// wakeFor schedules an audit of an object now; force makes it read every
// shard even if they were verified recently.
func (h *healState) wakeFor(id cid.Cid, force bool) {
	h.mu.Lock()
	h.sched.Add(id.KeyString(), h.s.clock.Now())
	if force {
		h.forced[id.KeyString()] = true
	}
	h.mu.Unlock()
	h.poke()
}

// runHeal is the audit loop.
func (s *Service) runHeal() {
	h := s.hs
	clock := s.clock
	nextPass := clock.Now().Add(s.opts.AuditInterval)
	timer := clock.After(s.opts.AuditInterval)
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-timer:
		case <-h.wake:
		}
		now := clock.Now()
		if !now.Before(nextPass) {
			s.auditPass(s.ctx)
			nextPass = clock.Now().Add(s.opts.AuditInterval)
		}
		h.mu.Lock()
		for {
			key, ok := h.sched.Next(clock.Now())
			if !ok {
				break
			}
			s.wg.Go(func() {
				err := s.healObject(s.ctx, key)
				h.mu.Lock()
				h.sched.Done(key, err, clock.Now())
				h.mu.Unlock()
				h.poke()
			})
		}
		next := nextPass
		if at, ok := h.sched.NextDue(); ok && at.Before(next) {
			next = at
		}
		h.mu.Unlock()
		timer = clock.After(max(next.Sub(clock.Now()), time.Millisecond))
	}
}

// auditPass pulls a registry page from a peer, schedules an audit of every
// registered object this node holds shards of, and deletes uncertified
// objects past their time.
func (s *Service) auditPass(ctx context.Context) {
	h := s.hs
	conn := s.connected()
	h.mu.Lock()
	peer, cursor, pulling := h.peer, h.cursor, h.pulling
	h.pulling = true
	h.mu.Unlock()
	for range s.v {
		peer = (peer + 1) % s.v
		if peer != s.self && conn[peer] {
			break
		}
	}
	switch {
	case pulling:
		// The previous pass's pull is still waiting for its peer.
	case peer != s.self && conn[peer]:
		// On its own goroutine: a peer slow to answer (up to FetchTimeout)
		// must not hold back the audits.
		s.wg.Go(func() {
			next, err := s.pullRegistry(ctx, peer, cursor, 256)
			if err != nil {
				s.log.Debug("registry pull", "peer", peer, "err", err)
			}
			h.mu.Lock()
			h.pulling = false
			h.cursor = next
			if next == nil {
				h.peer = peer // the next pass asks the next peer, from the start
			} else {
				h.peer = (peer + s.v - 1) % s.v // continue with this one
			}
			h.mu.Unlock()
		})
	default:
		h.mu.Lock()
		h.pulling = false
		h.mu.Unlock()
	}
	now := s.clock.Now()
	seen := map[string]bool{}
	schedule := func(idb []byte, n int) {
		key := string(idb)
		if seen[key] {
			return
		}
		seen[key] = true
		if s.holdsAt(n) {
			h.mu.Lock()
			h.sched.Add(key, now)
			h.mu.Unlock()
		}
	}
	// The ledger's registrations first: they are the source of truth.
	// Content whose paid retention is over is collected, not audited.
	var expired []cid.Cid
	err := s.store.scan(store.LedgerPrefix, nil, 0, func(idb, v []byte) bool {
		rec, err := decodeLedgerRec(v)
		if err != nil {
			s.log.Error("content index entry unreadable", "err", err)
			return true
		}
		if id, err := cid.Cast(bytes.Clone(idb)); err == nil {
			if _, err := s.ledger.record(id); errors.Is(err, ErrExpired) {
				expired = append(expired, id)
				return true
			}
		}
		schedule(idb, rec.N)
		return true
	})
	for _, id := range expired {
		s.collect(id)
	}
	if err != nil {
		s.log.Error("audit pass", "err", err)
	}
	// Then the local registry: content the ledger does not record (yet, or
	// ever, when registration is not possible).
	err = s.store.scan(store.CertPrefix, nil, 0, func(idb, v []byte) bool {
		c, err := DecodeCertificate(v)
		if err != nil {
			s.log.Error("registry entry unreadable", "err", err)
			return true
		}
		schedule(idb, c.N)
		return true
	})
	if err != nil {
		s.log.Error("audit pass", "err", err)
	}
	registered := len(seen)
	s.m.objectsHeld.Set(float64(registered))
	var stale []cid.Cid
	_ = s.store.scan(store.HoldingPrefix, nil, 0, func(idb, v []byte) bool {
		rec, err := decodeHoldingRec(v)
		if err != nil || now.Sub(rec.StoredAt) < s.opts.UncertifiedTTL {
			return true
		}
		id, err := cid.Cast(idb)
		if err != nil {
			return true
		}
		if _, _, err := s.claim(id); errors.Is(err, store.ErrNotFound) {
			stale = append(stale, id)
		}
		return true
	})
	for _, id := range stale {
		s.log.Info("deleting shards of an object never certified nor registered", "cid", id.String(), "ttl", s.opts.UncertifiedTTL)
		if err := s.store.remove(id); err != nil {
			s.log.Error("delete uncertified object", "cid", id.String(), "err", err)
		}
		h.forget(id.KeyString())
	}
}

// collect deletes everything this node keeps of content whose paid
// retention is over: its shards, its local certificate, its index entry
// and this node's registration record. A new registration of the CID
// (RegisterContent after expiry) is indexed again when it executes.
func (s *Service) collect(id cid.Cid) {
	s.log.Info("collecting content whose paid retention is over", "cid", id.String())
	if err := s.store.remove(id); err != nil {
		s.log.Error("collect expired content", "cid", id.String(), "err", err)
		return
	}
	for _, prefix := range []string{store.CertPrefix, store.LedgerPrefix, store.RegPrefix} {
		if err := s.store.kv.Del(store.ContentKey(prefix, id.Bytes()), false); err != nil {
			s.log.Error("collect expired content", "cid", id.String(), "err", err)
		}
	}
	s.m.collected.Inc()
	s.hs.forget(id.KeyString())
}

func (h *healState) forget(key string) {
	h.mu.Lock()
	delete(h.objects, key)
	h.mu.Unlock()
	h.publish()
}

func (h *healState) record(key string, o objHealth) {
	h.mu.Lock()
	h.objects[key] = o
	h.mu.Unlock()
	h.publish()
}

func (h *healState) publish() {
	h.mu.Lock()
	var good, missing int
	for _, o := range h.objects {
		good += o.good
		missing += o.missing
	}
	h.mu.Unlock()
	h.s.m.shardsHeld.Set(float64(good))
	h.s.m.shardsMissing.Set(float64(missing))
}

// healObject audits this node's shards of one registered object and
// repairs what is missing or corrupt.
func (s *Service) healObject(ctx context.Context, key string) (err error) {
	defer func() {
		if err != nil && ctx.Err() == nil {
			s.m.repairFailures.Inc()
			s.log.Warn("repair failed; will retry", "cid", cidString(key), "err", err)
		}
	}()
	id, err := cid.Cast([]byte(key))
	if err != nil {
		return nil // not a CID: nothing to do
	}
	h := s.hs
	h.mu.Lock()
	forced := h.forced[key]
	delete(h.forced, key)
	h.mu.Unlock()
	claim, fromLedger, err := s.claim(id)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	shards := heal.ShardsOf(s.self, claim.N, s.v)
	if len(shards) == 0 {
		return nil
	}
	start := time.Now()
	var m *erasure.Manifest
	if rec, err := s.store.holding(id); err == nil {
		if !forced && rec.ManifestDigest == claim.ManifestDigest && slices.Equal(rec.Shards, shards) &&
			s.clock.Now().Sub(rec.VerifiedAt) < s.opts.AuditInterval/2 {
			// Verified moments ago (stored or audited): the next pass
			// reads it.
			if mm, err := s.store.manifest(id, rec); err == nil {
				s.hs.record(key, objHealth{good: mm.NumChunks() * len(shards)})
				return nil
			}
		}
		if mm, err := s.store.loadManifest(id, rec); err == nil && mm.Digest() == claim.ManifestDigest {
			m = mm
		} else if err != nil {
			s.log.Warn("own manifest unusable; fetching it again", "cid", id.String(), "err", err)
		}
	}
	if m == nil {
		if m, err = s.findRemoteManifest(ctx, id, claim); err != nil {
			return err
		}
		if _, err := s.store.adopt(id, m, shards); err != nil {
			return err
		}
		s.log.Info("adopted object to repair", "cid", id.String(), "shards", shards, "registered_in_ledger", fromLedger)
	}
	s.m.audits.Inc()
	rep, err := heal.Audit(m, shards, func(i, j int) ([]byte, error) {
		return s.store.readShard(id, m, i, j, 0)
	}, ctx.Err)
	if err != nil {
		return err
	}
	s.hs.record(key, objHealth{good: rep.Good, missing: len(rep.Findings)})
	if len(rep.Findings) == 0 {
		s.store.markVerified(id, m.Digest(), s.clock.Now())
		return nil
	}
	s.log.Info("audit found damage", "cid", id.String(), "missing", rep.Missing(), "corrupt", rep.Corrupt())
	repaired, left := 0, len(rep.Findings)
	var errs []error
	rp := s.store.beginRepair(id, m)
	defer rp.abort()
	for _, cd := range rep.Chunks() {
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		out, err := s.repairChunk(ctx, id, m, shards, cd)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for ref, data := range out {
			if err := rp.write(ref, data); err != nil {
				return err
			}
		}
		repaired += len(out)
		left -= len(out)
	}
	if err := rp.commit(); err != nil {
		return err
	}
	s.m.shardsRepaired.Add(float64(repaired))
	if left == 0 {
		s.store.markVerified(id, m.Digest(), s.clock.Now())
	}
	s.hs.record(key, objHealth{good: rep.Good + repaired, missing: left})
	s.m.repairSeconds.Observe(time.Since(start).Seconds())
	s.log.Info("repaired", "cid", id.String(), "shards", repaired, "left", left, "took", time.Since(start).Round(time.Millisecond))
	if len(errs) > 0 {
		return fmt.Errorf("content: repair %s: %d shards left: %w", id, left, errors.Join(errs[:min(len(errs), 3)]...))
	}
	return nil
}

func cidString(key string) string {
	if id, err := cid.Cast([]byte(key)); err == nil {
		return id.String()
	}
	return fmt.Sprintf("%x", key)
}

// findRemoteManifest fetches an object's manifest from its holders,
// checked against the registration.
func (s *Service) findRemoteManifest(ctx context.Context, id cid.Cid, cert *Claim) (*erasure.Manifest, error) {
	var errs []error
	for _, v := range heal.Holders(cert.N, s.v) {
		if v == s.self {
			continue
		}
		m, err := s.fetchManifest(ctx, v, id)
		if err == nil && m.Digest() != cert.ManifestDigest {
			err = fmt.Errorf("%w: digest %s, registration says %s", erasure.ErrManifestMismatch, m.Digest(), cert.ManifestDigest)
			s.scoreBad(v)
		}
		if err == nil {
			return m, nil
		}
		if ctx.Err() != nil {
			return nil, context.Cause(ctx)
		}
		errs = append(errs, fmt.Errorf("validator %d: %w", v, err))
	}
	return nil, fmt.Errorf("%w: manifest of %s: %w", ErrContentNotFound, id, errors.Join(errs...))
}

// repairChunk rebuilds this node's damaged shards of one chunk from k
// verified shards: its own good ones first, then the other holders'.
func (s *Service) repairChunk(ctx context.Context, id cid.Cid, m *erasure.Manifest, own []int, cd heal.ChunkDamage) (map[heal.ShardRef][]byte, error) {
	p := m.Params()
	k, n := p.DataShards, p.TotalShards()
	i := cd.Chunk
	order := heal.Sources(heal.Candidates{K: k, N: n, Validators: s.v, Self: s.self,
		Local:   func(j int) bool { return containsInt(own, j) && !containsInt(cd.Shards, j) },
		Suspect: s.suspect, Exclude: cd.Shards})
	shards := make([][]byte, n)
	good := 0
	idb := id.Bytes()
	var errs []error
	for len(order) > 0 && good < k {
		batch := order[:min(k-good, len(order))]
		order = order[len(batch):]
		type got struct {
			j    int
			data []byte
			err  error
		}
		results := make(chan got, len(batch))
		for _, j := range batch {
			go func() {
				h := heal.Holder(j, s.v)
				if h == s.self {
					b, err := s.store.readShard(id, m, i, j, 0)
					results <- got{j, b, err}
					return
				}
				rid := s.nextRequestID()
				resp, err := s.request(ctx, h, rid, (&shardRequest{ID: rid, CID: idb, Chunk: uint32(i), Shard: uint16(j)}).encode())
				if err == nil && resp.Status != statusOK {
					err = fmt.Errorf("%w: status %d", errShardAbsent, resp.Status)
				}
				if err != nil {
					results <- got{j, nil, err}
					return
				}
				results <- got{j, resp.Body, nil}
			}()
		}
		for range batch {
			r := <-results
			h := heal.Holder(r.j, s.v)
			if r.err == nil {
				r.err = erasure.VerifyShard(m, i, r.j, r.data)
				if r.err != nil && h != s.self {
					s.scoreBad(h)
					s.m.badShards.WithLabelValues(fmt.Sprint(h)).Inc()
					s.log.Warn("holder served a bad shard for a repair; skipped", "holder", h, "cid", id.String(), "chunk", i, "shard", r.j, "err", r.err)
				}
			}
			if r.err != nil {
				errs = append(errs, fmt.Errorf("shard %d from validator %d: %w", r.j, h, r.err))
				continue
			}
			if h != s.self {
				s.scoreGood(h)
			}
			shards[r.j] = r.data
			good++
		}
	}
	if good < k {
		return nil, fmt.Errorf("chunk %d: %d of %d shards fetched: %w", i, good, k, errors.Join(errs...))
	}
	if _, err := s.dec.Reconstruct(m, i, shards); err != nil {
		return nil, fmt.Errorf("chunk %d: %w", i, err)
	}
	out := make(map[heal.ShardRef][]byte, len(cd.Shards))
	for _, j := range cd.Shards {
		out[heal.ShardRef{Chunk: i, Shard: j}] = shards[j]
	}
	return out, nil
}
