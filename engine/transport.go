package engine

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/dagd/dagd/dag"
)

// Transport carries opaque frames between the validators of a committee.
// The QUIC transport (netquic) implements it; tests wrap it to inject or
// inspect frames. Implementations are safe for concurrent use.
type Transport interface {
	// Send queues frame for validator to without blocking. The frame is
	// not modified afterwards and may be shared between several Sends.
	// An error means the frame was dropped (a full queue, an unknown
	// peer); the consensus core sends again what matters.
	Send(to dag.ValidatorID, frame []byte) error
	// Receive blocks until a frame arrives, ctx ends or the transport is
	// closed.
	Receive(ctx context.Context) (InboundFrame, error)
	// Connected lists the peers currently connected, in any order.
	Connected() []dag.ValidatorID
	// Close stops the transport and releases its resources.
	Close() error
}

// PeerPauser is implemented by transports that can stop reading one
// peer's frames for a while (QUIC: flow control then stops the peer's
// sending). The node pauses the peers it bans.
type PeerPauser interface {
	// Pause stops reading peer's frames until until.
	Pause(peer dag.ValidatorID, until time.Time)
}

// InboundFrame is a frame received from an authenticated peer.
type InboundFrame struct {
	From  dag.ValidatorID
	Frame []byte
}

// TransportPeer is a committee member as the transport sees it.
type TransportPeer struct {
	ID        dag.ValidatorID
	Addr      string
	PublicKey ed25519.PublicKey
}

// TransportConfig is what a TransportFactory needs.
type TransportConfig struct {
	Self       dag.ValidatorID
	ListenAddr string
	Key        ed25519.PrivateKey
	// Peers lists every committee member, self included.
	Peers   []TransportPeer
	ChainID string
	// PacketConn, when set, is the UDP socket to use instead of binding
	// ListenAddr; the transport takes it over.
	PacketConn net.PacketConn
	// MaxFrameSize is the largest frame the core may send.
	MaxFrameSize int
	Logger       *slog.Logger
}

// TransportFactory builds a node's transport. ctx bounds the transport's
// background work; the node also closes it when it stops.
type TransportFactory func(ctx context.Context, cfg TransportConfig) (Transport, error)

// ErrTransportClosed is returned by Receive and Send on a closed transport.
var ErrTransportClosed = errors.New("engine: transport closed")

// ErrPeerQueueFull is returned by a memory transport's Send when the
// receiver's queue is full.
var ErrPeerQueueFull = errors.New("engine: peer queue full")

// MemNetwork connects transports in one process through bounded queues,
// with no encryption and no copying: a devnet on it measures the
// consensus and storage costs without the network's. It is safe for
// concurrent use.
type MemNetwork struct {
	mu    sync.Mutex
	queue int
	ends  map[dag.ValidatorID]*memTransport
}

// NewMemNetwork returns a network whose per-receiver queues hold queue
// frames (default 4096 when queue <= 0).
func NewMemNetwork(queue int) *MemNetwork {
	if queue <= 0 {
		queue = 4096
	}
	return &MemNetwork{queue: queue, ends: make(map[dag.ValidatorID]*memTransport)}
}

// Factory returns a TransportFactory that attaches nodes to the network.
// A node that attaches again (a restart) replaces its earlier end.
func (m *MemNetwork) Factory() TransportFactory {
	return func(_ context.Context, cfg TransportConfig) (Transport, error) {
		t := &memTransport{net: m, self: cfg.Self, in: make(chan InboundFrame, m.queue), done: make(chan struct{})}
		m.mu.Lock()
		defer m.mu.Unlock()
		if old, ok := m.ends[cfg.Self]; ok {
			old.closeLocked()
		}
		m.ends[cfg.Self] = t
		return t, nil
	}
}

type memTransport struct {
	net    *MemNetwork
	self   dag.ValidatorID
	in     chan InboundFrame
	done   chan struct{}
	closed bool // guarded by net.mu
}

func (t *memTransport) Send(to dag.ValidatorID, frame []byte) error {
	t.net.mu.Lock()
	defer t.net.mu.Unlock()
	if t.closed {
		return ErrTransportClosed
	}
	peer, ok := t.net.ends[to]
	if !ok || peer.closed {
		return fmt.Errorf("engine: peer %d not connected", to)
	}
	select {
	case peer.in <- InboundFrame{From: t.self, Frame: frame}:
		return nil
	default:
		return ErrPeerQueueFull
	}
}

func (t *memTransport) Receive(ctx context.Context) (InboundFrame, error) {
	select {
	case f := <-t.in:
		return f, nil
	case <-t.done:
		return InboundFrame{}, ErrTransportClosed
	case <-ctx.Done():
		return InboundFrame{}, ctx.Err()
	}
}

func (t *memTransport) Connected() []dag.ValidatorID {
	t.net.mu.Lock()
	defer t.net.mu.Unlock()
	var out []dag.ValidatorID
	for id, e := range t.net.ends {
		if id != t.self && !e.closed {
			out = append(out, id)
		}
	}
	return out
}

func (t *memTransport) Close() error {
	t.net.mu.Lock()
	defer t.net.mu.Unlock()
	t.closeLocked()
	return nil
}

func (t *memTransport) closeLocked() {
	if t.closed {
		return
	}
	t.closed = true
	close(t.done)
	if t.net.ends[t.self] == t {
		delete(t.net.ends, t.self)
	}
}
