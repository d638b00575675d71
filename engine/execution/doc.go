// Package execution is the node's execution room: the executor that runs
// committed transactions with the token module (package shard's parallel
// executor) behind consensus, on a goroutine of its own.
//
// The engine's event loop never waits for it: after each synced write it
// calls Executor.Committed with the last committed seq, and the executor
// reads each commit back from the node's store (commit index, then batch
// bodies) in order and executes it. The state is a state.Store in its own
// pebble database under DataDir/state: its compactions and large synced
// batches stay out of the consensus store's write path, it is tuned on its
// own (Options), and it can be dropped or replaced (state sync) without
// touching the consensus records. No cross-database atomicity is needed:
// consensus makes each commit durable before the executor may see it, and
// each executed commit is one atomic, synced state write holding its
// writes, receipts, dedup window and the executor's position (version =
// seq), so a restart resumes at the first commit not executed.
//
// Retention: the core deletes batches RetainRounds after garbage
// collection. Before each write the loop calls Executor.Hold, which copies
// the batches the write deletes while a commit not executed yet still
// needs them (a synced copy under store.PreservedPrefix); the executor
// reads the copy and deletes it once it is past that commit. A node whose
// state is behind batches it no longer has stops with an error: state sync
// is not implemented. An execution error is sent on Executor.Failed, which
// stops the node: the state must not diverge silently.
//
// Executed commits are published, never pushed into another room: each
// Follower given in Config is told of every executed commit, in order, on
// the executor's goroutine (the content service indexes the content
// registrations), and caught up at start with what it missed; any reader
// may take a Subscription (Executor.Subscribe) of ExecutedCommit values.
// Admission and the execution share a VerifiedSet, so that a signature
// admission verified is not verified again.
package execution
