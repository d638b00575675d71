package loadtest

import (
	"context"
	"time"
)

// Workload makes the transactions a run offers. Options.Workload nil is
// the opaque workload: transactions of Options.TxSize bytes that carry
// their own header (MakeTx), which the nodes order but cannot execute.
// A Workload's methods may be called from several goroutines.
type Workload interface {
	// Prepare readies up to n transactions, due at rate per second from
	// about now, before the timed run (n is 0 when the run has no
	// duration); signing workloads sign them here so that signing does
	// not limit the offered rate.
	Prepare(ctx context.Context, n uint64, rate float64) error
	// Tx returns transaction number seq, due at due, and the node it must
	// go to (-1: any). A nil transaction means the workload has nothing
	// it may send now: the slot counts as dropped ("workload_idle").
	Tx(seq uint64, due time.Time, nodes int) (tx []byte, node int)
	// Identify returns the number of a committed transaction of this run
	// (its bytes, or at least its first HeaderSize bytes).
	Identify(tx []byte) (seq uint64, ok bool)
	// IdentifyDigest returns the number of the transaction of this run
	// whose digest is d (executed transactions are reported by digest).
	IdentifyDigest(d [32]byte) (seq uint64, ok bool)
	// Committed reports that transaction seq was committed (first seen).
	Committed(seq uint64)
	// Executed reports the first receipt of transaction seq.
	Executed(seq uint64, ok bool, code string)
	// Returned gives back transactions that were not sent (the client's
	// queue was full) or that a node refused.
	Returned(txs [][]byte)
	// Executes reports whether the workload needs the target to report
	// execution (ExecutionFollower).
	Executes() bool
}

// opaqueWorkload is the default Workload.
type opaqueWorkload struct {
	run  uint32
	size int
}

func (w opaqueWorkload) Prepare(context.Context, uint64, float64) error { return nil }

func (w opaqueWorkload) Tx(seq uint64, due time.Time, _ int) ([]byte, int) {
	return MakeTx(TxHeader{Run: w.run, Seq: seq, Sent: due}, w.size), -1
}

func (w opaqueWorkload) Identify(tx []byte) (uint64, bool) {
	h, err := ParseTx(tx)
	if err != nil || h.Run != w.run {
		return 0, false
	}
	return h.Seq, true
}

func (w opaqueWorkload) IdentifyDigest([32]byte) (uint64, bool) { return 0, false }
func (w opaqueWorkload) Committed(uint64)                       {}
func (w opaqueWorkload) Executed(uint64, bool, string)          {}
func (w opaqueWorkload) Returned([][]byte)                      {}
func (w opaqueWorkload) Executes() bool                         { return false }

// Classifier is implemented by workloads that know what each of their
// transactions does and which outcome it is meant to get: most are meant
// to succeed, a few are meant to fail (a soulbound transfer, an attach
// below the token's own descendant) to check that the rules hold. The
// report then counts receipts by operation and code, and tells the
// expected failures from the unexpected ones.
type Classifier interface {
	// Classify returns the operation of transaction seq ("transfer",
	// "nft-attach"...) and whether code (a receipt code's name, "ok" for
	// success) is the outcome it was meant to get. Run calls it before
	// Executed, with the first receipt of seq.
	Classify(seq uint64, code string) (op string, expected bool)
}

// StateRootLister is a Target that can list the state root each node
// reached after every commit it executed, from the first: Run compares
// them all once the load is over, so that "consistent" covers every
// commit, also those executed before the run followed execution.
type StateRootLister interface {
	// StateRoots returns node's state roots after commits from, from+1,
	// ... in order, at most max of them, stopping early at the last commit
	// the node executed (an empty result: it has not executed from).
	StateRoots(ctx context.Context, node int, from uint64, max int) ([][32]byte, error)
}

// ExecutionFollower is a Target that also reports executed commits.
type ExecutionFollower interface {
	// FollowExecution starts reporting every node's executed commits to
	// fn, possibly from several goroutines; stop ends it.
	FollowExecution(ctx context.Context, fn func(ExecObservation)) (stop func(), err error)
}

// ExecObservation is one commit as one node executed it.
type ExecObservation struct {
	Node      int
	Seq       uint64
	StateRoot [32]byte
	// Txs are the transactions that got a receipt.
	Txs []ExecTx
	// Dropped counts the commit's transactions dropped at execution
	// without a receipt because they paid nothing (a bad signature, a
	// wrong nonce, a sender that cannot pay...): any client's, not only
	// the run's.
	Dropped uint64
	// At is when the execution was observed.
	At time.Time
}

// ExecTx is the outcome of one executed transaction.
type ExecTx struct {
	Digest [32]byte
	OK     bool
	// Code names the receipt's code ("ok", "bad_nonce"...).
	Code string
}
