package shard

import (
	"github.com/dagd/dagd/crypto"
)

// Machine is the state transition function the executor drives: it decodes
// committed transactions, declares the keys each may touch, and applies
// them. T is the machine's decoded transaction. The token module is bound
// to it by Tokens; tests bind small machines of their own.
//
// A Machine must be deterministic and safe for concurrent use: the
// executor calls Apply from several goroutines at once, each time with a
// Store that holds only the keys Keys declared for that transaction.
type Machine[T any] interface {
	// Decode parses a committed transaction. An error drops the
	// transaction: it gets no receipt and changes nothing.
	Decode(raw []byte) (T, TxInfo, error)
	// Keys returns every state key Apply may read or write for tx. It
	// depends on tx alone.
	Keys(tx T) [][]byte
	// Apply executes tx, whose signature is valid, on st and returns its
	// receipt. The error is for a failing Store only (or a key outside
	// Keys): the executor stops, the commit is not written. A receipt
	// that is not Charged must come with no write at all.
	Apply(env Env, st Store, tx T) (Receipt, error)
}

// TxInfo is what the executor needs to know of a decoded transaction
// besides what the Machine does with it.
type TxInfo struct {
	// Digest names the transaction; duplicates are dropped by it.
	Digest crypto.Digest
	// Expiry is the last consensus time (milliseconds) at which the
	// transaction may execute.
	Expiry uint64
	// Sig is the signature to verify before Apply.
	Sig crypto.AccountSig
}

// Receipt is the outcome of one transaction.
type Receipt interface {
	// Encode returns the receipt's canonical encoding, which the
	// receipts root commits to.
	Encode() []byte
	// OK reports whether the transaction did what it asked.
	OK() bool
	// Charged reports whether the transaction paid for its place in the
	// ledger (for the token module: it consumed its nonce and was charged
	// its fee). Only such a transaction gets a stored receipt; one that
	// paid nothing changed nothing and leaves no record but a count.
	Charged() bool
}

// Env is what a transaction may know of the commit it runs in.
type Env struct {
	// ChainID names the chain (Options.ChainID).
	ChainID string
	// Seq is the commit's sequence number.
	Seq uint64
	// Time is the commit's consensus time in milliseconds. It never goes
	// back: the executor uses the largest commit time seen so far.
	Time uint64
}

// Store is the state a transaction reads and writes. The executor's Store
// holds only the keys declared by Machine.Keys: any other key is an
// error (ErrUndeclaredKey). Get returns (nil, nil) for an absent key; the
// slice it returns must not be modified. Set copies value.
type Store interface {
	// Get returns the value of key, or nil when key is absent.
	Get(key []byte) ([]byte, error)
	// Set makes key hold value.
	Set(key, value []byte) error
	// Delete removes key; deleting an absent key is not an error.
	Delete(key []byte) error
}
