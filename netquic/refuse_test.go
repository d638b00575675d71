package netquic

import (
	"context"
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/dagd/dagd/internal/testwait"
)

// TestUnknownKeyRefused: a node whose key is not in the committee completes
// its TLS dial (TLS 1.3 lets the client finish first) but is refused at the
// server: it never counts the server as connected, none of its frames is
// delivered, the server logs why, and the committee's own traffic goes on.
func TestUnknownKeyRefused(t *testing.T) {
	nodes := startNet(t, 2, nil)
	a, b := nodes[0], nodes[1]

	// The intruder knows validator 0's address and key and claims to be
	// validator 1 — with its own key.
	strangerKey := testKey(666)
	xsock := listenLoopback(t)
	xlogs := &logBuf{}
	xpeers := []Peer{
		{ID: 0, Addr: a.addr, PublicKey: pub(a.key)},
		{ID: 1, Addr: xsock.LocalAddr().String(), PublicKey: pub(strangerKey)},
	}
	xopts := testOptions(1, strangerKey, xpeers, xlogs, make(chan PeerEvent, 16))
	xopts.PacketConn = xsock
	x, err := New(context.Background(), xopts)
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	for i := range 20 {
		if err := x.Send(0, testFrame(1, 0, 1000+i, 100)); err != nil {
			t.Fatalf("intruder Send: %v", err)
		}
	}
	// The committee keeps working meanwhile.
	for i := range 20 {
		sendAll(t, b.tr, 0, testFrame(1, 0, i, 100), time.Second)
	}
	for i := range 20 {
		in := recv(t, a, 10*time.Second)
		seq, err := checkFrame(in.Frame, 1, 0)
		if err != nil || seq != i {
			t.Fatalf("frame %d at validator 0: seq %d, %v (an intruder frame?)", i, seq, err)
		}
	}
	testwait.Until(t, 10*time.Second, "the intruder to be refused twice", func() bool {
		return a.tr.Stats().RejectedHandshakes >= 2 && x.Stats().DialFailures >= 2
	})
	if got := x.Connected(); len(got) != 0 {
		t.Fatalf("intruder Connected() = %v", got)
	}
	if s := x.Stats(); s.FramesOut != 0 || s.Peers[0].QueueLen != 20 {
		t.Fatalf("intruder wrote %d frames, has %d queued; want 0 written, 20 queued", s.FramesOut, s.Peers[0].QueueLen)
	}
	// No wait: the intruder's connections were refused at the handshake
	// (counted above), before any frame; FramesIn below says the same.
	select {
	case in := <-a.tr.Inbox():
		t.Fatalf("validator 0 got a frame from %d: %x", in.From, in.Frame[:8])
	default:
	}
	a.logs.logged(t, "refused a TLS handshake", "key is not in the committee")
	xlogs.logged(t, "the peer refused the TLS handshake")
	if s := a.tr.Stats(); s.FramesIn != 20 {
		t.Errorf("validator 0 delivered %d frames, want the 20 of validator 1", s.FramesIn)
	}
}

// TestServerKeyMismatch: a dialer refuses a server whose key is not the
// committee's key for the validator it dialled.
func TestServerKeyMismatch(t *testing.T) {
	nodes := startNet(t, 2, func(i int, o *Options) {
		if i == 0 {
			// Validator 0 believes validator 1 has another key.
			o.Peers = append([]Peer(nil), o.Peers...)
			o.Peers[1].PublicKey = pub(testKey(777))
		}
	})
	a := nodes[0]
	testwait.Until(t, 10*time.Second, "a refused dial", func() bool { return a.tr.Stats().DialFailures >= 1 })
	a.logs.logged(t, "presented key", "the committee says")
	if len(a.tr.Connected()) != 0 || len(nodes[1].tr.Connected()) != 0 {
		t.Errorf("connected despite the mismatch: %v, %v", a.tr.Connected(), nodes[1].tr.Connected())
	}
}

// TestChainMismatch: validators of two chains refuse each other.
func TestChainMismatch(t *testing.T) {
	nodes := startNet(t, 2, func(i int, o *Options) {
		if i == 1 {
			o.ChainID = "another-chain"
		}
	})
	for _, nd := range nodes {
		testwait.Until(t, 10*time.Second, "refused hellos", func() bool { return nd.tr.Stats().RejectedHandshakes >= 1 })
		testwait.Until(t, 10*time.Second, "the refusals logged on both sides", func() bool {
			return nd.logs.has("refused an inbound connection") && nd.logs.has("is on chain") &&
				nd.logs.has("the peer refused the hello")
		})
		if got := nd.tr.Connected(); len(got) != 0 {
			t.Errorf("validator %d: Connected() = %v across chains", nd.id, got)
		}
	}
}

// rawNet is a committee of three where validators 0 and 1 run transports
// and validator 2's key is held by the test, which drives a raw QUIC
// client with it (validator 2's address answers nothing).
func rawNet(t *testing.T, mod func(i int, o *Options)) []*node {
	t.Helper()
	return startNetSome(t, 3, 2, mod)
}

// TestBadHellosRefused: hellos that are malformed, or that do not match
// the certificate, the chain or the server, are refused with a reason that
// the server logs and sends back; the committee is unaffected.
func TestBadHellosRefused(t *testing.T) {
	nodes := rawNet(t, func(i int, o *Options) { o.HandshakeTimeout = time.Second })
	a, b := nodes[0], nodes[1]
	good := hello{From: 2, To: 0, ChainID: testChain}
	withByte := func(i int, v byte) []byte {
		m := appendHello(nil, good)
		m[i] = v
		return m
	}
	cases := []struct {
		name   string
		key    ed25519.PrivateKey
		msg    []byte // nil: open no stream at all
		reason string
	}{
		{"impersonation", testKey(1), appendHello(nil, hello{From: 2, To: 0, ChainID: testChain}), "the certificate is validator 1's but the hello claims validator 2"},
		{"wrong chain", testKey(2), appendHello(nil, hello{From: 2, To: 0, ChainID: "other"}), "is on chain"},
		{"wrong recipient", testKey(2), appendHello(nil, hello{From: 2, To: 1, ChainID: testChain}), "addressed its hello to validator 1"},
		{"bad magic", testKey(2), withByte(0, 'X'), "magic"},
		{"bad version", testKey(2), withByte(4, 9), "protocol version 9"},
		{"empty chain", testKey(2), withByte(9, 0), "empty chain id"},
		{"short hello", testKey(2), appendHello(nil, good)[:6], "reading"},
		{"no stream", testKey(2), nil, "opened no stream"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := a.tr.Stats().RejectedHandshakes
			c := rawDial(t, tc.key, 0, pub(a.key), a.addr)
			if tc.msg != nil {
				var err error
				// A short hello is followed by silence: the server times out.
				if _, err = c.hello(tc.msg); err == nil {
					t.Fatal("the server acked a bad hello")
				}
			}
			cause := c.closedWith(t, 10*time.Second)
			code, msg, ok := remoteAppError(cause)
			if !ok || code != codeHelloRejected {
				t.Fatalf("connection ended with %v, want the server's hello refusal", cause)
			}
			if !strings.Contains(msg, tc.reason) {
				t.Fatalf("refusal reason %q does not say %q", msg, tc.reason)
			}
			testwait.Until(t, 5*time.Second, "the refusal counted", func() bool { return a.tr.Stats().RejectedHandshakes > before })
			a.logs.logged(t, tc.reason)
		})
	}
	// Validator 1's own link was never replaced by the impersonator.
	sendAll(t, b.tr, 0, testFrame(1, 0, 0, 100), time.Second)
	if in := recv(t, a, 5*time.Second); in.From != 1 {
		t.Fatalf("frame from %d, want 1", in.From)
	}
	for _, ev := range drain(a.events) {
		if ev.ID == 1 && !ev.Connected {
			t.Fatalf("validator 0 lost its link to 1 during the attacks: %v", ev.Err)
		}
	}
}

func drain(ch chan PeerEvent) []PeerEvent {
	var evs []PeerEvent
	for {
		select {
		case ev := <-ch:
			evs = append(evs, ev)
		default:
			return evs
		}
	}
}

// TestNoClientCertificate: a client without a certificate is refused and
// logged.
func TestNoClientCertificate(t *testing.T) {
	nodes := rawNet(t, nil)
	a := nodes[0]
	c := rawDial(t, nil, 0, pub(a.key), a.addr)
	if _, err := c.hello(appendHello(nil, hello{From: 2, To: 0, ChainID: testChain})); err == nil {
		t.Fatal("the server acked a client without a certificate")
	}
	cause := c.closedWith(t, 5*time.Second)
	if te, ok := errors.AsType[*quic.TransportError](cause); !ok || !te.Remote || !te.ErrorCode.IsCryptoError() {
		t.Fatalf("connection ended with %v, want a TLS refusal from the server", cause)
	}
	testwait.Until(t, 5*time.Second, "the refusal logged", func() bool { return a.logs.has("presented 0 certificates") })
	if a.tr.Stats().RejectedHandshakes != 1 {
		t.Fatalf("RejectedHandshakes = %d, want 1", a.tr.Stats().RejectedHandshakes)
	}
}

// acceptedRaw opens a raw connection as validator 2 to validator 0 and
// completes the hello.
func acceptedRaw(t *testing.T, a *node) *rawClient {
	t.Helper()
	c := rawDial(t, testKey(2), 0, pub(a.key), a.addr)
	from, err := c.hello(appendHello(nil, hello{From: 2, To: 0, ChainID: testChain}))
	if err != nil || from != 0 {
		t.Fatalf("hello as validator 2: ack from %d, %v", from, err)
	}
	return c
}

// TestOversizeFrameRefused: a frame length above MaxFrameSize closes the
// connection, is counted and logged; a frame of exactly MaxFrameSize
// passes.
func TestOversizeFrameRefused(t *testing.T) {
	const maxFrame = 1 << 16
	nodes := rawNet(t, func(i int, o *Options) { o.MaxFrameSize = maxFrame })
	a, b := nodes[0], nodes[1]

	for _, announced := range []uint32{maxFrame + 1, 1 << 31, 0xffffffff} {
		before := a.tr.Stats().RejectedFrames
		c := acceptedRaw(t, a)
		ok := make([]byte, maxFrame)
		ok[0] = 0xab
		msg := appendFrame(nil, ok)
		msg = binary.BigEndian.AppendUint32(msg, announced)
		msg = append(msg, make([]byte, 100)...) // some of the body
		if _, err := c.str.Write(msg); err != nil {
			t.Fatal(err)
		}
		in := recv(t, a, 5*time.Second)
		if in.From != 2 || len(in.Frame) != maxFrame || in.Frame[0] != 0xab {
			t.Fatalf("got %d bytes from %d, want the %d-byte frame of validator 2", len(in.Frame), in.From, maxFrame)
		}
		cause := c.closedWith(t, 5*time.Second)
		code, reason, isApp := remoteAppError(cause)
		if !isApp || code != codeBadFrame || !strings.Contains(reason, "frame too large") {
			t.Fatalf("announcing %d bytes: connection ended with %v, want a bad-frame close", announced, cause)
		}
		testwait.Until(t, 5*time.Second, "the bad frame counted", func() bool { return a.tr.Stats().RejectedFrames == before+1 })
		// No wait: the server counts the bad frame as it closes the
		// connection, so nothing after it can be delivered.
		select {
		case in := <-a.tr.Inbox():
			t.Fatalf("a frame of %d bytes from %d was delivered after the oversize one", len(in.Frame), in.From)
		default:
		}
	}
	a.logs.logged(t, "bad frame", "frame too large")
	// The committee is unaffected.
	sendAll(t, b.tr, 0, testFrame(1, 0, 0, 100), time.Second)
	if in := recv(t, a, 5*time.Second); in.From != 1 {
		t.Fatalf("frame from %d, want 1", in.From)
	}
}

// TestTruncatedFrames: a stream that ends inside a frame, or a connection
// that closes inside one, delivers no partial frame; the first is a
// protocol violation (counted, logged), the second a lost link (logged).
func TestTruncatedFrames(t *testing.T) {
	nodes := rawNet(t, nil)
	a := nodes[0]
	whole := testFrame(2, 0, 0, 500)
	cases := []struct {
		name      string
		tail      []byte // written after one whole frame
		closeConn bool   // close the connection instead of the stream
		violation bool
	}{
		{"stream ends inside the header", []byte{0, 0}, false, true},
		{"stream ends inside the body", append(binary.BigEndian.AppendUint32(nil, 1000), make([]byte, 10)...), false, true},
		{"connection closes inside the body", append(binary.BigEndian.AppendUint32(nil, 1000), make([]byte, 10)...), true, false},
		{"stream ends between frames", nil, false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := a.tr.Stats().RejectedFrames
			c := acceptedRaw(t, a)
			if _, err := c.str.Write(append(appendFrame(nil, whole), tc.tail...)); err != nil {
				t.Fatal(err)
			}
			in := recv(t, a, 5*time.Second)
			if _, err := checkFrame(in.Frame, 2, 0); err != nil || in.From != 2 {
				t.Fatalf("the whole frame: from %d, %v", in.From, err)
			}
			if tc.closeConn {
				// Let the partial frame reach the server first. No event
				// says a reader holds part of a frame, so this stays a
				// pause; if it is too short the test fails (the loss is
				// logged as between frames), it cannot pass wrongly.
				time.Sleep(100 * time.Millisecond)
				_ = c.conn.CloseWithError(0x77, "going away mid-frame")
				testwait.Until(t, 5*time.Second, "the server to log the loss", func() bool {
					return a.logs.has("lost inside a frame")
				})
			} else {
				if err := c.str.Close(); err != nil {
					t.Fatal(err)
				}
				cause := c.closedWith(t, 5*time.Second)
				code, _, ok := remoteAppError(cause)
				want := codeStreamEnded
				if tc.violation {
					want = codeBadFrame
				}
				if !ok || code != want {
					t.Fatalf("connection ended with %v, want application code %#x from the server", cause, want)
				}
			}
			wantRejected := before
			if tc.violation {
				wantRejected++
			}
			testwait.Until(t, 5*time.Second, "the counters", func() bool { return a.tr.Stats().RejectedFrames == wantRejected })
			// No wait: the connection has ended (the close code or the
			// logged loss above), so nothing more of it can be delivered.
			select {
			case in := <-a.tr.Inbox():
				t.Fatalf("a partial frame of %d bytes was delivered", len(in.Frame))
			default:
			}
		})
	}
	a.logs.logged(t, "truncated frame")
}

// TestNewerConnectionReplaces: a second authenticated connection of the
// same validator replaces the first, which the server closes.
func TestNewerConnectionReplaces(t *testing.T) {
	nodes := rawNet(t, nil)
	a := nodes[0]
	first := acceptedRaw(t, a)
	second := acceptedRaw(t, a)
	cause := first.closedWith(t, 5*time.Second)
	if code, _, ok := remoteAppError(cause); !ok || code != codeReplaced {
		t.Fatalf("first connection ended with %v, want replaced", cause)
	}
	if _, err := second.str.Write(appendFrame(nil, testFrame(2, 0, 7, 64))); err != nil {
		t.Fatal(err)
	}
	in := recv(t, a, 5*time.Second)
	if seq, err := checkFrame(in.Frame, 2, 0); err != nil || seq != 7 {
		t.Fatalf("frame on the second connection: %d, %v", seq, err)
	}
	// Validator 1's connection and the second raw one; never the first.
	testwait.Until(t, 5*time.Second, "inbound connections from validators 1 and 2", func() bool {
		ps := a.tr.Stats().Peers
		return ps[0].Inbound && ps[1].Inbound
	})

}

// TestPendingHandshakesBounded: connections that authenticate but never
// send a hello are bounded in number; the excess is refused at once.
func TestPendingHandshakesBounded(t *testing.T) {
	// A long handshake timeout keeps the silent connections pending for
	// the whole test, however slowly they are dialled.
	nodes := rawNet(t, func(i int, o *Options) { o.HandshakeTimeout = 20 * time.Second })
	a := nodes[0]
	limit := cap(a.tr.pending) // 2*3+8
	conns := make([]*rawClient, limit+3)
	for i := range conns {
		conns[i] = rawDial(t, testKey(2), 0, pub(a.key), a.addr)
	}
	busy := func() int {
		n := 0
		for _, c := range conns {
			select {
			case <-c.conn.Context().Done():
				if code, _, ok := remoteAppError(context.Cause(c.conn.Context())); ok && code == codeBusy {
					n++
				}
			default:
			}
		}
		return n
	}
	// Every connection is accounted for once three are refused and the
	// other limit hold every handshake slot (until the 20 s timeout): no
	// later refusal can come, so the count below is final.
	testwait.Until(t, 10*time.Second, "three busy refusals and every handshake slot taken", func() bool {
		return busy() >= 3 && len(a.tr.pending) == limit
	})
	if n := busy(); n != 3 {
		t.Fatalf("%d of %d silent connections refused as busy, want exactly 3 (limit %d)", n, len(conns), limit)
	}
	a.logs.logged(t, "too many handshakes in progress")
	if got := a.tr.Stats().RejectedHandshakes; got != 3 {
		t.Errorf("RejectedHandshakes = %d, want 3", got)
	}
}
