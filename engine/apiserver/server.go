package apiserver

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

	"github.com/dagd/dagd/engine/client"
	"github.com/dagd/dagd/engine/store"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/dagd/dagd/dag"
)

const (
	// commitInfoCost is what a commit's fields (not its transactions)
	// are charged to the read budget.
	commitInfoCost = 1 << 10
	// evidenceInfoCost is what an evidence record's fields (not its
	// encoding) are charged to the read budget.
	evidenceInfoCost = 256
)

// Handler returns the API: /metrics, /healthz, /readyz, /v1/status,
// /v1/commits, /v1/evidence, /v1/transactions, the Connect services of dagd.v1 and
// what Options.Mount adds. See the package documentation.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	if s.opts.Metrics != nil {
		mux.Handle("GET /metrics", promhttp.HandlerFor(s.opts.Metrics, promhttp.HandlerOpts{}))
	}
	mux.HandleFunc("GET /healthz", s.handleHealth)
	mux.HandleFunc("GET /readyz", s.handleReady)
	// The unary endpoints read their request within
	// API.RequestReadTimeout and write their answer within
	// API.WriteTimeout.
	unary := func(pattern string, h http.HandlerFunc) { mux.Handle(pattern, WithRequestDeadlines(s.opts.API, h)) }
	unary("GET /v1/status", s.handleStatus)
	unary("GET /v1/commits/{seq}", s.handleCommit)
	unary("GET /v1/commits", s.handleCommits)
	unary("GET /v1/evidence", s.handleEvidence)
	unary("POST /v1/transactions", s.handleTransactions)
	s.mountRPC(mux) // the Connect API, dagd.v1 (rpc.go)
	if s.opts.Mount != nil {
		s.opts.Mount(mux) // content, receipts, accounts, state proofs
	}
	if s.opts.EnablePprof {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	return withBodyProgress(s.opts.API, mux)
}

// WriteJSON answers with status and v encoded as JSON.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// WriteError answers with status and a client.ErrorBody of reason and
// msg.
func WriteError(w http.ResponseWriter, status int, reason, msg string) {
	WriteJSON(w, status, client.ErrorBody{Error: msg, Reason: reason})
}

func (s *Server) handleHealth(w http.ResponseWriter, _ *http.Request) {
	if reason, msg := s.b.Health(); reason != "" {
		WriteError(w, http.StatusServiceUnavailable, reason, msg)
		return
	}
	WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) handleReady(w http.ResponseWriter, _ *http.Request) {
	ok, why := s.b.Ready()
	if !ok {
		WriteError(w, http.StatusServiceUnavailable, "not_ready", why)
		return
	}
	WriteJSON(w, http.StatusOK, map[string]string{"status": why})
}

func (s *Server) handleStatus(w http.ResponseWriter, _ *http.Request) {
	WriteJSON(w, http.StatusOK, s.b.Status())
}

// commitQuery is the parsed query of the commit endpoints.
type commitQuery struct {
	mode   client.TxMode
	prefix int
	// offset skips the first requested transactions (tx_offset).
	offset int
}

// parseCommitQuery parses txs=, tx_prefix= and, when withOffset,
// tx_offset=.
func parseCommitQuery(q url.Values, withOffset bool) (commitQuery, error) {
	var cq commitQuery
	var err error
	if cq.mode, err = client.ParseTxMode(q.Get("txs")); err != nil {
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
		if err != nil || limit <= 0 || limit > client.MaxCommitsPerRequest {
			return 0, 0, cq, fmt.Errorf("limit %.40q: want 1..%d", s, client.MaxCommitsPerRequest)
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
// reports store.ErrNotFound for an unknown seq.
func (s *Server) commitInfo(seq uint64, q commitQuery, tw *txWindow) (*client.CommitInfo, error) {
	if tw == nil {
		tw = &txWindow{fit: func(int) bool { return true }}
	}
	cr, err := s.store.CommitRecord(seq)
	if err != nil {
		return nil, err
	}
	ci := &client.CommitInfo{Seq: cr.Seq, Digest: cr.Digest.String(), LeaderRound: cr.LeaderRound, Timestamp: uint64(cr.Timestamp),
		Certificates: len(cr.Certificates)}
	if ci.CommitExecution, err = s.b.CommitExecution(seq); err != nil {
		return nil, err
	}
	idx, err := s.store.CommitIndex(seq)
	if errors.Is(err, store.ErrNotFound) {
		ci.Pruned = q.mode != client.TxNone
		return ci, nil
	}
	if err != nil {
		return nil, err
	}
	txs, batches := idx.TxCount(), len(idx.Batches)
	ci.TxCount, ci.Batches = &txs, &batches
	if q.mode == client.TxNone {
		return ci, nil
	}
	ci.TxOffset = q.offset
	tw.skip = q.offset
	for _, b := range idx.Batches {
		if q.mode == client.TxOwn && b.Author != s.opts.Self {
			continue
		}
		if tw.skip >= b.Txs {
			tw.skip -= b.Txs // skipped without reading the batch
			continue
		}
		err := s.store.GetBatch(b.Digest, func(v []byte) error {
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

// appendAll appends the transactions of an encoded batch, copying them
// out of v.
func appendAll(v []byte, out *[][]byte) error {
	tw := txWindow{fit: func(int) bool { return true }}
	return tw.appendTxs(v, 0, out)
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
		return fmt.Errorf("apiserver: stored batch: %w", err)
	}
	return nil
}

// handleCommit answers GET /v1/commits/{seq}: its transactions within
// APIOptions.MaxResponseBytes from tx_offset on, charged to the read
// budget while they are copied.
func (s *Server) handleCommit(w http.ResponseWriter, r *http.Request) {
	seq, err := strconv.ParseUint(r.PathValue("seq"), 10, 64)
	if err != nil || seq == 0 {
		WriteError(w, http.StatusBadRequest, client.ReasonBadRequest, fmt.Sprintf("commit seq %.40q: want a positive integer", r.PathValue("seq")))
		return
	}
	q, err := parseCommitQuery(r.URL.Query(), true)
	if err != nil {
		WriteError(w, http.StatusBadRequest, client.ReasonBadRequest, err.Error())
		return
	}
	c := s.readCharge()
	defer c.release()
	if !c.take(commitInfoCost) {
		s.readBudgetError(w)
		return
	}
	tw := newTxWindow(s.opts.API.MaxResponseBytes, c)
	ci, err := s.commitInfo(seq, q, tw)
	switch {
	case errors.Is(err, store.ErrNotFound):
		WriteError(w, http.StatusNotFound, "unknown_commit", fmt.Sprintf("no commit %d (last committed %d)", seq, s.b.Status().LastCommittedSeq))
	case err != nil:
		WriteError(w, http.StatusInternalServerError, "internal", err.Error())
	case ci.Pruned:
		WriteError(w, http.StatusGone, "pruned", fmt.Sprintf("transactions of commit %d are no longer stored", seq))
	case tw.full && len(ci.Transactions) == 0:
		s.readBudgetError(w)
	default:
		WriteJSON(w, http.StatusOK, ci)
	}
}

// handleCommits answers GET /v1/commits: up to limit commits from from on,
// their transactions within APIOptions.MaxResponseBytes in all, charged
// to the read budget while they are copied.
func (s *Server) handleCommits(w http.ResponseWriter, r *http.Request) {
	from, limit, q, err := parseCommitRange(r.URL.Query())
	if err != nil {
		WriteError(w, http.StatusBadRequest, client.ReasonBadRequest, err.Error())
		return
	}
	c := s.readCharge()
	defer c.release()
	tw := newTxWindow(s.opts.API.MaxResponseBytes, c)
	last := s.b.Status().LastCommittedSeq
	out := client.CommitRange{Commits: []*client.CommitInfo{}, LastCommittedSeq: last}
	for seq := from; seq <= last && len(out.Commits) < limit; seq++ {
		if !c.take(commitInfoCost) {
			tw.full = true
		}
		var ci *client.CommitInfo
		if !tw.full {
			ci, err = s.commitInfo(seq, q, tw)
			if errors.Is(err, store.ErrNotFound) {
				break
			}
			if err != nil {
				WriteError(w, http.StatusInternalServerError, "internal", err.Error())
				return
			}
		}
		if tw.full {
			if len(out.Commits) == 0 && ci != nil && len(ci.Transactions) > 0 {
				out.Commits = append(out.Commits, ci) // cut: NextTxOffset continues it
				seq++
			}
			if len(out.Commits) == 0 {
				s.readBudgetError(w)
				return
			}
			out.More, out.NextSeq = true, seq
			break
		}
		out.Commits = append(out.Commits, ci)
	}
	WriteJSON(w, http.StatusOK, out)
}

// handleTransactions reads and checks a submission within its limits
// (the submission memory budget, API.RequestReadTimeout, MaxRequestBytes,
// MaxRequestTxs), and only then takes a submission slot.
func (s *Server) handleTransactions(w http.ResponseWriter, r *http.Request) {
	if r.ContentLength > s.opts.MaxRequestBytes {
		s.m.refused.WithLabelValues(client.ReasonBodyTooLarge).Inc()
		writeSubmitError(w, &refusal{Reason: client.ReasonBodyTooLarge, Index: -1, Detail: fmt.Sprintf("body of %d bytes, limit %d (MaxRequestBytes)", r.ContentLength, s.opts.MaxRequestBytes)}, 0)
		return
	}
	c, serr := s.admitSubmission(r, false, nil)
	if serr != nil {
		s.m.refused.WithLabelValues(serr.Reason).Inc()
		writeSubmitError(w, serr, 0)
		return
	}
	defer c.release()
	txs, serr := s.parseSubmission(w, r)
	if serr != nil {
		s.b.CountInvalid(1)
		writeSubmitError(w, serr, 0)
		return
	}
	release, err := s.b.TakeSubmitSlot()
	if err != nil {
		writeSubmitError(w, refusalOf(err), len(txs))
		return
	}
	defer release()
	accepted, err := s.b.Submit(r.Context(), txs)
	if err == nil {
		WriteJSON(w, http.StatusAccepted, client.SubmitResponse{Accepted: accepted})
		return
	}
	se := refusalOf(err)
	if se == nil {
		WriteJSON(w, http.StatusServiceUnavailable, client.SubmitResponse{Accepted: accepted, Rejected: len(txs) - accepted, Reason: client.ReasonStopped, Error: err.Error()})
		return
	}
	writeSubmitError(w, se, len(txs))
}

func writeSubmitError(w http.ResponseWriter, se *refusal, total int) {
	resp := client.SubmitResponse{Accepted: se.Accepted, Rejected: max(total-se.Accepted, 0), Reason: se.Reason, Error: se.Error()}
	if se.Index >= 0 {
		i := se.Index
		resp.Index = &i
	}
	if RetryableReason(se.Reason) {
		w.Header().Set("Retry-After", "1")
	}
	WriteJSON(w, ReasonStatus(se.Reason), resp)
}

// parseSubmission reads and checks a submission body.
func (s *Server) parseSubmission(w http.ResponseWriter, r *http.Request) ([][]byte, *refusal) {
	ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil && r.Header.Get("Content-Type") != "" {
		return nil, &refusal{Reason: client.ReasonBadRequest, Index: -1, Detail: fmt.Sprintf("content type: %v", err)}
	}
	if r.ContentLength > s.opts.MaxRequestBytes {
		return nil, &refusal{Reason: client.ReasonBodyTooLarge, Index: -1, Detail: fmt.Sprintf("body of %d bytes, limit %d", r.ContentLength, s.opts.MaxRequestBytes)}
	}
	body := http.MaxBytesReader(w, r.Body, s.opts.MaxRequestBytes)
	var txs [][]byte
	switch ct {
	case client.ContentTypeJSON, "":
		var se *refusal
		if txs, se = decodeSubmitJSON(body, s.opts.MaxRequestTxs, s.opts.MaxTxSize); se != nil {
			return nil, se
		}
	case client.ContentTypeBinary:
		data, err := io.ReadAll(body)
		if err != nil {
			return nil, bodyError(err, "binary body")
		}
		txs, err = s.splitBinary(data)
		if err != nil {
			var se *refusal
			if errors.As(err, &se) {
				return nil, se
			}
			return nil, &refusal{Reason: client.ReasonBadRequest, Index: -1, Detail: err.Error()}
		}
	default:
		return nil, &refusal{Reason: client.ReasonBadRequest, Index: -1, Detail: fmt.Sprintf("content type %q: want %s or %s", ct, client.ContentTypeJSON, client.ContentTypeBinary)}
	}
	if err := s.b.CheckTransactions(txs); err != nil {
		if se := refusalOf(err); se != nil {
			return nil, se
		}
		return nil, &refusal{Reason: client.ReasonBadRequest, Index: -1, Detail: err.Error()}
	}
	return txs, nil
}

func bodyError(err error, what string) *refusal {
	if se := bodyRefusal(err); se != nil {
		return se
	}
	return &refusal{Reason: client.ReasonBadRequest, Index: -1, Detail: fmt.Sprintf("%s: %v", what, err)}
}

// decodeSubmitJSON decodes {"transactions": ["base64", ...]} as it
// reads it, one entry at a time: it refuses the entry beyond maxTxs, an
// empty one or one beyond maxTxSize before decoding the next, so that
// what it holds stays within the body's size (an entry of "" costs 3
// bytes on the wire and 24 once decoded: they are counted first).
func decodeSubmitJSON(body io.Reader, maxTxs, maxTxSize int) ([][]byte, *refusal) {
	bad := func(format string, args ...any) *refusal {
		return &refusal{Reason: client.ReasonBadRequest, Index: -1, Detail: "JSON body: " + fmt.Sprintf(format, args...)}
	}
	dec := json.NewDecoder(body)
	tok := func() (json.Token, *refusal) {
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
				return nil, &refusal{Reason: client.ReasonTooManyTxs, Index: -1, Detail: fmt.Sprintf("more than %d transactions, limit %d per request (MaxRequestTxs)", maxTxs, maxTxs)}
			}
			var tx []byte
			if err := dec.Decode(&tx); err != nil {
				if se := bodyRefusal(err); se != nil {
					return nil, se
				}
				return nil, &refusal{Reason: client.ReasonBadRequest, Index: -1, Detail: fmt.Sprintf("JSON body: transaction %d: %v", i, err)}
			}
			if len(tx) == 0 {
				return nil, &refusal{Reason: client.ReasonEmptyTx, Index: i, Detail: "empty transaction"}
			}
			if len(tx) > maxTxSize {
				return nil, &refusal{Reason: client.ReasonTxTooLarge, Index: i, Detail: fmt.Sprintf("%d bytes, limit %d", len(tx), maxTxSize)}
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
func (s *Server) splitBinary(data []byte) ([][]byte, error) {
	var txs [][]byte
	for i := 0; len(data) > 0; i++ {
		if len(txs) >= s.opts.MaxRequestTxs {
			return nil, &refusal{Reason: client.ReasonTooManyTxs, Index: -1, Detail: fmt.Sprintf("more than %d transactions", s.opts.MaxRequestTxs)}
		}
		if len(data) < 4 {
			return nil, fmt.Errorf("binary body: truncated length of transaction %d", i)
		}
		l := binary.BigEndian.Uint32(data)
		if l == 0 {
			return nil, &refusal{Reason: client.ReasonEmptyTx, Index: i, Detail: "empty transaction"}
		}
		if uint64(l) > uint64(s.opts.MaxTxSize) {
			return nil, &refusal{Reason: client.ReasonTxTooLarge, Index: i, Detail: fmt.Sprintf("%d bytes, limit %d", l, s.opts.MaxTxSize)}
		}
		if uint64(l) > uint64(len(data)-4) {
			return nil, fmt.Errorf("binary body: transaction %d of %d bytes truncated at %d", i, l, len(data)-4)
		}
		txs = append(txs, data[4:4+l:4+l])
		data = data[4+l:]
	}
	return txs, nil
}

// parseEvidenceQuery parses the query of GET /v1/evidence: from_epoch=
// or cursor= (at most one; neither: from the first record) and limit=
// (1..client.MaxEvidencePerRequest, the default).
func parseEvidenceQuery(q url.Values) (from store.EvidenceSlot, limit int, err error) {
	fe, cur := q.Get("from_epoch"), q.Get("cursor")
	switch {
	case fe != "" && cur != "":
		return from, 0, errors.New("from_epoch and cursor: give one of them")
	case fe != "":
		if from.Epoch, err = strconv.ParseUint(fe, 10, 64); err != nil {
			return from, 0, fmt.Errorf("from_epoch %.40q: want a non-negative integer", fe)
		}
	case cur != "":
		c, err := client.ParseEvidenceCursor(cur)
		if err != nil {
			return from, 0, err
		}
		from = store.EvidenceSlot{Epoch: c.Epoch, Round: c.Round, Author: dag.ValidatorID(c.Author)}
	}
	limit = client.MaxEvidencePerRequest
	if s := q.Get("limit"); s != "" {
		limit, err = strconv.Atoi(s)
		if err != nil || limit <= 0 || limit > client.MaxEvidencePerRequest {
			return from, 0, fmt.Errorf("limit %.40q: want 1..%d", s, client.MaxEvidencePerRequest)
		}
	}
	return from, limit, nil
}

// evidenceCursor is the cursor of the page that starts at slot sl.
func evidenceCursor(sl store.EvidenceSlot) string {
	return client.EvidenceCursor{Epoch: sl.Epoch, Round: sl.Round, Author: uint16(sl.Author)}.String()
}

// handleEvidence answers GET /v1/evidence: up to limit stored records of
// equivocation evidence, oldest first, within APIOptions.MaxResponseBytes
// of encodings (the first record whatever its size) and charged to the
// read budget while they are copied; NextCursor continues.
func (s *Server) handleEvidence(w http.ResponseWriter, r *http.Request) {
	from, limit, err := parseEvidenceQuery(r.URL.Query())
	if err != nil {
		WriteError(w, http.StatusBadRequest, client.ReasonBadRequest, err.Error())
		return
	}
	c := s.readCharge()
	defer c.release()
	out := client.EvidencePage{Evidence: []*client.EvidenceInfo{}}
	size, refused := 0, false
	err = s.store.ScanEvidence(from, func(se store.StoredEvidence) bool {
		n := len(se.Encoding)
		if len(out.Evidence) == limit || (len(out.Evidence) > 0 && size+n > s.opts.API.MaxResponseBytes) {
			out.NextCursor = evidenceCursor(se.Slot)
			return false
		}
		if !c.take(3*int64(n) + evidenceInfoCost) { // the copy, its base64 in JSON
			if len(out.Evidence) == 0 {
				refused = true
			}
			out.NextCursor = evidenceCursor(se.Slot)
			return false
		}
		size += n
		da, db := se.Evidence.First.Digest(), se.Evidence.Second.Digest()
		if bytes.Compare(da[:], db[:]) > 0 {
			da, db = db, da // the encoding's order
		}
		out.Evidence = append(out.Evidence, &client.EvidenceInfo{
			Epoch: se.Slot.Epoch, Round: se.Slot.Round, Author: uint16(se.Slot.Author),
			Digests: [2]string{da.String(), db.String()}, Encoding: se.Encoding,
		})
		return true
	})
	if err != nil {
		WriteError(w, http.StatusInternalServerError, "internal", err.Error())
		return
	}
	if refused {
		s.readBudgetError(w)
		return
	}
	WriteJSON(w, http.StatusOK, out)
}
