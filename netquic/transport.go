package netquic

import (
	"context"
	"crypto/ed25519"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/quic-go/quic-go"
)

// Sizes of the stream buffers. Writes are batched in the write buffer and
// flushed when the send queue runs dry; frames larger than a buffer bypass
// it.
const (
	writeBufferSize = 64 << 10
	readBufferSize  = 64 << 10
)

// Transport is a node's QUIC endpoint: one UDP socket, an outgoing
// connection to every other committee member and the connections they
// open to it. All methods are safe for concurrent use.
type Transport struct {
	opts    Options
	log     *slog.Logger
	self    PeerID
	selfKey ed25519.PublicKey
	peers   map[PeerID]*peer
	order   []*peer           // peers sorted by ID
	byKey   map[string]PeerID // committee keys other than this node's

	udp     net.PacketConn
	qt      *quic.Transport
	ln      *quic.Listener
	drops   *dropRecorder
	inbox   *inbox
	pending chan struct{} // one token per inbound handshake in progress
	limiter logLimiter

	ctx       context.Context // ends when the transport closes
	cancel    context.CancelFunc
	stopAfter func() bool // stops closing on the cancellation of New's ctx
	wg        sync.WaitGroup
	closeOnce sync.Once
	closeErr  error

	mu      sync.Mutex
	closing bool
	conns   map[*quic.Conn]struct{} // every open connection, for Close
	inbound map[PeerID]*quic.Conn   // the authenticated inbound connection of each peer

	rejectedHandshakes atomic.Uint64
	rejectedFrames     atomic.Uint64
	droppedDatagrams   atomic.Uint64
	queueFull          atomic.Uint64
	dialFailures       atomic.Uint64
}

// peer is the state of one other committee member.
type peer struct {
	id   PeerID
	addr string
	key  ed25519.PublicKey
	tls  *tls.Config

	queue      chan []byte
	queueBytes atomic.Int64
	// bulk is the queue of bulk frames (Options.BulkFrame), nil without.
	bulk      chan []byte
	bulkBytes atomic.Int64
	connected atomic.Bool
	// wake cuts a redial backoff short: the peer just proved it is up
	// by connecting to us (capacity 1, sent without blocking).
	wake chan struct{}

	framesOut, bytesOut atomic.Uint64
	framesIn, bytesIn   atomic.Uint64
	reconnects          atomic.Uint64
	// pausedUntil (unix nanoseconds): until then the peer's inbound
	// streams are not read (Pause).
	pausedUntil atomic.Int64
}

// New starts a Transport: it binds the UDP socket (or takes
// opts.PacketConn), listens, and starts dialling every other committee
// member. Cancelling ctx later closes the transport as Close does; Close
// must still be called to wait for the shutdown. If New fails, it closes
// opts.PacketConn.
func New(ctx context.Context, opts Options) (*Transport, error) {
	closePC := func() {
		if opts.PacketConn != nil {
			_ = opts.PacketConn.Close()
		}
	}
	if err := ctx.Err(); err != nil {
		closePC()
		return nil, fmt.Errorf("netquic: starting: %w", err)
	}
	opts.EnsureDefaults()
	if err := opts.Validate(); err != nil {
		closePC()
		return nil, fmt.Errorf("netquic: invalid options: %w", err)
	}
	opts.Key = slices.Clone(opts.Key)
	opts.Peers = slices.Clone(opts.Peers)
	cert, err := newCertificate(opts.Key)
	if err != nil {
		closePC()
		return nil, err
	}
	t := &Transport{
		opts:    opts,
		log:     opts.Logger.With("self", opts.Self),
		self:    opts.Self,
		peers:   make(map[PeerID]*peer, len(opts.Peers)),
		byKey:   make(map[string]PeerID, len(opts.Peers)),
		inbox:   newInbox(opts.InboxLen, opts.InboxBytes),
		pending: make(chan struct{}, 2*len(opts.Peers)+8),
		conns:   make(map[*quic.Conn]struct{}),
		inbound: make(map[PeerID]*quic.Conn),
	}
	for _, p := range opts.Peers {
		key := slices.Clone(p.PublicKey)
		if p.ID == opts.Self {
			t.selfKey = key
			continue
		}
		pp := &peer{
			id:    p.ID,
			addr:  p.Addr,
			key:   key,
			tls:   clientTLS(cert, p.ID, key),
			queue: make(chan []byte, opts.SendQueueLen),
			wake:  make(chan struct{}, 1),
		}
		if opts.BulkFrame != nil {
			pp.bulk = make(chan []byte, opts.BulkQueueLen)
		}
		t.peers[p.ID] = pp
		t.order = append(t.order, pp)
		t.byKey[string(key)] = p.ID
	}
	slices.SortFunc(t.order, func(a, b *peer) int { return int(a.id) - int(b.id) })

	pc := opts.PacketConn
	if pc == nil {
		addr, err := net.ResolveUDPAddr("udp", opts.ListenAddr)
		if err != nil {
			return nil, fmt.Errorf("netquic: resolving the listen address %q: %w", opts.ListenAddr, err)
		}
		udp, err := net.ListenUDP("udp", addr)
		if err != nil {
			return nil, fmt.Errorf("netquic: listening on %q: %w", opts.ListenAddr, err)
		}
		pc = udp
	}
	t.udp = pc
	t.drops = &dropRecorder{t: t}
	t.qt = &quic.Transport{
		Conn:              pc,
		StatelessResetKey: statelessResetKey(opts.Key),
		Tracer:            t.drops,
	}
	t.ln, err = t.qt.Listen(serverTLS(cert, t.checkClient), t.quicConfig(true))
	if err != nil {
		_ = t.qt.Close()
		_ = pc.Close()
		return nil, fmt.Errorf("netquic: starting the QUIC listener on %s: %w", pc.LocalAddr(), err)
	}

	t.ctx, t.cancel = context.WithCancel(context.WithoutCancel(ctx))
	t.wg.Add(2 + len(t.order))
	go t.acceptLoop()
	go t.readNonQUIC()
	for _, p := range t.order {
		go t.runPeer(p)
	}
	t.stopAfter = context.AfterFunc(ctx, func() { _ = t.Close() })
	t.log.Info("netquic: listening", "addr", pc.LocalAddr().String(), "peers", len(t.order), "chain", opts.ChainID)
	return t, nil
}

// quicConfig is the QUIC configuration of the listener (server) or of the
// dials. Only the dialer opens streams: the frame stream, then the bulk
// stream when it has bulk frames to send (Options.BulkFrame). Every
// acceptor takes both, whatever its own options.
func (t *Transport) quicConfig(server bool) *quic.Config {
	c := &quic.Config{
		HandshakeIdleTimeout:  t.opts.HandshakeTimeout,
		MaxIdleTimeout:        t.opts.MaxIdleTimeout,
		KeepAlivePeriod:       t.opts.KeepAlivePeriod,
		MaxIncomingStreams:    -1,
		MaxIncomingUniStreams: -1,
	}
	if server {
		c.MaxIncomingStreams = 2
	}
	return c
}

// checkClient decides, during the TLS handshake, whether a client
// certificate may connect: it must carry the key of another committee
// member.
func (t *Transport) checkClient(remote string, rawCerts [][]byte) error {
	key, err := certificateKey(rawCerts)
	if err == nil {
		if key.Equal(t.selfKey) {
			err = errors.New("the client presented this validator's own key")
		} else if _, ok := t.byKey[string(key)]; !ok {
			err = fmt.Errorf("%w: %x", errNotInCommittee, []byte(key))
		}
	}
	if err != nil {
		t.rejectedHandshakes.Add(1)
		t.logLimited("refused:tls", slog.LevelWarn, "netquic: refused a TLS handshake",
			"remote", remote, "reason", err.Error())
		return fmt.Errorf("netquic: %w", err)
	}
	return nil
}

// Addr returns the local address of the UDP socket.
func (t *Transport) Addr() net.Addr { return t.udp.LocalAddr() }

// Self returns this node's PeerID.
func (t *Transport) Self() PeerID { return t.self }

// Inbox returns the channel of received frames. It is closed when Close
// has stopped everything. When the consumer lags, reading from the peers
// pauses (see the package comment).
func (t *Transport) Inbox() <-chan Inbound { return t.inbox.ch }

// Pause stops reading peer id's inbound streams until until: QUIC flow
// control then stops the peer's sending, so a peer the consumer found
// faulty costs neither side any further decryption or copying. A frame
// being read when Pause is called is still delivered. Unknown peers are
// ignored.
func (t *Transport) Pause(id PeerID, until time.Time) {
	if p := t.peers[id]; p != nil {
		p.pausedUntil.Store(until.UnixNano())
	}
}

// Send queues frame for peer to and returns at once. It does not copy
// frame: the caller must not modify it afterwards (the same frame may be
// passed to several Sends). Frames queued for a peer that is not connected
// wait for the link to come up. A bulk frame (Options.BulkFrame) goes to
// the peer's bulk queue and stream; frames of one class arrive in the
// order they were sent, frames of different classes in any order. Send
// returns ErrQueueFull when the peer's queue (of the frame's class) is
// full, ErrUnknownPeer for a PeerID that is not another committee member,
// ErrFrameTooLarge above MaxFrameSize and ErrClosed after Close.
func (t *Transport) Send(to PeerID, frame []byte) error {
	p := t.peers[to]
	if p == nil {
		if to == t.self {
			return fmt.Errorf("%w: validator %d is this node", ErrUnknownPeer, to)
		}
		return fmt.Errorf("%w: validator %d", ErrUnknownPeer, to)
	}
	if len(frame) > t.opts.MaxFrameSize {
		return fmt.Errorf("%w: %d bytes, limit %d", ErrFrameTooLarge, len(frame), t.opts.MaxFrameSize)
	}
	if t.ctx.Err() != nil {
		return ErrClosed
	}
	n := int64(len(frame))
	queue, bytes, limit := p.queue, &p.queueBytes, int64(t.opts.SendQueueBytes)
	if p.bulk != nil && t.opts.BulkFrame(frame) {
		queue, bytes, limit = p.bulk, &p.bulkBytes, int64(t.opts.BulkQueueBytes)
	}
	// ErrQueueFull is returned bare: it is the hot path of a sender
	// waiting for room, and the caller knows the peer.
	if bytes.Add(n) > limit {
		bytes.Add(-n)
		t.queueFull.Add(1)
		return ErrQueueFull
	}
	select {
	case queue <- frame:
		return nil
	default:
		bytes.Add(-n)
		t.queueFull.Add(1)
		return ErrQueueFull
	}
}

// Connected returns, sorted, the peers whose outgoing link is up: dialled,
// authenticated both ways and confirmed by the peer's ack.
func (t *Transport) Connected() []PeerID {
	var ids []PeerID
	for _, p := range t.order {
		if p.connected.Load() {
			ids = append(ids, p.id)
		}
	}
	return ids
}

// Stats are counters for metrics. Totals include all peers.
type Stats struct {
	// FramesIn and BytesIn count frames (and their payload bytes) delivered
	// to the inbox.
	FramesIn, BytesIn uint64
	// FramesOut and BytesOut count frames (and payload bytes) written to
	// outgoing connections.
	FramesOut, BytesOut uint64
	// InboxFrames and InboxBytes are what waits in the inbox now.
	InboxFrames int
	InboxBytes  int64
	// Reconnects counts outgoing links re-established after a loss.
	Reconnects uint64
	// DialFailures counts failed connection attempts (dial, TLS, hello).
	DialFailures uint64
	// RejectedHandshakes counts inbound connections refused before their
	// first frame: unknown or missing certificate key, bad or mismatched
	// hello, no hello in time, too many handshakes at once.
	RejectedHandshakes uint64
	// RejectedFrames counts inbound connections closed for an oversize frame
	// length or a stream that ended inside a frame.
	RejectedFrames uint64
	// DroppedDatagrams counts UDP datagrams dropped outside any connection:
	// not QUIC, unparseable, unknown connection IDs (also late packets of
	// closed connections), unsupported versions, overload.
	DroppedDatagrams uint64
	// QueueFull counts Sends refused with ErrQueueFull.
	QueueFull uint64
	// Peers has one entry per other committee member, sorted by ID.
	Peers []PeerStats
}

// PeerStats are one peer's counters.
type PeerStats struct {
	// ID is the peer.
	ID PeerID
	// Connected is true while the outgoing link is up (see Connected).
	Connected bool
	// Inbound is true while the peer has an authenticated connection to
	// this node.
	Inbound bool
	// QueueLen and QueueBytes are what waits in the send queue, and
	// BulkQueueLen and BulkQueueBytes in the bulk queue.
	QueueLen       int
	QueueBytes     int64
	BulkQueueLen   int
	BulkQueueBytes int64
	// FramesIn, BytesIn, FramesOut and BytesOut as in Stats.
	FramesIn, BytesIn, FramesOut, BytesOut uint64
	// Reconnects as in Stats.
	Reconnects uint64
}

// Stats returns a snapshot of the counters.
func (t *Transport) Stats() Stats {
	s := Stats{
		DialFailures:       t.dialFailures.Load(),
		RejectedHandshakes: t.rejectedHandshakes.Load(),
		RejectedFrames:     t.rejectedFrames.Load(),
		DroppedDatagrams:   t.droppedDatagrams.Load(),
		QueueFull:          t.queueFull.Load(),
		Peers:              make([]PeerStats, 0, len(t.order)),
	}
	s.InboxFrames, s.InboxBytes = t.inbox.pending()
	t.mu.Lock()
	inbound := make(map[PeerID]bool, len(t.inbound))
	for id := range t.inbound {
		inbound[id] = true
	}
	t.mu.Unlock()
	for _, p := range t.order {
		ps := PeerStats{
			ID:             p.id,
			Connected:      p.connected.Load(),
			Inbound:        inbound[p.id],
			QueueLen:       len(p.queue),
			QueueBytes:     p.queueBytes.Load(),
			BulkQueueLen:   len(p.bulk),
			BulkQueueBytes: p.bulkBytes.Load(),
			FramesIn:       p.framesIn.Load(),
			BytesIn:        p.bytesIn.Load(),
			FramesOut:      p.framesOut.Load(),
			BytesOut:       p.bytesOut.Load(),
			Reconnects:     p.reconnects.Load(),
		}
		s.FramesIn += ps.FramesIn
		s.BytesIn += ps.BytesIn
		s.FramesOut += ps.FramesOut
		s.BytesOut += ps.BytesOut
		s.Reconnects += ps.Reconnects
		s.Peers = append(s.Peers, ps)
	}
	return s
}

// track registers an open connection so that Close can close it. It
// returns false once the transport is closing; the caller then closes the
// connection itself.
func (t *Transport) track(c *quic.Conn) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closing {
		return false
	}
	t.conns[c] = struct{}{}
	return true
}

func (t *Transport) untrack(c *quic.Conn) {
	t.mu.Lock()
	delete(t.conns, c)
	t.mu.Unlock()
}

// Close closes every connection (telling the peers), stops all goroutines,
// closes the socket and then the inbox channel. Frames still queued are
// dropped. It is safe to call more than once; later calls return the
// first one's result.
func (t *Transport) Close() error {
	t.closeOnce.Do(func() {
		t.stopAfter()
		t.mu.Lock()
		t.closing = true
		conns := make([]*quic.Conn, 0, len(t.conns))
		for c := range t.conns {
			conns = append(conns, c)
		}
		t.mu.Unlock()
		t.cancel()
		var cw sync.WaitGroup
		for _, c := range conns {
			cw.Go(func() { _ = c.CloseWithError(codeShutdown, "shutting down") })
		}
		cw.Wait()
		var errs []error
		if err := t.ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			errs = append(errs, fmt.Errorf("netquic: closing the listener: %w", err))
		}
		if err := t.qt.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			errs = append(errs, fmt.Errorf("netquic: closing the QUIC transport: %w", err))
		}
		if err := t.udp.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			errs = append(errs, fmt.Errorf("netquic: closing the socket: %w", err))
		}
		t.wg.Wait()
		close(t.inbox.ch)
		t.closeErr = errors.Join(errs...)
		t.log.Info("netquic: closed")
	})
	return t.closeErr
}
