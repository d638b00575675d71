package engine

import (
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
	dropped := 0
	wg.Go(func() {
		for range 1000 {
			if !q.push(inboundMsg{from: 3, size: 100}) {
				dropped++
			}
		}
	})
	wg.Wait()
	if q.len() != 341 || dropped != 1000-341 {
		t.Fatalf("flooding peer: %d queued, %d dropped; want its share of 341", q.len(), dropped)
	}
	for _, p := range []dag.ValidatorID{0, 1} {
		if !q.push(inboundMsg{from: p, size: 100}) {
			t.Fatalf("peer %d refused while another floods", p)
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
	if !big.push(inboundMsg{from: 1, size: 2000}) {
		t.Fatal("a frame of the largest size refused on an empty share")
	}
	if big.push(inboundMsg{from: 1, size: 1}) {
		t.Fatal("share over its bytes accepted more")
	}
	if n, b := big.peerLen(1); n != 1 || b != 2000 {
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
