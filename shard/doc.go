// Package shard is dagd's parallel executor: it takes each committed
// sub-DAG's transactions in consensus order and executes them on all cores
// with a result (state root, receipts, records) identical to executing
// them one by one in that order.
//
// The executor does not know what a transaction does: a Machine decodes
// it, declares every state key it may touch (Keys) and applies it to a
// Store that holds exactly those keys. Tokens binds the token module of
// package contracts; tests bind small machines of their own.
//
// # One commit
//
// Execute runs one commit in five phases:
//
//  1. Decode every transaction and list its keys (on Options.Workers
//     goroutines, results by index).
//  2. In consensus order, drop what must not run, without a receipt: a
//     transaction that does not decode; one whose expiry is before the
//     commit's time (Env.Time > Expiry); one whose expiry is more than
//     Options.MaxTxLifetime ahead; a duplicate, that is a digest already
//     seen in this commit or in the dedup window.
//  3. Verify the signatures of the rest in one ZIP-215 batch
//     (crypto.VerifyAccountBatch over Options.VerifyWorkers goroutines),
//     but for the digests Options.Verified knows verified already.
//     The per-transaction booleans are the same as one-by-one
//     verification, so they are deterministic. A transaction whose
//     signature does not verify changes nothing and is dropped without a
//     receipt (Counts.BadSignature).
//  4. Apply the others through the schedule below, over an overlay of the
//     state store. A transaction whose receipt is not Charged (it paid
//     nothing: another chain, a fee below the minimum, a wrong nonce, a
//     fee the sender cannot pay) changed nothing and is dropped too
//     (Counts.Unpaid): a Byzantine validator can order such transactions
//     at no cost, so they must cost the ledger nothing either. Nothing
//     needs to remember them for deduplication: a copy ordered again is
//     applied again, and the sender's nonce still lets at most one copy
//     of a transaction pay and run.
//  5. Build one state.Update in a fixed order (the genesis writes by key,
//     then the overlay's writes by key slot, then the records) and Commit
//     it as version Seq.
//
// Env.Time is the commit's consensus time, or the previous commit's if
// that is later: the executor's clock never goes back.
//
// # Shards and the schedule
//
// The keyspace is cut into Options.Shards shards by ShardOf (FNV-1a of the
// key modulo the shard count). Shard s belongs to lane s mod Workers; each
// lane is one goroutine that runs its transactions in consensus order. A
// transaction runs in the lane of the shard of its smallest key (its home
// shard), so a transaction whose keys all fall in one shard runs in that
// shard's lane, and a cross-shard transaction runs in the lane of one of
// its shards. Before it starts, a transaction waits, for each of its keys,
// for the last earlier transaction that declared the key, when that one
// runs in another lane (one in its own lane ran before it already).
//
// Why this equals serial execution in consensus order: take any key k and
// the transactions that declare it, t1 < t2 < ... in consensus order. Each
// ti+1 starts after ti is done (same lane: lane order; other lanes: the
// wait), so the operations on k happen in consensus order, one
// transaction at a time, exactly as in serial execution; transactions that
// share no key touch disjoint parts of the state (the overlay refuses a
// key that was not declared, ErrUndeclaredKey) and so commute. By
// induction over consensus order, every transaction reads, for each of its
// keys, the value serial execution would give it; Apply is deterministic,
// so it writes the same values and returns the same receipt. The final
// overlay, and so the Update and the state root, are the same. Deadlock is
// impossible: waits point to earlier transactions only, and the earliest
// transaction not done is always runnable at the head of its lane. The
// number of shards and workers decides only what runs at the same time
// (TestParallelEqualsSerial compares 1 shard and 1 worker against many).
//
// The overlay has one slot per distinct key of the commit, created while
// the schedule is planned; a slot is loaded from the state store on first
// use. Since two transactions that share a key never run at the same time,
// the slots need no lock, and the happens-before edges are the lanes'
// channel closes.
//
// # Records and crash atomicity
//
// Besides the tree writes, the Update of commit s carries these caller
// records (state.Update.SetMeta), in the same atomic, synced write:
//
//	'p'               position: last executed seq, its Env.Time, oldest live window record
//	'c' seq           CommitRecord: time, previous state root, transactions root, receipts root, counts
//	'r' txdigest      ReceiptRecord: seq, index in the commit, encoded receipt (the tx -> receipt index)
//	'w' seq           dedup window record: the digests that got a receipt in commit s, with their expiries
//	'g'               GenesisID (commit 1 only)
//
// and deletes the window records whose transactions have all expired. The
// state version is the commit seq, so the position and the state can never
// disagree: after a crash the store is at the last commit whose write
// completed, with that commit's receipts and window, and New resumes from
// it. A commit whose write did not complete left nothing and is executed
// again from the same input with the same result; a commit whose write
// completed is refused (ErrOutOfOrder). Nothing runs twice, nothing is
// skipped.
//
// The dedup window keeps each executed digest until the consensus time
// passes its expiry: from then on a copy is dropped as expired, so the
// digest is no longer needed. MaxTxLifetime bounds how long that is, so
// the window's memory and disk are bounded by the transactions of
// MaxTxLifetime of consensus time.
//
// The state root of a commit is not part of its own record (the write that
// stores the record computes it): ReadCommitRecord takes it from the store
// while the store keeps that version, else from the next commit's record.
//
// # Transactions and receipts roots
//
// Each commit records two Merkle roots (MerkleRoot, RFC 6962 with BLAKE3):
// over the digests of the transactions that got a receipt (those that
// paid), in order, and
// over their encoded receipts, in the same order, so that one leaf index
// names a transaction and its receipt.
package shard
