package engine

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/dagd/dagd/contracts"
	"github.com/dagd/dagd/engine/apiserver"
	"github.com/dagd/dagd/engine/client"
	"github.com/dagd/dagd/engine/content"
	"github.com/dagd/dagd/engine/store"
	"github.com/dagd/dagd/erasure"
)

// mountContent adds the content endpoints:
//
//	POST /v1/content?k=K&n=N      put the body; answers client.ContentPutResponse
//	                              (header client.ContentPaymentHeader: the payer's
//	                              signed registration; see package content)
//	PUT  /v1/content?k=K&n=N      the same
//	GET  /v1/content/params       client.ContentParams: what a paid put signs
//	GET  /v1/content/{cid}        the content, verified, streamed
//	GET  /v1/content/{cid}/manifest  the canonical manifest
//	GET  /v1/content/{cid}/stat   client.ContentStat
func (n *Node) mountContent(mux *http.ServeMux) {
	mux.HandleFunc("POST /v1/content", n.handleContentPut)
	mux.HandleFunc("PUT /v1/content", n.handleContentPut)
	mux.HandleFunc("GET /v1/content/params", func(w http.ResponseWriter, _ *http.Request) {
		apiserver.WriteJSON(w, http.StatusOK, n.content.Params())
	})
	mux.HandleFunc("GET /v1/content/{cid}", n.handleContentGet)
	mux.HandleFunc("GET /v1/content/{cid}/manifest", n.handleContentManifest)
	mux.HandleFunc("GET /v1/content/{cid}/stat", n.handleContentStat)
}

func (n *Node) handleContentPut(w http.ResponseWriter, r *http.Request) {
	var o content.PutOptions
	for name, p := range map[string]*int{"k": &o.K, "n": &o.N} {
		if s := r.URL.Query().Get(name); s != "" {
			v, err := strconv.Atoi(s)
			if err != nil || v < 1 || v > erasure.MaxShards {
				apiserver.WriteError(w, http.StatusBadRequest, client.ReasonBadParams, fmt.Sprintf("%s=%q: want 1..%d", name, s, erasure.MaxShards))
				return
			}
			*p = v
		}
	}
	size := r.ContentLength // -1: chunked, read until the end
	if size > n.opts.Content.MaxContentSize {
		apiserver.WriteError(w, http.StatusRequestEntityTooLarge, client.ReasonTooLarge, fmt.Sprintf("%d bytes, limit %d", size, n.opts.Content.MaxContentSize))
		return
	}
	pay, err := paymentOf(r)
	if err == nil && pay == nil && !n.opts.Content.OperatorPaysPuts {
		err = fmt.Errorf("%w: this node does not pay for clients' content: send a signed content registration in the %s header (dagd put --from KEY)", content.ErrContentUnpaid, client.ContentPaymentHeader)
	}
	if err != nil {
		status, reason := contentErrorStatus(err)
		apiserver.WriteError(w, status, reason, err.Error())
		return
	}
	o.Payment = pay
	// The API's body wrapper sets every read deadline; a put paces it.
	body, _ := r.Body.(*apiserver.ProgressBody)
	if body != nil {
		body.Pace(time.Now(), n.opts.Content.UploadBodyGrace, n.opts.Content.MinUploadRate)
	}
	res, err := n.PutContent(r.Context(), r.Body, size, o)
	if err != nil && body != nil {
		// The server cancels a request whose body timed out: say why.
		if te := body.Timeout(); te != nil {
			err = te
		}
	}
	if err != nil {
		status, reason := contentErrorStatus(err)
		if status == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "1")
		}
		apiserver.WriteError(w, status, reason, err.Error())
		return
	}
	apiserver.WriteJSON(w, http.StatusCreated, putResponse(res))
}

func putResponse(res *content.PutResult) *client.ContentPutResponse {
	r := &client.ContentPutResponse{CID: res.CID.String(), Size: res.Size, Chunks: res.Chunks, ChunkSize: res.ChunkSize, K: res.K, N: res.N,
		Overhead: float64(res.N) / float64(res.K), ManifestDigest: res.ManifestDigest.String(), Signers: []int{},
		Unconfirmed: res.Unconfirmed, AlreadyRegistered: res.AlreadyRegistered, Registration: res.Registration}
	if c := res.Certificate; c != nil {
		r.Signers, r.Certificate = c.Signers.Indices(), hex.EncodeToString(c.Encode())
	}
	return r
}

// contentErrorStatus maps an error of the content service to an HTTP
// status and a reason.
func contentErrorStatus(err error) (int, string) {
	switch {
	case errors.Is(err, erasure.ErrMalformedCID):
		return http.StatusBadRequest, client.ReasonMalformedCID
	case errors.Is(err, content.ErrContentParams), errors.Is(err, erasure.ErrInvalidParams):
		return http.StatusBadRequest, client.ReasonBadParams
	case errors.Is(err, erasure.ErrTruncated):
		return http.StatusBadRequest, client.ReasonTruncated
	case errors.Is(err, erasure.ErrTooLong):
		return http.StatusRequestEntityTooLarge, client.ReasonTooLarge
	case errors.Is(err, content.ErrContentBusy):
		return http.StatusTooManyRequests, client.ReasonBusy
	case errors.Is(err, content.ErrNoQuorum):
		return http.StatusServiceUnavailable, client.ReasonNoQuorum
	case errors.Is(err, content.ErrContentNotFound):
		return http.StatusNotFound, client.ReasonContentNotFound
	case errors.Is(err, ErrStopped), errors.Is(err, content.ErrStopped), errors.Is(err, store.ErrClosed), errors.Is(err, context.Canceled):
		return http.StatusServiceUnavailable, ReasonStopped
	case errors.Is(err, erasure.ErrTooFewShards), errors.Is(err, erasure.ErrChunkMismatch):
		return http.StatusBadGateway, client.ReasonRetrieval
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return http.StatusRequestEntityTooLarge, client.ReasonTooLarge
	}
	switch {
	case errors.Is(err, content.ErrContentUnpaid):
		return http.StatusUnauthorized, client.ReasonPaymentRequired
	case errors.Is(err, content.ErrContentPayment):
		return http.StatusPaymentRequired, client.ReasonPaymentRefused
	case errors.Is(err, os.ErrDeadlineExceeded):
		return http.StatusRequestTimeout, client.ReasonBodyTooSlow
	}
	return http.StatusInternalServerError, "internal"
}

// maxPaymentHeader bounds the client.ContentPaymentHeader: the hex of a
// transaction.
const maxPaymentHeader = 2 * contracts.MaxTxSize

// paymentOf decodes a put's client.ContentPaymentHeader; nil when absent.
func paymentOf(r *http.Request) (*contracts.Tx, error) {
	h := r.Header.Get(client.ContentPaymentHeader)
	if h == "" {
		return nil, nil
	}
	if len(h) > maxPaymentHeader {
		return nil, fmt.Errorf("%w: %s header of %d characters, limit %d", content.ErrContentPayment, client.ContentPaymentHeader, len(h), maxPaymentHeader)
	}
	b, err := hex.DecodeString(h)
	if err != nil {
		return nil, fmt.Errorf("%w: %s header: %w", content.ErrContentPayment, client.ContentPaymentHeader, err)
	}
	tx, err := contracts.DecodeTx(b)
	if err != nil {
		return nil, fmt.Errorf("%w: %s header: %w", content.ErrContentPayment, client.ContentPaymentHeader, err)
	}
	return tx, nil
}

// pathCID parses the {cid} of a request, answering 400 when malformed.
func pathCID(w http.ResponseWriter, r *http.Request) (cid.Cid, bool) {
	id, err := erasure.ParseCID(r.PathValue("cid"))
	if err != nil {
		apiserver.WriteError(w, http.StatusBadRequest, client.ReasonMalformedCID, err.Error())
		return cid.Undef, false
	}
	return id, true
}

// countingWriter remembers whether anything was written.
type countingWriter struct {
	w http.ResponseWriter
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func (n *Node) handleContentGet(w http.ResponseWriter, r *http.Request) {
	id, ok := pathCID(w, r)
	if !ok {
		return
	}
	obj, err := n.OpenContent(r.Context(), id)
	if err != nil {
		status, reason := contentErrorStatus(err)
		apiserver.WriteError(w, status, reason, err.Error())
		return
	}
	m := obj.Manifest
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Length", strconv.FormatUint(m.ContentSize(), 10))
	h.Set(client.HeaderManifestDigest, m.Digest().String())
	h.Set(client.HeaderContentK, strconv.Itoa(m.Params().DataShards))
	h.Set(client.HeaderContentN, strconv.Itoa(m.Params().TotalShards()))
	h.Set(client.HeaderChunkSize, strconv.Itoa(m.Params().ChunkSize))
	if r.Method == http.MethodHead {
		w.WriteHeader(http.StatusOK)
		return
	}
	cw := &countingWriter{w: w}
	_, err = n.ReadContent(r.Context(), obj, cw)
	if err == nil {
		return
	}
	if cw.n == 0 {
		h.Del("Content-Length")
		for _, k := range []string{client.HeaderManifestDigest, client.HeaderContentK, client.HeaderContentN, client.HeaderChunkSize} {
			h.Del(k)
		}
		status, reason := contentErrorStatus(err)
		apiserver.WriteError(w, status, reason, err.Error())
		return
	}
	// Part of the body is out: the connection is closed short of the
	// Content-Length, which the client sees as a truncated answer.
	n.content.Logger().Warn("get failed after part of the content was sent", "cid", id.String(), "sent", cw.n, "err", err)
}

func (n *Node) handleContentManifest(w http.ResponseWriter, r *http.Request) {
	id, ok := pathCID(w, r)
	if !ok {
		return
	}
	obj, err := n.OpenContent(r.Context(), id)
	if err != nil {
		status, reason := contentErrorStatus(err)
		apiserver.WriteError(w, status, reason, err.Error())
		return
	}
	b := obj.Manifest.Encode()
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	_, _ = w.Write(b)
}

func (n *Node) handleContentStat(w http.ResponseWriter, r *http.Request) {
	id, ok := pathCID(w, r)
	if !ok {
		return
	}
	st, err := n.StatContent(r.Context(), id)
	if err != nil {
		status, reason := contentErrorStatus(err)
		apiserver.WriteError(w, status, reason, err.Error())
		return
	}
	apiserver.WriteJSON(w, http.StatusOK, st)
}

// StatContent describes the object named by id: its coding, its holders,
// the certificate of this node's local registry, and its registration in
// the ledger.
func (n *Node) StatContent(ctx context.Context, id cid.Cid) (*client.ContentStat, error) {
	return n.content.Stat(ctx, id)
}
