// Package engine is the dagd node: it drives the pure consensus core of
// package dag with real I/O. One event loop goroutine per node owns the
// dag.Node; it reads peer frames from the transport (netquic), client
// transactions from a bounded queue and a ticker, persists what the core
// asks for in one synced pebble batch, then sends the core's messages, then
// delivers committed sub-DAGs (with their transactions read back from the
// stored batches) to subscribers.
//
// A node serves, on its own HTTP listener, /metrics (Prometheus, on a
// per-node registry), /healthz, /readyz and a small JSON API:
//
//	GET  /v1/status                 progress of the node
//	GET  /v1/commits/{seq}          one commit: seq, running commit digest...
//	GET  /v1/commits?from=S&limit=L a range of commits, for followers
//	POST /v1/transactions           submit a batch of transactions
//
// The commit endpoints take txs=none|own|all and tx_prefix=N to include the
// first N bytes of each committed transaction (own: only transactions of
// batches this node authored, that is, the ones submitted to it). This is
// how the load generator follows commits over HTTP. Transactions can only be
// served while their batches are still stored: the core deletes batches
// once their certificates fall below the garbage-collection round, so a
// follower must stay within a few seconds of the head (a request for pruned
// transactions answers 410 Gone).
//
// Storage and crash recovery: the records the core persists live in
// pebble under a key prefix, except batch bodies, which go to an
// append-only batch log (large, short-lived values that pebble would
// flush and compact for nothing). Each flush writes the batch log first
// (synced), then one synced pebble batch, then sends. At start every
// record is loaded and handed to dag.Node.Restore, so a restarted node
// neither votes twice nor commits twice.
//
// Flow control: the core re-sends unacknowledged batches on a timer; the
// engine holds back a batch already on its way to a peer and bounds the
// unacknowledged batch bytes per peer (Options.PeerBatchBytes), so that
// under overload batch data does not pile up in the transport ahead of
// headers and votes.
//
// StartDevnet runs several nodes in one process on loopback, with
// deterministic keys, for tests, benchmarks and `dagd devnet`.
package engine
