package engine

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dagd/dagd/dag"
)

// peerInbox holds the decoded peer messages waiting for the event loop,
// one FIFO per peer, each bounded in messages and in bytes, served
// round-robin: a peer that floods fills only its own queue and gets one
// message in turn with the others, so it delays no one's messages by more
// than one of its own. A peer past its share (of Options.InboxSize and
// InboxBytes) is told to slow down (the receive path pauses reading it);
// past twice its share its messages are dropped. Safe for concurrent use
// (receive pushes, the loop pops).
type peerInbox struct {
	mu       sync.Mutex
	queues   [][]inboundMsg
	bytes    []int64
	maxLen   int
	maxBytes int64
	next     int
	count    int
	// ready holds a token while messages wait.
	ready chan struct{}
	// room holds a token when a message was taken (waitRoom).
	room chan struct{}
}

func newPeerInbox(peers, totalLen int, totalBytes, maxFrame int64) *peerInbox {
	share := max(peers-1, 1)
	return &peerInbox{
		queues: make([][]inboundMsg, peers), bytes: make([]int64, peers),
		maxLen: max(totalLen/share, 64), maxBytes: max(totalBytes/int64(share), maxFrame),
		ready: make(chan struct{}, 1), room: make(chan struct{}, 1),
	}
}

// waitRoom blocks until a message of size from peer fits twice the peer's
// share, or ctx ends: back-pressure for a transport that cannot pause one
// peer (the in-memory network of devnets and tests), whose honest frames
// must wait rather than be dropped. The receive goroutine is the only
// producer, so the room it waited for is still there when it pushes.
func (q *peerInbox) waitRoom(ctx context.Context, peer dag.ValidatorID, size int64) error {
	for q.over(peer, size, 2) {
		select {
		case <-q.room:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// over reports whether a message of size from peer would go past
// limit times the peer's share.
func (q *peerInbox) over(peer dag.ValidatorID, size int64, limit int) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.overLocked(int(peer), size, limit)
}

func (q *peerInbox) overLocked(p int, size int64, limit int) bool {
	n := len(q.queues[p])
	return n >= limit*q.maxLen || (n > 0 && q.bytes[p]+size > int64(limit)*q.maxBytes)
}

// push queues in, unless that would take its peer past twice its share
// (ok false: the message is dropped; the core asks again for what
// matters). full reports that the peer is now past its share: it should
// be read no further for a while.
func (q *peerInbox) push(in inboundMsg) (ok, full bool) {
	q.mu.Lock()
	p := int(in.from)
	if q.overLocked(p, in.size, 2) {
		q.mu.Unlock()
		return false, true
	}
	q.queues[p] = append(q.queues[p], in)
	q.bytes[p] += in.size
	q.count++
	full = q.overLocked(p, 0, 1)
	q.mu.Unlock()
	q.signal()
	return true, full
}

func (q *peerInbox) signal() {
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

// pop takes the next message, from the next peer in turn that has one.
func (q *peerInbox) pop() (inboundMsg, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.count == 0 {
		return inboundMsg{}, false
	}
	n := len(q.queues)
	for i := range n {
		p := (q.next + i) % n
		if len(q.queues[p]) == 0 {
			continue
		}
		in := q.queues[p][0]
		q.queues[p][0] = inboundMsg{}
		q.queues[p] = q.queues[p][1:]
		if len(q.queues[p]) == 0 {
			q.queues[p] = nil // let the backing array go
		}
		q.bytes[p] -= in.size
		q.count--
		q.next = (p + 1) % n
		if q.count > 0 {
			q.signal()
		}
		select {
		case q.room <- struct{}{}:
		default:
		}
		return in, true
	}
	return inboundMsg{}, false
}

// len returns the number of messages waiting.
func (q *peerInbox) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.count
}

// peerLen returns the messages and bytes waiting from one peer.
func (q *peerInbox) peerLen(p dag.ValidatorID) (int, int64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.queues[p]), q.bytes[p]
}

// banList is when each peer's ban ends (unix nanoseconds): a peer that
// proved itself faulty (an invalid signature, an equivocation) has its
// frames dropped unread until then. Safe for concurrent use.
type banList struct {
	until []atomic.Int64
	count atomic.Uint64 // bans imposed, for tests and metrics
}

func newBanList(peers int) *banList { return &banList{until: make([]atomic.Int64, peers)} }

// ban drops peer's frames for d from now.
func (b *banList) ban(peer dag.ValidatorID, now time.Time, d time.Duration) {
	if int(peer) >= len(b.until) || d <= 0 {
		return
	}
	b.until[peer].Store(now.Add(d).UnixNano())
	b.count.Add(1)
}

// banned reports whether peer's frames are dropped at now.
func (b *banList) banned(peer dag.ValidatorID, now time.Time) bool {
	return int(peer) < len(b.until) && b.until[peer].Load() > now.UnixNano()
}
