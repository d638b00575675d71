package main

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

	"github.com/dagd/dagd/contracts"
	"github.com/dagd/dagd/crypto"
	"github.com/dagd/dagd/engine"
	"github.com/dagd/dagd/state/proof"
)

// maxAPIAnswer bounds the body of an API answer the ledger client reads.
const maxAPIAnswer = 4 << 20

// errProof is wrapped by every failure to verify a state answer: a proof
// that does not show the value under the root, or a root that is not the
// one recorded for the commit.
var errProof = errors.New("state proof does not verify")

// apiRefusal is a non-2xx answer of the node: its status and the reason
// and message of its JSON body.
type apiRefusal struct {
	Status int
	Reason string
	Msg    string
}

func (e *apiRefusal) Error() string {
	switch {
	case e.Reason != "" && e.Msg != "":
		return fmt.Sprintf("%s (HTTP %d): %s", e.Reason, e.Status, e.Msg)
	case e.Msg != "":
		return fmt.Sprintf("HTTP %d: %s", e.Status, e.Msg)
	}
	return fmt.Sprintf("HTTP %d", e.Status)
}

// ledgerClient talks to a node's JSON API: submissions, receipts, and
// state with proofs, which it verifies with state/proof against the state
// root the node records for the commit.
type ledgerClient struct {
	node string
	base string
	hc   *http.Client
	// roots caches the recorded state root of each commit seen.
	roots map[uint64]crypto.Digest
}

// newLedgerClient returns a client of the API at node (host:port or an
// http:// or https:// URL).
func newLedgerClient(node string) (*ledgerClient, error) {
	base := node
	if !strings.HasPrefix(base, "http://") && !strings.HasPrefix(base, "https://") {
		if _, _, err := net.SplitHostPort(node); err != nil {
			return nil, usageError("--node %q: want HOST:PORT: %w", node, err)
		}
		base = "http://" + node
	}
	return &ledgerClient{node: node, base: strings.TrimSuffix(base, "/"), hc: http.DefaultClient, roots: make(map[uint64]crypto.Digest)}, nil
}

// do sends a request and decodes a 2xx JSON answer into out; any other
// answer is an *apiRefusal.
func (c *ledgerClient) do(ctx context.Context, method, path, contentType string, body []byte, out any) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return fmt.Errorf("node %s: %w", c.node, err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("node %s unreachable: %w", c.node, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAPIAnswer+1))
	if err != nil {
		return fmt.Errorf("node %s: %s %s: read answer: %w", c.node, method, path, err)
	}
	if len(data) > maxAPIAnswer {
		return fmt.Errorf("node %s: %s %s: answer exceeds %d bytes", c.node, method, path, maxAPIAnswer)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		var e struct {
			Error  string `json:"error"`
			Reason string `json:"reason"`
		}
		ref := &apiRefusal{Status: resp.StatusCode}
		if json.Unmarshal(data, &e) == nil {
			ref.Reason, ref.Msg = e.Reason, e.Error
		} else {
			ref.Msg = fmt.Sprintf("%.200s", strings.TrimSpace(string(data)))
		}
		return ref
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("node %s: %s %s: answer does not parse: %w", c.node, method, path, err)
	}
	return nil
}

// status returns GET /v1/status.
func (c *ledgerClient) status(ctx context.Context) (*engine.Status, error) {
	st, _, err := engine.FetchStatus(ctx, c.hc, c.base)
	if err != nil {
		return nil, fmt.Errorf("status: %w", err)
	}
	return st, nil
}

// submitRefused is a submission the node refused, with its reason.
type submitRefused struct {
	Status int
	Answer engine.SubmitResponse
}

func (e *submitRefused) Error() string {
	return fmt.Sprintf("the node refused the transaction: %s (HTTP %d): %s", e.Answer.Reason, e.Status, e.Answer.Error)
}

// submit posts one encoded transaction (POST /v1/transactions, binary).
func (c *ledgerClient) submit(ctx context.Context, raw []byte) error {
	var resp engine.SubmitResponse
	err := c.do(ctx, http.MethodPost, "/v1/transactions", engine.ContentTypeBinary, engine.AppendBinaryTx(nil, raw), &resp)
	var ref *apiRefusal
	if errors.As(err, &ref) {
		// The submission endpoint answers refusals with a SubmitResponse;
		// do decoded its error and reason fields.
		return &submitRefused{Status: ref.Status, Answer: engine.SubmitResponse{Reason: ref.Reason, Error: ref.Msg}}
	}
	if err != nil {
		return err
	}
	if resp.Accepted != 1 {
		return &submitRefused{Status: http.StatusAccepted, Answer: resp}
	}
	return nil
}

// receipt returns the receipt of tx, or ok false when the node has none
// (yet).
func (c *ledgerClient) receipt(ctx context.Context, tx crypto.Digest) (*engine.ReceiptInfo, bool, error) {
	var ri engine.ReceiptInfo
	err := c.do(ctx, http.MethodGet, "/v1/receipts/"+tx.String(), "", nil, &ri)
	var ref *apiRefusal
	if errors.As(err, &ref) && ref.Status == http.StatusNotFound && ref.Reason == "unknown_tx" {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("receipt of %s: %w", tx, err)
	}
	if err := checkReceipt(&ri, tx); err != nil {
		return nil, false, err
	}
	return &ri, true, nil
}

// checkReceipt checks that the canonical receipt the node sent is the
// one of tx and says what its decoded fields say.
func checkReceipt(ri *engine.ReceiptInfo, tx crypto.Digest) error {
	raw, err := hex.DecodeString(ri.Receipt)
	if err != nil {
		return fmt.Errorf("receipt of %s: encoding: %w", tx, err)
	}
	rc, err := contracts.DecodeReceipt(raw)
	if err != nil {
		return fmt.Errorf("receipt of %s: %w", tx, err)
	}
	if rc.Tx != tx || ri.Tx != tx.String() || uint16(rc.Code) != ri.Code || rc.OK() != ri.OK || rc.Reason != ri.Reason ||
		strconv.FormatUint(rc.Fee, 10) != ri.Fee {
		return fmt.Errorf("receipt of %s: the node's answer does not match its encoded receipt", tx)
	}
	return nil
}

// provenValue is a state value (nil: the key is absent) that a proof
// showed under the state root the node records for commit Seq.
type provenValue struct {
	Key   []byte
	Value []byte
	Seq   uint64
	Root  crypto.Digest
}

// verifyStateValue checks a state answer for key on its own: that it is
// about key, and that its proof shows its value (inclusion) or the key's
// absence (non-inclusion) under its state root. It does not say whether
// that root is the chain's: provenState checks that.
func verifyStateValue(sv *engine.StateValue, key []byte) (*provenValue, error) {
	if sv.Key != hex.EncodeToString(key) {
		return nil, fmt.Errorf("%w: answer for key %.80s, asked %x", errProof, sv.Key, key)
	}
	root, err := crypto.ParseDigest(sv.StateRoot)
	if err != nil {
		return nil, fmt.Errorf("%w: state root %.80q: %w", errProof, sv.StateRoot, err)
	}
	if sv.Proof == "" {
		return nil, fmt.Errorf("%w: the node sent no proof", errProof)
	}
	raw, err := hex.DecodeString(sv.Proof)
	if err != nil {
		return nil, fmt.Errorf("%w: proof encoding: %w", errProof, err)
	}
	p, err := proof.Unmarshal(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errProof, err)
	}
	var value []byte
	if sv.Exists {
		if value, err = hex.DecodeString(sv.Value); err != nil {
			return nil, fmt.Errorf("%w: value encoding: %w", errProof, err)
		}
		if len(value) == 0 {
			return nil, fmt.Errorf("%w: a present key with an empty value", errProof)
		}
	} else if sv.Value != "" {
		return nil, fmt.Errorf("%w: an absent key with a value", errProof)
	}
	if err := proof.VerifyProof(root, key, value, p); err != nil {
		what := "inclusion"
		if !sv.Exists {
			what = "non-inclusion"
		}
		return nil, fmt.Errorf("%w: %s of key %x under root %s at seq %d: %w", errProof, what, key, root, sv.Seq, err)
	}
	return &provenValue{Key: key, Value: value, Seq: sv.Seq, Root: root}, nil
}

// recordedRoot returns the state root the node records for commit seq
// (GET /v1/commits/{seq}).
func (c *ledgerClient) recordedRoot(ctx context.Context, seq uint64) (crypto.Digest, error) {
	if r, ok := c.roots[seq]; ok {
		return r, nil
	}
	var ci engine.CommitInfo
	if err := c.do(ctx, http.MethodGet, "/v1/commits/"+strconv.FormatUint(seq, 10), "", nil, &ci); err != nil {
		return crypto.Digest{}, fmt.Errorf("commit %d: %w", seq, err)
	}
	if ci.Seq != seq || ci.CommitExecution == nil {
		return crypto.Digest{}, fmt.Errorf("%w: commit %d has no execution record", errProof, seq)
	}
	r, err := crypto.ParseDigest(ci.StateRoot)
	if err != nil {
		return crypto.Digest{}, fmt.Errorf("%w: commit %d: state root %.80q: %w", errProof, seq, ci.StateRoot, err)
	}
	c.roots[seq] = r
	return r, nil
}

// checkRoot checks that pv's root is the one recorded for its commit.
func (c *ledgerClient) checkRoot(ctx context.Context, pv *provenValue) error {
	rec, err := c.recordedRoot(ctx, pv.Seq)
	if err != nil {
		return err
	}
	if rec != pv.Root {
		return fmt.Errorf("%w: the proof is against root %s, commit %d records %s", errProof, pv.Root, pv.Seq, rec)
	}
	return nil
}

// provenState reads key at commit seq (0: the last executed) with its
// proof, verifies the proof and checks its root against the commit's
// record.
func (c *ledgerClient) provenState(ctx context.Context, key []byte, seq uint64) (*provenValue, error) {
	path := "/v1/state/" + hex.EncodeToString(key)
	if seq > 0 {
		path += "?seq=" + strconv.FormatUint(seq, 10)
	}
	var sv engine.StateValue
	if err := c.do(ctx, http.MethodGet, path, "", nil, &sv); err != nil {
		return nil, fmt.Errorf("state %x: %w", key, err)
	}
	if seq > 0 && sv.Seq != seq {
		return nil, fmt.Errorf("%w: asked seq %d, the node answered for %d", errProof, seq, sv.Seq)
	}
	pv, err := verifyStateValue(&sv, key)
	if err != nil {
		return nil, err
	}
	if err := c.checkRoot(ctx, pv); err != nil {
		return nil, err
	}
	return pv, nil
}

// provenAccount reads pk's account (GET /v1/accounts/{pubkey}?proof=1) at
// seq (0: the last executed), verified as provenState does; the nonce and
// balance come from the proven value, not from the answer's fields.
func (c *ledgerClient) provenAccount(ctx context.Context, pk crypto.AccountPublicKey, seq uint64) (contracts.Account, *provenValue, error) {
	q := url.Values{"proof": {"1"}}
	if seq > 0 {
		q.Set("seq", strconv.FormatUint(seq, 10))
	}
	var ai engine.AccountInfo
	if err := c.do(ctx, http.MethodGet, "/v1/accounts/"+pk.String()+"?"+q.Encode(), "", nil, &ai); err != nil {
		return contracts.Account{}, nil, fmt.Errorf("account %s: %w", pk, err)
	}
	key := contracts.AccountKey(pk)
	pv, err := verifyStateValue(&ai.State, key)
	if err != nil {
		return contracts.Account{}, nil, err
	}
	if err := c.checkRoot(ctx, pv); err != nil {
		return contracts.Account{}, nil, err
	}
	var a contracts.Account
	if pv.Value != nil {
		d, err := contracts.DecodeAccount(pv.Value)
		if err != nil {
			return contracts.Account{}, nil, fmt.Errorf("account %s: %w", pk, err)
		}
		a = *d
	}
	if ai.Exists != (pv.Value != nil) || ai.Nonce != a.Nonce || ai.Balance != strconv.FormatUint(a.Balance, 10) {
		return contracts.Account{}, nil, fmt.Errorf("%w: account %s: the answer's fields differ from the proven value", errProof, pk)
	}
	return a, pv, nil
}

// provenReader is a contracts.Reader over proven state at one commit.
type provenReader struct {
	ctx context.Context
	c   *ledgerClient
	seq uint64
}

// Get implements contracts.Reader.
func (r *provenReader) Get(key []byte) ([]byte, error) {
	pv, err := r.c.provenState(r.ctx, key, r.seq)
	if err != nil {
		return nil, err
	}
	r.seq = pv.Seq // later reads at the same commit
	return pv.Value, nil
}

// verifiedLine is what a query prints of its proof.
func verifiedLine(pv *provenValue) string {
	kind := "inclusion"
	if pv.Value == nil {
		kind = "non-inclusion"
	}
	return fmt.Sprintf("verified against state root %s at seq %d (%s proof)", pv.Root, pv.Seq, kind)
}
