package dag

import (
	"fmt"

	"github.com/dagd/dagd/crypto"
)

// Kind tags a wire message.
type Kind uint8

// Message kinds. The numbers are part of the wire format.
const (
	KindHeader       Kind = 1
	KindVote         Kind = 2
	KindCertificate  Kind = 3
	KindCertRequest  Kind = 4
	KindCertResponse Kind = 5
	KindSyncRequest  Kind = 6
	KindBatch        Kind = 7
	KindBatchAck     Kind = 8
	KindBatchRequest Kind = 9
)

// Valid reports whether k is a message kind of this wire format.
func (k Kind) Valid() bool { return k >= KindHeader && k <= KindBatchRequest }

// String names the kind for logs and metrics.
func (k Kind) String() string {
	switch k {
	case KindHeader:
		return "header"
	case KindVote:
		return "vote"
	case KindCertificate:
		return "certificate"
	case KindCertRequest:
		return "cert_request"
	case KindCertResponse:
		return "cert_response"
	case KindSyncRequest:
		return "sync_request"
	case KindBatch:
		return "batch"
	case KindBatchAck:
		return "batch_ack"
	case KindBatchRequest:
		return "batch_request"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Message is anything validators send each other.
type Message interface {
	Kind() Kind
	encode(e *encoder)
}

// Kind implements Message.
func (*Header) Kind() Kind { return KindHeader }

// Kind implements Message.
func (*Vote) Kind() Kind { return KindVote }

// Kind implements Message.
func (*Certificate) Kind() Kind { return KindCertificate }

// Kind implements Message.
func (*Batch) Kind() Kind { return KindBatch }

// CertRequest asks a peer for certificates by digest (missing parents).
type CertRequest struct {
	Digests []crypto.Digest
}

// Kind implements Message.
func (*CertRequest) Kind() Kind { return KindCertRequest }

func (m *CertRequest) encode(e *encoder) { encodeDigests(e, m.Digests) }

// CertResponse carries certificates, answering a CertRequest or a
// SyncRequest, in ascending round order.
type CertResponse struct {
	Certificates []*Certificate
}

// Kind implements Message.
func (*CertResponse) Kind() Kind { return KindCertResponse }

func (m *CertResponse) encode(e *encoder) {
	e.u32(uint32(len(m.Certificates)))
	for _, c := range m.Certificates {
		c.encode(e)
	}
}

// SyncRequest asks a peer for the certificates it holds from FromRound on,
// at most Limit of them: how a validator that fell behind catches up.
type SyncRequest struct {
	FromRound uint64
	Limit     uint32
}

// Kind implements Message.
func (*SyncRequest) Kind() Kind { return KindSyncRequest }

func (m *SyncRequest) encode(e *encoder) {
	e.u64(m.FromRound)
	e.u32(m.Limit)
}

// BatchAck tells a batch's author that the sender stored it.
type BatchAck struct {
	Digest crypto.Digest
}

// Kind implements Message.
func (*BatchAck) Kind() Kind { return KindBatchAck }

func (m *BatchAck) encode(e *encoder) { e.digest(m.Digest) }

// BatchRequest asks a peer for batches by digest.
type BatchRequest struct {
	Digests []crypto.Digest
}

// Kind implements Message.
func (*BatchRequest) Kind() Kind { return KindBatchRequest }

func (m *BatchRequest) encode(e *encoder) { encodeDigests(e, m.Digests) }

func encodeDigests(e *encoder, ds []crypto.Digest) {
	e.u32(uint32(len(ds)))
	for _, d := range ds {
		e.digest(d)
	}
}

func decodeDigests(d *decoder) []crypto.Digest {
	n := d.count("digest", MaxRequestItems, 32)
	var out []crypto.Digest
	if n > 0 {
		out = make([]crypto.Digest, n)
	}
	for i := 0; i < n && d.err == nil; i++ {
		out[i] = d.digest("digest")
	}
	return out
}

// EncodeMessage returns the wire form of m: its kind byte and its
// canonical encoding.
func EncodeMessage(m Message) []byte {
	e := encoder{}
	if b, ok := m.(*Batch); ok {
		// Batches are large: size the buffer once rather than grow it
		// transaction by transaction.
		e.b = make([]byte, 0, 1+17+b.payloadSize()+4*len(b.Transactions))
	}
	e.u8(uint8(m.Kind()))
	m.encode(&e)
	return e.b
}

// DecodeMessage strictly decodes a wire message. Bytes from the network go
// through here; it never panics and rejects trailing bytes, oversize
// lengths, unknown kinds and unknown versions.
func DecodeMessage(p []byte) (Message, error) {
	d := decoder{b: p}
	kind := Kind(d.u8("message kind"))
	var m Message
	switch kind {
	case KindHeader:
		if h := decodeHeader(&d); h != nil {
			m = h
		}
	case KindVote:
		m = decodeVote(&d)
	case KindCertificate:
		if c := decodeCertificate(&d); c != nil {
			m = c
		}
	case KindCertRequest:
		m = &CertRequest{Digests: decodeDigests(&d)}
	case KindCertResponse:
		n := d.count("certificate", MaxResponseCerts, 64)
		r := &CertResponse{}
		for i := 0; i < n && d.err == nil; i++ {
			if c := decodeCertificate(&d); c != nil {
				r.Certificates = append(r.Certificates, c)
			}
		}
		m = r
	case KindSyncRequest:
		m = &SyncRequest{FromRound: d.u64("from round"), Limit: d.u32("limit")}
	case KindBatch:
		m = decodeBatch(&d)
	case KindBatchAck:
		m = &BatchAck{Digest: d.digest("batch digest")}
	case KindBatchRequest:
		m = &BatchRequest{Digests: decodeDigests(&d)}
	default:
		if d.err == nil {
			d.fail("unknown message kind %d", uint8(kind))
		}
	}
	if err := d.finish(kind.String()); err != nil {
		return nil, err
	}
	return m, nil
}
