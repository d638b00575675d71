package content

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/ipfs/go-cid"

	"github.com/dagd/dagd/crypto"
	"github.com/dagd/dagd/erasure"
)

// Content frames travel on the validators' transport beside the consensus
// messages. Their first byte is a kind from the range 0x40–0x4f, which
// package dag never uses (its kinds are 1–9; TestContentKindsAreNotDAGKinds
// keeps it so), so Node.receive routes them to the content service before
// dag.DecodeMessage sees them. All integers are big-endian; every decoder is
// strict (no trailing bytes, lengths checked before slicing) and fuzzed
// (FuzzContentFrame).
//
//	upload begin    0x40 | upload u64 | chunk size u32 | k u16 | n u16 | max chunks u32
//	shard push      0x41 | upload u64 | chunk u32 | shard u16 | shard bytes...
//	upload commit   0x42 | upload u64 | pushed u32 | cid len u8 | cid | manifest...
//	upload abort    0x43 | upload u64
//	upload ack      0x44 | upload u64 | bytes processed u64
//	upload result   0x45 | upload u64 | status u8 | status ok: signature [48] | else: reason...
//	shard request   0x48 | request u64 | cid len u8 | cid | chunk u32 | shard u16
//	manifest req.   0x49 | request u64 | cid len u8 | cid
//	registry req.   0x4a | request u64 | after len u8 | after (cid bytes, may be empty) | limit u16
//	fetch response  0x4b | request u64 | status u8 | body...
//	register        0x4c | certificate (see Certificate)
const (
	kindUploadBegin     = 0x40
	kindShardPush       = 0x41
	kindUploadCommit    = 0x42
	kindUploadAbort     = 0x43
	kindUploadAck       = 0x44
	kindUploadResult    = 0x45
	kindShardRequest    = 0x48
	kindManifestRequest = 0x49
	kindRegistryRequest = 0x4a
	kindFetchResponse   = 0x4b
	kindRegister        = 0x4c

	contentKindFirst = 0x40
	contentKindLast  = 0x4f
)

// Statuses of upload results and fetch responses.
const (
	statusOK       = 0
	statusNotFound = 1
	statusBusy     = 2
	statusError    = 3
)

// Limits of content frames.
const (
	// maxCIDLen bounds a CID in a frame; dagd's CIDs are 36 to 39 bytes.
	maxCIDLen = 64
	// maxReasonLen bounds the reason of a refusal.
	maxReasonLen = 1024
	// maxRegistryPage bounds the certificates of one registry answer.
	maxRegistryPage = 1024
	// contentHeaderRoom is what a shard frame adds to the shard: the
	// largest header of a shard push or a fetch response.
	contentHeaderRoom = 64
)

// errMalformedFrame is wrapped by every content frame decoding error.
var errMalformedFrame = errors.New("content: malformed content frame")

// IsFrame reports whether a frame is for the content service.
func IsFrame(f []byte) bool {
	return len(f) > 0 && f[0] >= contentKindFirst && f[0] <= contentKindLast
}

// FrameKind names the kind of a content frame ("shard_push",
// "fetch_response", "register"...; "unknown" for no content kind), as the
// service's logs and metrics do.
func FrameKind(f []byte) string {
	if len(f) == 0 {
		return "unknown"
	}
	return contentKindName(f[0])
}

func contentKindName(k byte) string {
	switch k {
	case kindUploadBegin:
		return "upload_begin"
	case kindShardPush:
		return "shard_push"
	case kindUploadCommit:
		return "upload_commit"
	case kindUploadAbort:
		return "upload_abort"
	case kindUploadAck:
		return "upload_ack"
	case kindUploadResult:
		return "upload_result"
	case kindShardRequest:
		return "shard_request"
	case kindManifestRequest:
		return "manifest_request"
	case kindRegistryRequest:
		return "registry_request"
	case kindFetchResponse:
		return "fetch_response"
	case kindRegister:
		return "register"
	}
	return "unknown"
}

// uploadBegin opens an upload session at a holder.
type uploadBegin struct {
	ID        uint64
	ChunkSize uint32
	K, N      uint16
	MaxChunks uint32
}

// shardPush carries one shard of an upload.
type shardPush struct {
	ID    uint64
	Chunk uint32
	Shard uint16
	Data  []byte
}

// uploadCommit ends an upload: the object's CID and manifest, and how many
// shards the uploader pushed to this holder.
type uploadCommit struct {
	ID       uint64
	Pushed   uint32
	CID      []byte
	Manifest []byte
}

// uploadAbort drops an upload session.
type uploadAbort struct{ ID uint64 }

// uploadAck acknowledges the shard bytes a holder has processed so far.
type uploadAck struct {
	ID    uint64
	Bytes uint64
}

// uploadResult answers an upload commit: a signature on the availability
// statement, or why not.
type uploadResult struct {
	ID        uint64
	Status    uint8
	Signature []byte // statusOK
	Reason    string // otherwise
}

// shardRequest asks a holder for one shard.
type shardRequest struct {
	ID    uint64
	CID   []byte
	Chunk uint32
	Shard uint16
}

// manifestRequest asks a holder for an object's manifest.
type manifestRequest struct {
	ID  uint64
	CID []byte
}

// registryRequest asks a peer for the certificates it registered, in CID
// byte order, after the given CID.
type registryRequest struct {
	ID    uint64
	After []byte
	Limit uint16
}

// fetchResponse answers a shard, manifest or registry request.
type fetchResponse struct {
	ID     uint64
	Status uint8
	Body   []byte
}

// registerMsg announces an availability certificate.
type registerMsg struct {
	Cert []byte
}

// frameReader decodes big-endian fields, remembering the first error.
type frameReader struct {
	p   []byte
	err error
}

func (r *frameReader) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: truncated %s", errMalformedFrame, what)
	}
	r.p = nil
}

func (r *frameReader) u8(what string) uint8 {
	if len(r.p) < 1 {
		r.fail(what)
		return 0
	}
	v := r.p[0]
	r.p = r.p[1:]
	return v
}

func (r *frameReader) u16(what string) uint16 {
	if len(r.p) < 2 {
		r.fail(what)
		return 0
	}
	v := binary.BigEndian.Uint16(r.p)
	r.p = r.p[2:]
	return v
}

func (r *frameReader) u32(what string) uint32 {
	if len(r.p) < 4 {
		r.fail(what)
		return 0
	}
	v := binary.BigEndian.Uint32(r.p)
	r.p = r.p[4:]
	return v
}

func (r *frameReader) u64(what string) uint64 {
	if len(r.p) < 8 {
		r.fail(what)
		return 0
	}
	v := binary.BigEndian.Uint64(r.p)
	r.p = r.p[8:]
	return v
}

func (r *frameReader) bytes(n int, what string) []byte {
	if n < 0 || len(r.p) < n {
		r.fail(what)
		return nil
	}
	v := r.p[:n:n]
	r.p = r.p[n:]
	return v
}

// cid reads a length-prefixed CID and checks it is one of dagd's, in its
// canonical binary form.
func (r *frameReader) cid(what string, allowEmpty bool) []byte {
	n := int(r.u8(what + " length"))
	b := r.bytes(n, what)
	if r.err != nil {
		return nil
	}
	if n == 0 && allowEmpty {
		return b
	}
	if err := checkCIDBytes(b); err != nil {
		r.err = fmt.Errorf("%w: %s: %w", errMalformedFrame, what, err)
		return nil
	}
	return b
}

// rest returns what is left.
func (r *frameReader) rest() []byte {
	v := r.p
	r.p = nil
	return v
}

func (r *frameReader) end(what string) error {
	if r.err != nil {
		return r.err
	}
	if len(r.p) != 0 {
		return fmt.Errorf("%w: %d trailing bytes after %s", errMalformedFrame, len(r.p), what)
	}
	return nil
}

// checkCIDBytes checks that b is the canonical binary form of a dagd CID.
func checkCIDBytes(b []byte) error {
	if len(b) == 0 || len(b) > maxCIDLen {
		return fmt.Errorf("%w: CID of %d bytes", erasure.ErrMalformedCID, len(b))
	}
	c, err := erasure.CIDFromBytes(b)
	if err != nil {
		return err
	}
	if !bytes.Equal(c.Bytes(), b) {
		return fmt.Errorf("%w: non-canonical CID encoding", erasure.ErrMalformedCID)
	}
	return nil
}

// parseCIDBytes parses bytes that checkCIDBytes accepted.
func parseCIDBytes(b []byte) (cid.Cid, error) {
	if err := checkCIDBytes(b); err != nil {
		return cid.Undef, err
	}
	return erasure.CIDFromBytes(b)
}

func appendCID(b, c []byte) []byte {
	b = append(b, byte(len(c)))
	return append(b, c...)
}

func (m *uploadBegin) encode() []byte {
	b := make([]byte, 0, 21)
	b = append(b, kindUploadBegin)
	b = binary.BigEndian.AppendUint64(b, m.ID)
	b = binary.BigEndian.AppendUint32(b, m.ChunkSize)
	b = binary.BigEndian.AppendUint16(b, m.K)
	b = binary.BigEndian.AppendUint16(b, m.N)
	return binary.BigEndian.AppendUint32(b, m.MaxChunks)
}

// shardPushHeader is the length of a shard push before its data.
const shardPushHeader = 1 + 8 + 4 + 2

// appendShardPush appends a shard push frame to b.
func appendShardPush(b []byte, id uint64, chunk uint32, shard uint16, data []byte) []byte {
	b = append(b, kindShardPush)
	b = binary.BigEndian.AppendUint64(b, id)
	b = binary.BigEndian.AppendUint32(b, chunk)
	b = binary.BigEndian.AppendUint16(b, shard)
	return append(b, data...)
}

func (m *shardPush) encode() []byte {
	return appendShardPush(make([]byte, 0, shardPushHeader+len(m.Data)), m.ID, m.Chunk, m.Shard, m.Data)
}

func (m *uploadCommit) encode() []byte {
	b := make([]byte, 0, 14+len(m.CID)+len(m.Manifest))
	b = append(b, kindUploadCommit)
	b = binary.BigEndian.AppendUint64(b, m.ID)
	b = binary.BigEndian.AppendUint32(b, m.Pushed)
	b = appendCID(b, m.CID)
	return append(b, m.Manifest...)
}

func (m *uploadAbort) encode() []byte {
	return binary.BigEndian.AppendUint64([]byte{kindUploadAbort}, m.ID)
}

func (m *uploadAck) encode() []byte {
	b := binary.BigEndian.AppendUint64([]byte{kindUploadAck}, m.ID)
	return binary.BigEndian.AppendUint64(b, m.Bytes)
}

func (m *uploadResult) encode() []byte {
	b := binary.BigEndian.AppendUint64([]byte{kindUploadResult}, m.ID)
	b = append(b, m.Status)
	if m.Status == statusOK {
		return append(b, m.Signature...)
	}
	return append(b, m.Reason...)
}

func (m *shardRequest) encode() []byte {
	b := binary.BigEndian.AppendUint64([]byte{kindShardRequest}, m.ID)
	b = appendCID(b, m.CID)
	b = binary.BigEndian.AppendUint32(b, m.Chunk)
	return binary.BigEndian.AppendUint16(b, m.Shard)
}

func (m *manifestRequest) encode() []byte {
	b := binary.BigEndian.AppendUint64([]byte{kindManifestRequest}, m.ID)
	return appendCID(b, m.CID)
}

func (m *registryRequest) encode() []byte {
	b := binary.BigEndian.AppendUint64([]byte{kindRegistryRequest}, m.ID)
	b = appendCID(b, m.After)
	return binary.BigEndian.AppendUint16(b, m.Limit)
}

// fetchResponseHeader is the length of a fetch response before its body.
const fetchResponseHeader = 1 + 8 + 1

func appendFetchResponseHeader(b []byte, id uint64, status uint8) []byte {
	b = append(b, kindFetchResponse)
	b = binary.BigEndian.AppendUint64(b, id)
	return append(b, status)
}

func (m *fetchResponse) encode() []byte {
	return append(appendFetchResponseHeader(make([]byte, 0, fetchResponseHeader+len(m.Body)), m.ID, m.Status), m.Body...)
}

func (m *registerMsg) encode() []byte { return append([]byte{kindRegister}, m.Cert...) }

// decodeContentFrame decodes any content frame into one of the message
// types above. Byte slices in the result alias f.
func decodeContentFrame(f []byte) (any, error) {
	if !IsFrame(f) {
		return nil, fmt.Errorf("%w: not a content frame", errMalformedFrame)
	}
	r := &frameReader{p: f[1:]}
	switch f[0] {
	case kindUploadBegin:
		m := &uploadBegin{ID: r.u64("upload id"), ChunkSize: r.u32("chunk size"), K: r.u16("k"), N: r.u16("n"), MaxChunks: r.u32("max chunks")}
		return m, r.end("upload begin")
	case kindShardPush:
		m := &shardPush{ID: r.u64("upload id"), Chunk: r.u32("chunk"), Shard: r.u16("shard")}
		m.Data = r.rest()
		if r.err == nil && len(m.Data) == 0 {
			return nil, fmt.Errorf("%w: empty shard", errMalformedFrame)
		}
		return m, r.err
	case kindUploadCommit:
		m := &uploadCommit{ID: r.u64("upload id"), Pushed: r.u32("pushed"), CID: r.cid("cid", false)}
		m.Manifest = r.rest()
		if r.err == nil && len(m.Manifest) == 0 {
			return nil, fmt.Errorf("%w: empty manifest", errMalformedFrame)
		}
		return m, r.err
	case kindUploadAbort:
		m := &uploadAbort{ID: r.u64("upload id")}
		return m, r.end("upload abort")
	case kindUploadAck:
		m := &uploadAck{ID: r.u64("upload id"), Bytes: r.u64("bytes")}
		return m, r.end("upload ack")
	case kindUploadResult:
		m := &uploadResult{ID: r.u64("upload id"), Status: r.u8("status")}
		if r.err != nil {
			return nil, r.err
		}
		switch m.Status {
		case statusOK:
			m.Signature = r.bytes(crypto.BLSSignatureSize, "signature")
			return m, r.end("upload result")
		case statusNotFound, statusBusy, statusError:
			rest := r.rest()
			if len(rest) > maxReasonLen {
				return nil, fmt.Errorf("%w: reason of %d bytes", errMalformedFrame, len(rest))
			}
			m.Reason = string(rest)
			return m, nil
		}
		return nil, fmt.Errorf("%w: status %d", errMalformedFrame, m.Status)
	case kindShardRequest:
		m := &shardRequest{ID: r.u64("request id"), CID: r.cid("cid", false), Chunk: r.u32("chunk"), Shard: r.u16("shard")}
		return m, r.end("shard request")
	case kindManifestRequest:
		m := &manifestRequest{ID: r.u64("request id"), CID: r.cid("cid", false)}
		return m, r.end("manifest request")
	case kindRegistryRequest:
		m := &registryRequest{ID: r.u64("request id"), After: r.cid("after", true), Limit: r.u16("limit")}
		if err := r.end("registry request"); err != nil {
			return nil, err
		}
		if m.Limit == 0 || m.Limit > maxRegistryPage {
			return nil, fmt.Errorf("%w: registry limit %d outside [1, %d]", errMalformedFrame, m.Limit, maxRegistryPage)
		}
		return m, nil
	case kindFetchResponse:
		m := &fetchResponse{ID: r.u64("request id"), Status: r.u8("status")}
		m.Body = r.rest()
		if r.err != nil {
			return nil, r.err
		}
		if m.Status > statusError {
			return nil, fmt.Errorf("%w: status %d", errMalformedFrame, m.Status)
		}
		return m, nil
	case kindRegister:
		m := &registerMsg{Cert: r.rest()}
		if len(m.Cert) == 0 {
			return nil, fmt.Errorf("%w: empty certificate", errMalformedFrame)
		}
		return m, nil
	}
	return nil, fmt.Errorf("%w: unknown kind 0x%02x", errMalformedFrame, f[0])
}

// encodeContentMsg encodes a message decodeContentFrame returns.
func encodeContentMsg(m any) []byte {
	switch m := m.(type) {
	case *uploadBegin:
		return m.encode()
	case *shardPush:
		return m.encode()
	case *uploadCommit:
		return m.encode()
	case *uploadAbort:
		return m.encode()
	case *uploadAck:
		return m.encode()
	case *uploadResult:
		return m.encode()
	case *shardRequest:
		return m.encode()
	case *manifestRequest:
		return m.encode()
	case *registryRequest:
		return m.encode()
	case *fetchResponse:
		return m.encode()
	case *registerMsg:
		return m.encode()
	}
	return nil
}

// registryPage is the body of a registry answer: count u16, then each
// certificate as length u32 | certificate.
func encodeRegistryPage(certs [][]byte) []byte {
	size := 2
	for _, c := range certs {
		size += 4 + len(c)
	}
	b := make([]byte, 0, size)
	b = binary.BigEndian.AppendUint16(b, uint16(len(certs)))
	for _, c := range certs {
		b = binary.BigEndian.AppendUint32(b, uint32(len(c)))
		b = append(b, c...)
	}
	return b
}

// decodeRegistryPage splits a registry answer into certificate encodings
// (not yet decoded or verified). They alias b.
func decodeRegistryPage(b []byte) ([][]byte, error) {
	r := &frameReader{p: b}
	n := int(r.u16("certificate count"))
	if r.err == nil && n > maxRegistryPage {
		return nil, fmt.Errorf("%w: %d certificates in a registry page, limit %d", errMalformedFrame, n, maxRegistryPage)
	}
	var out [][]byte
	for i := 0; i < n && r.err == nil; i++ {
		l := r.u32("certificate length")
		if l == 0 || l > maxCertificateSize {
			return nil, fmt.Errorf("%w: certificate of %d bytes", errMalformedFrame, l)
		}
		out = append(out, r.bytes(int(l), "certificate"))
	}
	if err := r.end("registry page"); err != nil {
		return nil, err
	}
	return out, nil
}
