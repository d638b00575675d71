package store

import (
	"encoding/binary"

	"github.com/dagd/dagd/crypto"
)

// Key layout of the node's pebble database (DataDir/pebble), every key the
// node writes there. The Store (store.go) opens and closes the database
// and is the only code that touches it; the others write through it.
// Files named below without a directory are the engine package's.
//
//	prefix  holds                                                written by
//	d/      the consensus core's records (dag.Record keys, parsed  the event loop (Store.Write)
//	        by dag.ParseCertKey, dag.CommitKey...), except batch
//	        bodies, which live in the batch log (batchlog.go)
//	x/      commit index: seq u64 -> CommitIndex (the batches of   the event loop (Store.Write)
//	        the commit and their transaction counts)
//	e/b/    batches the core deleted before their commit was       the executor (engine/execution:
//	        executed: digest -> commit seq u64 | batch encoding     Hold, loadPreserved, release)
//	c/r/    local content registry: cid bytes -> a verified        the content service
//	        content.Certificate                                    (content/content_store.go, content_heal.go)
//	c/h/    holding records: cid bytes -> holdingRec of an object  the content service
//	        whose shards this node stores                          (content/content_store.go)
//	c/l/    ledger index: cid bytes -> ledgerRec, a content        the executor's goroutine
//	        registration this node executed                        (content/content_ledger.go: Executed,
//	                                                               CatchUp), collect
//	c/lc    (one key) u64, the last executed commit whose          as c/l/
//	        registrations are in the ledger index
//	c/g/    cid bytes -> regRec, this node's own registration of   the registrar (content/content_ledger.go),
//	        content it put                                         collect
//	v/      equivocation evidence: epoch u64 | round u64 | author  the event loop (Store.Write, with the
//	        u16 -> dag.Evidence's canonical encoding; one record   Ready that reported it); capped at
//	        per slot, oldest (lowest key) dropped beyond the cap   Options.MaxEvidence (evidence.go)
//
// No prefix is a prefix of another (TestKeyPrefixesDisjoint), so a scan of
// one never sees another's keys. The ledger state lives in a database of
// its own (DataDir/state), which the state package lays out.
const (
	// DAGPrefix prefixes every record the consensus core persists.
	DAGPrefix = "d/"
	// IndexPrefix prefixes the engine's commit index: seq -> the batches
	// of the commit and their transaction counts.
	IndexPrefix = "x/"
	// PreservedPrefix prefixes the copies of batches that the core
	// deleted before the executor ran their commit: digest -> commit seq
	// (8 bytes) then the batch encoding.
	PreservedPrefix = "e/b/"
	// CertPrefix: cid bytes -> the encoding of a verified
	// content.Certificate (the local registry).
	CertPrefix = "c/r/"
	// HoldingPrefix: cid bytes -> the holding record of an object whose
	// shards this node stores (see holdingRec).
	HoldingPrefix = "c/h/"
	// LedgerPrefix: cid bytes -> ledgerRec, a registration this node
	// executed.
	LedgerPrefix = "c/l/"
	// LedgerCursorKey: u64, the last executed commit whose registrations
	// are in the index.
	LedgerCursorKey = "c/lc"
	// RegPrefix: cid bytes -> regRec, this node's own registration of a
	// content it put (the registrar's work).
	RegPrefix = "c/g/"
	// EvidencePrefix: epoch u64 | round u64 | author u16 -> the canonical
	// encoding of the equivocation evidence of that slot (evidence.go).
	// Keys sort by epoch then round: the first key is the oldest record.
	EvidencePrefix = "v/"
)

// KeyPrefixes lists every prefix (and single key) of the table above, by
// name, for the test that they are disjoint.
func KeyPrefixes() map[string]string {
	return map[string]string{
		"dagPrefix":       DAGPrefix,
		"indexPrefix":     IndexPrefix,
		"preservedPrefix": PreservedPrefix,
		"certPrefix":      CertPrefix,
		"holdingPrefix":   HoldingPrefix,
		"ledgerPrefix":    LedgerPrefix,
		"ledgerCursorKey": LedgerCursorKey,
		"regPrefix":       RegPrefix,
		"evidencePrefix":  EvidencePrefix,
	}
}

// DAGKey returns the key of the core's record k.
func DAGKey(k []byte) []byte {
	out := make([]byte, 0, len(DAGPrefix)+len(k))
	return append(append(out, DAGPrefix...), k...)
}

// IndexKey returns the key of the commit index entry of commit seq.
func IndexKey(seq uint64) []byte {
	k := make([]byte, 0, len(IndexPrefix)+8)
	k = append(k, IndexPrefix...)
	return binary.BigEndian.AppendUint64(k, seq)
}

// PreservedKey returns the key of the preserved copy of batch d.
func PreservedKey(d crypto.Digest) []byte { return append([]byte(PreservedPrefix), d[:]...) }

// ContentKey returns the key of a content record: one of the c/ prefixes
// and the CID's bytes.
func ContentKey(prefix string, id []byte) []byte {
	return append([]byte(prefix), id...)
}

// PrefixEnd returns the first key after every key that starts with p.
func PrefixEnd(p string) []byte {
	b := []byte(p)
	b[len(b)-1]++
	return b
}
