package content

import (
	"context"
	cryptorand "crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/dagd/dagd/contracts"
	"github.com/dagd/dagd/crypto"
	"github.com/dagd/dagd/engine/client"
	"github.com/dagd/dagd/erasure"
	"github.com/dagd/dagd/heal"
)

// PutOptions choose the coding of one put. Zero fields take the node's
// Options (and, there, the committee's defaults).
type PutOptions struct {
	// K is the number of shards that rebuild a chunk.
	K int
	// N is the number of shards of each chunk; shard j goes to validator
	// j mod committee size.
	N int
	// Payment, when set, is the payer's signed transaction of a
	// contracts.RegisterContent for this content (see content_pay.go): its
	// k and n replace K and N, and the node checks it before reading r,
	// stores only the content it names, attaches the certificate and
	// submits it. Without it, this node's account registers and pays for
	// the content (for Options.Retention). The transaction's
	// witness fields are overwritten.
	Payment *contracts.Tx
}

// PutResult says what a put stored and who vouches for it.
type PutResult struct {
	// CID names the content.
	CID cid.Cid
	// Size is the content's length in bytes.
	Size uint64
	// Chunks is the number of chunks.
	Chunks int
	// ChunkSize, K and N are the coding parameters.
	ChunkSize, K, N int
	// ManifestDigest is the BLAKE3 hash of the manifest.
	ManifestDigest erasure.Hash
	// Certificate is the availability certificate of the local registry.
	Certificate *Certificate
	// Registration says how the ledger records the content: registered
	// already, pending (this node submitted or will submit its
	// RegisterContent transaction; client.ContentStat follows it), or not at all,
	// and why (the certificate then stays in the local registry).
	Registration *client.ContentRegistration
	// Unconfirmed lists the holders that did not sign this put (down,
	// slow, or refusing); their shards are rebuilt by their own audits.
	Unconfirmed []int
	// AlreadyRegistered says the CID was registered before this put; the
	// certificate is the earlier one. (A CID names the manifest, so the
	// same content with other k and n is another object.)
	AlreadyRegistered bool
}

// Put reads content from r (size bytes, or erasure.UnknownSize to
// read until EOF), codes it, sends each holder its shards, collects their
// signatures on the availability statement and registers the certificate.
// Memory stays bounded whatever the size: the encoder holds a few chunks,
// and each holder's unacknowledged shards are bounded by UploadWindow.
//
// A truncated or overlong body, a reader error, too few holders reachable
// or signing: the put fails, nothing is registered, and what holders
// staged is dropped (or, once stored but never certified, deleted after
// UncertifiedTTL).
func (s *Service) Put(ctx context.Context, r io.Reader, size int64, o PutOptions) (*PutResult, error) {
	return s.put(ctx, r, size, o)
}

// upload is the uploader's side of one put.
type upload struct {
	s         *Service
	id        uint64
	params    erasure.Params
	maxChunks int
	pay       *payment // nil: this node pays
	local     *recvSession
	peers     map[int]*upPeer

	mu       sync.Mutex
	results  map[int]*uploadResult
	resultCh chan struct{}

	// Time spent in the sink (one goroutine at a time): waiting for
	// holders' windows, writing own shards, building and sending frames.
	waited, wrote, sent time.Duration
}

// upPeer is one remote holder of a put.
type upPeer struct {
	v      int
	stake  uint64
	signal chan struct{}

	mu     sync.Mutex
	sent   uint64
	acked  uint64
	pushed uint32
	failed error
}

func (p *upPeer) notify() {
	select {
	case p.signal <- struct{}{}:
	default:
	}
}

func (p *upPeer) err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.failed
}

func (s *Service) put(ctx context.Context, r io.Reader, size int64, o PutOptions) (*PutResult, error) {
	ctx, done, ok := s.enter(ctx)
	if !ok {
		return nil, ErrStopped
	}
	defer done()
	var pay *payment
	if o.Payment != nil {
		// Authorization first: an unpaid or unpayable put takes no slot.
		var err error
		if pay, err = s.authorize(o.Payment, size); err != nil {
			return nil, err
		}
		defer pay.release()
		o.K, o.N = int(pay.op.K), int(pay.op.N)
	}
	if !s.putSem.TryAcquire(1) {
		return nil, fmt.Errorf("%w: %d puts running", ErrContentBusy, s.opts.MaxConcurrentPuts)
	}
	defer s.putSem.Release(1)

	k, n := s.defaultShards()
	if o.N != 0 {
		n = o.N
		if o.K == 0 {
			k = min(k, n-1)
		}
	}
	if o.K != 0 {
		k = o.K
	}
	p := erasure.Params{ChunkSize: s.opts.ChunkSize, DataShards: k, ParityShards: n - k}
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("%w: k=%d n=%d: %w", ErrContentParams, k, n, err)
	}
	if err := s.checkShardBounds(p); err != nil {
		return nil, err
	}
	if st, q := s.holderStake(n), s.comm.QuorumStake(); st < q {
		return nil, fmt.Errorf("%w: n=%d shards reach validators of stake %d, a certificate needs %d", ErrContentParams, n, st, q)
	}
	maxChunks := s.maxChunksFor(p)
	if size > s.opts.MaxContentSize {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", erasure.ErrTooLong, size, s.opts.MaxContentSize)
	}
	if size >= 0 {
		need := int((size + int64(p.ChunkSize) - 1) / int64(p.ChunkSize))
		if need > maxChunks {
			return nil, fmt.Errorf("%w: %d bytes make %d chunks, at n=%d an object has at most %d", erasure.ErrTooLong, size, need, n, maxChunks)
		}
		maxChunks = need
	}

	var idb [8]byte
	if _, err := cryptorand.Read(idb[:]); err != nil {
		return nil, fmt.Errorf("content: upload id: %w", err)
	}
	u := &upload{s: s, id: binary.BigEndian.Uint64(idb[:]), params: p, maxChunks: maxChunks, pay: pay, peers: make(map[int]*upPeer),
		results: make(map[int]*uploadResult), resultCh: make(chan struct{}, 1)}
	s.upMu.Lock()
	s.uploads[u.id] = u
	s.upMu.Unlock()
	defer func() {
		s.upMu.Lock()
		delete(s.uploads, u.id)
		s.upMu.Unlock()
		if u.local != nil {
			s.closeSession(u.local)
		}
		u.release()
	}()

	connected := s.connected()
	begin := (&uploadBegin{ID: u.id, ChunkSize: uint32(p.ChunkSize), K: uint16(k), N: uint16(n), MaxChunks: uint32(maxChunks)}).encode()
	for _, h := range heal.Holders(n, s.v) {
		if h == s.self {
			ss, err := s.openSession(s.self, u.id, p, maxChunks, true)
			if err != nil {
				return nil, err
			}
			u.local = ss
			continue
		}
		up := &upPeer{v: h, stake: s.comm.Stake(h), signal: make(chan struct{}, 1)}
		u.peers[h] = up
		if !connected[h] {
			up.failed = errors.New("not connected")
			continue
		}
		if err := s.send(ctx, h, begin, time.Now().Add(s.opts.StallTimeout)); err != nil {
			up.failed = err
		}
	}
	if err := u.checkQuorum(); err != nil {
		u.abortAll()
		return nil, err
	}

	enc, err := erasure.NewEncoder(&erasure.Options{ChunkSize: p.ChunkSize, DataShards: p.DataShards, ParityShards: p.ParityShards, Concurrency: s.opts.Concurrency})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrContentParams, err)
	}
	encStart := time.Now()
	id, man, err := enc.Encode(ctx, r, size, u)
	s.log.Debug("put: encoded and sent", "took", time.Since(encStart), "window_wait", u.waited, "own_writes", u.wrote, "sends", u.sent)
	if err != nil {
		u.abortAll()
		return nil, fmt.Errorf("content: put: %w", err)
	}
	if pay != nil {
		if err := pay.matches(id.Bytes(), man.ContentSize(), p.DataShards, p.TotalShards(), crypto.Digest(man.Digest())); err != nil {
			u.abortAll()
			return nil, err
		}
	}
	res, err := u.commit(ctx, id, man)
	if err != nil {
		return nil, err
	}
	s.m.putBytes.Add(float64(man.ContentSize()))
	return res, nil
}

// Put implements erasure.ShardSink: the uploader's own shards are staged
// locally, the others sent to their holders within each one's window.
func (u *upload) Put(ctx context.Context, chunk, shard int, data []byte) error {
	if chunk >= u.maxChunks {
		return fmt.Errorf("%w: more than %d chunks", erasure.ErrTooLong, u.maxChunks)
	}
	h := heal.Holder(shard, u.s.v)
	t0 := time.Now()
	if h == u.s.self {
		err := u.local.write(chunk, shard, data)
		u.wrote += time.Since(t0)
		return err
	}
	p := u.peers[h]
	if p == nil || p.err() != nil {
		return nil
	}
	err := u.waitWindow(ctx, p, int64(len(data)))
	t1 := time.Now()
	u.waited += t1.Sub(t0)
	defer func() { u.sent += time.Since(t1) }()
	if err != nil {
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		u.fail(p, err)
		return u.checkQuorum()
	}
	frame := appendShardPush(make([]byte, 0, shardPushHeader+len(data)), u.id, uint32(chunk), uint16(shard), data)
	if err := u.s.send(ctx, h, frame, time.Now().Add(u.s.opts.StallTimeout)); err != nil {
		u.s.windows[h].release(int64(len(data)), false)
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		u.fail(p, err)
		return u.checkQuorum()
	}
	p.mu.Lock()
	p.sent += uint64(len(data))
	p.pushed++
	p.mu.Unlock()
	return nil
}

// waitWindow reserves size bytes of the holder's window (UploadWindow,
// shared by every put to it), waiting while it is full, and fails when the
// holder acknowledges nothing for StallTimeout.
func (u *upload) waitWindow(ctx context.Context, p *upPeer, size int64) error {
	w := u.s.windows[p.v]
	for {
		if err := p.err(); err != nil {
			return err
		}
		w.mu.Lock()
		if w.out+size <= u.s.opts.UploadWindow || w.out == 0 {
			if w.out == 0 {
				w.progress = time.Now() // the stall clock starts with the first byte out
			}
			w.out += size
			w.mu.Unlock()
			return nil
		}
		changed := w.changed
		wait := time.Until(w.progress.Add(u.s.opts.StallTimeout))
		w.mu.Unlock()
		if wait <= 0 {
			return fmt.Errorf("acknowledged nothing for %v", u.s.opts.StallTimeout)
		}
		t := time.NewTimer(wait)
		select {
		case <-changed:
		case <-p.signal: // this put gave up on the holder
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return context.Cause(ctx)
		}
		t.Stop()
	}
}

// release gives back what this put still holds of every holder's window:
// bytes sent and not acknowledged (the put is over, acknowledged or not).
func (u *upload) release() {
	for _, p := range u.peers {
		p.mu.Lock()
		rest := int64(p.sent - p.acked)
		p.acked = p.sent
		p.mu.Unlock()
		u.s.windows[p.v].release(rest, false)
	}
}

// fail leaves a holder out of the rest of the put.
func (u *upload) fail(p *upPeer, err error) {
	p.mu.Lock()
	first := p.failed == nil
	if first {
		p.failed = err
	}
	p.mu.Unlock()
	p.notify()
	if first {
		u.s.log.Warn("holder left out of put", "holder", p.v, "upload", fmt.Sprintf("%016x", u.id), "err", err)
		u.s.reply(p.v, &uploadAbort{ID: u.id})
	}
}

// checkQuorum fails when the holders still in the put cannot make a
// quorum of stake.
func (u *upload) checkQuorum() error {
	var st uint64
	if u.local != nil {
		st += u.s.comm.Stake(u.s.self)
	}
	var out []string
	for _, p := range u.peers {
		if err := p.err(); err != nil {
			out = append(out, fmt.Sprintf("%d (%v)", p.v, err))
			continue
		}
		st += p.stake
	}
	if q := u.s.comm.QuorumStake(); st < q {
		sort.Strings(out)
		return fmt.Errorf("%w: holders still reachable hold stake %d of the %d needed; lost: %s", ErrNoQuorum, st, q, strings.Join(out, ", "))
	}
	return nil
}

func (u *upload) abortAll() {
	for _, p := range u.peers {
		if p.err() == nil {
			u.s.reply(p.v, &uploadAbort{ID: u.id})
		}
	}
}

func (u *upload) onAck(from int, processed uint64) {
	p := u.peers[from]
	if p == nil {
		return
	}
	p.mu.Lock()
	var freed uint64
	if processed > p.acked {
		next := min(processed, p.sent)
		freed, p.acked = next-p.acked, next
	}
	p.mu.Unlock()
	u.s.windows[from].release(int64(freed), true)
}

func (u *upload) onResult(from int, r *uploadResult) {
	p := u.peers[from]
	if p == nil {
		return
	}
	u.mu.Lock()
	if _, ok := u.results[from]; !ok {
		u.results[from] = r
	}
	u.mu.Unlock()
	if r.Status != statusOK {
		u.fail(p, fmt.Errorf("refused: %s", r.Reason))
	}
	p.notify()
	select {
	case u.resultCh <- struct{}{}:
	default:
	}
}

// commit sends each holder the manifest, stores the uploader's own shards,
// collects and checks the signatures, and registers the certificate.
func (u *upload) commit(ctx context.Context, id cid.Cid, m *erasure.Manifest) (*PutResult, error) {
	s := u.s
	p := m.Params()
	res := &PutResult{CID: id, Size: m.ContentSize(), Chunks: m.NumChunks(), ChunkSize: p.ChunkSize, K: p.DataShards,
		N: p.TotalShards(), ManifestDigest: m.Digest()}
	commitStart := time.Now()
	mb := m.Encode()
	deadline := time.Now().Add(s.opts.CommitTimeout)
	waiting := map[int]bool{}
	for _, pr := range u.peers {
		if pr.err() != nil {
			continue
		}
		pr.mu.Lock()
		pushed := pr.pushed
		pr.mu.Unlock()
		frame := (&uploadCommit{ID: u.id, Pushed: pushed, CID: id.Bytes(), Manifest: mb}).encode()
		if err := s.send(ctx, pr.v, frame, deadline); err != nil {
			u.fail(pr, err)
			continue
		}
		waiting[pr.v] = true
	}
	stmt := AvailabilityStatement(s.cfg.ChainID, s.cfg.Epoch, id, m.ContentSize(), p.DataShards, p.TotalShards(), m.Digest())
	sigs := map[int][]byte{}
	var stake uint64
	if u.local != nil {
		sig, err := s.storeSession(u.local, id, m, u.local.pushedCount())
		if err != nil {
			u.abortAll()
			return nil, fmt.Errorf("content: put: own shards: %w", err)
		}
		sigs[s.self] = sig
		stake += s.comm.Stake(s.self)
	}
	quorum := s.comm.QuorumStake()
	const grace = time.Second
	for len(waiting) > 0 {
		u.mu.Lock()
		for v := range waiting {
			r, ok := u.results[v]
			if !ok {
				continue
			}
			delete(waiting, v)
			if r.Status != statusOK {
				continue
			}
			if err := s.comm.Verify(v, stmt, r.Signature); err != nil {
				s.log.Warn("holder's signature does not verify", "holder", v, "cid", id.String(), "err", err)
				s.scoreBad(v)
				continue
			}
			sigs[v] = r.Signature
			stake += s.comm.Stake(v)
		}
		u.mu.Unlock()
		if len(waiting) == 0 {
			break
		}
		if stake >= quorum && time.Until(deadline) > grace {
			deadline = time.Now().Add(grace) // enough signed: wait a little for the rest
		}
		wait := time.Until(deadline)
		if wait <= 0 {
			break
		}
		t := time.NewTimer(wait)
		select {
		case <-u.resultCh:
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, context.Cause(ctx)
		}
		t.Stop()
	}
	for _, h := range heal.Holders(p.TotalShards(), s.v) {
		if _, ok := sigs[h]; !ok {
			res.Unconfirmed = append(res.Unconfirmed, h)
		}
	}
	if stake < quorum {
		var why []string
		for _, h := range res.Unconfirmed {
			reason := "no answer"
			if pr := u.peers[h]; pr != nil && pr.err() != nil {
				reason = pr.err().Error()
			}
			why = append(why, fmt.Sprintf("%d: %s", h, reason))
		}
		return nil, fmt.Errorf("%w: signers hold stake %d of the %d needed (%s)", ErrNoQuorum, stake, quorum, strings.Join(why, "; "))
	}
	signers := crypto.NewBitmap(s.v)
	idx := make([]int, 0, len(sigs))
	for v := range sigs {
		idx = append(idx, v)
	}
	slices.Sort(idx)
	list := make([][]byte, 0, len(idx))
	for _, v := range idx {
		signers.Set(v)
		list = append(list, sigs[v])
	}
	agg, err := crypto.AggregateBLSSignatures(list)
	if err != nil {
		return nil, fmt.Errorf("content: put: aggregate: %w", err)
	}
	cert := &Certificate{Claim: Claim{CID: id, Size: m.ContentSize(), K: p.DataShards, N: p.TotalShards(), ManifestDigest: m.Digest()},
		Epoch: s.cfg.Epoch, Signers: signers, Signature: agg}
	if err := cert.Verify(s.comm, s.cfg.ChainID, s.cfg.Epoch); err != nil {
		return nil, fmt.Errorf("content: put: own certificate: %w", err)
	}
	reg, fresh, err := s.store.putCertificate(cert)
	if err != nil {
		return nil, err
	}
	if fresh {
		s.m.registered.Inc()
		s.hs.notify(reg)
		s.announce(reg)
	} else {
		res.AlreadyRegistered = true
		s.announce(reg) // peers that missed it learn it now
	}
	res.Certificate = reg
	if u.pay != nil {
		res.Registration = s.submitPaid(u.pay, reg)
	} else {
		res.Registration = s.ledger.enqueue(reg)
	}
	s.log.Debug("put: committed", "took", time.Since(commitStart))
	s.log.Info("put", "cid", id.String(), "size", m.ContentSize(), "chunks", m.NumChunks(), "k", p.DataShards, "n", p.TotalShards(),
		"signers", idx, "unconfirmed", res.Unconfirmed)
	return res, nil
}
