package engine

import (
	"context"

	"github.com/dagd/dagd/crypto"
	"github.com/dagd/dagd/engine/client"
	"github.com/dagd/dagd/engine/execution"
	"github.com/dagd/dagd/shard"
)

// This file wires the execution room (package execution) into the node:
// the executor takes the node's store, options and metrics registry, and
// publishes executed commits to the content service (contentFollower).

// newExecutor opens the node's executor; the core must be restored
// already. It shares its VerifiedSet with admission.
func newExecutor(n *Node) (*execution.Executor, error) {
	return execution.New(execution.Config{Store: n.store, Options: n.opts.Execution, DataDir: n.opts.DataDir, ChainID: n.opts.ChainID,
		Epoch: n.opts.Epoch, Genesis: n.opts.Genesis, Self: n.self, NoSync: n.opts.NoSync, Committed: n.core.Status().LastCommittedSeq,
		Logger: n.log, Registerer: n.m.reg, Verified: execution.NewVerifiedSet(execution.VerifiedSetSize),
		Followers: []execution.Follower{contentFollower{n}}, Hold: n.opts.testExecHold})
}

// contentFollower tells the content service of the executed commits (its
// ledger index). It reads n.content when called, on the executor's
// goroutine, once the node is built.
type contentFollower struct{ n *Node }

func (f contentFollower) CatchUp(ctx context.Context, executed uint64, r execution.TxReader) {
	f.n.content.CatchUp(ctx, executed, r)
}

func (f contentFollower) Executed(res *shard.Result) { f.n.content.Executed(res) }

// fillExecStatus adds the executor's progress to a status snapshot.
func fillExecStatus(e *execution.Executor, s *client.Status) {
	p := e.Progress()
	s.LastExecutedSeq = p.LastExecutedSeq
	s.StateRoot = p.StateRoot.String()
	s.ExecutedTxs = p.ExecutedTxs
	s.ExecutionError = p.Error
}

// SubscribeExecution returns a subscription to the commits the node
// executes. buffer is how many may wait for the reader (0:
// execution.Options.SubscriptionBuffer); when it is full the subscription
// ends with execution.ErrLagged rather than slow execution down. On a node
// without execution it ends at once with execution.ErrStopped.
func (n *Node) SubscribeExecution(buffer int) *execution.Subscription {
	return n.exec.Subscribe(buffer)
}

// ExecutedStateRoot returns the state root after commit seq, and false
// when the node has not executed that commit (or does not execute). It
// reads the executor's commit record, so it answers for every executed
// commit, not only the last KeepVersions.
func (n *Node) ExecutedStateRoot(seq uint64) (crypto.Digest, bool, error) {
	if n.exec == nil {
		return crypto.Digest{}, false, nil
	}
	select {
	case <-n.done:
		return crypto.Digest{}, false, ErrStopped
	default:
	}
	rec, ok, err := shard.ReadCommitRecord(n.exec.State(), seq)
	if err != nil || !ok {
		return crypto.Digest{}, false, err
	}
	return rec.StateRoot, true, nil
}
