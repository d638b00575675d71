package engine

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/pprof"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// API limits of the commit endpoints.
const (
	// MaxCommitsPerRequest bounds GET /v1/commits?limit=.
	MaxCommitsPerRequest = 1000
	// maxCommitResponseBytes stops a range answer early once its
	// transactions reach this size.
	maxCommitResponseBytes = 16 << 20
)

// Handler returns the node's HTTP API (also served on APIListenAddr when
// set): /metrics, /healthz, /readyz, /v1/status, /v1/commits,
// /v1/transactions and the Connect services of dagd.v1 (rpc.go). See the
// package documentation.
func (n *Node) Handler() http.Handler {
	mux := http.NewServeMux()
	if !n.opts.DisableMetrics {
		mux.Handle("GET /metrics", promhttp.HandlerFor(n.m.reg, promhttp.HandlerOpts{}))
	}
	mux.HandleFunc("GET /healthz", n.handleHealth)
	mux.HandleFunc("GET /readyz", n.handleReady)
	mux.HandleFunc("GET /v1/status", n.handleStatus)
	mux.HandleFunc("GET /v1/commits/{seq}", n.handleCommit)
	mux.HandleFunc("GET /v1/commits", n.handleCommits)
	mux.HandleFunc("POST /v1/transactions", n.handleTransactions)
	n.mountContent(mux)
	n.mountRPC(mux)       // the Connect API, dagd.v1 (rpc.go)
	n.mountExecution(mux) // receipts, accounts, state proofs (execute_api.go)
	if n.opts.EnablePprof {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	return mux
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// apiError is the body of every refusal.
type apiError struct {
	Error  string `json:"error"`
	Reason string `json:"reason"`
}

func writeError(w http.ResponseWriter, status int, reason, msg string) {
	writeJSON(w, status, apiError{Error: msg, Reason: reason})
}

func (n *Node) handleHealth(w http.ResponseWriter, _ *http.Request) {
	select {
	case <-n.done:
		writeError(w, http.StatusServiceUnavailable, "stopped", "node stopped")
		return
	default:
	}
	if !n.running.Load() {
		writeError(w, http.StatusServiceUnavailable, "not_running", "event loop not started")
		return
	}
	if age := time.Since(time.Unix(0, n.lastLoop.Load())); age > 5*time.Second {
		writeError(w, http.StatusServiceUnavailable, "stalled", fmt.Sprintf("event loop last ran %s ago", age.Round(time.Millisecond)))
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (n *Node) handleReady(w http.ResponseWriter, _ *http.Request) {
	ok, why := n.Ready()
	if !ok {
		writeError(w, http.StatusServiceUnavailable, "not_ready", why)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": why})
}

func (n *Node) handleStatus(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, n.Status())
}

// CommitInfo is a commit as the API serves it.
type CommitInfo struct {
	Seq          uint64 `json:"seq"`
	Digest       string `json:"digest"`
	LeaderRound  uint64 `json:"leader_round"`
	Timestamp    uint64 `json:"timestamp_ms"`
	Certificates int    `json:"certificates"`
	// TxCount and Batches are known when the engine indexed the commit.
	TxCount *int `json:"tx_count,omitempty"`
	Batches *int `json:"batches,omitempty"`
	// Transactions are the requested transactions (or their first
	// tx_prefix bytes), base64 in JSON.
	Transactions [][]byte `json:"transactions,omitempty"`
	// Pruned says the requested transactions are no longer stored.
	Pruned bool `json:"pruned,omitempty"`
	// The execution record (state_root, tx_root, receipts_root...) once
	// the commit is executed.
	*CommitExecution
}

// commitQuery is the parsed query of the commit endpoints.
type commitQuery struct {
	mode   TxMode
	prefix int
}

func parseCommitQuery(r *http.Request) (commitQuery, error) {
	var q commitQuery
	var err error
	if q.mode, err = ParseTxMode(r.URL.Query().Get("txs")); err != nil {
		return q, err
	}
	if s := r.URL.Query().Get("tx_prefix"); s != "" {
		q.prefix, err = strconv.Atoi(s)
		if err != nil || q.prefix < 0 {
			return q, fmt.Errorf("tx_prefix %q: want a non-negative integer", s)
		}
	}
	return q, nil
}

// commitInfo returns commit seq as the API serves it, with the
// transactions q asks for. It reports errNotFound for an unknown seq.
func (n *Node) commitInfo(seq uint64, q commitQuery) (*CommitInfo, error) {
	cr, err := n.store.commitRecord(seq)
	if err != nil {
		return nil, err
	}
	ci := &CommitInfo{Seq: cr.Seq, Digest: cr.Digest.String(), LeaderRound: cr.LeaderRound, Timestamp: uint64(cr.Timestamp),
		Certificates: len(cr.Certificates)}
	if ci.CommitExecution, err = n.commitExecution(seq); err != nil {
		return nil, err
	}
	idx, err := n.store.commitIndex(seq)
	if errors.Is(err, errNotFound) {
		ci.Pruned = q.mode != TxNone
		return ci, nil
	}
	if err != nil {
		return nil, err
	}
	txs, batches := idx.txCount(), len(idx.Batches)
	ci.TxCount, ci.Batches = &txs, &batches
	if q.mode == TxNone {
		return ci, nil
	}
	for _, b := range idx.Batches {
		if q.mode == TxOwn && b.Author != n.self {
			continue
		}
		err := n.store.getBatch(b.Digest, func(v []byte) error {
			return appendTxs(v, q.prefix, &ci.Transactions)
		})
		if errors.Is(err, errNotFound) {
			ci.Pruned, ci.Transactions = true, nil
			return ci, nil
		}
		if err != nil {
			return nil, err
		}
	}
	return ci, nil
}

// appendTxs appends the transactions of an encoded batch (or their first
// prefix bytes when prefix > 0), copying them out of v.
func appendTxs(v []byte, prefix int, out *[][]byte) error {
	_, count, ok := peekBatch(v)
	if !ok {
		return errors.New("engine: stored batch does not parse")
	}
	p := v[17:]
	for i := 0; i < count; i++ {
		if len(p) < 4 {
			return errors.New("engine: stored batch truncated")
		}
		l := int(binary.BigEndian.Uint32(p))
		if l > len(p)-4 {
			return errors.New("engine: stored batch truncated")
		}
		tx := p[4 : 4+l]
		if prefix > 0 && len(tx) > prefix {
			tx = tx[:prefix]
		}
		*out = append(*out, bytes.Clone(tx))
		p = p[4+l:]
	}
	return nil
}

func (n *Node) handleCommit(w http.ResponseWriter, r *http.Request) {
	seq, err := strconv.ParseUint(r.PathValue("seq"), 10, 64)
	if err != nil || seq == 0 {
		writeError(w, http.StatusBadRequest, ReasonBadRequest, fmt.Sprintf("commit seq %q: want a positive integer", r.PathValue("seq")))
		return
	}
	q, err := parseCommitQuery(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, ReasonBadRequest, err.Error())
		return
	}
	ci, err := n.commitInfo(seq, q)
	switch {
	case errors.Is(err, errNotFound):
		writeError(w, http.StatusNotFound, "unknown_commit", fmt.Sprintf("no commit %d (last committed %d)", seq, n.Status().LastCommittedSeq))
	case err != nil:
		writeError(w, http.StatusInternalServerError, "internal", err.Error())
	case ci.Pruned:
		writeError(w, http.StatusGone, "pruned", fmt.Sprintf("transactions of commit %d are no longer stored", seq))
	default:
		writeJSON(w, http.StatusOK, ci)
	}
}

// CommitRange is the answer of GET /v1/commits.
type CommitRange struct {
	Commits          []*CommitInfo `json:"commits"`
	LastCommittedSeq uint64        `json:"last_committed_seq"`
}

func (n *Node) handleCommits(w http.ResponseWriter, r *http.Request) {
	qs := r.URL.Query()
	from, err := strconv.ParseUint(qs.Get("from"), 10, 64)
	if err != nil || from == 0 {
		writeError(w, http.StatusBadRequest, ReasonBadRequest, fmt.Sprintf("from %q: want a positive integer", qs.Get("from")))
		return
	}
	limit := 100
	if s := qs.Get("limit"); s != "" {
		limit, err = strconv.Atoi(s)
		if err != nil || limit <= 0 || limit > MaxCommitsPerRequest {
			writeError(w, http.StatusBadRequest, ReasonBadRequest, fmt.Sprintf("limit %q: want 1..%d", s, MaxCommitsPerRequest))
			return
		}
	}
	q, err := parseCommitQuery(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, ReasonBadRequest, err.Error())
		return
	}
	last := n.Status().LastCommittedSeq
	out := CommitRange{Commits: []*CommitInfo{}, LastCommittedSeq: last}
	size := 0
	for seq := from; seq <= last && len(out.Commits) < limit && size < maxCommitResponseBytes; seq++ {
		ci, err := n.commitInfo(seq, q)
		if errors.Is(err, errNotFound) {
			break
		}
		if err != nil {
			writeError(w, http.StatusInternalServerError, "internal", err.Error())
			return
		}
		for _, tx := range ci.Transactions {
			size += len(tx)
		}
		out.Commits = append(out.Commits, ci)
	}
	writeJSON(w, http.StatusOK, out)
}

// SubmitResponse is the answer of POST /v1/transactions.
type SubmitResponse struct {
	Accepted int    `json:"accepted"`
	Rejected int    `json:"rejected"`
	Reason   string `json:"reason,omitempty"`
	Error    string `json:"error,omitempty"`
	// Index is the offending transaction of an invalid request.
	Index *int `json:"index,omitempty"`
}

// submitJSON is the JSON body of POST /v1/transactions.
type submitJSON struct {
	Transactions [][]byte `json:"transactions"`
}

// Content types of POST /v1/transactions.
const (
	// ContentTypeJSON: {"transactions": ["base64", ...]}.
	ContentTypeJSON = "application/json"
	// ContentTypeBinary: transactions one after another, each a 4-byte
	// big-endian length then that many bytes.
	ContentTypeBinary = "application/octet-stream"
)

func (n *Node) handleTransactions(w http.ResponseWriter, r *http.Request) {
	if !n.inflight.TryAcquire(1) {
		n.m.submitted.WithLabelValues("busy").Inc()
		w.Header().Set("Retry-After", "1")
		writeJSON(w, http.StatusTooManyRequests, SubmitResponse{Reason: ReasonTooManyRequests,
			Error: fmt.Sprintf("more than %d submissions in flight", n.opts.MaxInflightRequests)})
		return
	}
	defer n.inflight.Release(1)
	txs, serr := n.parseSubmission(w, r)
	if serr != nil {
		n.m.submitted.WithLabelValues("invalid").Inc()
		writeSubmitError(w, serr, 0)
		return
	}
	accepted, err := n.Submit(r.Context(), txs)
	if err == nil {
		writeJSON(w, http.StatusAccepted, SubmitResponse{Accepted: accepted})
		return
	}
	var se *SubmitError
	if !errors.As(err, &se) {
		writeJSON(w, http.StatusServiceUnavailable, SubmitResponse{Accepted: accepted, Rejected: len(txs) - accepted, Reason: ReasonStopped, Error: err.Error()})
		return
	}
	writeSubmitError(w, se, len(txs))
}

func writeSubmitError(w http.ResponseWriter, se *SubmitError, total int) {
	resp := SubmitResponse{Accepted: se.Accepted, Rejected: max(total-se.Accepted, 0), Reason: se.Reason, Error: se.Error()}
	if se.Index >= 0 {
		i := se.Index
		resp.Index = &i
	}
	if se.Retryable() {
		w.Header().Set("Retry-After", "1")
	}
	writeJSON(w, se.HTTPStatus(), resp)
}

// parseSubmission reads and checks a submission body.
func (n *Node) parseSubmission(w http.ResponseWriter, r *http.Request) ([][]byte, *SubmitError) {
	ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil && r.Header.Get("Content-Type") != "" {
		return nil, &SubmitError{Reason: ReasonBadRequest, Index: -1, Detail: fmt.Sprintf("content type: %v", err)}
	}
	if r.ContentLength > n.opts.MaxRequestBytes {
		return nil, &SubmitError{Reason: ReasonBodyTooLarge, Index: -1, Detail: fmt.Sprintf("body of %d bytes, limit %d", r.ContentLength, n.opts.MaxRequestBytes)}
	}
	body := http.MaxBytesReader(w, r.Body, n.opts.MaxRequestBytes)
	var txs [][]byte
	switch ct {
	case ContentTypeJSON, "":
		dec := json.NewDecoder(body)
		dec.DisallowUnknownFields()
		var req submitJSON
		if err := dec.Decode(&req); err != nil {
			return nil, bodyError(err, "JSON body")
		}
		if _, err := dec.Token(); !errors.Is(err, io.EOF) {
			return nil, &SubmitError{Reason: ReasonBadRequest, Index: -1, Detail: "JSON body: data after the object"}
		}
		txs = req.Transactions
	case ContentTypeBinary:
		data, err := io.ReadAll(body)
		if err != nil {
			return nil, bodyError(err, "binary body")
		}
		txs, err = n.splitBinary(data)
		if err != nil {
			var se *SubmitError
			if errors.As(err, &se) {
				return nil, se
			}
			return nil, &SubmitError{Reason: ReasonBadRequest, Index: -1, Detail: err.Error()}
		}
	default:
		return nil, &SubmitError{Reason: ReasonBadRequest, Index: -1, Detail: fmt.Sprintf("content type %q: want %s or %s", ct, ContentTypeJSON, ContentTypeBinary)}
	}
	if err := n.CheckTransactions(txs); err != nil {
		var se *SubmitError
		errors.As(err, &se)
		return nil, se
	}
	return txs, nil
}

func bodyError(err error, what string) *SubmitError {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return &SubmitError{Reason: ReasonBodyTooLarge, Index: -1, Detail: fmt.Sprintf("body exceeds %d bytes", mbe.Limit)}
	}
	return &SubmitError{Reason: ReasonBadRequest, Index: -1, Detail: fmt.Sprintf("%s: %v", what, err)}
}

// splitBinary cuts a length-prefixed body into transactions, checking
// every length before slicing.
func (n *Node) splitBinary(data []byte) ([][]byte, error) {
	var txs [][]byte
	for i := 0; len(data) > 0; i++ {
		if len(txs) >= n.opts.MaxRequestTxs {
			return nil, &SubmitError{Reason: ReasonTooManyTxs, Index: -1, Detail: fmt.Sprintf("more than %d transactions", n.opts.MaxRequestTxs)}
		}
		if len(data) < 4 {
			return nil, fmt.Errorf("binary body: truncated length of transaction %d", i)
		}
		l := binary.BigEndian.Uint32(data)
		if l == 0 {
			return nil, &SubmitError{Reason: ReasonEmptyTx, Index: i, Detail: "empty transaction"}
		}
		if uint64(l) > uint64(n.opts.DAG.MaxTxSize) {
			return nil, &SubmitError{Reason: ReasonTxTooLarge, Index: i, Detail: fmt.Sprintf("%d bytes, limit %d", l, n.opts.DAG.MaxTxSize)}
		}
		if uint64(l) > uint64(len(data)-4) {
			return nil, fmt.Errorf("binary body: transaction %d of %d bytes truncated at %d", i, l, len(data)-4)
		}
		txs = append(txs, data[4:4+l:4+l])
		data = data[4+l:]
	}
	return txs, nil
}

// AppendBinaryTx appends tx to a binary submission body.
func AppendBinaryTx(body, tx []byte) []byte {
	body = binary.BigEndian.AppendUint32(body, uint32(len(tx)))
	return append(body, tx...)
}
