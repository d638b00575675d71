package engine

import (
	"time"

	"github.com/dagd/dagd/crypto"
	"github.com/dagd/dagd/dag"
)

// batchFlow keeps the node's own batches from flooding its peers. The
// transport is reliable while a connection lasts, so a batch handed to it
// for a peer need not be handed over again until the peer acknowledges it
// or a long time passes (the core re-sends unacknowledged batches every
// ResendInterval, which under load would queue copies of the same
// megabytes behind each other and starve headers and votes). And a peer
// that has more than a budget of unacknowledged batch bytes gets no new
// batch until it catches up: the core then re-sends later, and its own
// bound on pending batches turns the stall into back-pressure on clients.
// Loop-owned.
type batchFlow struct {
	budget int64
	expire time.Duration
	peers  []peerFlow
}

type peerFlow struct {
	out   map[crypto.Digest]flowEntry
	bytes int64
}

type flowEntry struct {
	size int64
	sent time.Time
}

func newBatchFlow(peers int, budget int64, expire time.Duration) *batchFlow {
	f := &batchFlow{budget: budget, expire: expire, peers: make([]peerFlow, peers)}
	for i := range f.peers {
		f.peers[i].out = make(map[crypto.Digest]flowEntry)
	}
	return f
}

// allow reports whether batch d of size bytes may go to peer now, and
// records it as outstanding if so.
func (f *batchFlow) allow(peer dag.ValidatorID, d crypto.Digest, size int64, now time.Time) bool {
	if int(peer) >= len(f.peers) {
		return true
	}
	p := &f.peers[peer]
	if e, ok := p.out[d]; ok {
		if now.Sub(e.sent) < f.expire {
			return false // still on its way
		}
		p.bytes -= e.size
		delete(p.out, d)
	}
	if p.bytes+size > f.budget && p.bytes > 0 {
		f.expireOld(p, now)
		if p.bytes+size > f.budget && p.bytes > 0 {
			return false
		}
	}
	p.out[d] = flowEntry{size: size, sent: now}
	p.bytes += size
	return true
}

func (f *batchFlow) expireOld(p *peerFlow, now time.Time) {
	for d, e := range p.out {
		if now.Sub(e.sent) >= f.expire {
			p.bytes -= e.size
			delete(p.out, d)
		}
	}
}

// acked releases batch d at peer.
func (f *batchFlow) acked(peer dag.ValidatorID, d crypto.Digest) {
	if int(peer) >= len(f.peers) {
		return
	}
	p := &f.peers[peer]
	if e, ok := p.out[d]; ok {
		p.bytes -= e.size
		delete(p.out, d)
	}
}

// outstanding returns the unacknowledged batch bytes over all peers.
func (f *batchFlow) outstanding() int64 {
	var n int64
	for i := range f.peers {
		n += f.peers[i].bytes
	}
	return n
}
