package netquic

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/quic-go/quic-go"
)

// acceptLoop takes the connections whose TLS handshake succeeded (their
// client key is a committee key) and serves each on its own goroutine.
func (t *Transport) acceptLoop() {
	defer t.wg.Done()
	for {
		conn, err := t.ln.Accept(t.ctx)
		if err != nil {
			if t.ctx.Err() == nil {
				t.log.Error("netquic: the listener stopped", "err", err.Error())
			}
			return
		}
		select {
		case t.pending <- struct{}{}:
		default:
			t.rejectedHandshakes.Add(1)
			t.logLimited("refused:busy", slog.LevelWarn, "netquic: refused a connection: too many handshakes in progress",
				"remote", conn.RemoteAddr().String())
			_ = conn.CloseWithError(codeBusy, "too many handshakes in progress")
			continue
		}
		if !t.track(conn) {
			_ = conn.CloseWithError(codeShutdown, "shutting down")
			<-t.pending
			return
		}
		t.wg.Add(1)
		go t.serveInbound(conn)
	}
}

// peerOf returns the committee member whose key the connection's client
// certificate carries.
func (t *Transport) peerOf(conn *quic.Conn) (PeerID, error) {
	certs := conn.ConnectionState().TLS.PeerCertificates
	if len(certs) != 1 {
		return 0, fmt.Errorf("%w: %d client certificates", ErrBadHello, len(certs))
	}
	key, ok := certs[0].PublicKey.(ed25519.PublicKey)
	if !ok {
		return 0, fmt.Errorf("%w: client key of type %T", ErrBadHello, certs[0].PublicKey)
	}
	id, ok := t.byKey[string(key)]
	if !ok {
		return 0, fmt.Errorf("%w: %x", errNotInCommittee, []byte(key))
	}
	return id, nil
}

// serveInbound runs one accepted connection: the hello, then frames into
// the inbox until the connection ends.
func (t *Transport) serveInbound(conn *quic.Conn) {
	defer t.wg.Done()
	defer t.untrack(conn)
	remote := conn.RemoteAddr().String()
	handshaking := true
	defer func() {
		if handshaking {
			<-t.pending
		}
	}()

	id, br, err := t.acceptHello(conn)
	if err != nil {
		if t.ctx.Err() != nil {
			return
		}
		if ae, ok := errors.AsType[*quic.ApplicationError](err); ok && ae.Remote {
			// The dialer gave up (its own timeout, or it is shutting down):
			// nothing was refused.
			t.log.Info("netquic: the dialer closed its connection during the hello", "remote", remote, "err", err.Error())
			return
		}
		t.rejectedHandshakes.Add(1)
		t.logLimited("refused:hello", slog.LevelWarn, "netquic: refused an inbound connection",
			"remote", remote, "reason", err.Error())
		_ = conn.CloseWithError(codeHelloRejected, err.Error())
		return
	}
	<-t.pending
	handshaking = false

	log := t.log.With("peer", id, "remote", remote)
	if old := t.setInbound(id, conn); old != nil {
		log.Info("netquic: a new inbound connection replaces the old one")
		_ = old.CloseWithError(codeReplaced, "replaced by a newer connection")
	}
	defer t.clearInbound(id, conn)
	log.Debug("netquic: inbound connection authenticated")
	if p := t.peers[id]; p != nil && !p.connected.Load() {
		// The peer is up again (it restarted, or the path healed): redial
		// it now rather than at the end of a backoff of up to
		// DialBackoffMax.
		select {
		case p.wake <- struct{}{}:

		default:
		}
	}

	t.wg.Add(1)
	go t.serveBulk(id, conn, log)
	err = t.readFrames(id, br)
	t.closeForFrameError(id, conn, remote, log, err)
}

// closeForFrameError closes an inbound connection whose frames (on either
// stream) ended with err, telling the peer why.
func (t *Transport) closeForFrameError(id PeerID, conn *quic.Conn, remote string, log *slog.Logger, err error) {
	switch {
	case t.ctx.Err() != nil:
		// Close closes the connection.
	case errors.Is(err, ErrFrameTooLarge),
		errors.Is(err, ErrTruncatedFrame) && errors.Is(err, io.ErrUnexpectedEOF):
		// The peer announced more than it may send, or ended its stream
		// inside a frame: a protocol violation.
		t.rejectedFrames.Add(1)
		t.logLimited("refused:frame", slog.LevelWarn, "netquic: closing an inbound connection: bad frame",
			"peer", id, "remote", remote, "reason", err.Error())
		_ = conn.CloseWithError(codeBadFrame, err.Error())
	case errors.Is(err, ErrTruncatedFrame):
		// The connection broke inside a frame; the partial frame is dropped.
		log.Info("netquic: inbound connection lost inside a frame; partial frame discarded", "err", err.Error())
		_ = conn.CloseWithError(codeBadFrame, "connection lost inside a frame")
	case errors.Is(err, io.EOF):
		log.Debug("netquic: peer ended its stream")
		_ = conn.CloseWithError(codeStreamEnded, "stream ended")
	default:
		log.Log(context.Background(), logLevelFor(err), "netquic: inbound connection closed", "err", err.Error())
		_ = conn.CloseWithError(codeShutdown, "closing")
	}
}

// serveBulk takes the bulk stream of an authenticated inbound connection,
// if the dialer opens one, and delivers its frames to the inbox. A second
// stream without the bulk tag closes the connection.
func (t *Transport) serveBulk(id PeerID, conn *quic.Conn, log *slog.Logger) {
	defer t.wg.Done()
	str, err := conn.AcceptStream(conn.Context())
	if err != nil {
		return // the connection ended; serveInbound reports why
	}
	_ = str.SetReadDeadline(time.Now().Add(t.opts.HandshakeTimeout))
	br := bufio.NewReaderSize(str, readBufferSize)
	var tag [len(bulkMagic)]byte
	if _, err := io.ReadFull(br, tag[:]); err != nil || tag != bulkMagic {
		if t.ctx.Err() != nil || conn.Context().Err() != nil {
			return
		}
		reason := fmt.Sprintf("a second stream without the bulk tag (%q, %v)", tag[:], err)
		t.rejectedFrames.Add(1)
		t.logLimited("refused:bulk", slog.LevelWarn, "netquic: closing an inbound connection: bad bulk stream", "peer", id, "reason", reason)
		_ = conn.CloseWithError(codeBadFrame, reason)
		return
	}
	_ = str.SetReadDeadline(time.Time{})
	err = t.readFrames(id, br)
	if t.ctx.Err() != nil || conn.Context().Err() != nil {
		return
	}
	t.closeForFrameError(id, conn, conn.RemoteAddr().String(), log, fmt.Errorf("bulk stream: %w", err))
}

// acceptHello waits for the dialer's stream and hello, checks them against
// the certificate and this node, and answers with the ack.
func (t *Transport) acceptHello(conn *quic.Conn) (PeerID, *bufio.Reader, error) {
	id, err := t.peerOf(conn)
	if err != nil {
		return 0, nil, err
	}
	deadline := time.Now().Add(t.opts.HandshakeTimeout)
	ctx, cancel := context.WithDeadline(t.ctx, deadline)
	defer cancel()
	str, err := conn.AcceptStream(ctx)
	if err != nil {
		return 0, nil, fmt.Errorf("%w: validator %d opened no stream within %v: %w", ErrBadHello, id, t.opts.HandshakeTimeout, err)
	}
	_ = str.SetDeadline(deadline)
	br := bufio.NewReaderSize(str, readBufferSize)
	h, err := readHello(br)
	if err != nil {
		return 0, nil, fmt.Errorf("validator %d: %w", id, err)
	}
	switch {
	case h.From != id:
		return 0, nil, fmt.Errorf("%w: the certificate is validator %d's but the hello claims validator %d", ErrBadHello, id, h.From)
	case h.ChainID != t.opts.ChainID:
		return 0, nil, fmt.Errorf("%w: validator %d is on chain %q, this node on %q", ErrBadHello, id, h.ChainID, t.opts.ChainID)
	case h.To != t.self:
		return 0, nil, fmt.Errorf("%w: validator %d addressed its hello to validator %d, this is validator %d", ErrBadHello, id, h.To, t.self)
	}
	if _, err := str.Write(appendAck(make([]byte, 0, ackLen), t.self)); err != nil {
		return 0, nil, fmt.Errorf("%w: sending the ack to validator %d: %w", ErrBadHello, id, err)
	}
	_ = str.SetDeadline(time.Time{})
	return id, br, nil
}

// readFrames delivers the frames of peer id to the inbox. Waiting for room
// in the inbox stops reading the stream, and QUIC flow control then stops
// the sender.
func (t *Transport) readFrames(id PeerID, br *bufio.Reader) error {
	p := t.peers[id]
	fr := frameReader{r: br, max: t.opts.MaxFrameSize}
	for {
		if err := t.waitPause(p); err != nil {
			return err
		}
		f, err := fr.next()
		if err != nil {
			return err
		}
		if err := t.inbox.put(t.ctx, Inbound{From: id, Frame: f}); err != nil {
			return err
		}
		p.framesIn.Add(1)
		p.bytesIn.Add(uint64(len(f)))
	}
}

// setInbound records conn as peer id's inbound connection and returns the
// one it replaces.
func (t *Transport) setInbound(id PeerID, conn *quic.Conn) *quic.Conn {
	t.mu.Lock()
	defer t.mu.Unlock()
	old := t.inbound[id]
	t.inbound[id] = conn
	return old
}

// clearInbound forgets conn as peer id's inbound connection, unless a newer
// one replaced it.
func (t *Transport) clearInbound(id PeerID, conn *quic.Conn) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.inbound[id] == conn {
		delete(t.inbound, id)
	}
}

// waitPause waits while peer p is paused (Pause), or until the transport
// closes.
func (t *Transport) waitPause(p *peer) error {
	for {
		d := time.Until(time.Unix(0, p.pausedUntil.Load()))
		if d <= 0 {
			return nil
		}
		timer := time.NewTimer(d)
		select {
		case <-t.ctx.Done():
			timer.Stop()
			return t.ctx.Err()
		case <-timer.C:
		}
	}
}
