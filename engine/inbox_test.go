package engine

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/dagd/dagd/dag"
)

// TestPeerInboxFair: a peer that floods fills only its own share, and the
// loop takes the others' messages in turn with its own, whatever was
// queued first.
func TestPeerInboxFair(t *testing.T) {
	q := newPeerInbox(4, 1024, 1<<20, 1000) // shares of 341 messages, 349,525 bytes
	var wg sync.WaitGroup
	dropped, firstFull := 0, -1
	wg.Go(func() {
		for i := range 1000 {
			ok, full := q.push(inboundMsg{from: 3, size: 100})
			if !ok {
				dropped++
			}
			if full && firstFull < 0 {
				firstFull = i
			}
		}
	})
	wg.Wait()
	if q.len() != 2*341 || dropped != 1000-2*341 || firstFull != 340 {
		t.Fatalf("flooding peer: %d queued, %d dropped, told to slow down at %d; want twice its share of 341, at 340", q.len(), dropped, firstFull)
	}
	if !q.over(3, 1, 2) || q.over(0, 1, 1) {
		t.Fatal("over: wrong peer past its share")
	}
	for _, p := range []dag.ValidatorID{0, 1} {
		if ok, full := q.push(inboundMsg{from: p, size: 100}); !ok || full {
			t.Fatalf("peer %d refused or slowed while another floods", p)
		}
	}
	// The honest messages come within the next three, not after 341.
	seen := map[dag.ValidatorID]bool{}
	for range 4 {
		in, ok := q.pop()
		if !ok {
			t.Fatal("empty")
		}
		seen[in.from] = true
	}
	if !seen[0] || !seen[1] {
		t.Fatalf("honest peers not served in turn: %v", seen)
	}
	// Bytes: a share holds at least one frame of the largest size, and no
	// more than its bytes beyond that.
	big := newPeerInbox(4, 1024, 3000, 2000)
	if ok, full := big.push(inboundMsg{from: 1, size: 2000}); !ok || full {
		t.Fatal("a frame of the largest size refused on an empty share, or the share past full with it")
	}
	if ok, full := big.push(inboundMsg{from: 1, size: 1}); !ok || !full {
		t.Fatal("a byte past the share refused, or the share not past full")
	}
	if ok, _ := big.push(inboundMsg{from: 1, size: 2000}); ok {
		t.Fatal("share past twice its bytes accepted more")
	}
	if n, b := big.peerLen(1); n != 2 || b != 2001 {
		t.Fatalf("share holds %d messages, %d bytes", n, b)
	}
	// Waking: a token is ready while messages wait.
	select {
	case <-big.ready:
	default:
		t.Fatal("no wake-up token with a message waiting")
	}
}

// TestBanList: a ban lasts its duration; a negative one is none.
func TestBanList(t *testing.T) {
	b := newBanList(4)
	now := time.Unix(1000, 0)
	b.ban(2, now, time.Second)
	b.ban(1, now, -1)
	if !b.banned(2, now.Add(999*time.Millisecond)) || b.banned(2, now.Add(time.Second)) {
		t.Fatal("ban of 2 not for one second")
	}
	if b.banned(1, now) || b.banned(7, now) || b.count.Load() != 1 {
		t.Fatal("a negative ban or an unknown peer counted")
	}
}

// TestPeerInboxWaitRoom: a transport that cannot pause one peer (the
// in-memory network) gets back-pressure instead of drops: the producer
// waits until the loop takes a message from that peer's full queue.
func TestPeerInboxWaitRoom(t *testing.T) {
	q := newPeerInbox(4, 3*64, 1<<30, 1000) // shares of 64 messages
	for i := 0; i < 2*64; i++ {
		if ok, _ := q.push(inboundMsg{from: 1, size: 1}); !ok {
			t.Fatalf("message %d refused below twice the share", i)
		}
	}
	if !q.over(1, 1, 2) {
		t.Fatal("the queue is not full at twice its share")
	}
	done := make(chan error, 1)
	go func() { done <- q.waitRoom(context.Background(), 1, 1) }()
	select {
	case err := <-done:
		t.Fatalf("waitRoom returned (%v) while the queue was full", err)
	default:
	}
	if _, ok := q.pop(); !ok {
		t.Fatal("nothing to pop")
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if ok, _ := q.push(inboundMsg{from: 1, size: 1}); !ok {
		t.Fatal("no room after waitRoom")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := q.waitRoom(ctx, 1, 1); err == nil {
		t.Fatal("waitRoom on a full queue with an ended context returned nil")
	}
}
