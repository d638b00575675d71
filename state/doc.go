// Package state is dagd's authenticated ledger state: key/value pairs kept in
// pebble and committed to by a BLAKE3 sparse Merkle tree whose root is the
// state root the node records after every commit.
//
// A Store is versioned by commit sequence number. Version 0 is the empty
// state; Commit(v, update) with v = Version()+1 applies an Update (sets and
// deletes of tree keys, plus caller records outside the tree), computes the
// new root and writes the new tree nodes, the values, the root and the
// caller records in one atomic, synced pebble batch, so that after a crash
// the store is exactly at the last committed version. Get and GetMeta read
// the latest version; Prove and GetWithProof give inclusion and
// non-inclusion proofs against the root of any of the Options.KeepVersions
// most recent versions, which package proof verifies with nothing but the
// root.
//
// The tree, its hashing rules (domain-separated leaf, internal node and
// empty subtree hashes) and the proof format are specified in package
// state/proof, which a light client can use without pebble or cgo.
//
// Open keeps a Store in a pebble database of its own, configured by
// DefaultPebbleOptions; New keeps one under a key prefix of a database the
// node shares with other data.
//
// # Storage layout
//
// Every pebble key of a Store starts with the Store's prefix (empty for a
// Store from Open), then one tag byte:
//
//	'h'                                   head: format byte 1, then the latest version (8 bytes, big-endian)
//	'r' version                           root record of a version: its root node reference
//	'n' version depth(2) path(ceil(depth/8)) internal node created at version, at that position
//	'l' version keyHash                   leaf node created at version: value hash, key, value
//	's' staleSince                        the keys (after the prefix, each after its uvarint length) of the nodes
//	                                      that left the tree at version staleSince
//	'v' key                               latest value of a tree key
//	'm' key                               caller record (Update.SetMeta), not part of the tree
//
// Versions are 8-byte big-endian. Nodes are never overwritten: a commit
// writes new nodes under its own version and marks the nodes it replaces as
// stale; once a stale node is needed by no kept version (its staleSince is
// at most Version()-KeepVersions+1) the commit that moves the window deletes
// it in the same batch. With KeepVersions 1 a commit deletes the nodes it
// replaces at once. Nodes, leaves, stale lists and root records are each
// written once and never overwritten, so they are removed with pebble's
// SingleDelete, which vanishes together with the set in a compaction. Leaves
// are keyed by key hash, not by position, so a leaf that moves up or down
// when its neighbours change is not rewritten; a parent records each child's
// kind, version and hash, and for a leaf child its key hash, so a commit
// never reads a leaf.
//
// # Concurrency
//
// A Store is safe for concurrent use. Commits are serialized; reads run
// concurrently with each other and with the hashing phase of a commit, and
// always see one whole version.
package state
