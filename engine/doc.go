// Package engine is the dagd node: it drives the pure consensus core of
// package dag with real I/O. One event loop goroutine per node owns the
// dag.Node; it reads peer frames from the transport (netquic), client
// transactions from a bounded queue and a ticker, persists what the core
// asks for in one synced pebble batch, then sends the core's messages, then
// delivers committed sub-DAGs (with their transactions read back from the
// stored batches) to subscribers.
//
// A node serves, on its own HTTP listener, /metrics (Prometheus, on a
// per-node registry), /healthz, /readyz and a small JSON API, whose wire
// types (and the Go client of it) are package engine/client: the handlers
// serve those types, defined there once. The server is package
// engine/apiserver; the node wires it in api.go:
//
//	GET  /v1/status                 progress of the node
//	GET  /v1/commits/{seq}          one commit: seq, running commit digest...
//	GET  /v1/commits?from=S&limit=L a range of commits, for followers
//	POST /v1/transactions           submit a batch of transactions
//	GET  /v1/receipts/{txdigest}    a transaction's receipt (execute_api.go)
//	GET  /v1/accounts/{pubkey}      an account's nonce and balance (?proof=1: with its proof)
//	GET  /v1/state/{key-hex}?seq=S  a state value and its proof against commit S's state root
//
// The commit endpoints take txs=none|own|all and tx_prefix=N to include the
// first N bytes of each committed transaction (own: only transactions of
// batches this node authored, that is, the ones submitted to it). This is
// how the load generator follows commits over HTTP. Transactions can only be
// served while their batches are still stored: the core deletes batches
// once their certificates fall below the garbage-collection round, so a
// follower must stay within a few seconds of the head (a request for pruned
// transactions answers 410 Gone). An answer carries at most
// Options.API.MaxResponseBytes of transactions: a range stops before the
// commit that would exceed it ("more" and "next_seq"), a single commit
// within its transactions ("next_tx_offset", continued with tx_offset=).
//
// Clients get bounded shares of the node (Options.API, apiserver.APIOptions):
// connections in all and per client address (beyond them a new connection
// gets a 503 naming the limit and is closed), time to send headers and
// bodies (a body must keep arriving, and a submission's or a read's must
// arrive within RequestReadTimeout: 408), and memory by bytes: the bodies
// of submissions are charged to a budget as they arrive, with a share per
// address, and answers built in memory to another (429 beyond either).
// Submissions are counted on the wire before they are decoded, and a
// compressed one is cut at its decompressed limit. A submission takes one
// of the MaxInflightRequests slots only once its body is read.
//
// The same listener serves the public API, protobuf package dagd.v1
// (engine/api/dagd/v1: the .proto files and the generated code, which
// scripts/genproto regenerates), over the Connect, gRPC and gRPC-Web
// protocols, on HTTP/1.1 and on cleartext HTTP/2 (h2c, prior knowledge):
//
//	dagd.v1.TransactionService/SubmitTransactions  submit transactions
//	dagd.v1.NodeService/GetStatus                   progress and limits
//	dagd.v1.NodeService/GetCommit                   one commit
//	dagd.v1.CommitService/StreamCommits             commits from a cursor
//
// Submissions take the same path as POST /v1/transactions: Node.Submit
// (CheckTransactions, then admission, then the bounded submit queue), the
// same budget and in-flight slots (Options.MaxInflightRequests), with
// messages up to Options.MaxRequestBytes (decompressed). Bad input answers InvalidArgument; a busy node
// answers ResourceExhausted with a SubmitRejection detail whose
// retry_after is set (and a Retry-After header) and the count of
// transactions taken; nothing is queued beyond the queue. StreamCommits
// reads each commit from the store, where commit records and the commit
// index stay for good, so a stream has no gap and no duplicate and a slow
// reader holds nothing but its position (one that stops reading is cut
// after Options.RPC.StreamWriteTimeout); it opens with a heartbeat and
// sends one when commits pause. Only transactions are bounded by retention
// (the core deletes batches some rounds after they commit): a cursor
// whose transactions are gone answers FailedPrecondition naming the oldest
// commit that still has them, and a stream that falls that far behind ends
// with ResourceExhausted "lagged". A cursor beyond the next commit answers
// OutOfRange. Options.RPC bounds the streams and sizes their messages.
//
// Storage and crash recovery: the records the core persists live in
// pebble under a key prefix, except batch bodies, which go to an
// append-only batch log (large, short-lived values that pebble would
// flush and compact for nothing). Each flush writes the batch log first
// (synced), then one synced pebble batch, then sends. At start every
// record is loaded and handed to dag.Node.Restore, so a restarted node
// neither votes twice nor commits twice. The records of certificates below
// the garbage-collection round stay on disk dag.Options.RetainRounds
// longer, and the store serves them to peers' sync requests
// (dag.CertificateReader): a validator that was down or paused for more
// than GCDepth rounds catches up from them. The store (store.go) is the
// one owner of the node's pebble database: it opens and closes it (last, on
// shutdown), the executor and the content service read and write through
// its accessors, and keys.go lists every key prefix, what it holds and
// who writes it.
//
// Flow control: the core re-sends unacknowledged batches on a timer; the
// engine holds back a batch already on its way to a peer and bounds the
// unacknowledged batch bytes per peer (Options.PeerBatchBytes), so that
// under overload batch data does not pile up in the transport ahead of
// headers and votes.
//
// Content-addressed storage (package content; the endpoints in
// content_api.go, the wiring in content_wiring.go): a node also stores
// erasure-coded content (package erasure) and serves
//
//	POST /v1/content?k=K&n=N        put the body (streamed); answers the CID and certificate
//	GET  /v1/content/{cid}          the content, every chunk verified, streamed
//	GET  /v1/content/{cid}/manifest the manifest, for clients that verify
//	GET  /v1/content/{cid}/stat     size, chunks, k, n, holders, signers, ledger registration
//
// The node that takes a put codes the content and sends shard j of every
// chunk to validator j mod committee size over the validators' transport
// (content frames, kinds 0x40-0x4f, on the QUIC transport's bulk stream,
// routed beside the consensus messages and never through the event loop);
// each holder checks every shard against the manifest before it keeps it,
// then signs an AvailabilityStatement (bound to the chain id and epoch) with
// its BLS key; the node aggregates a quorum of signatures into a
// content.Certificate and registers it in the ledger. A client pays for its
// own content: it computes the CID locally and signs a RegisterContent
// paying for size x n/k stored bytes for a retention, which comes with the
// upload and is checked before the body is read; the node attaches the
// certificate as the transaction's witness and submits it.
// A node may instead pay for puts with its own account
// (content.Options.OperatorPaysPuts, Options.AccountKey), submitted through
// its own intake. n/k and n are bounded (contracts.MaxContentExpansion,
// MaxShardsPerValidator). The executed state is the source of truth of what
// is stored and until when; content whose paid retention is over (in
// consensus time) is collected by every holder; a local registry of
// certificates is the fallback where the ledger cannot be used. Gets fetch
// shards from any k holders, checking them before use. Each validator
// audits its shards every content.Options.AuditInterval and rebuilds what
// is missing or corrupt from other holders (package heal decides, the
// content service does the I/O). Shards live in files, what a node holds
// in pebble.
//
// Admission (admission.go): a transaction that could only be dropped at
// execution (it does not decode, is for another chain, carries a fee below
// the floor, a small-order sender, a used nonce or one more than
// execution.Options.AdmissionNonceWindow ahead, a fee its sender cannot pay
// in the last executed state, or a bad signature) is refused before it is
// ordered, with its own reason (SubmitError.Rejected, reason invalid_tx,
// listed in the message of the JSON and the Connect answers alike); the
// request's other transactions go on. The checks run cheapest first, one
// account read per sender and one signature batch per request. Without
// execution only the checks that need no state run. Execution drops what
// a Byzantine validator orders anyway without a receipt (package shard).
//
// Execution (package execution, wired in execute.go): unless
// Options.Execution.Disabled, the node runs committed transactions with
// the token module through package shard's parallel executor, on a
// goroutine of its own behind consensus, on a state of its own under
// DataDir/state. The loop never waits for it: before each synced write it
// lets the executor preserve the batches the write deletes that commits
// not executed yet need (Executor.Hold), after it tells it how far
// consensus has got (Executor.Committed). The executor publishes each
// executed commit to its followers (the content service's ledger index,
// contentFollower) and subscriptions. An execution error stops the node
// (Run returns it): the state must not diverge silently.
//
// Options.Genesis, applied by the executor in commit 1's version, sets the
// initial accounts and committee. /v1/status adds last_executed_seq,
// state_root and executed_txs; the commit endpoints add the commit's
// state_root, tx_root and receipts_root (shard.MerkleRoot) once executed.
// Node.SubscribeExecution streams executed commits with their receipts'
// codes. Proofs are package state/proof's binary encoding, in hex.
//
// StartDevnet runs several nodes in one process on loopback, with
// deterministic keys, for tests, benchmarks and `dagd devnet`. Unless
// execution is disabled, a devnet starts from DevnetGenesis: accounts
// contracts.DevnetAccountKey(seed, i) funded with contracts.DevnetAccountBalance each.
package engine
