package engine

import (
	"errors"
	"fmt"
	"time"

	"github.com/dagd/dagd/engine/client"
	"github.com/dagd/dagd/engine/store"

	"github.com/dagd/dagd/crypto"
	"github.com/dagd/dagd/dag"
)

// Commit is one committed sub-DAG as a node delivers it, with its batches
// in consensus order. A Commit is shared between subscribers: treat it as
// read-only.
type Commit struct {
	// Node is the validator that delivered the commit.
	Node dag.ValidatorID
	// Seq numbers commits from 1 without gaps.
	Seq uint64
	// Digest is the running commit digest after this commit: equal
	// digests at equal Seq mean equal histories.
	Digest crypto.Digest
	// LeaderRound is the round of the committed leader.
	LeaderRound uint64
	// Leader is the leader's author.
	Leader dag.ValidatorID
	// Timestamp is the consensus time of the commit (milliseconds).
	Timestamp dag.Time
	// Certificates is the number of certificates committed.
	Certificates int
	// TxCount is the number of transactions committed.
	TxCount int
	// Batches lists the committed batches in order. Their Transactions
	// are filled as the subscription's client.TxMode asks.
	Batches []CommittedBatch
	// SubDAG is the core's committed sub-DAG (certificates and headers).
	SubDAG *dag.CommittedSubDAG
	// DeliveredAt is when the node delivered the commit.
	DeliveredAt time.Time
}

// CommittedBatch is one batch of a commit.
type CommittedBatch struct {
	Digest  crypto.Digest
	Author  dag.ValidatorID
	TxCount int
	// Transactions holds the batch's transactions when the client.TxMode asks
	// for them, nil otherwise.
	Transactions [][]byte
}

// ErrLagged ends a subscription whose reader let its buffer fill up.
var ErrLagged = errors.New("engine: commit subscriber lagged behind, buffer full")

// ErrUnsubscribed ends a subscription closed by its reader.
var ErrUnsubscribed = errors.New("engine: subscription closed")

// SubscribeOptions configures a commit subscription.
type SubscribeOptions struct {
	// Transactions selects the transactions the commits carry. Default
	// client.TxNone.
	Transactions client.TxMode
	// Buffer is how many commits may wait for the reader; when full, the
	// subscription ends with ErrLagged rather than slow the node down.
	// Default Options.CommitBuffer.
	Buffer int
}

// Subscription receives a node's commits, in order and without gaps, from
// the moment it was made until it ends (see Err).
type Subscription struct {
	node *Node
	mode client.TxMode
	c    chan *Commit
	err  error // guarded by node.subsMu; set when c is closed
}

// Subscribe returns a subscription to the node's commits.
func (n *Node) Subscribe(o SubscribeOptions) *Subscription {
	if o.Buffer <= 0 {
		o.Buffer = n.opts.CommitBuffer
	}
	s := &Subscription{node: n, mode: o.Transactions, c: make(chan *Commit, o.Buffer)}
	n.subsMu.Lock()
	defer n.subsMu.Unlock()
	if n.stopped {
		s.end(ErrStopped)
		return s
	}
	n.subs[s] = false // activated by the loop before the next commit it prepares
	return s
}

// C returns the channel of commits. It is closed when the subscription
// ends.
func (s *Subscription) C() <-chan *Commit { return s.c }

// Err returns why the subscription ended, or nil while it runs.
func (s *Subscription) Err() error {
	s.node.subsMu.Lock()
	defer s.node.subsMu.Unlock()
	return s.err
}

// Close ends the subscription.
func (s *Subscription) Close() {
	s.node.subsMu.Lock()
	defer s.node.subsMu.Unlock()
	if _, ok := s.node.subs[s]; ok {
		delete(s.node.subs, s)
		s.end(ErrUnsubscribed)
	}
}

// end closes the channel; node.subsMu is held.
func (s *Subscription) end(err error) {
	if s.err == nil {
		s.err = err
		close(s.c)
	}
}

// modes lists which transaction modes current subscribers want.
type modes struct{ own, all bool }

func (n *Node) subscriptionModes() modes {
	var m modes
	n.subsMu.Lock()
	defer n.subsMu.Unlock()
	for s := range n.subs {
		n.subs[s] = true
		switch s.mode {
		case client.TxOwn:
			m.own = true
		case client.TxAll:
			m.all = true
		}
	}
	return m
}

// builtCommit holds one commit in each transaction mode wanted.
type builtCommit [3]*Commit

// prepareCommit reads what a commit needs from the store (or from the
// batches of the Ready being flushed) and builds its index entry and the
// commits to deliver.
func (n *Node) prepareCommit(sub *dag.CommittedSubDAG, fresh map[string][]byte, m modes) (*store.CommitIndex, builtCommit, error) {
	ci := &store.CommitIndex{Seq: sub.Seq, LeaderRound: sub.Leader.Round(), Timestamp: sub.Timestamp, Digest: sub.Digest, Certs: len(sub.Certificates)}
	var built builtCommit
	base := &Commit{Node: n.self, Seq: sub.Seq, Digest: sub.Digest, LeaderRound: sub.Leader.Round(), Leader: sub.Leader.Author(),
		Timestamp: sub.Timestamp, Certificates: len(sub.Certificates), SubDAG: sub}
	built[client.TxNone] = base
	var own, all *Commit
	if m.own {
		c := *base
		own = &c
		built[client.TxOwn] = own
	}
	if m.all {
		c := *base
		all = &c
		built[client.TxAll] = all
	}
	for _, cert := range sub.Certificates {
		for _, ref := range cert.Header.Payload {
			key := dag.BatchKey(ref.Digest)
			raw, ok := fresh[string(key)]
			var batch *dag.Batch
			ib := store.IndexedBatch{Digest: ref.Digest, Author: cert.Author()}
			wantTxs := false
			read := func(v []byte) error {
				bh, err := dag.PeekBatch(v)
				if err != nil {
					return fmt.Errorf("engine: stored batch %s: %w", ref.Digest.Short(), err)
				}
				ib.Author, ib.Txs = bh.Author, bh.Count
				wantTxs = all != nil || (own != nil && bh.Author == n.self)
				if wantTxs && len(v) > dag.BatchHeaderSize {
					b, err := dag.DecodeBatch(v)
					if err != nil {
						return fmt.Errorf("engine: stored batch %s: %w", ref.Digest.Short(), err)
					}
					batch = b
				}
				return nil
			}
			var err error
			switch {
			case ok:
				err = read(raw)
			case all != nil || (own != nil && cert.Author() == n.self):
				err = n.store.GetBatch(ref.Digest, read)
			default:
				// Only the author and the count are needed, unless the
				// batch turns out to be ours (batchpeek.go).
				err = n.store.PeekBatch(ref.Digest, read)
				if err == nil && wantTxs {
					err = n.store.GetBatch(ref.Digest, read)
				}
			}
			if err != nil {
				// The core only delivers commits whose batches are
				// stored; a miss is a bug or a damaged store. Deliver
				// what we have rather than stop consensus.
				n.log.Error("committed batch unreadable", "seq", sub.Seq, "batch", ref.Digest.Short(), "err", err)
			}
			ci.Batches = append(ci.Batches, ib)
			cb := CommittedBatch{Digest: ib.Digest, Author: ib.Author, TxCount: ib.Txs}
			base.Batches = append(base.Batches, cb)
			base.TxCount += ib.Txs
			if own != nil {
				ocb := cb
				if batch != nil && ib.Author == n.self {
					ocb.Transactions = batch.Transactions
				}
				own.Batches = append(own.Batches, ocb)
				own.TxCount += ib.Txs
			}
			if all != nil {
				acb := cb
				if batch != nil {
					acb.Transactions = batch.Transactions
				}
				all.Batches = append(all.Batches, acb)
				all.TxCount += ib.Txs
			}
		}
	}
	return ci, built, nil
}

// deliver hands a commit to every subscriber, ending those that lag.
func (n *Node) deliver(_ *store.CommitIndex, built builtCommit) {
	now := time.Now()
	for _, c := range built {
		if c != nil {
			c.DeliveredAt = now
		}
	}
	n.subsMu.Lock()
	defer n.subsMu.Unlock()
	for s, active := range n.subs {
		if !active {
			continue // made after this commit was prepared: starts with the next
		}
		c := built[s.mode]
		select {
		case s.c <- c:
		default:
			n.m.subscriberDrops.Inc()
			n.log.Warn("commit subscriber lagged; subscription ended", "seq", c.Seq, "buffer", cap(s.c))
			delete(n.subs, s)
			s.end(ErrLagged)
		}
	}
}
