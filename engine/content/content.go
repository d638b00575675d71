package content

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/semaphore"

	"github.com/dagd/dagd/crypto"
	"github.com/dagd/dagd/dag"
	"github.com/dagd/dagd/engine/client"
	"github.com/dagd/dagd/engine/client/contentpay"
	"github.com/dagd/dagd/erasure"
	"github.com/dagd/dagd/heal"
	"github.com/dagd/dagd/netquic"
	"github.com/prometheus/client_golang/prometheus"
)

// Errors of the content service.
var (
	// ErrContentNotFound: no holder has the object (no certificate, no
	// manifest anywhere).
	ErrContentNotFound = client.ErrContentNotFound
	// ErrContentBusy: too many puts or gets are running on this node.
	ErrContentBusy = client.ErrContentBusy
	// ErrNoQuorum: a put could not collect signatures of a quorum of
	// stake; nothing was registered.
	ErrNoQuorum = client.ErrNoQuorum
	// ErrContentParams: coding parameters a put asked for that this
	// network cannot use.
	ErrContentParams = contentpay.ErrParams
	// ErrStopped: the service is closing or closed.
	ErrStopped = errors.New("content: node stopped")
)

// maxFrameSize is the largest frame the transport carries.
const maxFrameSize = dag.MaxMessageSize

// Service is a node's content-addressed storage: the uploader side
// of puts (content_put.go), the holder side of uploads (content_recv.go),
// retrieval (content_get.go), the audit and repair loop (content_heal.go),
// the registration in the ledger and the local registry
// (content_ledger.go, content_registry.go); the HTTP endpoints are the
// engine's. It runs beside the consensus event loop, never inside it:
// content frames are routed to it (Deliver) by the node's receive path
// before the consensus decoder sees them, and the QUIC transport carries
// them on its bulk stream.
//
// Where shards live (contentStore, bench/storage.md): shard bodies are
// large immutable blobs, kept in files (one per object and shard index)
// that reach their names only by the rename of a synced file; what the node
// holds, and against which manifest it verified it, is recorded in pebble,
// written after the files and trusted over the directory listing at
// restart. Pebble would write each shard several times (WAL, memtable,
// sstables, compactions) in the database whose synced writes carry the
// consensus records; files write at 2-3x its rate.
type Service struct {
	cfg   Config
	comm  Committee
	clock Clock
	opts  Options
	log   *slog.Logger
	self  int
	v     int
	store *contentStore
	m     *contentMetrics
	dec   *erasure.Decoder

	lanes []*contentLane
	// windows bound the shard bytes sent to each holder and not yet
	// acknowledged, over all puts (UploadWindow).
	windows []*peerWindow
	// slots bound the requests in flight to each peer, below what its
	// request lane holds (maxRequestsInFlight < serve lane capacity), so
	// that an honest node's requests are never dropped.
	slots []*semaphore.Weighted

	reqSeq  atomic.Uint64
	waitMu  sync.Mutex
	waiters map[uint64]*waiter

	upMu    sync.Mutex
	uploads map[uint64]*upload

	sessMu   sync.Mutex
	sessions map[sessionKey]*recvSession

	scoreMu sync.Mutex
	scores  *heal.Scores

	putSem, getSem *semaphore.Weighted

	// quota: stored bytes of the paid puts running, per payer
	// (Options.MaxAccountUploadBytes); an entry per running put at
	// most.
	quotaMu sync.Mutex
	quota   map[crypto.AccountPublicKey]int64

	// life guards the start and the end of the service.
	life    sync.Mutex
	ctx     context.Context
	cancel  context.CancelFunc
	closed  bool
	started bool
	wg      sync.WaitGroup

	hs     *healState
	ledger *ledgerView
}

// contentLane holds the content frames of one peer waiting for the
// service: uploads (begin, push, commit, abort) in order on one goroutine,
// and requests (shard, manifest, registry, register) on another, so that a
// big upload never delays a read. Both are bounded: uploads by bytes,
// requests by count; beyond, frames are dropped.
type contentLane struct {
	peer        int
	upload      chan []byte
	uploadBytes atomic.Int64
	uploadLimit int64
	serve       chan []byte
}

// Bounds of the request path: a node has at most maxRequestsInFlight
// requests outstanding at one peer, and a peer's request lane holds
// serveLaneLen of them.
const (
	maxRequestsInFlight = 128
	serveLaneLen        = 512
	// maxServeFrame bounds a frame on the request lane (requests are a
	// few dozen bytes, a register frame one certificate), so that the
	// lane holds at most serveLaneLen*maxServeFrame bytes.
	maxServeFrame = 1 + maxCertificateSize
)

// peerWindow is the upload window of one holder, shared by every put:
// the shard bytes sent to it and not acknowledged.
type peerWindow struct {
	mu       sync.Mutex
	out      int64
	progress time.Time     // of the last acknowledgement
	changed  chan struct{} // closed (and replaced) when out decreases
}

// release returns n bytes to the window; ack says the holder
// acknowledged them (it is alive).
func (w *peerWindow) release(n int64, ack bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if ack {
		w.progress = time.Now()
	}
	if n <= 0 {
		return
	}
	w.out = max(w.out-n, 0)
	close(w.changed)
	w.changed = make(chan struct{})
}

// waiter is a request waiting for its fetch response.
type waiter struct {
	peer int
	ch   chan []byte
}

// New opens the service's shard store and builds the service; Start
// launches it. cfg.Options must have their defaults (EnsureDefaults) and
// be valid; a nil Logger discards, a nil Registerer is a registry of the
// service's own.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Committee == nil || cfg.Sender == nil || cfg.Submitter == nil || cfg.Clock == nil || cfg.BLSKey == nil {
		return nil, errors.New("content: Config needs a Store, Committee, Sender, Submitter, Clock and BLSKey")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Registerer == nil {
		cfg.Registerer = prometheus.NewRegistry()
	}
	o := cfg.Options
	v := cfg.Committee.Size()
	log := cfg.Logger.With("component", "content")
	dec, err := erasure.NewDecoder(&erasure.Options{Concurrency: o.Concurrency})
	if err != nil {
		return nil, fmt.Errorf("content: %w", err)
	}
	dir := o.Dir
	if dir == "" {
		dir = filepath.Join(cfg.DataDir, "content")
	}
	st, err := openContentStore(cfg.Store, dir, cfg.NoSync, cfg.Clock, log)
	if err != nil {
		return nil, err
	}
	s := &Service{
		cfg: cfg, comm: cfg.Committee, clock: cfg.Clock, opts: o, log: log, self: cfg.Self, v: v, store: st,
		m: newContentMetrics(cfg.Registerer), dec: dec,
		waiters: make(map[uint64]*waiter), uploads: make(map[uint64]*upload), sessions: make(map[sessionKey]*recvSession),
		scores: heal.NewScores(v),
		quota:  map[crypto.AccountPublicKey]int64{},
		putSem: semaphore.NewWeighted(int64(o.MaxConcurrentPuts)), getSem: semaphore.NewWeighted(int64(o.MaxConcurrentGets)),
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	frame := int64(maxFrameSize)
	for i := 0; i < v; i++ {
		s.lanes = append(s.lanes, &contentLane{peer: i, upload: make(chan []byte, 4096), serve: make(chan []byte, serveLaneLen),
			uploadLimit: int64(o.MaxUploadsPerPeer) * (o.UploadWindow + frame)})
		s.slots = append(s.slots, semaphore.NewWeighted(maxRequestsInFlight))
		s.windows = append(s.windows, &peerWindow{changed: make(chan struct{}), progress: time.Now()})
	}
	hs, err := newHealState(s)
	if err != nil {
		return nil, err
	}
	s.hs = hs
	s.ledger = newLedgerView(s)
	s.reqSeq.Store(uint64(time.Now().UnixNano()))
	return s, nil
}

// Start launches the service's goroutines; they end when ctx ends or the
// service closes.
func (s *Service) Start(ctx context.Context) {
	s.life.Lock()
	defer s.life.Unlock()
	if s.closed || s.started {
		return
	}
	s.started = true
	stop := context.AfterFunc(ctx, s.cancel)
	s.wg.Go(func() {
		<-s.ctx.Done()
		stop()
	})
	for i, l := range s.lanes {
		if i == s.self {
			continue
		}
		s.wg.Go(func() { s.runUploadLane(l) })
		s.wg.Go(func() { s.runServeLane(l) })
	}
	s.wg.Go(s.runJanitor)
	s.wg.Go(s.runHeal)
	s.wg.Go(s.runRegistrar)
	switch {
	case s.state() == nil:
		s.log.Warn("content: this node does not execute transactions; it registers and audits content from its local registry only")
	case s.cfg.AccountKey == nil:
		s.log.Warn("content: no account key; content put through this node stays in the local registry (other nodes' registrations in the ledger are audited)")
	default:
		s.log.Info("content: registrations go to the ledger", "account", s.cfg.AccountKey.Public().String())
	}
}

// Close stops the service and waits for everything it runs, including
// API requests in flight (they see their context cancelled).
func (s *Service) Close() {
	s.life.Lock()
	s.closed = true
	s.life.Unlock()
	s.cancel()
	s.wg.Wait()
	s.sessMu.Lock()
	for k, ss := range s.sessions {
		ss.discard()
		delete(s.sessions, k)
	}
	s.sessMu.Unlock()
}

// enter registers an operation (an API request, a put, a get) that must
// end before the store closes. It returns a context that ends with ctx or
// with the service, and the function to call when done; ok is false when
// the service is closing.
func (s *Service) enter(ctx context.Context) (context.Context, func(), bool) {
	s.life.Lock()
	defer s.life.Unlock()
	if s.closed {
		return nil, nil, false
	}
	s.wg.Add(1)
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(s.ctx, cancel)
	return ctx, func() {
		stop()
		cancel()
		s.wg.Done()
	}, true
}

// Deliver takes a content frame from the receive goroutine. It never
// blocks: replies go to their waiters, other frames to the peer's lanes,
// and a frame that does not fit is dropped.
func (s *Service) Deliver(from dag.ValidatorID, f []byte) {
	p := int(from)
	if p < 0 || p >= len(s.lanes) || p == s.self {
		return
	}
	l := s.lanes[p]
	switch f[0] {
	case kindUploadAck, kindUploadResult, kindFetchResponse:
		s.dispatchReply(p, f)
	case kindUploadBegin, kindShardPush, kindUploadCommit, kindUploadAbort:
		size := int64(len(f))
		if l.uploadBytes.Add(size) > l.uploadLimit {
			l.uploadBytes.Add(-size)
			s.drop("upload_lane_full", p, f)
			return
		}
		select {
		case l.upload <- f:
		default:
			l.uploadBytes.Add(-size)
			s.drop("upload_lane_full", p, f)
		}
	case kindShardRequest, kindManifestRequest, kindRegistryRequest, kindRegister:
		if len(f) > maxServeFrame {
			s.drop("oversize", p, f)
			return
		}
		select {
		case l.serve <- f:
		default:
			s.drop("serve_lane_full", p, f)
		}
	default:
		s.drop("unknown_kind", p, f)
	}
}

func (s *Service) drop(reason string, from int, f []byte) {
	s.m.framesDropped.WithLabelValues(reason).Inc()
	kind := "empty"
	if len(f) > 0 {
		kind = contentKindName(f[0])
	}
	s.log.Debug("content frame dropped", "from", from, "kind", kind, "bytes", len(f), "reason", reason)
}

func (s *Service) runUploadLane(l *contentLane) {
	for {
		select {
		case f := <-l.upload:
			l.uploadBytes.Add(-int64(len(f)))
			s.handleUploadFrame(l.peer, f)
		case <-s.ctx.Done():
			return
		}
	}
}

func (s *Service) runServeLane(l *contentLane) {
	for {
		select {
		case f := <-l.serve:
			s.handleServeFrame(l.peer, f)
		case <-s.ctx.Done():
			return
		}
	}
}

// dispatchReply hands an acknowledgement, an upload result or a fetch
// response to whoever waits for it, if it came from the peer asked.
func (s *Service) dispatchReply(from int, f []byte) {
	if len(f) < 9 {
		s.drop("malformed", from, f)
		return
	}
	id := binary.BigEndian.Uint64(f[1:9])
	switch f[0] {
	case kindUploadAck, kindUploadResult:
		msg, err := decodeContentFrame(f)
		if err != nil {
			s.drop("malformed", from, f)
			return
		}
		s.upMu.Lock()
		u := s.uploads[id]
		s.upMu.Unlock()
		if u == nil {
			s.drop("no_upload", from, f)
			return
		}
		switch m := msg.(type) {
		case *uploadAck:
			u.onAck(from, m.Bytes)
		case *uploadResult:
			u.onResult(from, m)
		}
	case kindFetchResponse:
		s.waitMu.Lock()
		w := s.waiters[id]
		s.waitMu.Unlock()
		if w == nil || w.peer != from {
			s.drop("unexpected_response", from, f)
			return
		}
		select {
		case w.ch <- f:
		default:
			s.drop("duplicate_response", from, f)
		}
	}
}

// isQueueFull reports a transport refusal that waiting may cure.
func isQueueFull(err error) bool {
	return errors.Is(err, netquic.ErrQueueFull)
}

// send hands a frame to the transport. When the peer's queue is full it
// tries again, backing off, until deadline (zero: do not wait) or ctx ends.
func (s *Service) send(ctx context.Context, to int, frame []byte, deadline time.Time) error {
	wait := time.Millisecond
	for {
		err := s.cfg.Sender.Send(dag.ValidatorID(to), frame)
		if err == nil || !isQueueFull(err) || deadline.IsZero() || time.Now().After(deadline) {
			if err != nil {
				return fmt.Errorf("content: send %s to %d: %w", contentKindName(frame[0]), to, err)
			}
			return nil
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return context.Cause(ctx)
		case <-t.C:
		}
		wait = min(2*wait, 20*time.Millisecond)
	}
}

// request sends a request frame with id to a peer and waits for its fetch
// response, at most FetchTimeout.
func (s *Service) request(ctx context.Context, to int, id uint64, frame []byte) (*fetchResponse, error) {
	if to < 0 || to >= len(s.slots) || to == s.self {
		return nil, fmt.Errorf("content: no peer %d to ask", to)
	}
	if !s.isConnected(to) {
		return nil, fmt.Errorf("content: validator %d is not connected", to)
	}
	if err := s.slots[to].Acquire(ctx, 1); err != nil {
		return nil, context.Cause(ctx)
	}
	defer s.slots[to].Release(1)
	w := &waiter{peer: to, ch: make(chan []byte, 1)}
	s.waitMu.Lock()
	s.waiters[id] = w
	s.waitMu.Unlock()
	defer func() {
		s.waitMu.Lock()
		delete(s.waiters, id)
		s.waitMu.Unlock()
	}()
	deadline := time.Now().Add(s.opts.FetchTimeout)
	if err := s.send(ctx, to, frame, deadline); err != nil {
		return nil, err
	}
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case f := <-w.ch:
		msg, err := decodeContentFrame(f)
		if err != nil {
			return nil, fmt.Errorf("content: response of validator %d: %w", to, err)
		}
		return msg.(*fetchResponse), nil
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	case <-t.C:
		return nil, fmt.Errorf("content: validator %d did not answer within %v", to, s.opts.FetchTimeout)
	}
}

func (s *Service) nextRequestID() uint64 { return s.reqSeq.Add(1) }

// connected returns the peers the transport reaches now.
func (s *Service) connected() map[int]bool {
	out := make(map[int]bool)
	for _, p := range s.cfg.Sender.Connected() {
		out[int(p)] = true
	}
	return out
}

// isConnected reports whether the transport reaches peer v now.
func (s *Service) isConnected(v int) bool {
	for _, p := range s.cfg.Sender.Connected() {
		if int(p) == v {
			return true
		}
	}
	return false
}

// defaultShards returns the k and n of a put that does not choose: the
// options', or f+1 and the committee size (at least 2), where f is the
// largest number of validators whose stake stays below the validity
// threshold (a third).
func (s *Service) defaultShards() (k, n int) {
	k, n = s.opts.DataShards, s.opts.TotalShards
	if n == 0 {
		n = max(s.v, 2, k+1)
	}
	if k == 0 {
		c := s.comm
		stakes := make([]uint64, s.v)
		for i := range stakes {
			stakes[i] = c.Stake(i)
		}
		slices.Sort(stakes)
		var sum uint64
		f := 0
		for _, st := range stakes {
			if sum+st >= c.ValidityStake() {
				break
			}
			sum += st
			f++
		}
		k = min(f+1, n-1)
	}
	return k, n
}

// holderStake returns the stake of the validators that hold shards of an
// object with n shards.
func (s *Service) holderStake(n int) uint64 {
	var st uint64
	for _, i := range heal.Holders(n, s.v) {
		st += s.comm.Stake(i)
	}
	return st
}

// checkShardBounds refuses a coding that would store too much per content
// byte: n/k above contracts.MaxContentExpansion, or n above
// contracts.MaxShardsPerValidator shards per validator of the committee
// (the bounds the ledger registers under, contentpay.CheckShards). Errors
// wrap ErrContentParams.
func (s *Service) checkShardBounds(p erasure.Params) error {
	return contentpay.CheckShards(p.DataShards, p.TotalShards(), s.v)
}

// maxChunksFor bounds the chunks of an object with n shards: the
// manifest must fit in one frame, and the options bound the size.
func (s *Service) maxChunksFor(p erasure.Params) int {
	perChunk := erasure.HashSize * (p.TotalShards() + 1)
	byFrame := (maxFrameSize - 1024) / perChunk
	bySize := int((s.opts.MaxContentSize + int64(p.ChunkSize) - 1) / int64(p.ChunkSize))
	return max(1, min(byFrame, bySize, erasure.MaxChunks))
}

// scoreBad and scoreGood record what a holder served.
func (s *Service) scoreBad(v int) {
	s.scoreMu.Lock()
	s.scores.Bad(v)
	s.scoreMu.Unlock()
}

func (s *Service) scoreGood(v int) {
	s.scoreMu.Lock()
	s.scores.Good(v)
	s.scoreMu.Unlock()
}

func (s *Service) scoreGoodN(v, n int) {
	s.scoreMu.Lock()
	for range min(n, 4*heal.Penalty) {
		s.scores.Good(v)
	}
	s.scoreMu.Unlock()
}

func (s *Service) suspect(v int) bool {
	s.scoreMu.Lock()
	defer s.scoreMu.Unlock()
	return s.scores.Suspect(v)
}
