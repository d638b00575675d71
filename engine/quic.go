package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/dagd/dagd/dag"
	"github.com/dagd/dagd/engine/content"
	"github.com/dagd/dagd/netquic"
)

// quicTransport adapts netquic.Transport to Transport.
type quicTransport struct {
	t *netquic.Transport
}

// NewQUICTransport builds a node's QUIC transport (netquic): mutual TLS
// with the validators' Ed25519 network keys, bounded queues. Content frames
// (0x40-0x4f: shards, manifests, their requests and answers) travel on
// netquic's bulk stream, with their own send queue, so that a put or a get
// neither waits behind consensus messages nor delays them; they keep their
// order among themselves. It is the default TransportFactory.
func NewQUICTransport(ctx context.Context, cfg TransportConfig) (Transport, error) {
	peers := make([]netquic.Peer, len(cfg.Peers))
	for i, p := range cfg.Peers {
		peers[i] = netquic.Peer{ID: netquic.PeerID(p.ID), Addr: p.Addr, PublicKey: p.PublicKey}
	}
	o := netquic.Options{
		ListenAddr:   cfg.ListenAddr,
		PacketConn:   cfg.PacketConn,
		Self:         netquic.PeerID(cfg.Self),
		Key:          cfg.Key,
		Peers:        peers,
		ChainID:      cfg.ChainID,
		MaxFrameSize: cfg.MaxFrameSize,
		Logger:       cfg.Logger,
		BulkFrame:    content.IsFrame,
	}
	if q := 2 * cfg.MaxFrameSize; q > netquic.DefaultSendQueueBytes {
		o.SendQueueBytes = q
		o.BulkQueueBytes = q
	}
	if q := 2 * cfg.MaxFrameSize; q > netquic.DefaultInboxBytes {
		o.InboxBytes = q
	}
	t, err := netquic.New(ctx, o)
	if err != nil {
		return nil, fmt.Errorf("engine: %w", err)
	}
	return &quicTransport{t: t}, nil
}

func (q *quicTransport) Send(to dag.ValidatorID, frame []byte) error {
	return q.t.Send(netquic.PeerID(to), frame)
}

func (q *quicTransport) Receive(ctx context.Context) (InboundFrame, error) {
	select {
	case in, ok := <-q.t.Inbox():
		if !ok {
			return InboundFrame{}, ErrTransportClosed
		}
		return InboundFrame{From: dag.ValidatorID(in.From), Frame: in.Frame}, nil
	case <-ctx.Done():
		return InboundFrame{}, ctx.Err()
	}
}

func (q *quicTransport) Connected() []dag.ValidatorID {
	ids := q.t.Connected()
	out := make([]dag.ValidatorID, len(ids))
	for i, id := range ids {
		out[i] = dag.ValidatorID(id)
	}
	return out
}

func (q *quicTransport) Close() error { return q.t.Close() }

// Pause stops reading peer's frames until until (see netquic's Pause).
func (q *quicTransport) Pause(peer dag.ValidatorID, until time.Time) {
	q.t.Pause(netquic.PeerID(peer), until)
}
