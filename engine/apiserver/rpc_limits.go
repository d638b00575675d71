package apiserver

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	dagdv1 "github.com/dagd/dagd/engine/api/dagd/v1"
	"github.com/dagd/dagd/engine/client"
)

// The Connect API decodes a request only after it has checked, on the
// encoded bytes, what decoding would allocate: a submission's entries are
// counted before any is decoded (4 M empty entries cost 8 MiB on the wire
// and 24 bytes each once decoded), and one with more than MaxRequestTxs
// is decoded only up to its first MaxRequestTxs+1 entries, enough for
// CheckTransactions to refuse it with its reason; a compressed request is
// cut at its decompressed limit rather than inflated to the end to
// measure it.

// rpcLimitOptions are the handler options that bound decoding: codecs
// that count submission entries before decoding, and gzip cut at
// maxBytes decompressed.
func rpcLimitOptions(maxBytes int64, maxTxs int) connect.HandlerOption {
	return connect.WithHandlerOptions(
		connect.WithCodec(countingProtoCodec{maxTxs: maxTxs}),
		connect.WithCodec(countingJSONCodec{name: "json", maxTxs: maxTxs}),
		connect.WithCodec(countingJSONCodec{name: "json; charset=utf-8", maxTxs: maxTxs}),
		connect.WithCompression("gzip",
			func() connect.Decompressor { return &limitedGzip{limit: maxBytes} },
			func() connect.Compressor { return gzip.NewWriter(io.Discard) }),
	)
}

// cutProtoTxs returns the length of the prefix of an encoded
// SubmitTransactionsRequest that holds its first max+1 transactions, or
// len(b) when it holds no more than max. What does not parse is left to
// proto.Unmarshal to explain.
func cutProtoTxs(b []byte, max int) int {
	count, off := 0, 0
	for off < len(b) {
		num, typ, n := protowire.ConsumeTag(b[off:])
		if n < 0 {
			return len(b)
		}
		m := protowire.ConsumeFieldValue(num, typ, b[off+n:])
		if m < 0 {
			return len(b)
		}
		off += n + m
		if num == 1 && typ == protowire.BytesType {
			if count++; count > max {
				return off
			}
		}
	}
	return len(b)
}

// cutJSONTxs counts the entries of the "transactions" array of a JSON
// SubmitTransactionsRequest token by token. With more than max, it
// returns the object cut after entry max+1 and closed, otherwise b. What
// is not a JSON object of arrays of strings is left to protojson to
// explain.
func cutJSONTxs(b []byte, max int) []byte {
	dec := json.NewDecoder(bytes.NewReader(b))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return b
	}
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return b
		}
		if k != "transactions" {
			var skip json.RawMessage
			if dec.Decode(&skip) != nil {
				return b
			}
			continue
		}
		if t, err := dec.Token(); err != nil || t != json.Delim('[') {
			return b // null, or not an array: protojson says what is wrong
		}
		start, count := dec.InputOffset()-1, 0 // at '['
		for dec.More() {
			t, err := dec.Token()
			if err != nil {
				return b
			}
			if _, ok := t.(json.Delim); ok {
				return b
			}
			if count++; count > max {
				// The first max+1 entries, of this array only.
				cut := make([]byte, 0, 64+int(dec.InputOffset()))
				cut = append(cut, `{"transactions":`...)
				return append(append(cut, b[start:dec.InputOffset()]...), "]}"...)
			}
		}
		if _, err := dec.Token(); err != nil {
			return b
		}
	}
	return b
}

// countingProtoCodec is connect's protobuf codec, with a submission cut
// by cutProtoTxs before it is decoded.
type countingProtoCodec struct{ maxTxs int }

func (countingProtoCodec) Name() string { return "proto" }

func (countingProtoCodec) Marshal(v any) ([]byte, error) {
	m, ok := v.(proto.Message)
	if !ok {
		return nil, fmt.Errorf("apiserver: %T is not a protobuf message", v)
	}
	return proto.Marshal(m)
}

func (c countingProtoCodec) Unmarshal(b []byte, v any) error {
	m, ok := v.(proto.Message)
	if !ok {
		return fmt.Errorf("apiserver: %T is not a protobuf message", v)
	}
	if _, ok := v.(*dagdv1.SubmitTransactionsRequest); ok {
		b = b[:cutProtoTxs(b, c.maxTxs)]
	}
	return proto.Unmarshal(b, m)
}

// countingJSONCodec is connect's protojson codec, with a submission cut
// by cutJSONTxs before it is decoded.
type countingJSONCodec struct {
	name   string
	maxTxs int
}

func (c countingJSONCodec) Name() string { return c.name }

func (countingJSONCodec) Marshal(v any) ([]byte, error) {
	m, ok := v.(proto.Message)
	if !ok {
		return nil, fmt.Errorf("apiserver: %T is not a protobuf message", v)
	}
	return protojson.Marshal(m)
}

func (c countingJSONCodec) Unmarshal(b []byte, v any) error {
	m, ok := v.(proto.Message)
	if !ok {
		return fmt.Errorf("apiserver: %T is not a protobuf message", v)
	}
	if len(b) == 0 {
		return errors.New("zero-length payload is not a valid JSON object")
	}
	if _, ok := v.(*dagdv1.SubmitTransactionsRequest); ok {
		b = cutJSONTxs(b, c.maxTxs)
	}
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(b, m); err != nil {
		return fmt.Errorf("unmarshal into %T: %w", v, err)
	}
	return nil
}

// limitedGzip is a gzip decompressor that fails once it has produced more
// than limit bytes, instead of inflating a bomb to its end.
type limitedGzip struct {
	gz    *gzip.Reader
	limit int64
	read  int64
}

func (d *limitedGzip) Read(p []byte) (int, error) {
	if d.gz == nil {
		return 0, io.EOF
	}
	n, err := d.gz.Read(p)
	d.read += int64(n)
	if d.read > d.limit {
		return 0, connect.NewError(connect.CodeResourceExhausted,
			fmt.Errorf("message decompresses to more than %d bytes (MaxRequestBytes)", d.limit))
	}
	return n, err
}

func (d *limitedGzip) Close() error {
	if d.gz == nil {
		return nil
	}
	return d.gz.Close()
}

func (d *limitedGzip) Reset(r io.Reader) error {
	d.read = 0
	if d.gz == nil {
		gz, err := gzip.NewReader(r)
		if err != nil {
			return err
		}
		d.gz = gz
		return nil
	}
	return d.gz.Reset(r)
}

// rpcCompressed reports whether a Connect, gRPC or gRPC-Web request says
// its message is compressed.
func rpcCompressed(r *http.Request) bool {
	for _, h := range []string{"Content-Encoding", "Connect-Content-Encoding", "Grpc-Encoding"} {
		if v := r.Header.Get(h); v != "" && v != "identity" {
			return true
		}
	}
	return false
}

// bodyRefusal maps an error of reading a submission's body to its
// refusal, nil for other errors.
func bodyRefusal(err error) *refusal {
	var be *errBudget
	var te *errBodyTimeout
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &be):
		return &refusal{Reason: client.ReasonTooManyRequests, Index: -1, Detail: be.Error()}
	case errors.As(err, &te):
		return &refusal{Reason: client.ReasonBodyTimeout, Index: -1, Detail: te.Error()}
	case errors.As(err, &mbe):
		return &refusal{Reason: client.ReasonBodyTooLarge, Index: -1, Detail: fmt.Sprintf("body exceeds %d bytes (MaxRequestBytes)", mbe.Limit)}
	}
	return nil
}

// admitSubmission charges its body
// to the submission budget as it arrives (twice its bytes), with the fixed
// part and, for a compressed body, its decompressed limit up front. The
// caller releases the charge once the submission is answered. wrap turns
// a refusal met while reading into the error the body reader returns.
func (s *Server) admitSubmission(r *http.Request, compressed bool, wrap func(*refusal) error) (*charge, *refusal) {
	c := &charge{b: s.limits.submit, perIP: &s.limits.submitPerIP, ip: clientIP(r.RemoteAddr), share: s.opts.API.MaxSubmitBytesPerIP}
	fixed := submitFixedCost(s.opts.MaxRequestTxs)
	if compressed {
		fixed += 2 * s.opts.MaxRequestBytes
	}
	if !c.take(fixed) {
		return nil, bodyRefusal(c.refusal())
	}
	r.Body = &chargedBody{r: r.Body, c: c, factor: 2, timeout: s.opts.API.RequestReadTimeout, wrap: wrap}
	return c, nil
}
