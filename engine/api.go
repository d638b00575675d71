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
	"net/url"
	"strconv"
	"time"

	"github.com/dagd/dagd/engine/store"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/dagd/dagd/dag"
)

const (
	// commitInfoCost is what a commit's fields (not its transactions)
	// are charged to the read budget.
	commitInfoCost = 1 << 10
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
	// The unary endpoints read their request within
	// API.RequestReadTimeout and write their answer within
	// API.WriteTimeout.
	unary := func(pattern string, h http.HandlerFunc) { mux.Handle(pattern, n.withRequestDeadlines(h)) }
	unary("GET /v1/status", n.handleStatus)
	unary("GET /v1/commits/{seq}", n.handleCommit)
	unary("GET /v1/commits", n.handleCommits)
	unary("POST /v1/transactions", n.handleTransactions)
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
	return n.withBodyProgress(mux)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
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
	if age := n.opts.Clock.Now().Sub(time.Unix(0, n.lastLoop.Load())); age > 5*time.Second {
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

// commitQuery is the parsed query of the commit endpoints.
type commitQuery struct {
	mode   TxMode
	prefix int
	// offset skips the first requested transactions (tx_offset).
	offset int
}

// parseCommitQuery parses txs=, tx_prefix= and, when withOffset,
// tx_offset=.
func parseCommitQuery(q url.Values, withOffset bool) (commitQuery, error) {
	var cq commitQuery
	var err error
	if cq.mode, err = ParseTxMode(q.Get("txs")); err != nil {
		return cq, err
	}
	if s := q.Get("tx_prefix"); s != "" {
		cq.prefix, err = strconv.Atoi(s)
		if err != nil || cq.prefix < 0 {
			return cq, fmt.Errorf("tx_prefix %.40q: want a non-negative integer", s)
		}
	}
	if s := q.Get("tx_offset"); s != "" {
		if !withOffset {
			return cq, errors.New("tx_offset: only for one commit (GET /v1/commits/{seq})")
		}
		cq.offset, err = strconv.Atoi(s)
		if err != nil || cq.offset < 0 {
			return cq, fmt.Errorf("tx_offset %.40q: want a non-negative integer", s)
		}
	}
	return cq, nil
}

// parseCommitRange parses the query of GET /v1/commits: from= (required)
// and limit= besides commitQuery's.
func parseCommitRange(q url.Values) (from uint64, limit int, cq commitQuery, err error) {
	from, err = strconv.ParseUint(q.Get("from"), 10, 64)
	if err != nil || from == 0 {
		return 0, 0, cq, fmt.Errorf("from %.40q: want a positive integer", q.Get("from"))
	}
	limit = 100
	if s := q.Get("limit"); s != "" {
		limit, err = strconv.Atoi(s)
		if err != nil || limit <= 0 || limit > MaxCommitsPerRequest {
			return 0, 0, cq, fmt.Errorf("limit %.40q: want 1..%d", s, MaxCommitsPerRequest)
		}
	}
	cq, err = parseCommitQuery(q, false)
	return from, limit, cq, err
}

// txWindow bounds the transactions copied into one answer.
type txWindow struct {
	// skip counts requested transactions still to skip.
	skip int
	// fit reports whether one more transaction of size bytes fits the
	// answer, and counts it when it does.
	fit func(size int) bool
	// full: a transaction did not fit; the answer stops before it.
	full bool
}

// newTxWindow bounds an answer to max bytes of transactions, charged
// three times (the copies, their JSON encoding) to c. The first
// transaction of an answer fits whatever its size, so that every answer
// makes progress, as long as c takes it.
func newTxWindow(max int, c *charge) *txWindow {
	left, first := max, true
	return &txWindow{fit: func(size int) bool {
		if size > left && !first {
			return false
		}
		if !c.take(3 * int64(size)) {
			return false
		}
		left, first = left-size, false
		return true
	}}
}

// commitInfo returns commit seq as the API serves it, with the
// transactions q asks for, as many as tw lets in (all with a nil tw). It
// reports errNotFound for an unknown seq.
func (n *Node) commitInfo(seq uint64, q commitQuery, tw *txWindow) (*CommitInfo, error) {
	if tw == nil {
		tw = &txWindow{fit: func(int) bool { return true }}
	}
	cr, err := n.store.CommitRecord(seq)
	if err != nil {
		return nil, err
	}
	ci := &CommitInfo{Seq: cr.Seq, Digest: cr.Digest.String(), LeaderRound: cr.LeaderRound, Timestamp: uint64(cr.Timestamp),
		Certificates: len(cr.Certificates)}
	if ci.CommitExecution, err = n.commitExecution(seq); err != nil {
		return nil, err
	}
	idx, err := n.store.CommitIndex(seq)
	if errors.Is(err, store.ErrNotFound) {
		ci.Pruned = q.mode != TxNone
		return ci, nil
	}
	if err != nil {
		return nil, err
	}
	txs, batches := idx.TxCount(), len(idx.Batches)
	ci.TxCount, ci.Batches = &txs, &batches
	if q.mode == TxNone {
		return ci, nil
	}
	ci.TxOffset = q.offset
	tw.skip = q.offset
	for _, b := range idx.Batches {
		if q.mode == TxOwn && b.Author != n.self {
			continue
		}
		if tw.skip >= b.Txs {
			tw.skip -= b.Txs // skipped without reading the batch
			continue
		}
		err := n.store.GetBatch(b.Digest, func(v []byte) error {
			return tw.appendTxs(v, q.prefix, &ci.Transactions)
		})
		if errors.Is(err, store.ErrNotFound) {
			ci.Pruned, ci.Transactions = true, nil
			return ci, nil
		}
		if err != nil {
			return nil, err
		}
		if tw.full {
			next := q.offset + len(ci.Transactions)
			ci.NextTxOffset = &next
			break
		}
	}
	return ci, nil
}

// appendTxs appends the transactions of an encoded batch (or their first
// prefix bytes when prefix > 0), copying them out of v.
func appendTxs(v []byte, prefix int, out *[][]byte) error {
	tw := txWindow{fit: func(int) bool { return true }}
	return tw.appendTxs(v, prefix, out)
}

// appendTxs appends the transactions of an encoded batch (or their first
// prefix bytes when prefix > 0) past the ones to skip and as long as they
// fit, copying them out of v.
func (tw *txWindow) appendTxs(v []byte, prefix int, out *[][]byte) error {
	err := dag.ScanBatch(v, func(tx []byte) bool {
		if tw.skip > 0 {
			tw.skip--
			return true
		}
		if prefix > 0 && len(tx) > prefix {
			tx = tx[:prefix]
		}
		if !tw.fit(len(tx)) {
			tw.full = true
			return false
		}
		*out = append(*out, bytes.Clone(tx))
		return true
	})
	if err != nil {
		return fmt.Errorf("engine: stored batch: %w", err)
	}
	return nil
}

// handleCommit answers GET /v1/commits/{seq}: its transactions within
// APIOptions.MaxResponseBytes from tx_offset on, charged to the read
// budget while they are copied.
func (n *Node) handleCommit(w http.ResponseWriter, r *http.Request) {
	seq, err := strconv.ParseUint(r.PathValue("seq"), 10, 64)
	if err != nil || seq == 0 {
		writeError(w, http.StatusBadRequest, ReasonBadRequest, fmt.Sprintf("commit seq %.40q: want a positive integer", r.PathValue("seq")))
		return
	}
	q, err := parseCommitQuery(r.URL.Query(), true)
	if err != nil {
		writeError(w, http.StatusBadRequest, ReasonBadRequest, err.Error())
		return
	}
	c := n.readCharge()
	defer c.release()
	if !c.take(commitInfoCost) {
		n.readBudgetError(w)
		return
	}
	tw := newTxWindow(n.opts.API.MaxResponseBytes, c)
	ci, err := n.commitInfo(seq, q, tw)
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, "unknown_commit", fmt.Sprintf("no commit %d (last committed %d)", seq, n.Status().LastCommittedSeq))
	case err != nil:
		writeError(w, http.StatusInternalServerError, "internal", err.Error())
	case ci.Pruned:
		writeError(w, http.StatusGone, "pruned", fmt.Sprintf("transactions of commit %d are no longer stored", seq))
	case tw.full && len(ci.Transactions) == 0:
		n.readBudgetError(w)
	default:
		writeJSON(w, http.StatusOK, ci)
	}
}

// handleCommits answers GET /v1/commits: up to limit commits from from on,
// their transactions within APIOptions.MaxResponseBytes in all, charged
// to the read budget while they are copied.
func (n *Node) handleCommits(w http.ResponseWriter, r *http.Request) {
	from, limit, q, err := parseCommitRange(r.URL.Query())
	if err != nil {
		writeError(w, http.StatusBadRequest, ReasonBadRequest, err.Error())
		return
	}
	c := n.readCharge()
	defer c.release()
	tw := newTxWindow(n.opts.API.MaxResponseBytes, c)
	last := n.Status().LastCommittedSeq
	out := CommitRange{Commits: []*CommitInfo{}, LastCommittedSeq: last}
	for seq := from; seq <= last && len(out.Commits) < limit; seq++ {
		if !c.take(commitInfoCost) {
			tw.full = true
		}
		var ci *CommitInfo
		if !tw.full {
			ci, err = n.commitInfo(seq, q, tw)
			if errors.Is(err, store.ErrNotFound) {
				break
			}
			if err != nil {
				writeError(w, http.StatusInternalServerError, "internal", err.Error())
				return
			}
		}
		if tw.full {
			if len(out.Commits) == 0 && ci != nil && len(ci.Transactions) > 0 {
				out.Commits = append(out.Commits, ci) // cut: NextTxOffset continues it
				seq++
			}
			if len(out.Commits) == 0 {
				n.readBudgetError(w)
				return
			}
			out.More, out.NextSeq = true, seq
			break
		}
		out.Commits = append(out.Commits, ci)
	}
	writeJSON(w, http.StatusOK, out)
}

// handleTransactions reads and checks a submission within its limits
// (the submission memory budget, API.RequestReadTimeout, MaxRequestBytes,
// MaxRequestTxs), and only then takes a submission slot.
func (n *Node) handleTransactions(w http.ResponseWriter, r *http.Request) {
	if r.ContentLength > n.opts.MaxRequestBytes {
		n.m.apiRefused.WithLabelValues(ReasonBodyTooLarge).Inc()
		writeSubmitError(w, &SubmitError{Reason: ReasonBodyTooLarge, Index: -1, Detail: fmt.Sprintf("body of %d bytes, limit %d (MaxRequestBytes)", r.ContentLength, n.opts.MaxRequestBytes)}, 0)
		return
	}
	c, serr := n.admitSubmission(r, false, nil)
	if serr != nil {
		n.m.apiRefused.WithLabelValues(serr.Reason).Inc()
		writeSubmitError(w, serr, 0)
		return
	}
	defer c.release()
	txs, serr := n.parseSubmission(w, r)
	if serr != nil {
		n.m.submitted.WithLabelValues("invalid").Inc()
		writeSubmitError(w, serr, 0)
		return
	}
	release, serr := n.takeSubmitSlot()
	if serr != nil {
		writeSubmitError(w, serr, len(txs))
		return
	}
	defer release()
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
		var se *SubmitError
		if txs, se = decodeSubmitJSON(body, n.opts.MaxRequestTxs, n.opts.DAG.MaxTxSize); se != nil {
			return nil, se
		}
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
	if se := bodyRefusal(err); se != nil {
		return se
	}
	return &SubmitError{Reason: ReasonBadRequest, Index: -1, Detail: fmt.Sprintf("%s: %v", what, err)}
}

// decodeSubmitJSON decodes {"transactions": ["base64", ...]} as it
// reads it, one entry at a time: it refuses the entry beyond maxTxs, an
// empty one or one beyond maxTxSize before decoding the next, so that
// what it holds stays within the body's size (an entry of "" costs 3
// bytes on the wire and 24 once decoded: they are counted first).
func decodeSubmitJSON(body io.Reader, maxTxs, maxTxSize int) ([][]byte, *SubmitError) {
	bad := func(format string, args ...any) *SubmitError {
		return &SubmitError{Reason: ReasonBadRequest, Index: -1, Detail: "JSON body: " + fmt.Sprintf(format, args...)}
	}
	dec := json.NewDecoder(body)
	tok := func() (json.Token, *SubmitError) {
		t, err := dec.Token()
		if err != nil {
			return nil, bodyError(err, "JSON body")
		}
		return t, nil
	}
	t, se := tok()
	if se != nil {
		return nil, se
	}
	if t != json.Delim('{') {
		return nil, bad("want an object")
	}
	var txs [][]byte
	seen := false
	for dec.More() {
		k, se := tok()
		if se != nil {
			return nil, se
		}
		if k != "transactions" {
			return nil, bad("unknown field %.40q", k)
		}
		if seen {
			return nil, bad("field \"transactions\" given twice")
		}
		seen = true
		t, se := tok()
		if se != nil {
			return nil, se
		}
		if t == nil {
			continue // null: no transactions
		}
		if t != json.Delim('[') {
			return nil, bad("\"transactions\" is not an array")
		}
		for i := 0; dec.More(); i++ {
			if i >= maxTxs {
				return nil, &SubmitError{Reason: ReasonTooManyTxs, Index: -1, Detail: fmt.Sprintf("more than %d transactions, limit %d per request (MaxRequestTxs)", maxTxs, maxTxs)}
			}
			var tx []byte
			if err := dec.Decode(&tx); err != nil {
				if se := bodyRefusal(err); se != nil {
					return nil, se
				}
				return nil, &SubmitError{Reason: ReasonBadRequest, Index: -1, Detail: fmt.Sprintf("JSON body: transaction %d: %v", i, err)}
			}
			if len(tx) == 0 {
				return nil, &SubmitError{Reason: ReasonEmptyTx, Index: i, Detail: "empty transaction"}
			}
			if len(tx) > maxTxSize {
				return nil, &SubmitError{Reason: ReasonTxTooLarge, Index: i, Detail: fmt.Sprintf("%d bytes, limit %d", len(tx), maxTxSize)}
			}
			txs = append(txs, tx)
		}
		if _, se := tok(); se != nil { // ]
			return nil, se
		}
	}
	if _, se := tok(); se != nil { // }
		return nil, se
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		if se := bodyRefusal(err); se != nil {
			return nil, se
		}
		return nil, bad("data after the object")
	}
	return txs, nil
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
