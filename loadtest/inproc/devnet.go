// Package inproc offers load from package loadtest to a devnet running in
// the same process (engine.Devnet): Submit calls the nodes directly and
// commits come from devnet subscriptions. It is the one part of the load
// generator that imports the engine; loadtest itself talks to nodes
// through their public API (engine/client) only.
package inproc

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/dagd/dagd/contracts"
	"github.com/dagd/dagd/engine"
	"github.com/dagd/dagd/engine/client"
	"github.com/dagd/dagd/engine/execution"
	"github.com/dagd/dagd/loadtest"
)

// DevnetTarget offers load to an in-process devnet: Submit calls the
// nodes directly and commits come from a devnet subscription in which each
// node carries the transactions of its own batches (client.TxOwn), so every
// transaction is observed once, at the node it was submitted to.
type DevnetTarget struct {
	d *engine.Devnet

	mu   sync.Mutex
	sub  *engine.DevnetSubscription
	exec *engine.DevnetExecSubscription
}

// NewDevnetTarget returns a target over d.
func NewDevnetTarget(d *engine.Devnet) *DevnetTarget { return &DevnetTarget{d: d} }

// Nodes implements loadtest.Target.
func (t *DevnetTarget) Nodes() int { return t.d.Size() }

// Submit implements loadtest.Target.
func (t *DevnetTarget) Submit(ctx context.Context, node int, txs [][]byte) (int, error) {
	n, err := t.d.Submit(ctx, node, txs)
	if err == nil {
		return n, nil
	}
	var se *engine.SubmitError
	if errors.As(err, &se) {
		return n, &loadtest.SubmitError{Reason: se.Reason, Busy: se.Retryable() || se.Reason == engine.ReasonStopped, Accepted: n, Err: err}
	}
	return n, &loadtest.SubmitError{Reason: "error", Accepted: n, Err: err}
}

// Follow implements loadtest.Target.
func (t *DevnetTarget) Follow(ctx context.Context, fn func(loadtest.Observation)) (func(), error) {
	sub := t.d.Subscribe(engine.SubscribeOptions{Transactions: client.TxOwn})
	t.mu.Lock()
	t.sub = sub
	t.mu.Unlock()
	return followEach(ctx, sub.C(), sub.Close, func(c *engine.Commit) {
		ob := loadtest.Observation{Node: int(c.Node), Seq: c.Seq, Digest: c.Digest, At: c.DeliveredAt}
		for _, b := range c.Batches {
			ob.Txs = append(ob.Txs, b.Transactions...)
		}
		fn(ob)
	}), nil
}

// FollowExecution implements loadtest.ExecutionFollower: a devnet subscription to
// every node's executed commits.
func (t *DevnetTarget) FollowExecution(ctx context.Context, fn func(loadtest.ExecObservation)) (func(), error) {
	sub := t.d.SubscribeExecution(0)
	t.mu.Lock()
	t.exec = sub
	t.mu.Unlock()
	return followEach(ctx, sub.C(), sub.Close, func(c *execution.ExecutedCommit) {
		ob := loadtest.ExecObservation{Node: int(c.Node), Seq: c.Seq, StateRoot: c.StateRoot, At: c.ExecutedAt, Txs: make([]loadtest.ExecTx, len(c.Txs)),
			Dropped: uint64(c.Counts.BadSignature) + uint64(c.Counts.Unpaid)}
		for i, tx := range c.Txs {
			ob.Txs[i] = loadtest.ExecTx{Digest: tx.Digest, OK: tx.Code == contracts.CodeOK, Code: tx.Code.String()}
		}
		fn(ob)
	}), nil
}

// followEach hands what ch carries to fn on a goroutine of its own until
// ch closes or ctx ends; the function it returns ends the subscription
// (closeSub) and waits for that goroutine.
func followEach[T any](ctx context.Context, ch <-chan T, closeSub func(), fn func(T)) func() {
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case c, ok := <-ch:
				if !ok {
					return
				}
				fn(c)
			case <-ctx.Done():
				return
			}
		}
	})
	var once sync.Once
	return func() {
		once.Do(func() {
			closeSub()
			wg.Wait()
		})
	}
}

// StateRoots implements loadtest.StateRootLister from the nodes' commit records.
func (t *DevnetTarget) StateRoots(ctx context.Context, node int, from uint64, max int) ([][32]byte, error) {
	n := t.d.Node(node)
	if n == nil {
		return nil, fmt.Errorf("inproc: devnet node %d is stopped", node)
	}
	var roots [][32]byte
	for seq := from; len(roots) < max && ctx.Err() == nil; seq++ {
		root, ok, err := n.ExecutedStateRoot(seq)
		if err != nil {
			return nil, fmt.Errorf("inproc: devnet node %d: state root of commit %d: %w", node, seq, err)
		}
		if !ok {
			break
		}
		roots = append(roots, root)
	}
	return roots, ctx.Err()
}

// Round implements loadtest.Target.
func (t *DevnetTarget) Round(context.Context) (uint64, error) {
	var r uint64
	for i := 0; i < t.d.Size(); i++ {
		if n := t.d.Node(i); n != nil {
			r = max(r, n.Status().Round)
		}
	}
	return r, nil
}

// Err reports nodes whose commits (or executed commits) stopped reaching
// the follower early (the reader lagged behind and the node ended its
// subscription): then the counts of committed (or executed) transactions
// are too low.
func (t *DevnetTarget) Err() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	var errs []error
	if t.sub != nil {
		errs = append(errs, t.sub.Err())
	}
	if t.exec != nil {
		errs = append(errs, t.exec.Err())
	}
	return errors.Join(errs...)
}
