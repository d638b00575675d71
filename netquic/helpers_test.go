package netquic

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/dagd/dagd/internal/testwait"
)

const testChain = "dagd-test"

// logBuf collects a node's logs so that tests can check the reasons given.
type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *logBuf) has(s string) bool { return strings.Contains(l.String(), s) }

// logged waits until the log holds every one of texts: the transport
// counts an event (the counters tests wait on) before it logs it.
func (l *logBuf) logged(t *testing.T, texts ...string) {
	t.Helper()
	testwait.Until(t, 10*time.Second, fmt.Sprintf("the log to say %q", texts), func() bool {
		for _, s := range texts {
			if !l.has(s) {
				return false
			}
		}
		return true
	})
}

// testKey is validator i's network key in the tests.
func testKey(i int) ed25519.PrivateKey {
	seed := make([]byte, ed25519.SeedSize)
	copy(seed, "netquic test key")
	binary.BigEndian.PutUint32(seed[28:], uint32(i))
	return ed25519.NewKeyFromSeed(seed)
}

func pub(k ed25519.PrivateKey) ed25519.PublicKey { return k.Public().(ed25519.PublicKey) }

// node is one Transport under test.
type node struct {
	id     PeerID
	key    ed25519.PrivateKey
	addr   string
	opts   Options
	tr     *Transport
	logs   *logBuf
	events chan PeerEvent
}

// listenLoopback binds a UDP socket on a free loopback port.
func listenLoopback(t testing.TB) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatalf("binding a loopback UDP socket: %v", err)
	}
	return c
}

// testOptions are quick timeouts for tests on loopback.
func testOptions(self PeerID, key ed25519.PrivateKey, peers []Peer, logs io.Writer, events chan PeerEvent) Options {
	return Options{
		Self:             self,
		Key:              key,
		Peers:            peers,
		ChainID:          testChain,
		KeepAlivePeriod:  500 * time.Millisecond,
		MaxIdleTimeout:   5 * time.Second,
		HandshakeTimeout: 5 * time.Second, // generous: the race detector on a loaded machine is slow
		DialBackoffMin:   20 * time.Millisecond,
		DialBackoffMax:   200 * time.Millisecond,
		Logger:           slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		OnPeer: func(ev PeerEvent) {
			select {
			case events <- ev:
			default:
			}
		},
	}
}

// startNet starts n transports, validators 0..n-1, on loopback. mod may
// change each one's options before it starts. The transports are closed
// when the test ends; on failure their logs are printed.
func startNet(t testing.TB, n int, mod func(i int, o *Options)) []*node {
	t.Helper()
	return startNetSome(t, n, n, mod)
}

// startNetSome is startNet for a committee of n of which only validators
// 0..running-1 run; the ports of the others are bound to sockets that never
// answer. It returns the running nodes.
func startNetSome(t testing.TB, n, running int, mod func(i int, o *Options)) []*node {
	t.Helper()
	socks := make([]*net.UDPConn, n)
	peers := make([]Peer, n)
	for i := range n {
		socks[i] = listenLoopback(t)
		peers[i] = Peer{ID: PeerID(i), Addr: socks[i].LocalAddr().String(), PublicKey: pub(testKey(i))}
	}
	for _, s := range socks[running:] {
		t.Cleanup(func() { s.Close() })
	}
	nodes := make([]*node, running)
	for i := range running {
		nd := &node{id: PeerID(i), key: testKey(i), addr: peers[i].Addr, logs: &logBuf{}, events: make(chan PeerEvent, 256)}
		nd.opts = testOptions(nd.id, nd.key, peers, nd.logs, nd.events)
		nd.opts.PacketConn = socks[i]
		if mod != nil {
			mod(i, &nd.opts)
		}
		nodes[i] = nd
	}
	for _, nd := range nodes {
		tr, err := New(context.Background(), nd.opts)
		if err != nil {
			t.Fatalf("New(validator %d): %v", nd.id, err)
		}
		nd.tr = tr
	}
	t.Cleanup(func() {
		for _, nd := range nodes {
			if nd.tr != nil {
				if err := nd.tr.Close(); err != nil {
					t.Errorf("Close(validator %d): %v", nd.id, err)
				}
			}
			if t.Failed() {
				t.Logf("--- logs of validator %d ---\n%s", nd.id, nd.logs.String())
			}
		}
	})
	return nodes
}

// waitConnected waits until every node's outgoing links to all others are
// confirmed.
func waitConnected(t testing.TB, nodes []*node) {
	t.Helper()
	testwait.Until(t, 10*time.Second, "all links up", func() bool {
		for _, nd := range nodes {
			if len(nd.tr.Connected()) != len(nodes)-1 {
				return false
			}
		}
		return true
	})
}

// recv takes the next frame from nd's inbox within d.
func recv(t testing.TB, nd *node, d time.Duration) Inbound {
	t.Helper()
	select {
	case in, ok := <-nd.tr.Inbox():
		if !ok {
			t.Fatalf("validator %d: inbox closed", nd.id)
		}
		return in
	case <-time.After(testwait.Timeout(t, d)):
		t.Fatalf("validator %d: no frame within %v", nd.id, d)
	}
	return Inbound{}
}

// sendAll sends frame, retrying while the queue is full, for at most d.
func sendAll(t testing.TB, tr *Transport, to PeerID, frame []byte, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(testwait.Timeout(t, d))
	for {
		err := tr.Send(to, frame)
		if err == nil {
			return
		}
		if err != ErrQueueFull || time.Now().After(deadline) {
			t.Fatalf("Send to %d: %v", to, err)
		}
		time.Sleep(100 * time.Microsecond)
	}
}

// rawClient is a hand-driven QUIC client for attacks and malformed input:
// it speaks TLS with the given key but writes whatever the test wants.
type rawClient struct {
	conn *quic.Conn
	str  *quic.Stream
}

// rawDial connects to the server validator serverID (key serverKey) at addr
// with key (no client certificate if key is nil). The TLS handshake
// succeeding says nothing about the server accepting the certificate.
func rawDial(t testing.TB, key ed25519.PrivateKey, serverID PeerID, serverKey ed25519.PublicKey, addr string) *rawClient {
	t.Helper()
	cert := rawCert(t, key)
	tc := clientTLS(cert, serverID, serverKey)
	if key == nil {
		tc.Certificates = nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := quic.DialAddr(ctx, addr, tc, &quic.Config{HandshakeIdleTimeout: 2 * time.Second, MaxIdleTimeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("raw dial %s: %v", addr, err)
	}
	t.Cleanup(func() { _ = conn.CloseWithError(0, "test over") })
	return &rawClient{conn: conn}
}

func rawCert(t testing.TB, key ed25519.PrivateKey) tls.Certificate {
	t.Helper()
	if key == nil {
		key = testKey(9999)
	}
	c, err := newCertificate(key)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// hello opens the stream, writes msg (a hello, or anything) and reads the
// ack. It returns the acceptor's PeerID, or the error that ended the
// exchange.
func (c *rawClient) hello(msg []byte) (PeerID, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	str, err := c.conn.OpenStreamSync(ctx)
	if err != nil {
		return 0, err
	}
	c.str = str
	_ = str.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := str.Write(msg); err != nil {
		return 0, err
	}
	var ack [ackLen]byte
	if _, err := io.ReadFull(str, ack[:]); err != nil {
		return 0, err
	}
	_ = str.SetDeadline(time.Time{})
	return decodeAck(ack[:])
}

// closedWith waits for the connection to end and returns why.
func (c *rawClient) closedWith(t testing.TB, d time.Duration) error {
	t.Helper()
	select {
	case <-c.conn.Context().Done():
		return context.Cause(c.conn.Context())
	case <-time.After(testwait.Timeout(t, d)):
		t.Fatalf("the server did not close the connection within %v", d)
	}
	return nil
}

// remoteAppError returns the application error code the peer closed the
// connection with; ok is false if the peer did not close it that way.
func remoteAppError(err error) (code quic.ApplicationErrorCode, msg string, ok bool) {
	ae, isApp := errors.AsType[*quic.ApplicationError](err)
	if !isApp || !ae.Remote {
		return 0, "", false
	}
	return ae.ErrorCode, ae.ErrorMessage, true
}

// testFrame is a frame whose content tells its sender, receiver and
// sequence number, padded to size with a pattern derived from them.
func testFrame(from, to PeerID, seq, size int) []byte {
	size = max(size, 8)
	b := make([]byte, size)
	binary.BigEndian.PutUint16(b[0:], uint16(from))
	binary.BigEndian.PutUint16(b[2:], uint16(to))
	binary.BigEndian.PutUint32(b[4:], uint32(seq))
	for i := 8; i < size; i++ {
		b[i] = byte(i*31 + seq*7 + int(from)*3 + int(to))
	}
	return b
}

// checkFrame verifies a frame made by testFrame and returns its sequence
// number.
func checkFrame(b []byte, from, to PeerID) (int, error) {
	if len(b) < 8 {
		return 0, fmt.Errorf("frame of %d bytes", len(b))
	}
	f, tt, seq := PeerID(binary.BigEndian.Uint16(b[0:])), PeerID(binary.BigEndian.Uint16(b[2:])), int(binary.BigEndian.Uint32(b[4:]))
	if f != from || tt != to {
		return 0, fmt.Errorf("frame says %d->%d, got it as %d->%d", f, tt, from, to)
	}
	if !bytes.Equal(b, testFrame(from, to, seq, len(b))) {
		return 0, fmt.Errorf("frame %d->%d #%d: content corrupted", from, to, seq)
	}
	return seq, nil
}
