// Package loadtest is dagd's open-loop load generator. Transactions leave
// at a fixed arrival rate whatever happens to earlier ones: the generator
// ticks at a fine granularity and sends the transactions that are due,
// never waiting for answers to decide what to send next (a closed loop
// would slow down exactly when the system does, and hide its latency).
//
// Each transaction carries a run id, a unique sequence number and its send
// time in its first HeaderSize bytes, padded to the requested size, so the
// latency measured is end to end: from the moment the transaction was due
// to the moment a node delivered the commit that holds it. Latencies go
// into a log-bucketed histogram (relative error below 1%) from which the
// percentiles are read.
//
// A Target is what the load goes to: a devnet in the same process
// (package loadtest/inproc: Submit calls and commit subscriptions) or
// running nodes over their public API (NewHTTPTarget, with package
// engine/client: POST /v1/transactions with the binary body, and
// commits followed by polling GET /v1/commits?from=S&txs=own&tx_prefix=N on
// every target, which returns the first bytes of the transactions of the
// batches each node authored). Both also report every node's commit digest
// at every sequence number, which Consistency compares.
//
// Options.Workload replaces those opaque transactions. Transfers signs
// native-token transfers among funded accounts (a devnet's or a
// testnet's genesis accounts), all of them before the timed run; each
// account waits until its transaction is committed before it sends the
// next, so nonces never race (execution follows the consensus order),
// and transactions are identified by digest. Mixed does the same with
// every operation of the token module, account by account through a
// script whose steps build on each other, two of them meant to fail
// (Classifier). A target that reports execution (ExecutionFollower: the
// devnet target, and the HTTP target, which reads receipts one by one)
// adds to the report the run's transactions executed, that is, that got
// a receipt (executed_tx, executed_tps, exec_latency_ms), the receipts
// by code and by operation, and the failures the workload meant
// (expected) apart from the others (unexpected). It also reports the
// state root of every node at every commit, which a second Consistency
// compares, while the load runs and, for a StateRootLister target, once
// more at the end over every commit from the first: a run is consistent
// only if both the commit digests and the state roots agree.
package loadtest
