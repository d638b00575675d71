// Package dag is dagd's consensus core: the Narwhal mempool (workers that
// disseminate batches, primaries that build a DAG of certified headers) and
// the Bullshark commit rule over it, as pure state machines in the manner of
// etcd's raft.
//
// A Node holds one validator's Primary, Worker and Orderer. Its driver feeds
// it messages (Step), time (Tick) and client transactions (Submit), and
// reads what it produced (Ready): records to make durable, messages to send,
// committed sub-DAGs and equivocation evidence. The core has no goroutines,
// no clock, no sockets, no disk and no randomness of its own, so the same
// inputs always give the same outputs; the engine drives it with real I/O
// and the simulator (dagsim) with a virtual clock and injected faults.
//
// The driver makes a Ready's records durable, then calls Advance, before
// it sends the messages or delivers the commits; the node hands out no
// further Ready until Advance, so the persist-then-send contract is held
// by the API, as in etcd's raft, not only by a comment. Restore rebuilds a
// node from its records: the node decodes them and each role (worker,
// orderer, primary) restores its own state.
//
// The scripts in testdata/primary show the protocol at work: each steps
// headers, votes, certificates and ticks into one validator's node and
// lists everything it produces (TestPrimaryScripts; -rewrite regenerates
// the expected output).
//
// # Protocol
//
// Rounds start at 1 above a genesis round 0 of one unsigned certificate per
// validator. A primary proposes at most one header per round, citing the
// certificates of the previous round it holds (at least a quorum of stake)
// and the batches its worker got stored by a quorum. Validators vote for a
// header (a signature over its digest) once its parents and batches are
// stored and its timestamp is not before its parents' nor too far ahead of
// the local clock, never twice for one author and round, and persist the
// vote before sending it. A quorum of votes aggregates into a certificate.
//
// Every signature covers SigningMessage: the header digest bound to the
// chain id (Config.ChainID) and the epoch, so no vote or certificate of
// another chain or epoch counts.
//
// Signature checks are the core's main cost (a BLS pairing each), so it
// makes as few as safety allows, and every cheaper check comes first:
// votes are checked as one aggregate once a quorum is in (one by one only
// when that fails, to find and refuse the bad ones); a header is placed
// by its digest before its signature is checked, so a replay costs no
// check (this validator's vote on it is sent again from its record, not
// signed again) and a conflicting header at most one, once per author
// and round, to make evidence; a certificate response is taken only for
// what this node asked for, checked in batches that double in size and
// stop at the first forgery; failed checks are remembered (bounded).
// A peer that sends an invalid signature or equivocates is listed in
// Ready.Misbehaving, for the driver to stop reading it for a while.
//
// Even rounds have a leader drawn by a stake-weighted schedule. When a
// round-r leader is cited by round-(r+1) certificates carrying validity
// stake (more than a third), it commits, after the earlier uncommitted
// leaders it reaches through the DAG, oldest first. Each committed leader
// yields its causal history not committed before, sorted by round then
// author, with a consensus timestamp (the leader's header timestamp, never
// below the previous commit's) and a running BLAKE3 commit digest. The same
// DAG commits the same sequence whatever order its certificates arrive in.
//
// # Safety nets
//
// Every encoding is canonical and every decoder strict (ErrMalformed).
// Certificates missing parents wait in a bounded buffer while the parents
// are requested; batches asked of peers are bounded per author and
// forgotten with garbage collection, as are unreferenced batches (in count
// and bytes); a validator that falls behind asks for certificates by
// round (SyncRequest). Headers and certificates beyond MaxRoundsAhead are
// refused. Two signed headers of one author and round become Evidence.
// State below the last committed leader minus GCDepth is collected, and the
// records of collected certificates are deleted once the commits that could
// need them are delivered.
package dag
