package main

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/dagd/dagd/contracts"
	"github.com/dagd/dagd/crypto"
	"github.com/dagd/dagd/engine/client"
	"github.com/dagd/dagd/state/proof"
)

// maxAPIAnswer bounds the body of an API answer the ledger client reads.
const maxAPIAnswer = 4 << 20

// errProof is wrapped by every failure to verify a state answer: a proof
// that does not show the value under the root, or a root that is not the
// one recorded for the commit.
var errProof = errors.New("state proof does not verify")

// ledgerClient talks to a node's JSON API through package client:
// submissions, receipts, and state with proofs, which it verifies with
// state/proof against the state root the node records for the commit.
type ledgerClient struct {
	*client.Client
	// roots caches the recorded state root of each commit seen.
	roots map[uint64]crypto.Digest
}

// newLedgerClient returns a client of the API at node (host:port or an
// http:// or https:// URL).
func newLedgerClient(node string) (*ledgerClient, error) {
	c, err := client.New(node, client.Options{HTTPClient: http.DefaultClient, MaxAnswerBytes: maxAPIAnswer})
	if err != nil {
		return nil, usageError("--node %q: want HOST:PORT: %w", node, err)
	}
	return &ledgerClient{Client: c, roots: make(map[uint64]crypto.Digest)}, nil
}

// status returns GET /v1/status.
func (c *ledgerClient) status(ctx context.Context) (*client.Status, error) {
	st, _, err := c.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("status: %w", err)
	}
	return st, nil
}

// submitRefused is a submission the node refused, with its reason.
type submitRefused struct {
	Status int
	Answer client.SubmitResponse
}

func (e *submitRefused) Error() string {
	return fmt.Sprintf("the node refused the transaction: %s (HTTP %d): %s", e.Answer.Reason, e.Status, e.Answer.Error)
}

// submit posts one encoded transaction (POST /v1/transactions, binary).
func (c *ledgerClient) submit(ctx context.Context, raw []byte) error {
	resp, err := c.Submit(ctx, [][]byte{raw})
	var ae *client.APIError
	if errors.As(err, &ae) {
		ans := client.SubmitResponse{Reason: ae.Reason, Error: ae.Message}
		if resp != nil {
			ans = *resp
			ans.Reason = ae.Reason
		}
		return &submitRefused{Status: ae.Status, Answer: ans}
	}
	if err != nil {
		return err
	}
	if resp.Accepted != 1 {
		return &submitRefused{Status: http.StatusAccepted, Answer: *resp}
	}
	return nil
}

// receipt returns the receipt of tx, or ok false when the node has none
// (yet).
func (c *ledgerClient) receipt(ctx context.Context, tx crypto.Digest) (*client.ReceiptInfo, bool, error) {
	ri, ok, err := c.Receipt(ctx, tx)
	if err != nil {
		return nil, false, fmt.Errorf("receipt of %s: %w", tx, err)
	}
	if !ok {
		return nil, false, nil
	}
	if err := checkReceipt(ri, tx); err != nil {
		return nil, false, err
	}
	return ri, true, nil
}

// checkReceipt checks that the canonical receipt the node sent is the
// one of tx and says what its decoded fields say.
func checkReceipt(ri *client.ReceiptInfo, tx crypto.Digest) error {
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
func verifyStateValue(sv *client.StateValue, key []byte) (*provenValue, error) {
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
	ci, err := c.Commit(ctx, seq, client.CommitQuery{})
	if err != nil {
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
	sv, err := c.State(ctx, key, seq)
	if err != nil {
		return nil, fmt.Errorf("state %x: %w", key, err)
	}
	if seq > 0 && sv.Seq != seq {
		return nil, fmt.Errorf("%w: asked seq %d, the node answered for %d", errProof, seq, sv.Seq)
	}
	pv, err := verifyStateValue(sv, key)
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
	ai, err := c.Account(ctx, pk[:], seq, true)
	if err != nil {
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
