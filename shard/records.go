package shard

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/dagd/dagd/crypto"
)

// ErrMalformed is wrapped by the errors of records that do not decode.
var ErrMalformed = errors.New("shard: malformed record")

// Tags of the executor's caller records in the state store (see the
// package comment, "Records").
const (
	tagPosition = 'p'
	tagGenesis  = 'g'
	tagCommit   = 'c'
	tagReceipt  = 'r'
	tagWindow   = 'w'
)

const recordVersion = 1

func seqKey(tag byte, seq uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte{tag}, seq)
}

func positionKey() []byte               { return []byte{tagPosition} }
func genesisKey() []byte                { return []byte{tagGenesis} }
func commitKey(seq uint64) []byte       { return seqKey(tagCommit, seq) }
func windowKey(seq uint64) []byte       { return seqKey(tagWindow, seq) }
func receiptKey(d crypto.Digest) []byte { return append([]byte{tagReceipt}, d[:]...) }

// position is where the executor stands: the last executed commit, the
// consensus time execution has reached, and the oldest commit whose
// window record is still kept.
type position struct {
	seq     uint64
	time    uint64
	lowLive uint64
}

func (p position) encode() []byte {
	b := make([]byte, 0, 25)
	b = append(b, recordVersion)
	b = binary.BigEndian.AppendUint64(b, p.seq)
	b = binary.BigEndian.AppendUint64(b, p.time)
	return binary.BigEndian.AppendUint64(b, p.lowLive)
}

func decodePosition(b []byte) (position, error) {
	if len(b) != 25 || b[0] != recordVersion {
		return position{}, fmt.Errorf("position record of %d bytes: %w", len(b), ErrMalformed)
	}
	return position{seq: binary.BigEndian.Uint64(b[1:]), time: binary.BigEndian.Uint64(b[9:]), lowLive: binary.BigEndian.Uint64(b[17:])}, nil
}

// CommitRecord is what the executor records of one executed commit.
type CommitRecord struct {
	// Seq is the commit's sequence number (and the state version).
	Seq uint64
	// Time is the consensus time the commit executed at (Env.Time).
	Time uint64
	// StateRoot is the state root after the commit. It is not part of
	// the record's encoding (the root is computed by the very write that
	// stores the record): ReadCommitRecord fills it in.
	StateRoot crypto.Digest
	// PrevStateRoot is the state root before the commit.
	PrevStateRoot crypto.Digest
	// TxRoot is the Merkle root of the digests of the transactions that
	// got a receipt, in order (MerkleRoot).
	TxRoot crypto.Digest
	// ReceiptsRoot is the Merkle root of their encoded receipts.
	ReceiptsRoot crypto.Digest
	// Counts of the commit's transactions.
	Counts Counts
}

// Counts classifies a commit's transactions. Received = Malformed +
// Duplicate + Expired + TooFar + BadSignature + Applied, and Applied =
// Receipts + Unpaid. Only Receipts left a record besides these counts.
type Counts struct {
	// Received is the number of transactions the commit carried.
	Received uint32 `json:"received"`
	// Malformed did not decode: dropped.
	Malformed uint32 `json:"malformed"`
	// Duplicate had the digest of a transaction executed before (in this
	// commit or in the dedup window): dropped.
	Duplicate uint32 `json:"duplicate"`
	// Expired had an expiry before the commit's time: dropped.
	Expired uint32 `json:"expired"`
	// TooFar had an expiry more than MaxTxLifetime after the commit's
	// time: dropped.
	TooFar uint32 `json:"too_far"`
	// Receipts is the number of transactions that got a receipt.
	Receipts uint32 `json:"receipts"`
	// BadSignature had a signature that does not verify: dropped,
	// without a receipt.
	BadSignature uint32 `json:"bad_signature"`
	// Applied were applied by the Machine (whatever their outcome).
	Applied uint32 `json:"applied"`
	// OK got a receipt whose OK() is true.
	OK uint32 `json:"ok"`
	// Unpaid were applied but paid nothing (Receipt.Charged false: for
	// another chain, fee too low, wrong nonce, fee not payable): they
	// changed nothing and were dropped, without a receipt.
	Unpaid uint32 `json:"unpaid"`
}

// Sizes of a CommitRecord's encoding: with the nine counts it had before
// Counts.Unpaid (still read, as Unpaid 0), and with ten.
const (
	commitRecordSizeV1 = 1 + 8 + 8 + 3*crypto.DigestSize + 9*4
	commitRecordSize   = commitRecordSizeV1 + 4
)

func (c *CommitRecord) encode() []byte {
	b := make([]byte, 0, commitRecordSize)
	b = append(b, recordVersion)
	b = binary.BigEndian.AppendUint64(b, c.Seq)
	b = binary.BigEndian.AppendUint64(b, c.Time)
	b = append(b, c.PrevStateRoot[:]...)
	b = append(b, c.TxRoot[:]...)
	b = append(b, c.ReceiptsRoot[:]...)
	n := c.Counts
	for _, v := range []uint32{n.Received, n.Malformed, n.Duplicate, n.Expired, n.TooFar, n.Receipts, n.BadSignature, n.Applied, n.OK, n.Unpaid} {
		b = binary.BigEndian.AppendUint32(b, v)
	}
	return b
}

func decodeCommitRecord(b []byte) (*CommitRecord, error) {
	if (len(b) != commitRecordSize && len(b) != commitRecordSizeV1) || b[0] != recordVersion {
		return nil, fmt.Errorf("commit record of %d bytes: %w", len(b), ErrMalformed)
	}
	c := &CommitRecord{Seq: binary.BigEndian.Uint64(b[1:]), Time: binary.BigEndian.Uint64(b[9:])}
	p := b[17:]
	copy(c.PrevStateRoot[:], p)
	copy(c.TxRoot[:], p[32:])
	copy(c.ReceiptsRoot[:], p[64:])
	p = p[96:]
	u := func(i int) uint32 { return binary.BigEndian.Uint32(p[4*i:]) }
	c.Counts = Counts{Received: u(0), Malformed: u(1), Duplicate: u(2), Expired: u(3), TooFar: u(4), Receipts: u(5),
		BadSignature: u(6), Applied: u(7), OK: u(8)}
	if len(b) == commitRecordSize {
		c.Counts.Unpaid = u(9)
	}
	return c, nil
}

// ReadCommitRecord returns the record of executed commit seq, with its
// state root: the store's root of version seq while the store keeps it,
// else the PrevStateRoot of commit seq+1. found is false for a commit not
// executed.
func ReadCommitRecord(st MetaReader, seq uint64) (rec *CommitRecord, found bool, err error) {
	v, ok, err := st.GetMeta(commitKey(seq))
	if err != nil || !ok {
		return nil, false, err
	}
	if rec, err = decodeCommitRecord(v); err != nil {
		return nil, false, fmt.Errorf("shard: commit %d: %w", seq, err)
	}
	if rec.Seq != seq {
		return nil, false, fmt.Errorf("shard: commit record %d says seq %d: %w", seq, rec.Seq, ErrMalformed)
	}
	if root, err := st.RootAt(seq); err == nil {
		rec.StateRoot = root
		return rec, true, nil
	}
	next, ok, err := st.GetMeta(commitKey(seq + 1))
	if err != nil {
		return nil, false, err
	}
	if !ok {
		return nil, false, fmt.Errorf("shard: state root of commit %d: neither kept nor recorded by commit %d", seq, seq+1)
	}
	nrec, err := decodeCommitRecord(next)
	if err != nil {
		return nil, false, fmt.Errorf("shard: commit %d: %w", seq+1, err)
	}
	rec.StateRoot = nrec.PrevStateRoot
	return rec, true, nil
}

// ReceiptRecord locates a transaction's receipt.
type ReceiptRecord struct {
	// Seq is the commit that executed the transaction.
	Seq uint64
	// Index is the transaction's position among the commit's receipts
	// (its leaf in the transactions and receipts roots).
	Index uint32
	// Receipt is the encoded receipt (Receipt.Encode).
	Receipt []byte
}

func (r *ReceiptRecord) encode() []byte {
	b := make([]byte, 0, 12+len(r.Receipt))
	b = binary.BigEndian.AppendUint64(b, r.Seq)
	b = binary.BigEndian.AppendUint32(b, r.Index)
	return append(b, r.Receipt...)
}

// ReadReceipt returns the receipt record of the transaction with digest
// d, found false when no executed commit holds it.
func ReadReceipt(st MetaReader, d crypto.Digest) (rec *ReceiptRecord, found bool, err error) {
	v, ok, err := st.GetMeta(receiptKey(d))
	if err != nil || !ok {
		return nil, false, err
	}
	if len(v) < 12 {
		return nil, false, fmt.Errorf("shard: receipt record of %d bytes: %w", len(v), ErrMalformed)
	}
	return &ReceiptRecord{Seq: binary.BigEndian.Uint64(v), Index: binary.BigEndian.Uint32(v[8:]), Receipt: v[12:]}, true, nil
}

// ReadPosition returns the last executed commit and its consensus time as
// the store records them (0, 0 before the first commit).
func ReadPosition(st MetaReader) (seq, time uint64, err error) {
	v, ok, err := st.GetMeta(positionKey())
	if err != nil || !ok {
		return 0, 0, err
	}
	p, err := decodePosition(v)
	if err != nil {
		return 0, 0, fmt.Errorf("shard: %w", err)
	}
	return p.seq, p.time, nil
}
