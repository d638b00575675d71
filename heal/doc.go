// Package heal decides how dagd keeps erasure-coded content redundant: which
// validator holds which shard, what an audit of a holder's shards found, which
// shards to fetch from whom to rebuild what is missing, and when to try again.
// It does no I/O and keeps no clock of its own: the engine reads and writes
// shards, moves them over the network, and hands this package what it saw and
// the time it is; this package answers with decisions. That keeps every policy
// here testable without disks, sockets or sleeps.
//
// # Assignment
//
// Shard j of every chunk of an object is held by validator j mod v in a
// committee of v validators (Holder). With n = v (the default) each validator
// holds one shard of every chunk; with n > v some hold several; with n < v the
// validators v-n.. hold none and do not sign the object's availability
// certificate. The assignment depends only on n and v, so every node knows who
// holds what without asking.
//
// # Audit
//
// A holder checks each of its shards against the object's manifest
// (Classify, Audit): a shard that cannot be read, or is short, is missing;
// one whose length or BLAKE3 hash differs from the manifest is corrupt. Both
// are rebuilt.
//
// # Repair and retrieval sources
//
// Sources orders the shards of a chunk by preference: the caller's own good
// shards first (no network), then data shards (no decoding when they all
// arrive), then parity shards, with holders under suspicion (Scores) last and
// known-bad shards left out. A reader or a repairer takes the first k and
// falls back to the next one when a shard fails.
//
// Scores remembers holders that served shards that did not verify, so that
// later reads ask them last.
//
// # Scheduling
//
// Scheduler runs repairs with bounded concurrency: an object due for repair
// is queued once, at most Options.Concurrency run at a time, and one that
// fails is retried after an exponential backoff between Options.BackoffMin and
// Options.BackoffMax. The queue itself is bounded (Options.MaxQueued).
package heal
