package client

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/dagd/dagd/engine/api/dagd/v1/dagdv1connect"
	"github.com/dagd/dagd/erasure"
)

// DefaultMaxAnswerBytes bounds the body of a JSON answer a Client reads
// (Options.MaxAnswerBytes).
const DefaultMaxAnswerBytes = 4 << 20

// Client talks to one node's public API: the JSON endpoints, the content
// endpoints (content.go) and the Connect services. It is safe for
// concurrent use.
type Client struct {
	addr     string
	base     string
	hc       *http.Client
	maxBytes int64
}

// Options configures a Client. Zero values mean defaults.
type Options struct {
	// HTTPClient sends the requests. Default: a client without timeouts
	// (content may be large); bound calls with their context.
	HTTPClient *http.Client
	// MaxAnswerBytes bounds a JSON answer read. Default
	// DefaultMaxAnswerBytes.
	MaxAnswerBytes int64
}

// New returns a client of the node whose API is at addr: "host:port", or
// an http:// or https:// URL.
func New(addr string, o Options) (*Client, error) {
	if addr == "" {
		return nil, errors.New("client: no node address: want host:port or an http(s) URL")
	}
	base := addr
	if !strings.Contains(base, "://") {
		if _, _, err := net.SplitHostPort(addr); err != nil {
			return nil, fmt.Errorf("client: node address %q: want host:port or an http(s) URL: %w", addr, err)
		}
		base = "http://" + addr
	}
	u, err := url.Parse(base)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("client: node address %q: want host:port or an http(s) URL", addr)
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{}
	}
	if o.MaxAnswerBytes <= 0 {
		o.MaxAnswerBytes = DefaultMaxAnswerBytes
	}
	return &Client{addr: addr, base: strings.TrimRight(u.String(), "/"), hc: o.HTTPClient, maxBytes: o.MaxAnswerBytes}, nil
}

// Addr returns the node address the client was made with.
func (c *Client) Addr() string { return c.addr }

// BaseURL returns the node's API URL, without a trailing slash.
func (c *Client) BaseURL() string { return c.base }

// HTTPClient returns the client that sends the requests.
func (c *Client) HTTPClient() *http.Client { return c.hc }

// APIError is an answer of the node other than the one asked for: its
// HTTP status and the reason and message of its ErrorBody. Reason is
// "http_STATUS" (as "http_502") when the body was not one.
type APIError struct {
	// Method and Path are the request's.
	Method, Path string
	// Status is the HTTP status.
	Status int
	// Reason is the API's reason (the Reason* constants).
	Reason string
	// Message says what went wrong.
	Message string
}

// Error implements error.
func (e *APIError) Error() string {
	switch {
	case e.Reason != "" && e.Message != "":
		return fmt.Sprintf("%s %s: %s (HTTP %d): %s", e.Method, e.Path, e.Reason, e.Status, e.Message)
	case e.Message != "":
		return fmt.Sprintf("%s %s: HTTP %d: %s", e.Method, e.Path, e.Status, e.Message)
	}
	return fmt.Sprintf("%s %s: HTTP %d", e.Method, e.Path, e.Status)
}

// Is lets errors.Is match content refusals with erasure.ErrMalformedCID,
// ErrContentNotFound, ErrNoQuorum and ErrContentBusy.
func (e *APIError) Is(target error) bool {
	switch e.Reason {
	case ReasonMalformedCID:
		return target == erasure.ErrMalformedCID
	case ReasonContentNotFound:
		return target == ErrContentNotFound
	case ReasonNoQuorum:
		return target == ErrNoQuorum
	case ReasonBusy:
		return target == ErrContentBusy
	}
	return false
}

// Errors the content service reports, as the engine and the client both
// name them.
var (
	// ErrContentNotFound: no holder has the object.
	ErrContentNotFound = errors.New("content not found")
	// ErrContentBusy: too many content requests at once (retry).
	ErrContentBusy = errors.New("content service busy")
	// ErrNoQuorum: too few holders signed a put.
	ErrNoQuorum = errors.New("no quorum of holders signed")
)

// refusal reads a non-2xx answer into an *APIError.
func refusal(method, path string, resp *http.Response) *APIError {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	e := &APIError{Method: method, Path: path, Status: resp.StatusCode}
	var b ErrorBody
	if json.Unmarshal(body, &b) == nil && (b.Reason != "" || b.Error != "") {
		e.Reason, e.Message = b.Reason, b.Error
	} else {
		e.Reason, e.Message = "http_"+strconv.Itoa(resp.StatusCode), fmt.Sprintf("%.200s", strings.TrimSpace(string(body)))
	}
	return e
}

// send sends a request and returns the answer when its status is want (or
// any 2xx for want 0); any other answer is an *APIError. An unreachable
// node is reported as such, naming it.
func (c *Client) send(ctx context.Context, method, path, contentType string, body io.Reader, want int) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return nil, fmt.Errorf("node %s: %w", c.addr, err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.do(req)
	if err != nil {
		return nil, err
	}
	if (want == 0 && resp.StatusCode/100 != 2) || (want != 0 && resp.StatusCode != want) {
		defer resp.Body.Close()
		return nil, fmt.Errorf("node %s: %w", c.addr, refusal(method, path, resp))
	}
	return resp, nil
}

// readAnswer reads a JSON answer within the client's bound.
func (c *Client) readAnswer(method, path string, resp *http.Response) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(resp.Body, c.maxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("node %s: %s %s: read answer: %w", c.addr, method, path, err)
	}
	if int64(len(data)) > c.maxBytes {
		return nil, fmt.Errorf("node %s: %s %s: answer exceeds %d bytes", c.addr, method, path, c.maxBytes)
	}
	return data, nil
}

// getJSON decodes the 200 answer of GET path into out.
func (c *Client) getJSON(ctx context.Context, path string, out any) error {
	resp, err := c.send(ctx, http.MethodGet, path, "", nil, http.StatusOK)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := c.readAnswer(http.MethodGet, path, resp)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("node %s: GET %s: answer does not parse: %w", c.addr, path, err)
	}
	return nil
}

// Status returns GET /v1/status, decoded and as the node served it.
func (c *Client) Status(ctx context.Context) (*Status, []byte, error) {
	const path = "/v1/status"
	resp, err := c.send(ctx, http.MethodGet, path, "", nil, http.StatusOK)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	data, err := c.readAnswer(http.MethodGet, path, resp)
	if err != nil {
		return nil, nil, err
	}
	var st Status
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, nil, fmt.Errorf("node %s: status answer is not a dagd status: %w", c.addr, err)
	}
	return &st, data, nil
}

// Submit posts txs in one binary request (POST /v1/transactions). The
// answer says how many were accepted, a prefix of txs; a refusal (of some
// or all) is an *APIError whose Reason is the answer's, and the answer is
// returned with it.
func (c *Client) Submit(ctx context.Context, txs [][]byte) (*SubmitResponse, error) {
	const path = "/v1/transactions"
	size := 0
	for _, tx := range txs {
		size += 4 + len(tx)
	}
	body := make([]byte, 0, size)
	for _, tx := range txs {
		body = AppendBinaryTx(body, tx)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+path, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("node %s: %w", c.addr, err)
	}
	req.Header.Set("Content-Type", ContentTypeBinary)
	resp, err := c.do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := c.readAnswer(http.MethodPost, path, resp)
	if err != nil {
		return nil, err
	}
	var sr SubmitResponse
	if err := json.Unmarshal(data, &sr); err != nil {
		return nil, fmt.Errorf("node %s: %w", c.addr, &APIError{Method: http.MethodPost, Path: path, Status: resp.StatusCode,
			Reason: "http_" + strconv.Itoa(resp.StatusCode), Message: fmt.Sprintf("answer does not parse: %v: %.200s", err, bytes.TrimSpace(data))})
	}
	if resp.StatusCode == http.StatusAccepted && sr.Reason == "" {
		return &sr, nil
	}
	reason := sr.Reason
	if reason == "" {
		reason = "http_" + strconv.Itoa(resp.StatusCode)
	}
	return &sr, fmt.Errorf("node %s: %w", c.addr, &APIError{Method: http.MethodPost, Path: path, Status: resp.StatusCode, Reason: reason, Message: sr.Error})
}

// CommitQuery chooses the transactions the commit endpoints return with
// each commit.
type CommitQuery struct {
	// Txs is "", "none", "own" (the transactions of the answering node's
	// own batches) or "all".
	Txs string
	// TxPrefix > 0 returns only the first TxPrefix bytes of each.
	TxPrefix int
	// TxOffset skips the first TxOffset of them (GET /v1/commits/{seq}
	// only: CommitInfo.NextTxOffset).
	TxOffset int
}

func (q CommitQuery) values() url.Values {
	v := url.Values{}
	if q.Txs != "" {
		v.Set("txs", q.Txs)
	}
	if q.TxPrefix > 0 {
		v.Set("tx_prefix", strconv.Itoa(q.TxPrefix))
	}
	if q.TxOffset > 0 {
		v.Set("tx_offset", strconv.Itoa(q.TxOffset))
	}
	return v
}

// Commit returns GET /v1/commits/{seq}.
func (c *Client) Commit(ctx context.Context, seq uint64, q CommitQuery) (*CommitInfo, error) {
	path := "/v1/commits/" + strconv.FormatUint(seq, 10)
	if v := q.values(); len(v) > 0 {
		path += "?" + v.Encode()
	}
	var ci CommitInfo
	if err := c.getJSON(ctx, path, &ci); err != nil {
		return nil, err
	}
	return &ci, nil
}

// Commits returns GET /v1/commits?from=from&limit=limit (limit at most
// MaxCommitsPerRequest).
func (c *Client) Commits(ctx context.Context, from uint64, limit int, q CommitQuery) (*CommitRange, error) {
	v := q.values()
	v.Set("from", strconv.FormatUint(from, 10))
	v.Set("limit", strconv.Itoa(limit))
	var cr CommitRange
	if err := c.getJSON(ctx, "/v1/commits?"+v.Encode(), &cr); err != nil {
		return nil, err
	}
	return &cr, nil
}

// Evidence returns GET /v1/evidence: up to limit records of equivocation
// evidence (1..MaxEvidencePerRequest; 0: the node's default) from epoch
// fromEpoch on, or, when cursor is not empty, from the cursor a previous
// page returned (EvidencePage.NextCursor).
func (c *Client) Evidence(ctx context.Context, fromEpoch uint64, cursor string, limit int) (*EvidencePage, error) {
	v := url.Values{}
	if cursor != "" {
		v.Set("cursor", cursor)
	} else {
		v.Set("from_epoch", strconv.FormatUint(fromEpoch, 10))
	}
	if limit > 0 {
		v.Set("limit", strconv.Itoa(limit))
	}
	var p EvidencePage
	if err := c.getJSON(ctx, "/v1/evidence?"+v.Encode(), &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// Receipt returns GET /v1/receipts/{tx}, or ok false when the node has no
// receipt of tx (yet). The caller checks the receipt against its
// canonical encoding (contracts.DecodeReceipt) if it does not trust the
// node.
func (c *Client) Receipt(ctx context.Context, tx [32]byte) (ri *ReceiptInfo, ok bool, err error) {
	ri = new(ReceiptInfo)
	err = c.getJSON(ctx, "/v1/receipts/"+hex.EncodeToString(tx[:]), ri)
	var ae *APIError
	if errors.As(err, &ae) && ae.Status == http.StatusNotFound && ae.Reason == ReasonUnknownTx {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return ri, true, nil
}

// State returns GET /v1/state/{key}: the value of key at commit seq (0:
// the last executed) with its proof, which the caller verifies
// (state/proof) against the commit's state root (Commit).
func (c *Client) State(ctx context.Context, key []byte, seq uint64) (*StateValue, error) {
	path := "/v1/state/" + hex.EncodeToString(key)
	if seq > 0 {
		path += "?seq=" + strconv.FormatUint(seq, 10)
	}
	var sv StateValue
	if err := c.getJSON(ctx, path, &sv); err != nil {
		return nil, err
	}
	return &sv, nil
}

// Account returns GET /v1/accounts/{pubkey} at commit seq (0: the last
// executed), with the proof of its state when proof is set.
func (c *Client) Account(ctx context.Context, pubkey []byte, seq uint64, proof bool) (*AccountInfo, error) {
	v := url.Values{}
	if proof {
		v.Set("proof", "1")
	}
	if seq > 0 {
		v.Set("seq", strconv.FormatUint(seq, 10))
	}
	path := "/v1/accounts/" + hex.EncodeToString(pubkey)
	if len(v) > 0 {
		path += "?" + v.Encode()
	}
	var ai AccountInfo
	if err := c.getJSON(ctx, path, &ai); err != nil {
		return nil, err
	}
	return &ai, nil
}

// NodeService returns a Connect client of the node's dagd.v1.NodeService.
func (c *Client) NodeService() dagdv1connect.NodeServiceClient {
	return dagdv1connect.NewNodeServiceClient(c.hc, c.base)
}

// CommitService returns a Connect client of the node's
// dagd.v1.CommitService.
func (c *Client) CommitService() dagdv1connect.CommitServiceClient {
	return dagdv1connect.NewCommitServiceClient(c.hc, c.base)
}

// TransactionService returns a Connect client of the node's
// dagd.v1.TransactionService.
func (c *Client) TransactionService() dagdv1connect.TransactionServiceClient {
	return dagdv1connect.NewTransactionServiceClient(c.hc, c.base)
}

// do does req, naming the node in a failure: a time-out, or a node
// that could not be reached.
func (c *Client) do(req *http.Request) (*http.Response, error) {
	resp, err := c.hc.Do(req)
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return nil, fmt.Errorf("node %s did not answer in time: %w", c.addr, err)
		}
		return nil, fmt.Errorf("node %s unreachable: %w", c.addr, err)
	}
	return resp, nil
}
