package engine

import (
	"encoding/binary"

	"github.com/dagd/dagd/crypto"
)

// Key layout of the node's pebble database (DataDir/pebble), every key the
// engine writes there. The store (store.go) opens and closes the database
// and is the only code that touches it; the others write through it.
//
//	prefix  holds                                                written by
//	d/      the consensus core's records (dag.Record keys, parsed  the event loop (store.write)
//	        by dag.ParseCertKey, dag.CommitKey...), except batch
//	        bodies, which live in the batch log (batchlog.go)
//	x/      commit index: seq u64 -> commitIndex (the batches of   the event loop (store.write)
//	        the commit and their transaction counts)
//	e/b/    batches the core deleted before their commit was       the executor (execute.go: hold,
//	        executed: digest -> commit seq u64 | batch encoding     loadPreserved, release)
//	c/r/    local content registry: cid bytes -> a verified        the content service
//	        ContentCertificate                                     (content_store.go, content_heal.go)
//	c/h/    holding records: cid bytes -> holdingRec of an object  the content service
//	        whose shards this node stores                          (content_store.go)
//	c/l/    ledger index: cid bytes -> ledgerRec, a content        the executor's goroutine
//	        registration this node executed                        (content_ledger.go: indexExecuted,
//	                                                               catchUpLedger), collect
//	c/lc    (one key) u64, the last executed commit whose          as c/l/
//	        registrations are in the ledger index
//	c/g/    cid bytes -> regRec, this node's own registration of   the registrar (content_ledger.go),
//	        content it put                                         collect
//
// No prefix is a prefix of another (TestKeyPrefixesDisjoint), so a scan of
// one never sees another's keys. The ledger state lives in a database of
// its own (DataDir/state), which the state package lays out.
const (
	// dagPrefix prefixes every record the consensus core persists.
	dagPrefix = "d/"
	// indexPrefix prefixes the engine's commit index: seq -> the batches
	// of the commit and their transaction counts.
	indexPrefix = "x/"
	// preservedPrefix prefixes the copies of batches that the core
	// deleted before the executor ran their commit: digest -> commit seq
	// (8 bytes) then the batch encoding.
	preservedPrefix = "e/b/"
	// certPrefix: cid bytes -> the encoding of a verified
	// ContentCertificate (the local registry).
	certPrefix = "c/r/"
	// holdingPrefix: cid bytes -> the holding record of an object whose
	// shards this node stores (see holdingRec).
	holdingPrefix = "c/h/"
	// ledgerPrefix: cid bytes -> ledgerRec, a registration this node
	// executed.
	ledgerPrefix = "c/l/"
	// ledgerCursorKey: u64, the last executed commit whose registrations
	// are in the index.
	ledgerCursorKey = "c/lc"
	// regPrefix: cid bytes -> regRec, this node's own registration of a
	// content it put (the registrar's work).
	regPrefix = "c/g/"
)

// keyPrefixes lists every prefix (and single key) of the table above, by
// name, for the test that they are disjoint.
func keyPrefixes() map[string]string {
	return map[string]string{
		"dagPrefix":       dagPrefix,
		"indexPrefix":     indexPrefix,
		"preservedPrefix": preservedPrefix,
		"certPrefix":      certPrefix,
		"holdingPrefix":   holdingPrefix,
		"ledgerPrefix":    ledgerPrefix,
		"ledgerCursorKey": ledgerCursorKey,
		"regPrefix":       regPrefix,
	}
}

// dagKey returns the key of the core's record k.
func dagKey(k []byte) []byte {
	out := make([]byte, 0, len(dagPrefix)+len(k))
	return append(append(out, dagPrefix...), k...)
}

// indexKey returns the key of the commit index entry of commit seq.
func indexKey(seq uint64) []byte {
	k := make([]byte, 0, len(indexPrefix)+8)
	k = append(k, indexPrefix...)
	return binary.BigEndian.AppendUint64(k, seq)
}

// preservedKey returns the key of the preserved copy of batch d.
func preservedKey(d crypto.Digest) []byte { return append([]byte(preservedPrefix), d[:]...) }

// contentKey returns the key of a content record: one of the c/ prefixes
// and the CID's bytes.
func contentKey(prefix string, id []byte) []byte {
	return append([]byte(prefix), id...)
}

// prefixEnd returns the first key after every key that starts with p.
func prefixEnd(p string) []byte {
	b := []byte(p)
	b[len(b)-1]++
	return b
}
