package execution

import (
	"errors"
	"time"

	"github.com/dagd/dagd/contracts"
	"github.com/dagd/dagd/crypto"
	"github.com/dagd/dagd/dag"
	"github.com/dagd/dagd/shard"
)

var (
	// ErrStopped ends the subscriptions of an executor that closed, and
	// every subscription to a node without execution.
	ErrStopped = errors.New("execution: executor stopped")
	// ErrLagged ends a subscription whose reader let its buffer fill up.
	ErrLagged = errors.New("execution: subscriber lagged behind, buffer full")
	// ErrUnsubscribed ends a subscription closed by its reader.
	ErrUnsubscribed = errors.New("execution: subscription closed")
)

// ExecutedCommit is one commit as the executor executed it, delivered by
// an execution subscription. It is shared between subscribers: treat it
// as read-only.
type ExecutedCommit struct {
	// Node is the validator that executed the commit.
	Node dag.ValidatorID
	// Seq is the commit's sequence number.
	Seq uint64
	// Time is the consensus time it executed at (milliseconds).
	Time uint64
	// StateRoot is the state root after the commit.
	StateRoot crypto.Digest
	// TxRoot and ReceiptsRoot are the commit's Merkle roots
	// (shard.MerkleRoot).
	TxRoot, ReceiptsRoot crypto.Digest
	// Counts classifies the commit's transactions.
	Counts shard.Counts
	// Txs are the transactions that got a receipt, in order.
	Txs []ExecutedTx
	// ExecutedAt is when the node finished executing the commit.
	ExecutedAt time.Time
}

// ExecutedTx is the outcome of one executed transaction.
type ExecutedTx struct {
	// Digest names the transaction.
	Digest crypto.Digest
	// Code is its receipt's code (contracts.CodeOK when it did what it
	// asked).
	Code contracts.Code
}

// Subscription receives an executor's executed commits, in order and
// without gaps, from the moment it was made until it ends (see Err).
type Subscription struct {
	e   *Executor // nil for a subscription that ended at birth
	c   chan *ExecutedCommit
	err error // guarded by e.subsMu
}

// Subscribe returns a subscription to the commits e executes. buffer is
// how many may wait for the reader (0: Options.SubscriptionBuffer); when
// it is full the subscription ends with ErrLagged rather than slow
// execution down. On a nil executor (a node without execution) or a
// closed one it ends at once with ErrStopped.
func (e *Executor) Subscribe(buffer int) *Subscription {
	if e == nil {
		s := &Subscription{c: make(chan *ExecutedCommit), err: ErrStopped}
		close(s.c)
		return s
	}
	if buffer <= 0 {
		buffer = e.opts.SubscriptionBuffer
	}
	s := &Subscription{e: e, c: make(chan *ExecutedCommit, buffer)}
	e.subsMu.Lock()
	defer e.subsMu.Unlock()
	if e.stopped {
		s.end(ErrStopped)
		return s
	}
	e.subs[s] = struct{}{}
	return s
}

// C returns the channel of executed commits, closed when the subscription
// ends.
func (s *Subscription) C() <-chan *ExecutedCommit { return s.c }

// Err returns why the subscription ended, or nil while it runs.
func (s *Subscription) Err() error {
	if s.e == nil {
		return s.err
	}
	s.e.subsMu.Lock()
	defer s.e.subsMu.Unlock()
	return s.err
}

// Close ends the subscription.
func (s *Subscription) Close() {
	if s.e == nil {
		return
	}
	s.e.subsMu.Lock()
	defer s.e.subsMu.Unlock()
	if _, ok := s.e.subs[s]; ok {
		delete(s.e.subs, s)
		s.end(ErrUnsubscribed)
	}
}

// end closes the channel; the executor's subsMu is held.
func (s *Subscription) end(err error) {
	if s.err == nil {
		s.err = err
		close(s.c)
	}
}

// deliver hands an executed commit to every subscriber.
func (e *Executor) deliver(res *shard.Result) {
	e.subsMu.Lock()
	defer e.subsMu.Unlock()
	if len(e.subs) == 0 {
		return
	}
	ec := &ExecutedCommit{Node: e.self, Seq: res.Seq, Time: res.Time, StateRoot: res.StateRoot, TxRoot: res.TxRoot,
		ReceiptsRoot: res.ReceiptsRoot, Counts: res.Counts, Txs: make([]ExecutedTx, len(res.Txs)), ExecutedAt: time.Now()}
	for i, d := range res.Txs {
		ec.Txs[i] = ExecutedTx{Digest: d}
		if r, ok := res.Receipts[i].(*contracts.Receipt); ok {
			ec.Txs[i].Code = r.Code
		}
	}
	for s := range e.subs {
		select {
		case s.c <- ec:
		default:
			e.log.Warn("execution subscriber lagged; subscription ended", "seq", res.Seq, "buffer", cap(s.c))
			delete(e.subs, s)
			s.end(ErrLagged)
		}
	}
}
