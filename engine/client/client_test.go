package client

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/dagd/dagd/erasure"
)

// serve returns a client of a test server that answers with h.
func serve(t *testing.T, h http.HandlerFunc, o Options) *Client {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c, err := New(srv.URL, o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func TestNewAddress(t *testing.T) {
	for addr, ok := range map[string]bool{
		"127.0.0.1:8080": true, "http://127.0.0.1:8080/": true, "https://node.example": true,
		"": false, "no-port": false, "ftp://node.example": false, "http://": false,
	} {
		c, err := New(addr, Options{})
		if (err == nil) != ok {
			t.Errorf("New(%q): %v", addr, err)
		}
		if err != nil && addr != "" && !strings.Contains(err.Error(), "host:port") {
			t.Errorf("New(%q): the error does not say what is wanted: %v", addr, err)
		}
		if ok && err == nil && strings.HasSuffix(c.BaseURL(), "/") {
			t.Errorf("New(%q): base %q ends with a slash", addr, c.BaseURL())
		}
	}
}

// TestRefusalCarriesReason: a refusal reaches the caller as an *APIError
// with the node's status, reason and message; a body that is not an
// ErrorBody still says what the node answered.
func TestRefusalCarriesReason(t *testing.T) {
	c := serve(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/status" {
			writeJSON(w, http.StatusTooManyRequests, ErrorBody{Error: "read budget exhausted (64 MiB)", Reason: ReasonTooManyRequests})
			return
		}
		http.Error(w, "bad gateway", http.StatusBadGateway)
	}, Options{})
	_, _, err := c.Status(context.Background())
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusTooManyRequests || ae.Reason != ReasonTooManyRequests || !strings.Contains(err.Error(), "64 MiB") {
		t.Fatalf("status refusal: %v", err)
	}
	_, err = c.Commit(context.Background(), 3, CommitQuery{})
	if !errors.As(err, &ae) || ae.Status != http.StatusBadGateway || ae.Reason != "http_502" || !strings.Contains(err.Error(), "bad gateway") {
		t.Fatalf("plain refusal: %v", err)
	}
}

// TestSubmit: the body is the binary framing of every transaction; a
// partial refusal returns the answer (how many were accepted) with the
// reason.
func TestSubmit(t *testing.T) {
	var got [][]byte
	refuse := false
	c := serve(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/v1/transactions" || r.Header.Get("Content-Type") != ContentTypeBinary {
			t.Errorf("request %s %s %s", r.Method, r.URL.Path, r.Header.Get("Content-Type"))
		}
		body, _ := io.ReadAll(r.Body)
		got = got[:0]
		for len(body) >= 4 {
			n := binary.BigEndian.Uint32(body)
			got = append(got, body[4:4+n])
			body = body[4+n:]
		}
		if refuse {
			writeJSON(w, http.StatusServiceUnavailable, SubmitResponse{Accepted: 1, Rejected: 1, Reason: ReasonQueueFull, Error: "submission queue full"})
			return
		}
		writeJSON(w, http.StatusAccepted, SubmitResponse{Accepted: len(got)})
	}, Options{})
	txs := [][]byte{[]byte("one"), []byte("two, longer")}
	sr, err := c.Submit(context.Background(), txs)
	if err != nil || sr.Accepted != 2 || len(got) != 2 || !bytes.Equal(got[1], txs[1]) {
		t.Fatalf("submit: %+v %v, server got %q", sr, err, got)
	}
	refuse = true
	sr, err = c.Submit(context.Background(), txs)
	var ae *APIError
	if !errors.As(err, &ae) || ae.Reason != ReasonQueueFull || ae.Status != http.StatusServiceUnavailable || sr == nil || sr.Accepted != 1 {
		t.Fatalf("refused submit: %+v %v", sr, err)
	}
}

// TestReceiptNotFound: no receipt (yet) is not an error, any other 404 is.
func TestReceiptNotFound(t *testing.T) {
	reason := ReasonUnknownTx
	c := serve(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, ErrorBody{Error: "no receipt", Reason: reason})
	}, Options{})
	if ri, ok, err := c.Receipt(context.Background(), [32]byte{1}); ri != nil || ok || err != nil {
		t.Fatalf("unknown tx: %v %v %v", ri, ok, err)
	}
	reason = "not_here"
	if _, ok, err := c.Receipt(context.Background(), [32]byte{1}); ok || err == nil {
		t.Fatalf("other 404: %v %v", ok, err)
	}
}

// TestAnswerBound: an answer beyond MaxAnswerBytes is refused, not read
// whole.
func TestAnswerBound(t *testing.T) {
	c := serve(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, Status{CommitDigest: strings.Repeat("a", 4096)})
	}, Options{MaxAnswerBytes: 1024})
	if _, _, err := c.Status(context.Background()); err == nil || !strings.Contains(err.Error(), "exceeds 1024 bytes") {
		t.Fatalf("oversized answer: %v", err)
	}
}

type discard struct{}

func (discard) Put(context.Context, int, int, []byte) error { return nil }

// TestGetChecksChunks: Get writes only chunks that match the manifest,
// which must match the CID.
func TestGetChecksChunks(t *testing.T) {
	data := bytes.Repeat([]byte("dagd content "), 1000)
	enc, err := erasure.NewEncoder(&erasure.Options{ChunkSize: 4096, DataShards: 2, ParityShards: 2})
	if err != nil {
		t.Fatal(err)
	}
	id, m, err := enc.Encode(context.Background(), bytes.NewReader(data), int64(len(data)), discard{})
	if err != nil {
		t.Fatal(err)
	}
	served := bytes.Clone(data)
	c := serve(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v1/content/" + id.String() + "/manifest":
			_, _ = w.Write(m.Encode())
		case "/v1/content/" + id.String():
			w.Header().Set(HeaderManifestDigest, m.Digest().String())
			_, _ = w.Write(served)
		default:
			writeJSON(w, http.StatusNotFound, ErrorBody{Error: "no holder has it", Reason: ReasonContentNotFound})
		}
	}, Options{})
	var out bytes.Buffer
	if _, err := c.Get(context.Background(), id, &out); err != nil || !bytes.Equal(out.Bytes(), data) {
		t.Fatalf("get: %v, %d of %d bytes", err, out.Len(), len(data))
	}
	served[5000] ^= 1 // in the second chunk
	out.Reset()
	if _, err := c.Get(context.Background(), id, &out); !errors.Is(err, erasure.ErrChunkMismatch) || out.Len() != 4096 {
		t.Fatalf("tampered chunk: %v, wrote %d bytes (want the first chunk only)", err, out.Len())
	}
	other, _, err := enc.Encode(context.Background(), strings.NewReader("other"), 5, discard{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Get(context.Background(), other, io.Discard); !errors.Is(err, ErrContentNotFound) {
		t.Fatalf("unknown content: %v", err)
	}
}
