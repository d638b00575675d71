package netquic

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dagd/dagd/internal/testwait"
)

// TestAllToAll: four transports send frames of assorted sizes to each
// other; every frame arrives once, intact and in order per link, and the
// counters agree.
func TestAllToAll(t *testing.T) {
	const n = 4
	perLink := 300
	if testing.Short() {
		perLink = 100
	}
	nodes := startNet(t, n, nil)
	rng := rand.New(rand.NewPCG(1, 2))
	sizes := make([]int, perLink)
	var bytesPerLink uint64
	for i := range sizes {
		switch i % 10 {
		case 0:
			sizes[i] = 64<<10 + rng.IntN(64<<10)
		default:
			sizes[i] = 8 + rng.IntN(2000)
		}
		bytesPerLink += uint64(sizes[i])
	}
	// Send before the links are up: frames wait in the queues.
	done := make(chan error, n)
	for _, src := range nodes {
		go func() {
			for seq := range perLink {
				for _, dst := range nodes {
					if dst.id == src.id {
						continue
					}
					f := testFrame(src.id, dst.id, seq, sizes[seq])
					deadline := time.Now().Add(20 * time.Second)
					for {
						err := src.tr.Send(dst.id, f)
						if err == nil {
							break
						}
						if !errors.Is(err, ErrQueueFull) || time.Now().After(deadline) {
							done <- fmt.Errorf("validator %d Send to %d: %w", src.id, dst.id, err)
							return
						}
						time.Sleep(200 * time.Microsecond)
					}
				}
			}
			done <- nil
		}()
	}
	// Receive everything.
	for _, dst := range nodes {
		next := make(map[PeerID]int)
		for range (n - 1) * perLink {
			in := recv(t, dst, 20*time.Second)
			seq, err := checkFrame(in.Frame, in.From, dst.id)
			if err != nil {
				t.Fatal(err)
			}
			if seq != next[in.From] {
				t.Fatalf("validator %d got #%d from %d, want #%d", dst.id, seq, in.From, next[in.From])
			}
			if len(in.Frame) != max(sizes[seq], 8) {
				t.Fatalf("frame #%d from %d has %d bytes, want %d", seq, in.From, len(in.Frame), sizes[seq])
			}
			next[in.From]++
		}
		for _, src := range nodes {
			if src.id != dst.id && next[src.id] != perLink {
				t.Errorf("validator %d got %d frames from %d, want %d", dst.id, next[src.id], src.id, perLink)
			}
		}
	}
	for range n {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	waitConnected(t, nodes)
	for _, nd := range nodes {
		want := []PeerID{}
		for _, o := range nodes {
			if o.id != nd.id {
				want = append(want, o.id)
			}
		}
		if got := nd.tr.Connected(); !slices.Equal(got, want) {
			t.Errorf("validator %d Connected() = %v, want %v", nd.id, got, want)
		}
		s := nd.tr.Stats()
		if s.FramesIn != uint64((n-1)*perLink) || s.FramesOut != uint64((n-1)*perLink) {
			t.Errorf("validator %d: frames in/out %d/%d, want %d", nd.id, s.FramesIn, s.FramesOut, (n-1)*perLink)
		}
		if s.BytesIn != uint64(n-1)*bytesPerLink || s.BytesOut != uint64(n-1)*bytesPerLink {
			t.Errorf("validator %d: bytes in/out %d/%d, want %d", nd.id, s.BytesIn, s.BytesOut, uint64(n-1)*bytesPerLink)
		}
		if s.RejectedHandshakes != 0 || s.RejectedFrames != 0 {
			t.Errorf("validator %d: rejected handshakes %d, frames %d; want none", nd.id, s.RejectedHandshakes, s.RejectedFrames)
		}
		for _, ps := range s.Peers {
			if !ps.Connected || !ps.Inbound || ps.QueueLen != 0 || ps.QueueBytes != 0 {
				t.Errorf("validator %d: peer stats %+v, want connected both ways with empty queue", nd.id, ps)
			}
		}
	}
}

// TestSendErrors: the errors Send returns without a network.
func TestSendErrors(t *testing.T) {
	nodes := startNet(t, 2, func(i int, o *Options) { o.MaxFrameSize = 1000 })
	a := nodes[0].tr
	if err := a.Send(7, []byte("x")); !errors.Is(err, ErrUnknownPeer) {
		t.Errorf("Send to a stranger: %v, want ErrUnknownPeer", err)
	}
	if err := a.Send(0, []byte("x")); !errors.Is(err, ErrUnknownPeer) {
		t.Errorf("Send to self: %v, want ErrUnknownPeer", err)
	}
	if err := a.Send(1, make([]byte, 1001)); !errors.Is(err, ErrFrameTooLarge) {
		t.Errorf("Send of 1001 bytes with MaxFrameSize 1000: %v, want ErrFrameTooLarge", err)
	}
	if err := a.Send(1, make([]byte, 1000)); err != nil {
		t.Errorf("Send of exactly MaxFrameSize: %v", err)
	}
	if err := a.Send(1, nil); err != nil {
		t.Errorf("Send of an empty frame: %v", err)
	}
	for _, want := range []int{1000, 0} {
		in := recv(t, nodes[1], 10*time.Second)
		if in.From != 0 || len(in.Frame) != want {
			t.Errorf("got %d bytes from %d, want %d from 0", len(in.Frame), in.From, want)
		}
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if err := a.Send(1, []byte("x")); !errors.Is(err, ErrClosed) {
		t.Errorf("Send after Close: %v, want ErrClosed", err)
	}
	if err := a.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, ok := <-a.Inbox(); ok {
		t.Error("the inbox is open after Close")
	}
}

// TestQueueFull: with the peer unreachable, the queue fills to its frame
// and byte limits and Send answers ErrQueueFull; once the peer appears, the
// queued frames are delivered in order.
func TestQueueFull(t *testing.T) {
	// Validator 1's port is held by a socket that never answers.
	hold := listenLoopback(t)
	holdAddr := hold.LocalAddr().String()
	sockA := listenLoopback(t)
	peers := []Peer{
		{ID: 0, Addr: sockA.LocalAddr().String(), PublicKey: pub(testKey(0))},
		{ID: 1, Addr: holdAddr, PublicKey: pub(testKey(1))},
	}
	logsA := &logBuf{}
	optsA := testOptions(0, testKey(0), peers, logsA, make(chan PeerEvent, 16))
	optsA.PacketConn = sockA
	optsA.MaxFrameSize = 64 << 10
	optsA.SendQueueLen = 8
	optsA.SendQueueBytes = 256 << 10
	a, err := New(context.Background(), optsA)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()

	var sent [][]byte
	for i := range 8 {
		f := testFrame(0, 1, i, 100)
		if err := a.Send(1, f); err != nil {
			t.Fatalf("Send #%d of 8: %v", i, err)
		}
		sent = append(sent, f)
	}
	if err := a.Send(1, testFrame(0, 1, 8, 100)); !errors.Is(err, ErrQueueFull) {
		t.Fatalf("Send #9 with SendQueueLen 8: %v, want ErrQueueFull", err)
	}
	s := a.Stats()
	if s.QueueFull != 1 || s.Peers[0].QueueLen != 8 || s.Peers[0].QueueBytes != 800 || s.Peers[0].Connected {
		t.Fatalf("stats %+v: want 1 queue-full, 8 frames and 800 bytes queued, not connected", s)
	}
	if got := a.Connected(); len(got) != 0 {
		t.Fatalf("Connected() = %v with the peer unreachable", got)
	}

	// Validator 1 starts on its port; the queued frames go out.
	if err := hold.Close(); err != nil {
		t.Fatal(err)
	}
	logsB := &logBuf{}
	optsB := testOptions(1, testKey(1), peers, logsB, make(chan PeerEvent, 16))
	optsB.ListenAddr = holdAddr
	b, err := New(context.Background(), optsB)
	if err != nil {
		t.Fatalf("starting validator 1 on %s: %v", holdAddr, err)
	}
	defer b.Close()
	nb := &node{id: 1, tr: b}
	for i, f := range sent {
		in := recv(t, nb, 10*time.Second)
		seq, err := checkFrame(in.Frame, 0, 1)
		if err != nil || seq != i {
			t.Fatalf("frame %d: seq %d, %v", i, seq, err)
		}
		if len(in.Frame) != len(f) {
			t.Fatalf("frame %d: %d bytes, want %d", i, len(in.Frame), len(f))
		}
	}
	testwait.Until(t, 5*time.Second, "queue drained", func() bool {
		ps := a.Stats().Peers[0]
		return ps.QueueLen == 0 && ps.QueueBytes == 0
	})
}

// TestQueueFullBytes: the byte limit of the queue binds before the frame
// limit.
func TestQueueFullBytes(t *testing.T) {
	hold := listenLoopback(t)
	defer hold.Close()
	sockA := listenLoopback(t)
	peers := []Peer{
		{ID: 0, Addr: sockA.LocalAddr().String(), PublicKey: pub(testKey(0))},
		{ID: 1, Addr: hold.LocalAddr().String(), PublicKey: pub(testKey(1))},
	}
	opts := testOptions(0, testKey(0), peers, &logBuf{}, make(chan PeerEvent, 16))
	opts.PacketConn = sockA
	opts.MaxFrameSize = 64 << 10
	opts.SendQueueBytes = 256 << 10
	a, err := New(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	big := make([]byte, 64<<10)
	for i := range 4 {
		if err := a.Send(1, big); err != nil {
			t.Fatalf("Send #%d of 64 KiB with 256 KiB of queue: %v", i, err)
		}
	}
	if err := a.Send(1, big); !errors.Is(err, ErrQueueFull) {
		t.Fatalf("fifth 64 KiB frame: %v, want ErrQueueFull", err)
	}
	if err := a.Send(1, nil); err != nil {
		t.Fatalf("an empty frame still fits: %v", err)
	}
	if got := a.Stats().Peers[0].QueueBytes; got != 256<<10 {
		t.Fatalf("queued bytes %d, want %d", got, 256<<10)
	}
}

// TestBackPressure: a consumer that stops reading stops the sender through
// QUIC flow control: the inbox stays within its bounds, the sender's queue
// fills and Send answers ErrQueueFull; when the consumer resumes, every
// frame Send accepted arrives, in order.
func TestBackPressure(t *testing.T) {
	const size = 64 << 10
	nodes := startNet(t, 2, func(i int, o *Options) {
		o.MaxFrameSize = size
		o.InboxLen = 4
		o.InboxBytes = 2 * size
		o.SendQueueLen = 16
	})
	a, b := nodes[0], nodes[1]
	waitConnected(t, nodes)
	// Send until the queue has stayed full for a while: the receiver reads
	// nothing, so its inbox fills, then the QUIC windows, then the queue.
	accepted := 0
	lastProgress := time.Now()
	for time.Since(lastProgress) < 300*time.Millisecond {
		if accepted > 2000 {
			t.Fatalf("the sender accepted %d frames of 64 KiB (%d MiB) without back-pressure", accepted, accepted*size>>20)
		}
		err := a.tr.Send(1, testFrame(0, 1, accepted, size))
		switch {
		case err == nil:
			accepted++
			lastProgress = time.Now()
		case errors.Is(err, ErrQueueFull):
			time.Sleep(time.Millisecond)
		default:
			t.Fatal(err)
		}
	}
	sa, sb := a.tr.Stats(), b.tr.Stats()
	if sb.InboxFrames > 4 || sb.InboxBytes > 2*size {
		t.Fatalf("inbox holds %d frames, %d bytes; limits 4 and %d", sb.InboxFrames, sb.InboxBytes, 2*size)
	}
	if sa.Peers[0].QueueLen != 16 {
		t.Fatalf("sender queue holds %d frames, want it full (16)", sa.Peers[0].QueueLen)
	}
	inFlight := accepted - 16 - int(sb.FramesIn)
	t.Logf("accepted %d frames (%d MiB) before back-pressure: %d queued, %d in the inbox, %d in flight (windows and buffers)",
		accepted, accepted*size>>20, sa.Peers[0].QueueLen, sb.InboxFrames, inFlight)
	if sb.FramesIn != uint64(sb.InboxFrames) {
		t.Fatalf("receiver delivered %d frames but its inbox holds %d, and nobody read", sb.FramesIn, sb.InboxFrames)
	}

	// Resume: drain everything accepted, then send a few more.
	total := accepted + 50
	go func() {
		for i := accepted; i < total; i++ {
			for a.tr.Send(1, testFrame(0, 1, i, size)) != nil {
				time.Sleep(100 * time.Microsecond)
			}
		}
	}()
	for i := range total {
		in := recv(t, b, 10*time.Second)
		seq, err := checkFrame(in.Frame, 0, 1)
		if err != nil {
			t.Fatal(err)
		}
		if seq != i {
			t.Fatalf("got #%d, want #%d", seq, i)
		}
	}
}

// TestRestartReconnects: a peer that closes and starts again on the same
// port is reconnected without help, reported through OnPeer, and traffic
// flows both ways again.
func TestRestartReconnects(t *testing.T) {
	nodes := startNet(t, 2, nil)
	a, b := nodes[0], nodes[1]
	waitConnected(t, nodes)
	expectEvent(t, a, PeerEvent{ID: 1, Connected: true})

	sendAll(t, a.tr, 1, testFrame(0, 1, 0, 100), time.Second)
	recv(t, b, 5*time.Second)

	if err := b.tr.Close(); err != nil {
		t.Fatal(err)
	}
	expectEvent(t, a, PeerEvent{ID: 1, Connected: false})
	if got := a.tr.Connected(); len(got) != 0 {
		t.Fatalf("Connected() = %v after the peer closed", got)
	}
	// Restart validator 1 on the same address, binding it by ListenAddr.
	opts := b.opts
	opts.PacketConn = nil
	opts.ListenAddr = b.addr
	var err error
	b.tr, err = New(context.Background(), opts)
	if err != nil {
		t.Fatalf("restarting validator 1 on %s: %v", b.addr, err)
	}
	if got := b.tr.Addr().String(); got != b.addr {
		t.Fatalf("restarted on %s, want %s", got, b.addr)
	}
	expectEvent(t, a, PeerEvent{ID: 1, Connected: true})
	waitConnected(t, nodes)
	if r := a.tr.Stats().Reconnects; r < 1 {
		t.Fatalf("Reconnects = %d after a restart", r)
	}
	sendAll(t, a.tr, 1, testFrame(0, 1, 1, 100), time.Second)
	if seq, err := checkFrame(recv(t, b, 5*time.Second).Frame, 0, 1); err != nil || seq != 1 {
		t.Fatalf("after restart, 0->1: seq %d, %v", seq, err)
	}
	sendAll(t, b.tr, 0, testFrame(1, 0, 0, 100), time.Second)
	if seq, err := checkFrame(recv(t, a, 5*time.Second).Frame, 1, 0); err != nil || seq != 0 {
		t.Fatalf("after restart, 1->0: seq %d, %v", seq, err)
	}
}

// expectEvent waits for the next OnPeer event of nd matching want (ID and
// Connected), skipping none.
func expectEvent(t testing.TB, nd *node, want PeerEvent) {
	t.Helper()
	select {
	case ev := <-nd.events:
		if ev.ID != want.ID || ev.Connected != want.Connected {
			t.Fatalf("validator %d: event %+v, want %+v", nd.id, ev, want)
		}
		if !ev.Connected && ev.Err == nil {
			t.Fatalf("validator %d: disconnect event without a reason", nd.id)
		}
	case <-time.After(testwait.Timeout(t, 10*time.Second)):
		t.Fatalf("validator %d: no event %+v within 10s", nd.id, want)
	}
}

// TestKeepAlive: an idle link outlives MaxIdleTimeout many times over
// thanks to keep-alives.
func TestKeepAlive(t *testing.T) {
	nodes := startNet(t, 2, func(i int, o *Options) {
		o.MaxIdleTimeout = time.Second
		o.KeepAlivePeriod = 100 * time.Millisecond
	})
	waitConnected(t, nodes)
	for _, nd := range nodes {
		expectEvent(t, nd, PeerEvent{ID: 1 - nd.id, Connected: true})
	}
	time.Sleep(3 * time.Second) // three idle timeouts
	for _, nd := range nodes {
		select {
		case ev := <-nd.events:
			t.Fatalf("validator %d: event %+v while idle", nd.id, ev)
		default:
		}
		if got := nd.tr.Connected(); len(got) != 1 {
			t.Fatalf("validator %d: Connected() = %v after idling", nd.id, got)
		}
		if r := nd.tr.Stats().Reconnects; r != 0 {
			t.Fatalf("validator %d: %d reconnects while idle", nd.id, r)
		}
	}
	sendAll(t, nodes[0].tr, 1, testFrame(0, 1, 0, 10), time.Second)
	if _, err := checkFrame(recv(t, nodes[1], 5*time.Second).Frame, 0, 1); err != nil {
		t.Fatal(err)
	}
}

// TestGarbageDatagrams: random and crafted datagrams on the QUIC port are
// dropped, counted and logged, while the traffic goes on.
func TestGarbageDatagrams(t *testing.T) {
	nodes := startNet(t, 2, nil)
	a, b := nodes[0], nodes[1]
	waitConnected(t, nodes)

	junk, err := net.DialUDP("udp", nil, a.tr.Addr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer junk.Close()
	rng := rand.New(rand.NewPCG(3, 4))
	datagram := func(i int) []byte {
		size := rng.IntN(1500)
		switch i % 5 {
		case 0:
			size = 1200 + rng.IntN(300) // as big as an Initial
		case 1:
			size = rng.IntN(4)
		}
		d := make([]byte, size)
		for j := range d {
			d[j] = byte(rng.Uint32())
		}
		if len(d) > 0 {
			switch i % 5 {
			case 0: // long header, QUIC v1, Initial type, garbage after
				d[0] = 0xc0 | d[0]&0x0f
				if len(d) >= 5 {
					copy(d[1:5], []byte{0, 0, 0, 1})
				}
			case 2: // not QUIC at all: the fixed bit is clear
				d[0] &= 0x3f
			case 3: // short header with a random connection ID
				d[0] = 0x40 | d[0]&0x3f
			}
		}
		return d
	}
	// Frames and garbage at the same time, both paced over some tens of
	// milliseconds.
	const frames, junkCount = 200, 600
	go func() {
		for i := range frames {
			for b.tr.Send(0, testFrame(1, 0, i, 500)) != nil {
				time.Sleep(100 * time.Microsecond)
			}
			time.Sleep(200 * time.Microsecond)
		}
	}()
	junkDone := make(chan error, 1)
	go func() {
		for i := range junkCount {
			if _, err := junk.Write(datagram(i)); err != nil {
				junkDone <- err
				return
			}
			if i%20 == 0 {
				time.Sleep(time.Millisecond)
			}
		}
		junkDone <- nil
	}()
	for i := range frames {
		seq, err := checkFrame(recv(t, a, 10*time.Second).Frame, 1, 0)
		if err != nil || seq != i {
			t.Fatalf("frame %d: seq %d, %v", i, seq, err)
		}
	}
	if err := <-junkDone; err != nil {
		t.Fatalf("sending garbage: %v", err)
	}
	testwait.Until(t, 5*time.Second, "dropped datagrams counted", func() bool { return a.tr.Stats().DroppedDatagrams > 0 })
	testwait.Until(t, 5*time.Second, "a log of the dropped datagrams and their reason", func() bool {
		return a.logs.has("dropped a datagram") && a.logs.has("reason=not_quic")
	})
	if got := a.tr.Connected(); len(got) != 1 {
		t.Errorf("Connected() = %v after the garbage", got)
	}
	t.Logf("sent %d garbage datagrams; %d counted as dropped outside connections", junkCount, a.tr.Stats().DroppedDatagrams)
	// And the link still works the other way.
	sendAll(t, a.tr, 1, testFrame(0, 1, 0, 10), time.Second)
	if _, err := checkFrame(recv(t, b, 5*time.Second).Frame, 0, 1); err != nil {
		t.Fatal(err)
	}
}

// TestCloseLeaksNoGoroutines: after Close, none of the transport's or
// quic-go's goroutines remain.
func TestCloseLeaksNoGoroutines(t *testing.T) {
	before := transportGoroutines()
	if len(before) > 0 {
		// Some earlier test's goroutines are still winding down.
		testwait.Until(t, 10*time.Second, "earlier goroutines to end", func() bool { return len(transportGoroutines()) == 0 })
	}
	nodes := startNet(t, 3, func(i int, o *Options) { o.InboxLen = 2 })
	waitConnected(t, nodes)
	for _, src := range nodes {
		for _, dst := range nodes {
			if src != dst {
				sendAll(t, src.tr, dst.id, testFrame(src.id, dst.id, 0, 1000), time.Second)
			}
		}
	}
	for _, nd := range nodes {
		recv(t, nd, 5*time.Second)
		recv(t, nd, 5*time.Second)
	}
	if len(transportGoroutines()) == 0 {
		t.Fatal("no transport goroutines found while running: the leak check would see nothing")
	}
	// Leave a reader blocked on a full inbox...
	for i := 1; i <= 5; i++ {
		sendAll(t, nodes[0].tr, 1, testFrame(0, 1, i, 100), time.Second)
	}
	testwait.Until(t, 5*time.Second, "a full inbox", func() bool { return nodes[1].tr.Stats().InboxFrames == 2 })
	// ...and frames queued for a peer that is gone.
	if err := nodes[2].tr.Close(); err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		_ = nodes[0].tr.Send(2, testFrame(0, 2, i, 100))
	}
	for _, nd := range nodes {
		if err := nd.tr.Close(); err != nil {
			t.Fatal(err)
		}
	}
	testwait.For(t, 10*time.Second, func() error {
		if left := transportGoroutines(); len(left) != 0 {
			return fmt.Errorf("%d goroutines left after Close:\n%s", len(left), strings.Join(left, "\n\n"))
		}
		return nil
	})
}

// transportGoroutines returns the stacks of the goroutines running code of
// this package (other than tests) or of quic-go.
func transportGoroutines() []string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var out []string
	for g := range strings.SplitSeq(string(buf), "\n\n") {
		if strings.Contains(g, "github.com/quic-go/quic-go") || strings.Contains(g, "dagd/netquic.(*") {
			out = append(out, g)
		}
	}
	return out
}

// TestCancelContextCloses: cancelling New's context closes the transport.
func TestCancelContextCloses(t *testing.T) {
	sock := listenLoopback(t)
	peers := []Peer{{ID: 0, Addr: sock.LocalAddr().String(), PublicKey: pub(testKey(0))}}
	opts := testOptions(0, testKey(0), peers, &logBuf{}, nil)
	opts.PacketConn = sock
	ctx, cancel := context.WithCancel(context.Background())
	tr, err := New(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	select {
	case _, ok := <-tr.Inbox():
		if ok {
			t.Fatal("a frame arrived on a lone transport")
		}
	case <-time.After(testwait.Timeout(t, 5*time.Second)):
		t.Fatal("the inbox was not closed after the context was cancelled")
	}
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := New(ctx, opts); err == nil {
		t.Fatal("New with a cancelled context succeeded")
	}
}

// TestListenAddr: "127.0.0.1:0" binds a free port that Addr reports.
func TestListenAddr(t *testing.T) {
	peers := []Peer{{ID: 3, Addr: "127.0.0.1:0", PublicKey: pub(testKey(3))}}
	opts := testOptions(3, testKey(3), peers, &logBuf{}, nil)
	tr, err := New(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	addr, ok := tr.Addr().(*net.UDPAddr)
	if !ok || !addr.IP.Equal(net.IPv4(127, 0, 0, 1)) || addr.Port == 0 {
		t.Fatalf("Addr() = %v, want 127.0.0.1 with a port", tr.Addr())
	}
	if tr.Self() != 3 {
		t.Fatalf("Self() = %d", tr.Self())
	}
}

// TestCrashedPeerIsReset: a peer that dies without closing its connections
// and comes back with the same key on the same port resets them (the
// stateless-reset key derives from the validator key), so the link is
// re-established long before the idle timeout would notice.
func TestCrashedPeerIsReset(t *testing.T) {
	const idle = 30 * time.Second
	nodes := startNet(t, 2, func(i int, o *Options) {
		o.MaxIdleTimeout = idle
		o.KeepAlivePeriod = 10 * time.Second
	})
	a, b := nodes[0], nodes[1]
	waitConnected(t, nodes)
	expectEvent(t, a, PeerEvent{ID: 1, Connected: true})

	// Crash: the QUIC transport stops without a word to anyone.
	if err := b.tr.qt.Close(); err != nil {
		t.Fatal(err)
	}
	_ = b.tr.udp.Close()
	crashed := b.tr
	defer crashed.Close()

	opts := b.opts
	opts.PacketConn = nil
	opts.ListenAddr = b.addr
	var err error
	b.tr, err = New(context.Background(), opts)
	if err != nil {
		t.Fatalf("restarting validator 1 on %s: %v", b.addr, err)
	}
	start := time.Now()
	// Traffic on the old connection draws the stateless reset.
	go func() {
		for i := 0; i < 200 && time.Since(start) < idle/2; i++ {
			_ = a.tr.Send(1, testFrame(0, 1, i, 1000))
			time.Sleep(10 * time.Millisecond)
		}
	}()
	select {
	case ev := <-a.events:
		if ev.ID != 1 || ev.Connected {
			t.Fatalf("event %+v, want the loss of validator 1", ev)
		}
		if !strings.Contains(ev.Err.Error(), "stateless reset") {
			t.Fatalf("link lost with %v, want a stateless reset", ev.Err)
		}
	case <-time.After(idle / 2):
		t.Fatalf("the dead link was not noticed within %v", idle/2)
	}
	expectEvent(t, a, PeerEvent{ID: 1, Connected: true})
	t.Logf("link re-established %v after the restart (idle timeout %v)", time.Since(start).Round(time.Millisecond), idle)
	// Frames flow to the new process.
	in := recv(t, b, 10*time.Second)
	if _, err := checkFrame(in.Frame, 0, 1); err != nil {
		t.Fatal(err)
	}
}

// TestInboundWakesRedial: a peer restarts while our redial backoff is
// long; when it connects to us, our link to it comes back at once, not at
// the end of the backoff (here 10 s and more).
func TestInboundWakesRedial(t *testing.T) {
	const backoff = 20 * time.Second
	nodes := startNet(t, 2, func(_ int, o *Options) {
		o.DialBackoffMin = backoff
		o.DialBackoffMax = 2 * backoff
	})
	a, b := nodes[0], nodes[1]
	waitConnected(t, nodes)
	expectEvent(t, a, PeerEvent{ID: 1, Connected: true})
	if err := b.tr.Close(); err != nil {
		t.Fatal(err)
	}
	// a lost the link and now sleeps at least DialBackoffMin/2 before
	// it dials again.
	expectEvent(t, a, PeerEvent{ID: 1, Connected: false})

	opts := b.opts
	opts.PacketConn = nil
	opts.ListenAddr = b.addr
	var err error
	if b.tr, err = New(context.Background(), opts); err != nil {
		t.Fatalf("restarting validator 1 on %s: %v", b.addr, err)
	}
	start := time.Now()
	expectEvent(t, a, PeerEvent{ID: 1, Connected: true})
	if took := time.Since(start); took >= backoff/2 {
		t.Fatalf("a reconnected after %v: the backoff ran out instead of being cut short", took)
	}
	sendAll(t, a.tr, 1, testFrame(0, 1, 0, 100), time.Second)
	if seq, err := checkFrame(recv(t, b, 5*time.Second).Frame, 0, 1); err != nil || seq != 0 {
		t.Fatalf("0->1 after the wake: seq %d, %v", seq, err)
	}
}
