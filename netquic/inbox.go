package netquic

import (
	"context"
	"sync"
	"time"
)

// Inbound is a frame received from a peer. The receiver owns Frame.
type Inbound struct {
	// From is the authenticated sender.
	From PeerID
	// Frame is the frame's payload.
	Frame []byte
}

// inbox is the channel of received frames, bounded in frames by its
// capacity and in bytes by maxBytes.
//
// The consumer only receives from ch, so the bytes still in the channel are
// worked out from the order of sends: the channel holds the last len(ch)
// frames sent, whose sizes the ring remembers. Producers send one at a
// time (sendMu) to keep the ring in the channel's order; the ring itself is
// under mu, which is never held while waiting.
type inbox struct {
	ch       chan Inbound
	maxBytes int64

	sendMu sync.Mutex // held by the producer that sends next, also while it waits

	mu    sync.Mutex
	sizes []int // ring of the sizes of frames that may still be in ch
	head  int   // oldest entry of sizes
	n     int   // entries in sizes
	bytes int64 // sum of the n entries
}

func newInbox(frames, maxBytes int) *inbox {
	return &inbox{
		ch:       make(chan Inbound, frames),
		maxBytes: int64(maxBytes),
		sizes:    make([]int, frames+1),
	}
}

// Longest pause between two looks at an inbox over its byte budget.
const inboxMaxPoll = 20 * time.Millisecond

// reclaimLocked forgets the frames the consumer has taken. While a
// producer has sent a frame but not yet recorded it, this may keep one
// frame too many: the count errs on the safe side.
func (q *inbox) reclaimLocked() {
	inChan := len(q.ch)
	for q.n > inChan {
		q.bytes -= int64(q.sizes[q.head])
		q.head = (q.head + 1) % len(q.sizes)
		q.n--
	}
}

// put delivers in, waiting while the inbox is full in frames or in bytes.
// It returns ctx's error if ctx ends first.
func (q *inbox) put(ctx context.Context, in Inbound) error {
	q.sendMu.Lock()
	defer q.sendMu.Unlock()
	size := len(in.Frame)
	wait := 100 * time.Microsecond
	for !q.fits(size) {
		// Over the byte budget: nothing tells us when the consumer takes a
		// frame, so look again shortly. This only happens while the
		// consumer is InboxBytes behind.
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
		wait = min(2*wait, inboxMaxPoll)
	}
	select {
	case q.ch <- in:
	case <-ctx.Done():
		return ctx.Err()
	}
	q.mu.Lock()
	q.sizes[(q.head+q.n)%len(q.sizes)] = size
	q.n++
	q.bytes += int64(size)
	q.mu.Unlock()
	return nil
}

// fits reports whether a frame of size bytes fits the byte budget now. A
// frame always fits an empty inbox (Validate keeps maxBytes at least
// MaxFrameSize anyway).
func (q *inbox) fits(size int) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.reclaimLocked()
	return q.n == 0 || q.bytes+int64(size) <= q.maxBytes
}

// pending returns the frames and bytes waiting in the inbox.
func (q *inbox) pending() (frames int, bytes int64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.reclaimLocked()
	return q.n, q.bytes
}
