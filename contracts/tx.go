package contracts

import (
	"fmt"

	"github.com/dagd/dagd/crypto"
)

// Transaction format constants.
const (
	// TxVersion is the format version, the first byte of every encoded
	// transaction. Decoders refuse any other.
	TxVersion = 1
	// MaxTxSize bounds an encoded transaction. DecodeTx refuses longer
	// input before reading it.
	MaxTxSize = 16 << 10
	// MaxChainIDLen bounds a chain identifier.
	MaxChainIDLen = 64
	// SigningDomain prefixes the bytes a transaction's signature covers
	// (SigningBytes), so that no other signed message of dagd can be
	// replayed as a transaction nor the other way around.
	SigningDomain = "dagd/contracts/v1/tx-signature"
)

// Tx is a signed transaction: one typed operation by one account.
//
// Its encoding (Encode, DecodeTx) is canonical:
//
//	u8      TxVersion (1)
//	bytes8  ChainID (at most MaxChainIDLen bytes)
//	key     Sender
//	u64     Nonce
//	u64     Fee
//	u64     Expiry
//	u16     Op.Type()
//	...     the operation's fields (see each Op)
//	[64]    Signature
//
// and the whole is at most MaxTxSize bytes.
type Tx struct {
	// ChainID names the chain the transaction is for; Apply rejects it on
	// any other (Env.ChainID).
	ChainID string
	// Sender is the account that signs, pays the fee and acts.
	Sender crypto.AccountPublicKey
	// Nonce must equal the sender's account nonce (0 for a new account);
	// each executed transaction (accepted or charged) increments it.
	Nonce uint64
	// Fee is the native amount charged to the sender, at least the
	// module's MinFee for the transaction. All of it is charged.
	Fee uint64
	// Expiry is the last consensus time (milliseconds, Env.Time) at which
	// the transaction may execute: it is rejected when Env.Time > Expiry.
	Expiry uint64
	// Op is what the transaction does.
	Op Op
	// Signature is Sender's Ed25519 signature of SigningBytes.
	Signature [crypto.AccountSignatureSize]byte
}

// NewTx returns an unsigned transaction; Sign fills in Sender and
// Signature.
func NewTx(chainID string, nonce, fee, expiry uint64, op Op) *Tx {
	return &Tx{ChainID: chainID, Nonce: nonce, Fee: fee, Expiry: expiry, Op: op}
}

// NewSignedTx returns the transaction of op by key's account, signed.
func NewSignedTx(key *crypto.AccountPrivateKey, chainID string, nonce, fee, expiry uint64, op Op) *Tx {
	tx := NewTx(chainID, nonce, fee, expiry, op)
	tx.Sign(key)
	return tx
}

// witnessed is an Op with fields the sender's signature does not cover: a
// witness that proves itself, attached after signing by whoever collected
// it (RegisterContent's availability certificate, which the node that
// stored the content aggregates after the payer signed).
type witnessed interface {
	// appendSignedBody appends the fields the signature covers, in order.
	appendSignedBody(b []byte) []byte
	// checkWitness verifies the witness before the sender is charged,
	// and returns a rejection when the witness is at fault. Whoever saw
	// the signed transaction can attach a bad witness: the sender did
	// not sign it, so it must not cost the sender a fee or its nonce.
	// It returns nil, leaving the rejection to exec (charged), when the
	// operation fails for a reason the sender signed, which it checks
	// first: a pairing is spent only on what would otherwise succeed.
	checkWitness(x *execCtx) *rejection
}

// appendUnsigned appends the encoding of tx without its signature.
func (tx *Tx) appendUnsigned(b []byte) []byte {
	b = tx.appendHeader(b)
	if tx.Op == nil {
		return b
	}
	return tx.Op.appendBody(b)
}

// appendHeader appends the encoding of tx up to its operation's body.
func (tx *Tx) appendHeader(b []byte) []byte {
	b = append(b, TxVersion)
	b = appendString8(b, tx.ChainID)
	b = append(b, tx.Sender[:]...)
	b = appendU64(b, tx.Nonce)
	b = appendU64(b, tx.Fee)
	b = appendU64(b, tx.Expiry)
	if tx.Op == nil {
		return appendU16(b, 0) // no operation: DecodeTx refuses type 0
	}
	return appendU16(b, uint16(tx.Op.Type()))
}

// Encode returns the canonical encoding of tx. A transaction DecodeTx
// returned encodes to exactly the bytes it was decoded from.
func (tx *Tx) Encode() []byte {
	b := tx.appendUnsigned(make([]byte, 0, 192))
	return append(b, tx.Signature[:]...)
}

// SigningBytes returns what the signature covers: SigningDomain followed by
// the encoding of tx without its signature, and without the witness fields
// of an operation that has some (RegisterContent's certificate).
func (tx *Tx) SigningBytes() []byte {
	b := append(make([]byte, 0, 192), SigningDomain...)
	if w, ok := tx.Op.(witnessed); ok {
		return w.appendSignedBody(tx.appendHeader(b))
	}
	return tx.appendUnsigned(b)
}

// Digest names the transaction: BLAKE3-256 of its whole encoding
// (signature included), without a domain prefix, so that it equals
// crypto.Hash of the bytes as submitted and gossiped (ARCHITECTURE.md). Those
// bytes are canonical, so one transaction has one digest.
func (tx *Tx) Digest() crypto.Digest { return crypto.Hash(tx.Encode()) }

// Sign sets tx.Sender to key's public key and tx.Signature to key's
// signature of SigningBytes.
func (tx *Tx) Sign(key *crypto.AccountPrivateKey) {
	tx.Sender = key.Public()
	copy(tx.Signature[:], key.Sign(tx.SigningBytes()))
}

// VerifySignature reports whether Signature is Sender's signature of
// SigningBytes under ZIP-215 (crypto.VerifyAccount).
func (tx *Tx) VerifySignature() bool {
	return crypto.VerifyAccount(tx.Sender, tx.SigningBytes(), tx.Signature[:])
}

// AccountSig returns what batch verification (crypto.VerifyAccountBatch)
// needs to check tx's signature.
func (tx *Tx) AccountSig() crypto.AccountSig {
	return crypto.AccountSig{PublicKey: tx.Sender, Msg: tx.SigningBytes(), Sig: tx.Signature[:]}
}

// DecodeTx decodes a transaction and checks that b is its canonical
// encoding: a known version and operation type, every length within its
// bound, booleans 0 or 1, no trailing bytes, and at most MaxTxSize bytes.
// It does not verify the signature nor the operation's rules, which
// Apply enforces. Errors wrap ErrMalformed.
func DecodeTx(b []byte) (*Tx, error) {
	if len(b) > MaxTxSize {
		return nil, fmt.Errorf("contracts: decode transaction: %w: %d bytes, limit %d", ErrMalformed, len(b), MaxTxSize)
	}
	r := &reader{b: b}
	if v := r.u8("version"); r.err == nil && v != TxVersion {
		r.fail("version %d, want %d", v, TxVersion)
	}
	tx := &Tx{}
	tx.ChainID = r.string8("chain id", 0, MaxChainIDLen)
	tx.Sender = r.key("sender")
	tx.Nonce = r.u64("nonce")
	tx.Fee = r.u64("fee")
	tx.Expiry = r.u64("expiry")
	t := OpType(r.u16("operation type"))
	if r.err == nil {
		tx.Op = decodeOp(r, t)
	}
	copy(tx.Signature[:], r.take(crypto.AccountSignatureSize, "signature"))
	if err := r.done("transaction"); err != nil {
		return nil, err
	}
	return tx, nil
}
