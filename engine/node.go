package engine

import (
	"context"
	cryptorand "crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dagd/dagd/engine/apiserver"
	"github.com/dagd/dagd/engine/client"
	"github.com/dagd/dagd/engine/content"
	"github.com/dagd/dagd/engine/execution"
	"github.com/dagd/dagd/engine/store"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/semaphore"

	"github.com/dagd/dagd/crypto"
	"github.com/dagd/dagd/dag"
	"github.com/dagd/dagd/dag/dagbls"
)

// ErrStopped is returned by calls on a node whose event loop has ended.
var ErrStopped = errors.New("engine: node stopped")

// ErrAlreadyRunning is returned by a second call to Run.
var ErrAlreadyRunning = errors.New("engine: node already running")

// maxFrameSize is the largest message the core can produce.
const maxFrameSize = dag.MaxMessageSize

// Node is one validator: the dag core, its store, its transport and its
// API, driven by one event loop (Run). Its methods are safe for concurrent
// use; the dag core inside is touched only by the loop.
type Node struct {
	opts  Options
	log   *slog.Logger
	self  dag.ValidatorID
	core  *dag.Node
	store *store.Store
	tr    Transport
	m     *metrics
	bls   *crypto.BLSCommittee
	comm  *dag.Committee
	// content is the content-addressed storage (package content, wired in
	// content_wiring.go).
	content *content.Service
	// exec runs committed transactions (package execution, wired in
	// execute.go); nil when Options.Execution.Disabled.
	exec *execution.Executor
	// admission checks client transactions before they are submitted
	// (admission.go).
	admission *admission

	apiLn  net.Listener
	apiSrv *http.Server
	api    *apiserver.Server // the HTTP and Connect API (api.go)

	submitCh chan *submitRequest
	// inbox holds decoded peer messages, per peer, served round-robin
	// (inbox.go).
	inbox *peerInbox
	// bans lists the peers whose frames are dropped unread for a while.
	bans *banList
	// verifier checks certificates as receive decodes them (preverify.go).
	verifier *preVerifier
	inflight *semaphore.Weighted
	// limits bounds the content lookups that ask other validators
	// (api.go).
	limits *lookupLimits

	subsMu  sync.Mutex
	subs    map[*Subscription]bool // value: active (sees commits prepared after it was made)
	stopped bool

	status   atomic.Pointer[client.Status]
	lastLoop atomic.Int64 // unix nanoseconds of the last loop iteration
	running  atomic.Bool
	done     chan struct{} // closed when Run has released everything
	loopDone chan struct{} // closed when the event loop stops taking work
	loopOnce sync.Once
	stopOnce sync.Once
	closeErr error

	// Loop-owned state.
	flow         *batchFlow
	ownSealed    map[crypto.Digest]time.Time
	committedTxs uint64
	lastCommitAt time.Time
}

// inboundMsg is a decoded peer message waiting for the loop.
type inboundMsg struct {
	from dag.ValidatorID
	msg  dag.Message
	size int64
}

// New opens the node's store, restores the consensus core from it, binds
// the transport and the API listener. It starts nothing: call Run. ctx
// bounds the transport's background work. If Run is never called, call
// Close to release the resources.
func New(ctx context.Context, opts Options) (_ *Node, err error) {
	if pc := opts.PacketConn; pc != nil {
		defer func() { // a transport that was built owns it
			if err != nil && opts.PacketConn != nil {
				_ = pc.Close()
			}
		}()
	}
	opts.Committee = append([]Validator(nil), opts.Committee...)
	opts.EnsureDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	bls, comm, err := BuildBLSCommittee(opts.Epoch, opts.Committee)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(opts.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("engine: data dir: %w", err)
	}
	n := &Node{
		opts: opts, log: opts.Logger.With("validator", int(opts.Self)), self: opts.Self,
		m: newMetrics(), bls: bls, comm: comm,
		submitCh:  make(chan *submitRequest, opts.SubmitQueue),
		inbox:     newPeerInbox(len(opts.Committee), opts.InboxSize, opts.InboxBytes, maxFrameSize),
		bans:      newBanList(len(opts.Committee)),
		inflight:  semaphore.NewWeighted(int64(opts.MaxInflightRequests)),
		limits:    newLookupLimits(opts.API.MaxContentLookups),
		subs:      make(map[*Subscription]bool),
		done:      make(chan struct{}),
		loopDone:  make(chan struct{}),
		ownSealed: make(map[crypto.Digest]time.Time),
		flow:      newBatchFlow(len(opts.Committee), opts.PeerBatchBytes, 10*time.Second),
	}
	if n.store, err = store.Open(opts.DataDir, opts.storeOptions(), func(string) { n.m.storeStalls.Inc() }); err != nil {
		return nil, err
	}
	n.m.evidenceStored.Set(float64(n.store.EvidenceStored()))
	ok := false
	defer func() {
		if !ok {
			n.release()
		}
	}()
	if n.content, err = newContent(n); err != nil {
		return nil, err
	}
	n.verifier = newPreVerifier(dagbls.NewVerifier(bls, cryptorand.Reader), opts.ChainID, opts.Epoch, comm)
	n.core, err = dag.NewNode(dag.Config{ChainID: opts.ChainID, Self: opts.Self, Committee: comm, Signer: dagbls.NewSigner(opts.BLSKey),
		Verifier: n.verifier, Batches: n.store, Certificates: n.store, Options: opts.DAG})
	if err != nil {
		return nil, fmt.Errorf("engine: %w", err)
	}
	recs, err := n.store.LoadDAGRecords()
	if err != nil {
		return nil, err
	}
	if err := n.core.Restore(recs); err != nil {
		return nil, fmt.Errorf("engine: restore from %s: %w", opts.DataDir, err)
	}
	st := n.core.Status()
	n.log.Info("restored", "records", len(recs), "round", st.Round, "last_committed_seq", st.LastCommittedSeq)
	if !opts.Execution.Disabled {
		if n.exec, err = newExecutor(n); err != nil {
			return nil, err
		}
	}
	n.admission = newAdmission(n)
	n.publishStatus(nil)

	peers := make([]TransportPeer, len(opts.Committee))
	for i, v := range opts.Committee {
		peers[i] = TransportPeer{ID: dag.ValidatorID(i), Addr: v.Address, PublicKey: v.NetworkKey}
	}
	pc := opts.PacketConn
	opts.PacketConn = nil // the factory owns it now, even when it fails
	n.opts.PacketConn = nil
	n.tr, err = opts.NewTransport(ctx, TransportConfig{Self: opts.Self, ListenAddr: opts.ListenAddr, PacketConn: pc, Key: opts.NetworkKey,
		Peers: peers, ChainID: opts.ChainID, MaxFrameSize: maxFrameSize, Logger: n.log.With("component", "transport")})
	if err != nil {
		return nil, fmt.Errorf("engine: transport: %w", err)
	}
	if opts.WrapTransport != nil {
		n.tr = opts.WrapTransport(n.tr)
	}
	if n.api, err = n.newAPIServer(); err != nil {
		return nil, err
	}
	if opts.APIListenAddr != "" {
		ln, err := net.Listen("tcp", opts.APIListenAddr)
		if err != nil {
			return nil, fmt.Errorf("engine: API listener: %w", err)
		}
		n.apiLn = n.api.Listener(ln)
		n.apiSrv = n.api.HTTPServer()
	}
	ok = true
	return n, nil
}

// Self returns the node's validator index.
func (n *Node) Self() dag.ValidatorID { return n.self }

// APIAddr returns the HTTP API's bound address, or "" without an API.
func (n *Node) APIAddr() string {
	if n.apiLn == nil {
		return ""
	}
	return n.apiLn.Addr().String()
}

// Done is closed once Run has returned and released the node's resources.
func (n *Node) Done() <-chan struct{} { return n.done }

// Close releases a node whose Run was never called. After Run it waits
// for Run to finish releasing.
func (n *Node) Close() error {
	if n.running.Load() {
		<-n.done
		return n.closeErr
	}
	n.release()
	return n.closeErr
}

func (n *Node) stopLoop() { n.loopOnce.Do(func() { close(n.loopDone) }) }

// release closes everything New opened, once.
func (n *Node) release() {
	n.stopLoop()
	n.stopOnce.Do(func() {
		var errs []error
		if n.apiSrv != nil {
			sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			if err := n.apiSrv.Shutdown(sctx); err != nil {
				errs = append(errs, fmt.Errorf("engine: API shutdown: %w", err))
			}
			cancel()
		} else if n.apiLn != nil {
			_ = n.apiLn.Close()
		}
		if n.tr != nil {
			if err := n.tr.Close(); err != nil {
				errs = append(errs, fmt.Errorf("engine: transport close: %w", err))
			}
		}
		n.subsMu.Lock()
		n.stopped = true
		for s := range n.subs {
			s.end(ErrStopped)
			delete(n.subs, s)
		}
		n.subsMu.Unlock()
		if n.content != nil {
			n.content.Close()
		}
		if n.exec != nil {
			if err := n.exec.Close(); err != nil {
				errs = append(errs, err)
			}
		}
		if n.store != nil {
			if err := n.store.Close(); err != nil {
				errs = append(errs, err)
			}
		}
		n.closeErr = errors.Join(errs...)
		close(n.done)
	})
}

// Run is the node's event loop. It returns nil when ctx ends, after it has
// stopped the API, closed the transport and the store and ended every
// subscription, or an error if the store fails (the node must not go on
// without durable records).
func (n *Node) Run(ctx context.Context) (err error) {
	if !n.running.CompareAndSwap(false, true) {
		return ErrAlreadyRunning
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		n.stopLoop()
		n.failPendingSubmits()
		cancel()
		if n.apiSrv != nil {
			sctx, c2 := context.WithTimeout(context.Background(), 2*time.Second)
			if err := n.apiSrv.Shutdown(sctx); err != nil {
				// A handler still writing to a reader that stopped reading
				// (a commit stream): close its connection.
				_ = n.apiSrv.Close()
			}
			c2()
		}
		_ = n.tr.Close()
		wg.Wait()
		n.failPendingSubmits() // requests queued while the API shut down
		n.release()
		if err == nil {
			err = n.closeErr
		}
	}()
	if n.apiSrv != nil {
		wg.Go(func() {
			if err := n.apiSrv.Serve(n.apiLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
				n.log.Error("API server", "err", err)
			}
		})
	}
	wg.Go(func() { n.receive(ctx) })
	if n.exec != nil {
		wg.Go(func() { n.exec.Run(ctx) })
	}
	n.content.Start(ctx)

	ticker := time.NewTicker(n.opts.TickInterval)
	defer ticker.Stop()
	n.core.Tick(nowMillis())
	if err := n.flush(); err != nil {
		return err
	}
	lastMetrics := time.Time{}
	for {
		n.lastLoop.Store(n.opts.Clock.Now().UnixNano())
		events := 0
		select {
		case <-ctx.Done():
			return nil
		case <-n.inbox.ready:
			// taken below, in turn with the submissions
		case req := <-n.submitCh:
			n.handleSubmit(req)
			events++
		case <-ticker.C:
			n.core.Tick(nowMillis())
		case err := <-n.execFailed():
			return err
		}
		// Take what else is waiting, up to a bound, before one flush: one
		// synced write covers many events.
		for events < n.opts.MaxEventsPerFlush {
			took := false
			if in, ok := n.inbox.pop(); ok {
				n.step(in)
				events++
				took = true
			}
			select {
			case req := <-n.submitCh:
				n.handleSubmit(req)
				events++
				took = true
			default:
			}
			if !took {
				break
			}
		}
		if events > 0 {
			n.m.loopEvents.Observe(float64(events))
		}
		if err := n.flush(); err != nil {
			return err
		}
		if now := time.Now(); now.Sub(lastMetrics) >= 250*time.Millisecond {
			lastMetrics = now
			n.publishStatus(n.tr.Connected())
			n.m.unacked.Set(float64(n.flow.outstanding()))
			if err := n.store.CompactBatches(); err != nil {
				n.log.Error("batch log compaction failed; stopping", "err", err)
				return err
			}
		}
	}
}

func nowMillis() dag.Time { return dag.Time(time.Now().UnixMilli()) }

// receive decodes frames from the transport and queues them for the loop,
// bounded in count and in bytes.
func (n *Node) receive(ctx context.Context) {
	for {
		f, err := n.tr.Receive(ctx)
		if err != nil {
			if ctx.Err() == nil && !errors.Is(err, ErrTransportClosed) {
				n.log.Warn("transport receive", "err", err)
			}
			return
		}
		if int(f.From) >= n.comm.Size() || f.From == n.self {
			n.m.rejected.WithLabelValues("unknown", "unknown_validator").Inc()
			n.log.Debug("rejected frame", "from", int(f.From), "reason", "sender is not a peer of the committee")
			continue
		}
		if n.bans.banned(f.From, time.Now()) {
			// Cheapest first: a peer that proved itself faulty is not
			// even decoded until its ban ends.
			n.m.rejected.WithLabelValues("unknown", "banned").Inc()
			continue
		}
		if content.IsFrame(f.Frame) {
			n.content.Deliver(f.From, f.Frame)
			continue
		}
		if _, canPause := n.tr.(PeerPauser); !canPause {
			// No per-peer pause: wait for room instead of dropping.
			if err := n.inbox.waitRoom(ctx, f.From, int64(len(f.Frame))); err != nil {
				return
			}
		} else if n.inbox.over(f.From, int64(len(f.Frame)), 2) {
			// Cheap before expensive: past twice its share of the inbox,
			// a peer's frames are not even decoded.
			n.m.rejected.WithLabelValues("unknown", "peer_queue_full").Inc()
			n.slowDown(f.From)
			continue
		}
		msg, err := dag.DecodeMessage(f.Frame)
		if err != nil {
			kind := "unknown"
			if len(f.Frame) > 0 && dag.Kind(f.Frame[0]).Valid() {
				kind = dag.Kind(f.Frame[0]).String()
			}
			n.m.rejected.WithLabelValues(kind, "malformed").Inc()
			n.log.Debug("rejected message", "from", int(f.From), "kind", kind, "bytes", len(f.Frame), "reason", err)
			continue
		}
		n.m.messagesIn.WithLabelValues(msg.Kind().String()).Inc()
		if err := n.verifier.precheck(f.From, msg); errors.Is(err, errOverBudget) {
			n.m.rejected.WithLabelValues(msg.Kind().String(), "check_budget").Inc()
			n.log.Debug("rejected message", "from", int(f.From), "kind", msg.Kind().String(), "reason", err)
			continue
		} else if err != nil {
			// Honest validators broadcast only certificates that verify.
			// The core still refuses it, with its reason, at no cost.
			n.banPeer(f.From, msg.Kind(), err)
		}
		ok, full := n.inbox.push(inboundMsg{from: f.From, msg: msg, size: int64(len(f.Frame))})
		if !ok {
			n.m.rejected.WithLabelValues(msg.Kind().String(), "peer_queue_full").Inc()
			n.log.Debug("rejected message", "from", int(f.From), "kind", msg.Kind().String(),
				"reason", "the peer's share of the inbox is full")
		}
		if full {
			n.slowDown(f.From)
		}
	}
}

// peerSlowDown is how long a peer past its share of the inbox is not read
// (per-peer back-pressure: QUIC flow control then slows its sending).
const peerSlowDown = 20 * time.Millisecond

// slowDown pauses reading peer for peerSlowDown, if the transport can.
func (n *Node) slowDown(peer dag.ValidatorID) {
	if p, ok := n.tr.(PeerPauser); ok && !n.bans.banned(peer, time.Now()) {
		p.Pause(peer, time.Now().Add(peerSlowDown))
	}
}

// banPeer drops peer's frames for Options.PeerBanDuration.
func (n *Node) banPeer(peer dag.ValidatorID, kind dag.Kind, reason error) {
	if n.opts.PeerBanDuration < 0 {
		return
	}
	now := time.Now()
	n.bans.ban(peer, now, n.opts.PeerBanDuration)
	if p, ok := n.tr.(PeerPauser); ok {
		// Not even read: the peer's link stalls until the ban ends.
		p.Pause(peer, now.Add(n.opts.PeerBanDuration))
	}
	n.m.rejected.WithLabelValues(kind.String(), "peer_banned").Inc()
	n.log.Warn("peer misbehaved; dropping its frames", "peer", int(peer), "kind", kind.String(),
		"for", n.opts.PeerBanDuration, "reason", reason)
}

func (n *Node) step(in inboundMsg) {
	if a, ok := in.msg.(*dag.BatchAck); ok {
		n.flow.acked(in.from, a.Digest)
	}
	// A refused message is also listed in Ready.Rejected, logged at flush.
	_ = n.core.Step(in.from, in.msg)
}

// flush handles the core's output: persist, then send, then deliver.
func (n *Node) flush() error {
	rd := n.core.Ready()
	if rd.IsEmpty() {
		return nil
	}
	now := time.Now()
	// Read what the commits need before writing: a batch stored in this
	// Ready is found in it, one deleted by it is still in the store.
	var fresh map[string][]byte
	var sealed []sealedBatch
	for _, r := range rd.Persist {
		if r.Delete || !dag.IsBatchKey(r.Key) {
			continue
		}
		if fresh == nil {
			fresh = make(map[string][]byte)
		}
		fresh[string(r.Key)] = r.Value
		if bh, err := dag.PeekBatch(r.Value); err == nil && bh.Author == n.self {
			d, _ := dag.ParseBatchKey(r.Key)
			n.ownSealed[d] = now
			sealed = append(sealed, sealedBatch{digest: d, size: len(r.Value)})
		}
	}
	var index []*store.CommitIndex
	var deliveries []builtCommit
	if len(rd.Committed) > 0 {
		modes := n.subscriptionModes()
		for _, sub := range rd.Committed {
			ci, commits, err := n.prepareCommit(sub, fresh, modes)
			if err != nil {
				return err
			}
			index = append(index, ci)
			deliveries = append(deliveries, commits)
		}
	}
	if n.exec != nil {
		// Copy the batches this write deletes that commits not executed
		// yet still need (execution.Executor.Hold).
		if err := n.exec.Hold(rd.Persist, index); err != nil {
			n.log.Error("persist failed; stopping", "err", err)
			return err
		}
	}
	if len(rd.Persist) > 0 || len(index) > 0 || len(rd.Evidence) > 0 {
		start := time.Now()
		// Evidence is persisted with the Ready that reported it, once per
		// slot and capped (store.Options.MaxEvidence), for GET /v1/evidence
		// and, later, slashing (issue 14).
		nb, err := n.store.Write(rd.Persist, index, rd.Evidence)
		if err != nil {
			n.log.Error("persist failed; stopping", "err", err)
			return err
		}
		if n.exec != nil && len(index) > 0 {
			n.exec.Committed(index[len(index)-1].Seq)
		}
		if len(rd.Evidence) > 0 {
			n.m.evidenceStored.Set(float64(n.store.EvidenceStored()))
			d := n.store.EvidenceDropped()
			n.m.evidenceDropped.Add(float64(d - n.m.evidenceDropSeen))
			n.m.evidenceDropSeen = d
		}
		n.m.persistLatency.Observe(time.Since(start).Seconds())
		n.m.persistBytes.Add(float64(nb))
	}
	// Persist is durable: the core may hand out its next Ready.
	n.core.Advance()
	n.send(rd.Messages, sealed)
	for _, r := range rd.Rejected {
		n.m.rejected.WithLabelValues(r.Kind.String(), reasonClass(r.Reason)).Inc()
		n.log.Debug("rejected message", "from", int(r.From), "kind", r.Kind.String(), "reason", r.Reason)
	}
	for _, mb := range rd.Misbehaving {
		n.banPeer(mb.Peer, mb.Kind, mb.Reason)
	}
	for _, ev := range rd.Evidence {
		n.m.evidence.Inc()
		n.log.Warn("equivocation", "author", int(ev.First.Author), "round", ev.First.Round,
			"first", ev.First.Digest().Short(), "second", ev.Second.Digest().Short())
	}
	for i, ci := range index {
		n.observeCommit(ci, now)
		n.deliver(ci, deliveries[i])
	}
	if len(index) > 0 {
		n.publishStatus(nil)
		n.api.NotifyCommits() // after the status: woken streams see the new seq
	}
	return nil
}

// sealedBatch is an own batch persisted in the Ready being flushed.
type sealedBatch struct {
	digest crypto.Digest
	size   int
}

// send hands the core's messages to the transport, encoding each once.
// sealed lists the own batches the same Ready persisted, in order: the
// core broadcasts each right after sealing it, so their digests need not
// be computed again.
func (n *Node) send(msgs []dag.Outbound, sealed []sealedBatch) {
	now := time.Now()
	for _, o := range msgs {
		frame := dag.EncodeMessage(o.Msg)
		kind := o.Msg.Kind().String()
		var own bool
		var d crypto.Digest
		if b, ok := o.Msg.(*dag.Batch); ok && b.Author == n.self {
			own = true
			if o.Broadcast && len(sealed) > 0 && sealed[0].size == len(frame)-1 {
				d, sealed = sealed[0].digest, sealed[1:]
			} else {
				d = dag.BatchDigest(frame[1:]) // a re-send
			}
		}
		for i := 0; i < n.comm.Size(); i++ {
			to := dag.ValidatorID(i)
			if to == n.self || (!o.Broadcast && to != o.To) {
				continue
			}
			if own && !n.flow.allow(to, d, int64(len(frame)), now) {
				n.m.sendDeferred.Inc()
				continue
			}
			n.sendOne(to, frame, kind)
		}
	}
}

func (n *Node) sendOne(to dag.ValidatorID, frame []byte, kind string) {
	if err := n.tr.Send(to, frame); err != nil {
		n.m.sendDropped.WithLabelValues(kind).Inc()
		n.log.Debug("send dropped", "to", int(to), "kind", kind, "err", err)
		return
	}
	n.m.messagesOut.WithLabelValues(kind).Inc()
}

// observeCommit updates metrics for a commit about to be delivered.
func (n *Node) observeCommit(ci *store.CommitIndex, now time.Time) {
	n.m.commits.Inc()
	n.m.committedCerts.Add(float64(ci.Certs))
	n.m.committedBatches.Add(float64(len(ci.Batches)))
	txs := ci.TxCount()
	n.m.committedTxs.Add(float64(txs))
	n.committedTxs += uint64(txs)
	n.lastCommitAt = now
	if lat := now.UnixMilli() - int64(ci.Timestamp); lat >= 0 {
		n.m.commitLatency.Observe(float64(lat) / 1000)
	}
	for _, b := range ci.Batches {
		if b.Author != n.self {
			continue
		}
		if t, ok := n.ownSealed[b.Digest]; ok {
			n.m.batchLatency.Observe(now.Sub(t).Seconds())
			delete(n.ownSealed, b.Digest)
		}
	}
	// Own batches that never commit (dropped by a restart, say) must not
	// pile up.
	if len(n.ownSealed) > 100_000 {
		clear(n.ownSealed)
	}
}

// publishStatus stores a snapshot for other goroutines and updates the
// gauges. connected nil keeps the last known peers.
func (n *Node) publishStatus(connected []dag.ValidatorID) {
	st := n.core.Status()
	s := &client.Status{
		ChainID: n.opts.ChainID, Validator: int(n.self), CommitteeSize: n.comm.Size(), Round: st.Round, LastCommittedRound: st.LastCommittedRound,
		LastCommittedSeq: st.LastCommittedSeq, CommitDigest: st.CommitDigest.String(), CommittedTxs: n.committedTxs,
		LastCommitAt: n.lastCommitAt, PendingCerts: st.PendingCerts, PendingCommits: st.PendingCommits, ReproposedBatches: st.ReproposedBatches,
		WorkerLoad: st.WorkerLoad, SubmitQueue: len(n.submitCh), InboxQueue: n.inbox.len(),
		RequestedBatches: st.RequestedBatches, PeersBanned: n.bans.count.Load(),
	}
	if connected == nil {
		if old := n.status.Load(); old != nil {
			s.PeersConnected, s.QuorumConnected = old.PeersConnected, old.QuorumConnected
		}
	} else {
		stake := n.comm.Stake(n.self)
		for _, p := range connected {
			if p != n.self {
				stake += n.comm.Stake(p)
				s.PeersConnected++
			}
		}
		s.QuorumConnected = stake >= n.comm.QuorumThreshold()
	}
	n.status.Store(s)
	n.m.round.Set(float64(s.Round))
	n.m.lastCommittedRound.Set(float64(s.LastCommittedRound))
	n.m.lastCommittedSeq.Set(float64(s.LastCommittedSeq))
	n.m.peersConnected.Set(float64(s.PeersConnected))
	n.m.queueDepth.WithLabelValues("submit").Set(float64(s.SubmitQueue))
	n.m.queueDepth.WithLabelValues("inbox").Set(float64(s.InboxQueue))
	n.m.queueDepth.WithLabelValues("worker").Set(float64(s.WorkerLoad))
	n.m.queueDepth.WithLabelValues("pending_certs").Set(float64(s.PendingCerts))
	n.m.queueDepth.WithLabelValues("pending_commits").Set(float64(s.PendingCommits))
	n.m.queueDepth.WithLabelValues("requested_batches").Set(float64(s.RequestedBatches))
	if d := s.ReproposedBatches - n.m.reproposedSeen; s.ReproposedBatches > n.m.reproposedSeen {
		n.m.reproposed.Add(float64(d))
		n.m.reproposedSeen = s.ReproposedBatches
	}
}

// Status returns the latest snapshot of the node's progress.
func (n *Node) Status() client.Status {
	s := *n.status.Load()
	if n.exec != nil {
		fillExecStatus(n.exec, &s)
	}
	return s
}

// execFailed returns the channel on which the executor reports the error
// that stops the node (nil, which never yields, without execution).
func (n *Node) execFailed() <-chan error {
	if n.exec == nil {
		return nil
	}
	return n.exec.Failed()
}

// Ready reports whether the node is connected to a quorum and committing:
// its last commit is at most Options.ReadyWindow old.
func (n *Node) Ready() (bool, string) {
	s := n.Status()
	switch {
	case !s.QuorumConnected:
		return false, fmt.Sprintf("connected to %d of %d peers: no quorum", s.PeersConnected, s.CommitteeSize-1)
	case s.LastCommitAt.IsZero():
		return false, "no commit yet"
	case time.Since(s.LastCommitAt) > n.opts.ReadyWindow:
		return false, fmt.Sprintf("last commit %s ago", time.Since(s.LastCommitAt).Round(time.Millisecond))
	}
	return true, "ready"
}

// Registry returns the node's Prometheus registry (served on /metrics).
func (n *Node) Registry() *prometheus.Registry { return n.m.reg }
