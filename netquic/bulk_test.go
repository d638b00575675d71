package netquic

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/dagd/dagd/internal/testwait"
)

// isBulk marks test frames whose sequence number is odd as bulk.
func isBulk(f []byte) bool { return len(f) >= 8 && f[7]&1 == 1 }

// TestBulkStream: with BulkFrame set on validator 0 only, frames of both
// classes from 0 reach 1 (which takes the bulk stream without the option
// itself), each class in order; frames from 1 reach 0 on the one stream.
func TestBulkStream(t *testing.T) {
	nodes := startNet(t, 2, func(i int, o *Options) {
		if i == 0 {
			o.BulkFrame = isBulk
		}
	})
	waitConnected(t, nodes)
	const count = 400
	go func() {
		for seq := range count {
			size := 100
			if seq%2 == 1 {
				size = 200 << 10 // bulk frames are large
			}
			sendAll(t, nodes[0].tr, 1, testFrame(0, 1, seq, size), 10*time.Second)
		}
	}()
	next := [2]int{0, 1} // the next sequence number expected of each class
	for range count {
		in := recv(t, nodes[1], 10*time.Second)
		seq, err := checkFrame(in.Frame, 0, 1)
		if err != nil {
			t.Fatal(err)
		}
		if seq != next[seq%2] {
			t.Fatalf("class %d: frame %d arrived, want %d", seq%2, seq, next[seq%2])
		}
		next[seq%2] += 2
	}
	sendAll(t, nodes[1].tr, 0, testFrame(1, 0, 1, 300), time.Second)
	if _, err := checkFrame(recv(t, nodes[0], 10*time.Second).Frame, 1, 0); err != nil {
		t.Fatal(err)
	}
}

// TestBulkQueueIsSeparate: toward an unreachable peer, a full bulk queue
// refuses bulk frames while other frames are still taken, and the other
// way round; once the peer runs, both queues drain.
func TestBulkQueueIsSeparate(t *testing.T) {
	hold := listenLoopback(t)
	holdAddr := hold.LocalAddr().String()
	sockA := listenLoopback(t)
	peers := []Peer{
		{ID: 0, Addr: sockA.LocalAddr().String(), PublicKey: pub(testKey(0))},
		{ID: 1, Addr: holdAddr, PublicKey: pub(testKey(1))},
	}
	opts := testOptions(0, testKey(0), peers, &logBuf{}, make(chan PeerEvent, 16))
	opts.PacketConn = sockA
	opts.MaxFrameSize = 64 << 10
	opts.SendQueueLen, opts.SendQueueBytes = 4, 256<<10
	opts.BulkQueueBytes = 128 << 10
	opts.BulkFrame = isBulk
	a, err := New(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if o := a.opts; o.BulkQueueLen != 4 {
		t.Fatalf("BulkQueueLen %d, want SendQueueLen's 4", o.BulkQueueLen)
	}
	bulk := func(seq int) []byte { return testFrame(0, 1, 2*seq+1, 64<<10) }
	other := func(seq int) []byte { return testFrame(0, 1, 2*seq, 100) }
	for i := range 2 {
		if err := a.Send(1, bulk(i)); err != nil {
			t.Fatalf("bulk frame %d: %v", i, err)
		}
	}
	if err := a.Send(1, bulk(2)); !errors.Is(err, ErrQueueFull) {
		t.Fatalf("third 64 KiB bulk frame with 128 KiB of bulk queue: %v, want ErrQueueFull", err)
	}
	for i := range 4 {
		if err := a.Send(1, other(i)); err != nil {
			t.Fatalf("frame %d with the bulk queue full: %v", i, err)
		}
	}
	if err := a.Send(1, other(4)); !errors.Is(err, ErrQueueFull) {
		t.Fatalf("fifth frame with SendQueueLen 4: %v, want ErrQueueFull", err)
	}
	ps := a.Stats().Peers[0]
	if ps.QueueLen != 4 || ps.QueueBytes != 400 || ps.BulkQueueLen != 2 || ps.BulkQueueBytes != 128<<10 {
		t.Fatalf("peer stats %+v", ps)
	}
	if err := hold.Close(); err != nil {
		t.Fatal(err)
	}
	optsB := testOptions(1, testKey(1), peers, &logBuf{}, make(chan PeerEvent, 16))
	optsB.ListenAddr = holdAddr
	b, err := New(context.Background(), optsB)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	nb := &node{id: 1, tr: b}
	got := map[int]bool{}
	for range 6 {
		seq, err := checkFrame(recv(t, nb, 10*time.Second).Frame, 0, 1)
		if err != nil {
			t.Fatal(err)
		}
		got[seq] = true
	}
	for _, seq := range []int{0, 1, 2, 3, 4, 6} {
		if !got[seq] {
			t.Fatalf("frame %d missing; got %v", seq, got)
		}
	}
	testwait.Until(t, 5*time.Second, "queues drained", func() bool {
		ps := a.Stats().Peers[0]
		return ps.QueueLen == 0 && ps.BulkQueueLen == 0 && ps.QueueBytes == 0 && ps.BulkQueueBytes == 0
	})
}

// TestBulkStreamWithoutTag: a second stream that does not start with the
// bulk tag closes the connection with a bad-frame error.
func TestBulkStreamWithoutTag(t *testing.T) {
	nodes := startNetSome(t, 2, 1, nil)
	srv := nodes[0]
	c := rawDial(t, testKey(1), 0, pub(srv.key), srv.addr)
	if _, err := c.hello(appendHello(nil, hello{From: 1, To: 0, ChainID: testChain})); err != nil {
		t.Fatalf("hello: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	str, err := c.conn.OpenStreamSync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := str.Write([]byte("XXXX\x00\x00\x00\x01z")); err != nil {
		t.Fatal(err)
	}
	code, reason, ok := remoteAppError(c.closedWith(t, 10*time.Second))
	if !ok || code != codeBadFrame {
		t.Fatalf("closed with %d %q (%v), want codeBadFrame", code, reason, ok)
	}
	testwait.Until(t, 5*time.Second, "the refusal logged", func() bool { return srv.logs.has("bad bulk stream") })
}
