package netquic

import (
	"bufio"
	"context"
	crand "crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"sync/atomic"
	"time"

	"github.com/quic-go/quic-go"
)

// newJitter returns a private random source for backoff jitter, seeded
// from the system's randomness.
func newJitter() *rand.Rand {
	var seed [32]byte
	_, _ = crand.Read(seed[:]) // never fails (crypto/rand panics rather than return an error)
	return rand.New(rand.NewChaCha8(seed))
}

// backoff is the wait before dial number attempt+1: DialBackoffMin doubled
// attempt times, capped at DialBackoffMax, and jittered down to as little
// as half.
func (t *Transport) backoff(rng *rand.Rand, attempt int) time.Duration {
	d := t.opts.DialBackoffMin
	for i := 0; i < attempt && d < t.opts.DialBackoffMax; i++ {
		d *= 2
	}
	d = min(d, t.opts.DialBackoffMax)
	half := d / 2
	return half + time.Duration(rng.Int64N(int64(d-half)+1))
}

// sleep waits d, or less if the transport closes or wake fires (nil:
// never); it reports whether the transport is still open and whether it
// was woken.
func (t *Transport) sleep(d time.Duration, wake <-chan struct{}) (open, woken bool) {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true, false
	case <-wake:
		return true, true
	case <-t.ctx.Done():
		return false, false
	}
}

// backoffPeer waits before redialling p, attempt failures in; it returns
// the next attempt number (0 when p connected to us meanwhile, so that
// the link comes back at once) and false when the transport closes.
func (t *Transport) backoffPeer(p *peer, rng *rand.Rand, attempt int) (int, bool) {
	open, woken := t.sleep(t.backoff(rng, attempt), p.wake)
	if woken {
		return 0, open
	}
	return attempt + 1, open
}

// notify calls OnPeer, unless the transport is closing.
func (t *Transport) notify(ev PeerEvent) {
	if t.opts.OnPeer != nil && t.ctx.Err() == nil {
		t.opts.OnPeer(ev)
	}
}

// runPeer keeps the outgoing link to p up for the life of the transport:
// dial, confirm, write frames until the link breaks, back off, redial.
func (t *Transport) runPeer(p *peer) {
	defer t.wg.Done()
	log := t.log.With("peer", p.id, "addr", p.addr)
	rng := newJitter()
	attempt := 0
	failing := false // a failure has been logged at warning level since the last success
	everUp := false
	for t.ctx.Err() == nil {
		conn, str, bulk, err := t.connect(p)
		if err != nil {
			if t.ctx.Err() != nil {
				return
			}
			t.dialFailures.Add(1)
			if !failing {
				log.Warn("netquic: cannot connect to peer; retrying with backoff", "err", err.Error())
				failing = true
			} else {
				log.Debug("netquic: cannot connect to peer", "err", err.Error(), "attempt", attempt+1)
			}
			var open bool
			if attempt, open = t.backoffPeer(p, rng, attempt); !open {
				return
			}
			continue
		}
		failing = false
		if everUp {
			p.reconnects.Add(1)
		}
		everUp = true
		up := time.Now()
		p.connected.Store(true)
		log.Info("netquic: connected to peer")
		t.notify(PeerEvent{ID: p.id, Connected: true})

		var bulkDone chan struct{}
		if bulk != nil {
			bulkDone = make(chan struct{})
			go func() {
				defer close(bulkDone)
				if err := t.writeLoop(p, conn, bulk, p.bulk, &p.bulkBytes); !errors.Is(err, ErrClosed) {
					// Ends the frame stream's loop too.
					_ = conn.CloseWithError(codeShutdown, "bulk stream: "+err.Error())
				}
			}()
		}
		err = t.writeLoop(p, conn, str, p.queue, &p.queueBytes)
		if bulkDone != nil {
			_ = conn.CloseWithError(codeShutdown, "link reset")
			<-bulkDone // one writer per queue: the next link's starts after
		}

		p.connected.Store(false)
		if t.ctx.Err() != nil {
			// Close closes the connection.
			return
		}
		_ = conn.CloseWithError(codeShutdown, "link reset")
		t.untrack(conn)
		log.Info("netquic: lost the link to peer", "err", err.Error(), "up_for", time.Since(up).Round(time.Millisecond).String())
		t.notify(PeerEvent{ID: p.id, Err: err})
		if time.Since(up) >= t.opts.DialBackoffMax {
			attempt = 0 // a stable link starts the backoff over
		}
		var open bool
		if attempt, open = t.backoffPeer(p, rng, attempt); !open {
			return
		}
	}
}

// connect dials p, checks its certificate against the committee (in TLS),
// sends the hello and waits for the ack, and opens the bulk stream when
// there is a bulk queue, all within HandshakeTimeout.
func (t *Transport) connect(p *peer) (conn *quic.Conn, str, bulk *quic.Stream, err error) {
	ctx, cancel := context.WithTimeout(t.ctx, t.opts.HandshakeTimeout)
	defer cancel()
	addr, err := net.ResolveUDPAddr("udp", p.addr)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("netquic: resolving %q: %w", p.addr, err)
	}
	conn, err = t.qt.Dial(ctx, addr, p.tls, t.quicConfig(false))
	if err != nil {
		return nil, nil, nil, fmt.Errorf("netquic: dialling validator %d at %s: %w", p.id, addr, err)
	}
	if !t.track(conn) {
		_ = conn.CloseWithError(codeShutdown, "shutting down")
		return nil, nil, nil, ErrClosed
	}
	str, err = t.exchangeHello(ctx, p, conn)
	if err == nil && p.bulk != nil {
		bulk, err = t.openBulk(ctx, p, conn)
	}
	if err != nil {
		_ = conn.CloseWithError(codeShutdown, "giving up: the hello exchange failed")
		t.untrack(conn)
		return nil, nil, nil, err
	}
	return conn, str, bulk, nil
}

// openBulk opens the bulk stream of an authenticated connection and sends
// its tag.
func (t *Transport) openBulk(ctx context.Context, p *peer, conn *quic.Conn) (*quic.Stream, error) {
	str, err := conn.OpenStreamSync(ctx)
	if err != nil {
		return nil, fmt.Errorf("netquic: opening the bulk stream to validator %d: %w", p.id, explainRemote(err))
	}
	if _, err := str.Write(bulkMagic[:]); err != nil {
		return nil, fmt.Errorf("netquic: opening the bulk stream to validator %d: %w", p.id, explainRemote(err))
	}
	return str, nil
}

// exchangeHello opens the stream, sends the hello and reads the ack. This
// is where a peer that refused our certificate shows itself: TLS 1.3 let
// the dial succeed, the first exchange fails.
func (t *Transport) exchangeHello(ctx context.Context, p *peer, conn *quic.Conn) (*quic.Stream, error) {
	str, err := conn.OpenStreamSync(ctx)
	if err != nil {
		return nil, fmt.Errorf("netquic: opening the stream to validator %d: %w", p.id, explainRemote(err))
	}
	deadline, _ := ctx.Deadline()
	_ = str.SetDeadline(deadline)
	msg := appendHello(make([]byte, 0, maxHelloLen), hello{From: t.self, To: p.id, ChainID: t.opts.ChainID})
	if _, err := str.Write(msg); err != nil {
		return nil, fmt.Errorf("netquic: sending the hello to validator %d: %w", p.id, explainRemote(err))
	}
	var ack [ackLen]byte
	if _, err := io.ReadFull(str, ack[:]); err != nil {
		return nil, fmt.Errorf("netquic: waiting for the ack of validator %d: %w", p.id, explainRemote(err))
	}
	from, err := decodeAck(ack[:])
	if err != nil {
		return nil, fmt.Errorf("netquic: the ack of validator %d: %w", p.id, err)
	}
	if from != p.id {
		return nil, fmt.Errorf("%w: validator %d acked as validator %d", ErrBadHello, p.id, from)
	}
	_ = str.SetDeadline(time.Time{})
	return str, nil
}

// explainRemote adds what a refusal by the peer most likely means.
func explainRemote(err error) error {
	if te, ok := errors.AsType[*quic.TransportError](err); ok && te.Remote && te.ErrorCode.IsCryptoError() {
		return fmt.Errorf("the peer refused the TLS handshake (is this node's key in the peer's committee?): %w", err)
	}
	if ae, ok := errors.AsType[*quic.ApplicationError](err); ok && ae.Remote && ae.ErrorCode == codeHelloRejected {
		return fmt.Errorf("the peer refused the hello: %w", err)
	}
	return err
}

// writeLoop writes the frames of one of p's queues to a stream until the
// connection breaks or the transport closes. Frames are batched in a
// buffer that is flushed whenever the queue runs dry.
func (t *Transport) writeLoop(p *peer, conn *quic.Conn, str *quic.Stream, queue chan []byte, queueBytes *atomic.Int64) error {
	bw := bufio.NewWriterSize(str, writeBufferSize)
	var hdr [frameHeaderLen]byte
	connDone := conn.Context().Done()
	for {
		select {
		case f := <-queue:
			queueBytes.Add(-int64(len(f)))
			binary.BigEndian.PutUint32(hdr[:], uint32(len(f)))
			if _, err := bw.Write(hdr[:]); err != nil {
				return fmt.Errorf("netquic: writing to validator %d: %w", p.id, err)
			}
			if _, err := bw.Write(f); err != nil {
				return fmt.Errorf("netquic: writing to validator %d: %w", p.id, err)
			}
			p.framesOut.Add(1)
			p.bytesOut.Add(uint64(len(f)))
			if len(queue) == 0 {
				if err := bw.Flush(); err != nil {
					return fmt.Errorf("netquic: writing to validator %d: %w", p.id, err)
				}
			}
		case <-connDone:
			return fmt.Errorf("netquic: connection to validator %d closed: %w", p.id, context.Cause(conn.Context()))
		case <-t.ctx.Done():
			return ErrClosed
		}
	}
}

// logLevelFor is the level to log the end of an inbound connection at:
// quiet for ordinary ends, louder for faults.
func logLevelFor(err error) slog.Level {
	if errors.Is(err, io.EOF) || errors.Is(err, context.Canceled) {
		return slog.LevelDebug
	}
	return slog.LevelInfo
}
