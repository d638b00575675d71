package dag

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/dagd/dagd/crypto"
)

// codecVersion is the version byte that starts every encoded value. A
// decoder refuses any other.
const codecVersion = 1

// Limits that decoders enforce before allocating. Node options may set
// tighter ones.
const (
	MaxSignatureSize = 256       // bytes in one (aggregate) signature
	MaxPayloadRefs   = 4096      // batch references in one header
	MaxBatchTxs      = 1 << 16   // transactions in one batch
	MaxTxSize        = 1 << 20   // bytes in one transaction
	MaxBatchBytes    = 16 << 20  // bytes of transactions in one batch
	MaxRequestItems  = 4096      // digests in one request
	MaxResponseCerts = 2048      // certificates in one response
	MaxChainIDSize   = 256       // bytes in a chain id (Config.ChainID)
	maxHeaderBytes   = 256 << 10 // sanity bound for header encodings
)

// MaxMessageSize is the largest message the core produces: a batch of
// MaxBatchBytes of transactions, their length prefixes and the batch's
// own fields. Transports and stores of batch encodings size their frames
// by it.
const MaxMessageSize = MaxBatchBytes + 4*MaxBatchTxs + 1024

// Time is a point in time in milliseconds, from the clock the driver passes
// to Tick: the wall clock in a node, a virtual clock in the simulator.
type Time uint64

// BatchRef names a batch in a header's payload.
type BatchRef struct {
	Digest crypto.Digest
	Worker uint16
}

// Batch is a worker's sealed list of transactions. A batch that was
// decoded (its transactions are then slices of one buffer) or sealed by a
// worker keeps its canonical encoding: such a batch is immutable, neither
// its fields nor its transactions' bytes may be modified.
type Batch struct {
	Epoch        uint64
	Author       ValidatorID
	Worker       uint16
	Transactions [][]byte

	// enc caches the canonical encoding of a decoded or sealed batch, so
	// that storing, hashing and sending it encode nothing again.
	enc []byte
}

func (b *Batch) encode(e *encoder) {
	if b.enc != nil {
		e.b = append(e.b, b.enc...)
		return
	}
	e.u8(codecVersion)
	e.u64(b.Epoch)
	e.u16(uint16(b.Author))
	e.u16(b.Worker)
	e.u32(uint32(len(b.Transactions)))
	for _, tx := range b.Transactions {
		e.bytes32(tx)
	}
}

// Encode returns the canonical encoding of b, in a slice of its own.
func (b *Batch) Encode() []byte {
	if b.enc != nil {
		return bytes.Clone(b.enc)
	}
	e := encoder{b: make([]byte, 0, 17+b.payloadSize()+4*len(b.Transactions))}
	b.encode(&e)
	return e.b
}

// encoding returns the canonical encoding of b, shared with b when it is
// cached: the caller must not modify it.
func (b *Batch) encoding() []byte {
	if b.enc != nil {
		return b.enc
	}
	return b.Encode()
}

func (b *Batch) payloadSize() int {
	n := 0
	for _, tx := range b.Transactions {
		n += len(tx)
	}
	return n
}

// Digest returns BLAKE3 of the batch's domain tag and canonical encoding.
func (b *Batch) Digest() crypto.Digest { return BatchDigest(b.encoding()) }

// batchDomain tags the digest of a batch.
const batchDomain = "dagd/batch/v1"

// BatchDigest returns the digest of a batch from its canonical encoding
// (Batch.Encode, or the body of a KindBatch frame after its kind byte),
// without decoding it: drivers that hold only the bytes (a batch log, a
// frame about to be sent again) name the batch as the core does.
func BatchDigest(enc []byte) crypto.Digest { return crypto.Hash([]byte(batchDomain), enc) }

// BatchHeaderSize is the fixed start of a batch's encoding: version u8,
// epoch u64, author u16, worker u16, transaction count u32. PeekBatch
// needs only these bytes.
const BatchHeaderSize = 17

// decodeBatch checks a batch's encoding in place, then copies it once: the
// transactions are slices of that copy (one allocation per batch, not one
// per transaction), which the batch keeps as its cached encoding. The
// result does not alias d's input.
func decodeBatch(d *decoder) *Batch {
	start := d.b
	if v := d.u8("batch version"); d.err == nil && v != codecVersion {
		d.fail("unknown batch version %d", v)
	}
	b := &Batch{Epoch: d.u64("batch epoch"), Author: ValidatorID(d.u16("batch author")), Worker: d.u16("batch worker")}
	n := d.count("transaction", MaxBatchTxs, 4)
	total := 0
	for i := 0; i < n && d.err == nil; i++ {
		size := d.u32("transaction length")
		if d.err != nil {
			break
		}
		if uint64(size) > MaxTxSize {
			d.fail("transaction length %d exceeds limit %d", size, MaxTxSize)
			break
		}
		if d.take(int(size), "transaction"); d.err != nil {
			break
		}
		total += int(size)
		if total > MaxBatchBytes {
			d.fail("batch exceeds %d bytes of transactions", MaxBatchBytes)
		}
	}
	if d.err != nil {
		return b
	}
	b.enc = bytes.Clone(start[:len(start)-len(d.b)])
	if n > 0 {
		b.Transactions = make([][]byte, n)
	}
	pos := BatchHeaderSize
	for i := range b.Transactions {
		size := int(binary.BigEndian.Uint32(b.enc[pos:]))
		pos += 4
		b.Transactions[i] = b.enc[pos : pos+size : pos+size]
		pos += size
	}
	return b
}

// BatchHeader is the fixed start of an encoded batch, read without its
// transactions.
type BatchHeader struct {
	Epoch  uint64
	Author ValidatorID
	Worker uint16
	// Count is the number of transactions the batch declares (not
	// checked against the rest of the encoding).
	Count int
}

// PeekBatch reads the fixed start of an encoded batch (the first
// BatchHeaderSize bytes are enough) without decoding its transactions:
// a driver that serves commits needs only the author and transaction
// count of most batches. Only DecodeBatch validates the whole encoding.
func PeekBatch(p []byte) (BatchHeader, error) {
	d := decoder{b: p}
	if v := d.u8("batch version"); d.err == nil && v != codecVersion {
		d.fail("unknown batch version %d", v)
	}
	h := BatchHeader{Epoch: d.u64("batch epoch"), Author: ValidatorID(d.u16("batch author")), Worker: d.u16("batch worker")}
	h.Count = int(d.u32("batch count"))
	if d.err != nil {
		return BatchHeader{}, d.err
	}
	return h, nil
}

// ScanBatch calls fn with each transaction of an encoded batch, in order,
// until fn returns false, without decoding or copying the batch: tx is a
// slice of enc, valid while enc is. It checks the header and each length
// against the bytes present, not the limits DecodeBatch enforces.
func ScanBatch(enc []byte, fn func(tx []byte) bool) error {
	h, err := PeekBatch(enc)
	if err != nil {
		return err
	}
	p := enc[BatchHeaderSize:]
	for i := 0; i < h.Count; i++ {
		if len(p) < 4 {
			return fmt.Errorf("batch truncated at transaction %d of %d: %w", i, h.Count, ErrMalformed)
		}
		l := binary.BigEndian.Uint32(p)
		if uint64(l) > uint64(len(p)-4) {
			return fmt.Errorf("batch transaction %d of %d bytes, %d left: %w", i, l, len(p)-4, ErrMalformed)
		}
		tx := p[4 : 4+l : 4+l]
		p = p[4+l:]
		if !fn(tx) {
			return nil
		}
	}
	return nil
}

// DecodeBatch strictly decodes a canonical batch.
func DecodeBatch(p []byte) (*Batch, error) {
	d := decoder{b: p}
	b := decodeBatch(&d)
	if err := d.finish("batch"); err != nil {
		return nil, err
	}
	return b, nil
}

// Header is a primary's proposal for one round: its batches and the
// certificates of the previous round it builds on. Once built, a Header is
// immutable; Digest is cached.
type Header struct {
	Epoch     uint64
	Round     uint64
	Author    ValidatorID
	Timestamp Time
	Payload   []BatchRef
	// Parents are certificate digests of round Round-1, sorted ascending.
	Parents []crypto.Digest
	// Signature is the author's signature over Digest; it doubles as the
	// author's own vote.
	Signature []byte

	digest crypto.Digest
	sealed bool
}

// NewHeader builds an unsigned header; parents are sorted into canonical order.
func NewHeader(epoch, round uint64, author ValidatorID, ts Time, payload []BatchRef, parents []crypto.Digest) *Header {
	ps := slices.Clone(parents)
	slices.SortFunc(ps, func(a, b crypto.Digest) int { return bytes.Compare(a[:], b[:]) })
	h := &Header{Epoch: epoch, Round: round, Author: author, Timestamp: ts, Payload: slices.Clone(payload), Parents: ps}
	h.seal()
	return h
}

func (h *Header) encodeUnsigned(e *encoder) {
	e.u8(codecVersion)
	e.u64(h.Epoch)
	e.u64(h.Round)
	e.u16(uint16(h.Author))
	e.u64(uint64(h.Timestamp))
	e.u32(uint32(len(h.Payload)))
	for _, r := range h.Payload {
		e.digest(r.Digest)
		e.u16(r.Worker)
	}
	e.u32(uint32(len(h.Parents)))
	for _, p := range h.Parents {
		e.digest(p)
	}
}

func (h *Header) encode(e *encoder) {
	h.encodeUnsigned(e)
	e.bytes16(h.Signature)
}

// Encode returns the canonical encoding of h with its signature.
func (h *Header) Encode() []byte {
	e := encoder{b: make([]byte, 0, 64+34*len(h.Payload)+32*len(h.Parents)+len(h.Signature))}
	h.encode(&e)
	return e.b
}

func (h *Header) seal() {
	e := encoder{b: make([]byte, 0, 64+34*len(h.Payload)+32*len(h.Parents))}
	e.b = append(e.b, "dagd/header/v1"...)
	h.encodeUnsigned(&e)
	h.digest = crypto.Hash(e.b)
	h.sealed = true
}

// Digest returns BLAKE3 of the header's domain tag and unsigned encoding:
// the message its author and its voters sign, and the certificate's name.
func (h *Header) Digest() crypto.Digest {
	if !h.sealed {
		h.seal()
	}
	return h.digest
}

func decodeHeader(d *decoder) *Header {
	start := d.b
	if v := d.u8("header version"); d.err == nil && v != codecVersion {
		d.fail("unknown header version %d", v)
	}
	h := &Header{Epoch: d.u64("epoch"), Round: d.u64("round"), Author: ValidatorID(d.u16("author")), Timestamp: Time(d.u64("timestamp"))}
	n := d.count("payload", MaxPayloadRefs, 34)
	if n > 0 {
		h.Payload = make([]BatchRef, n)
	}
	for i := 0; i < n && d.err == nil; i++ {
		h.Payload[i] = BatchRef{Digest: d.digest("batch digest"), Worker: d.u16("worker")}
	}
	m := d.count("parent", MaxCommitteeSize, 32)
	if m > 0 {
		h.Parents = make([]crypto.Digest, m)
	}
	for i := 0; i < m && d.err == nil; i++ {
		h.Parents[i] = d.digest("parent")
		if i > 0 && bytes.Compare(h.Parents[i-1][:], h.Parents[i][:]) >= 0 {
			d.fail("parents not in strictly ascending order")
		}
	}
	if d.err != nil {
		return nil
	}
	unsigned := start[:len(start)-len(d.b)]
	h.Signature = d.bytes16("header signature", MaxSignatureSize)
	if d.err != nil {
		return nil
	}
	h.digest = crypto.Hash([]byte("dagd/header/v1"), unsigned)
	h.sealed = true
	return h
}

// DecodeHeader strictly decodes a canonical signed header.
func DecodeHeader(p []byte) (*Header, error) {
	d := decoder{b: p}
	h := decodeHeader(&d)
	if err := d.finish("header"); err != nil {
		return nil, err
	}
	return h, nil
}

// String describes h for logs.
func (h *Header) String() string {
	return fmt.Sprintf("header(r%d a%d %s)", h.Round, h.Author, h.Digest().Short())
}

// Vote is a validator's signature over a header digest: it has stored the
// header's batches and its parents and will never vote for another header
// of that author and round.
type Vote struct {
	Epoch     uint64
	Round     uint64
	Origin    ValidatorID // the header's author
	Header    crypto.Digest
	Voter     ValidatorID
	Signature []byte
}

func (v *Vote) encode(e *encoder) {
	e.u8(codecVersion)
	e.u64(v.Epoch)
	e.u64(v.Round)
	e.u16(uint16(v.Origin))
	e.digest(v.Header)
	e.u16(uint16(v.Voter))
	e.bytes16(v.Signature)
}

// Encode returns the canonical encoding of v.
func (v *Vote) Encode() []byte {
	e := encoder{}
	v.encode(&e)
	return e.b
}

func decodeVote(d *decoder) *Vote {
	if ver := d.u8("vote version"); d.err == nil && ver != codecVersion {
		d.fail("unknown vote version %d", ver)
	}
	return &Vote{Epoch: d.u64("epoch"), Round: d.u64("round"), Origin: ValidatorID(d.u16("origin")),
		Header: d.digest("header digest"), Voter: ValidatorID(d.u16("voter")), Signature: d.bytes16("vote signature", MaxSignatureSize)}
}

// DecodeVote strictly decodes a canonical vote.
func DecodeVote(p []byte) (*Vote, error) {
	d := decoder{b: p}
	v := decodeVote(&d)
	if err := d.finish("vote"); err != nil {
		return nil, err
	}
	return v, nil
}

// Certificate is a header with an aggregate signature of a quorum of
// validators. Its digest is its header's digest.
type Certificate struct {
	Header *Header
	// Signers are the validators whose signatures are aggregated, ascending.
	Signers []ValidatorID
	// CommitteeSize is the length of the signer bitmap.
	CommitteeSize int
	Signature     []byte
}

// Digest returns the certified header's digest.
func (c *Certificate) Digest() crypto.Digest { return c.Header.Digest() }

// Round returns the certified header's round.
func (c *Certificate) Round() uint64 { return c.Header.Round }

// Author returns the certified header's author.
func (c *Certificate) Author() ValidatorID { return c.Header.Author }

func (c *Certificate) encode(e *encoder) {
	c.Header.encode(e)
	e.u16(uint16(c.CommitteeSize))
	bm := make([]byte, (c.CommitteeSize+7)/8)
	for _, s := range c.Signers {
		if int(s) < c.CommitteeSize {
			bm[s/8] |= 1 << (s % 8)
		}
	}
	e.b = append(e.b, bm...)
	e.bytes16(c.Signature)
}

// Encode returns the canonical encoding of c.
func (c *Certificate) Encode() []byte {
	e := encoder{}
	c.encode(&e)
	return e.b
}

func decodeCertificate(d *decoder) *Certificate {
	h := decodeHeader(d)
	if d.err != nil {
		return nil
	}
	c := &Certificate{Header: h, CommitteeSize: int(d.u16("committee size"))}
	if c.CommitteeSize > MaxCommitteeSize {
		d.fail("committee size %d exceeds %d", c.CommitteeSize, MaxCommitteeSize)
		return nil
	}
	bm := d.take((c.CommitteeSize+7)/8, "signer bitmap")
	for i := 0; i < len(bm)*8 && d.err == nil; i++ {
		if bm[i/8]&(1<<(i%8)) != 0 {
			if i >= c.CommitteeSize {
				d.fail("signer bit %d set beyond committee size %d", i, c.CommitteeSize)
			}
			c.Signers = append(c.Signers, ValidatorID(i))
		}
	}
	c.Signature = d.bytes16("certificate signature", MaxSignatureSize)
	return c
}

// DecodeCertificate strictly decodes a canonical certificate.
func DecodeCertificate(p []byte) (*Certificate, error) {
	d := decoder{b: p}
	c := decodeCertificate(&d)
	if err := d.finish("certificate"); err != nil {
		return nil, err
	}
	return c, nil
}

// String describes c for logs.
func (c *Certificate) String() string {
	return fmt.Sprintf("cert(r%d a%d %s)", c.Round(), c.Author(), c.Digest().Short())
}

// GenesisCertificates returns the round-0 certificates every validator
// starts from: one unsigned header per validator, known to all.
func GenesisCertificates(c *Committee) []*Certificate {
	out := make([]*Certificate, c.Size())
	for i := range out {
		out[i] = &Certificate{Header: NewHeader(c.Epoch(), 0, ValidatorID(i), 0, nil, nil), CommitteeSize: c.Size()}
	}
	return out
}

// Evidence is proof that a validator equivocated: two headers it signed for
// the same epoch and round with different digests. Execution turns it into
// slashing.
type Evidence struct {
	First, Second *Header
}

// Encode returns the canonical encoding of the evidence, the two headers in
// ascending digest order.
func (ev *Evidence) Encode() []byte {
	a, b := ev.First, ev.Second
	da, db := a.Digest(), b.Digest()
	if bytes.Compare(da[:], db[:]) > 0 {
		a, b = b, a
	}
	e := encoder{}
	e.u8(codecVersion)
	a.encode(&e)
	b.encode(&e)
	return e.b
}

// DecodeEvidence strictly decodes canonical evidence.
func DecodeEvidence(p []byte) (*Evidence, error) {
	d := decoder{b: p}
	if v := d.u8("evidence version"); d.err == nil && v != codecVersion {
		d.fail("unknown evidence version %d", v)
	}
	ev := &Evidence{First: decodeHeader(&d)}
	if d.err == nil {
		ev.Second = decodeHeader(&d)
	}
	if err := d.finish("evidence"); err != nil {
		return nil, err
	}
	da, db := ev.First.Digest(), ev.Second.Digest()
	if bytes.Compare(da[:], db[:]) >= 0 {
		return nil, fmt.Errorf("%w: evidence headers not in ascending digest order", ErrMalformed)
	}
	return ev, nil
}

// Check verifies that the evidence really shows equivocation: same author,
// epoch and round, different digests, both signatures valid for chainID.
func (ev *Evidence) Check(v Verifier, chainID string) error {
	a, b := ev.First, ev.Second
	if a.Author != b.Author || a.Epoch != b.Epoch || a.Round != b.Round {
		return fmt.Errorf("dag: evidence headers differ in author, epoch or round")
	}
	if a.Digest() == b.Digest() {
		return fmt.Errorf("dag: evidence headers are identical")
	}
	for _, h := range []*Header{a, b} {
		d := h.Digest()
		if err := v.VerifySignature(h.Author, SigningMessage(chainID, h.Epoch, d), h.Signature); err != nil {
			return fmt.Errorf("dag: evidence %s: %w", h, err)
		}
	}
	return nil
}
