package engine

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/dagd/dagd/contracts"
	"github.com/dagd/dagd/crypto"
	"github.com/dagd/dagd/shard"
	"github.com/dagd/dagd/state"
)

// maxStateKeyBytes bounds the key of GET /v1/state/{key} (the state's
// own key limit).
const maxStateKeyBytes = state.DefaultMaxKeySize

// mountExecution adds the execution endpoints: receipts, accounts and
// state with proofs.
func (n *Node) mountExecution(mux *http.ServeMux) {
	mux.Handle("GET /v1/receipts/{tx}", n.withRequestDeadlines(http.HandlerFunc(n.handleReceipt)))
	mux.Handle("GET /v1/accounts/{pubkey}", n.withRequestDeadlines(http.HandlerFunc(n.handleAccount)))
	mux.Handle("GET /v1/state/{key}", n.withRequestDeadlines(http.HandlerFunc(n.handleState)))
}

// CommitExecution is what the executor recorded of a commit, as the
// commit endpoints serve it.
type CommitExecution struct {
	StateRoot    string       `json:"state_root"`
	TxRoot       string       `json:"tx_root"`
	ReceiptsRoot string       `json:"receipts_root"`
	Time         uint64       `json:"exec_time_ms"`
	Counts       shard.Counts `json:"exec_counts"`
}

// commitExecution returns the execution record of commit seq, nil when it
// is not executed (or the node does not execute).
func (n *Node) commitExecution(seq uint64) (*CommitExecution, error) {
	if n.exec == nil {
		return nil, nil
	}
	rec, ok, err := shard.ReadCommitRecord(n.exec.st, seq)
	if err != nil || !ok {
		return nil, err
	}
	return &CommitExecution{StateRoot: rec.StateRoot.String(), TxRoot: rec.TxRoot.String(), ReceiptsRoot: rec.ReceiptsRoot.String(),
		Time: rec.Time, Counts: rec.Counts}, nil
}

// ReceiptInfo is the answer of GET /v1/receipts/{tx}.
type ReceiptInfo struct {
	Tx       string `json:"tx"`
	Seq      uint64 `json:"seq"`
	Index    uint32 `json:"index"`
	Code     uint16 `json:"code"`
	CodeName string `json:"code_name"`
	OK       bool   `json:"ok"`
	Reason   string `json:"reason,omitempty"`
	// Fee is the native amount charged, in decimal.
	Fee    string         `json:"fee"`
	Events []ReceiptEvent `json:"events,omitempty"`
	// Receipt is the canonical encoding (hex) that the commit's receipts
	// root commits to at leaf Index.
	Receipt      string `json:"receipt"`
	TxRoot       string `json:"tx_root,omitempty"`
	ReceiptsRoot string `json:"receipts_root,omitempty"`
}

// ReceiptEvent is an event of a receipt.
type ReceiptEvent struct {
	Type  string            `json:"type"`
	Attrs map[string]string `json:"attrs,omitempty"`
}

func (n *Node) executorOr503(w http.ResponseWriter) bool {
	if n.exec == nil {
		writeError(w, http.StatusServiceUnavailable, "execution_disabled", "this node does not execute transactions")
		return false
	}
	return true
}

func (n *Node) handleReceipt(w http.ResponseWriter, r *http.Request) {
	if !n.executorOr503(w) {
		return
	}
	d, err := crypto.ParseDigest(r.PathValue("tx"))
	if err != nil {
		writeError(w, http.StatusBadRequest, ReasonBadRequest, fmt.Sprintf("transaction digest %q: want 64 hex characters", r.PathValue("tx")))
		return
	}
	rec, ok, err := shard.ReadReceipt(n.exec.st, d)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "internal", err.Error())
		return
	}
	if !ok {
		writeError(w, http.StatusNotFound, "unknown_tx", fmt.Sprintf("no receipt for %s (last executed commit %d): not executed yet, dropped (duplicate, expired, malformed) or never committed", d, n.exec.executed.Load()))
		return
	}
	rc, err := contracts.DecodeReceipt(rec.Receipt)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "internal", fmt.Sprintf("stored receipt: %v", err))
		return
	}
	out := ReceiptInfo{Tx: d.String(), Seq: rec.Seq, Index: rec.Index, Code: uint16(rc.Code), CodeName: rc.Code.String(), OK: rc.OK(),
		Reason: rc.Reason, Fee: strconv.FormatUint(rc.Fee, 10), Receipt: hex.EncodeToString(rec.Receipt)}
	for _, ev := range rc.Events {
		e := ReceiptEvent{Type: ev.Type}
		if len(ev.Attrs) > 0 {
			e.Attrs = make(map[string]string, len(ev.Attrs))
			for _, a := range ev.Attrs {
				e.Attrs[a.Key] = a.Value
			}
		}
		out.Events = append(out.Events, e)
	}
	if cr, ok, err := shard.ReadCommitRecord(n.exec.st, rec.Seq); err == nil && ok {
		out.TxRoot, out.ReceiptsRoot = cr.TxRoot.String(), cr.ReceiptsRoot.String()
	}
	writeJSON(w, http.StatusOK, out)
}

// StateValue is the answer of GET /v1/state/{key}: the value of a key at
// an executed commit and the proof of it against that commit's state root.
type StateValue struct {
	Key       string `json:"key"`
	Seq       uint64 `json:"seq"`
	StateRoot string `json:"state_root"`
	Exists    bool   `json:"exists"`
	Value     string `json:"value,omitempty"`
	// Proof is the hex of the proof's binary encoding (package
	// state/proof: Unmarshal, then VerifyProof(state_root, key, value)),
	// an inclusion proof when Exists, else a non-inclusion proof.
	Proof string `json:"proof,omitempty"`
}

// AccountInfo is the answer of GET /v1/accounts/{pubkey}.
type AccountInfo struct {
	PublicKey string `json:"public_key"`
	Exists    bool   `json:"exists"`
	Nonce     uint64 `json:"nonce"`
	// Balance is the native balance in decimal.
	Balance string `json:"balance"`
	// State is the account's key and value with their proof (the proof
	// only with ?proof=1).
	State StateValue `json:"state"`
}

// parseSeq reads ?seq=, defaulting to the last executed commit, and
// checks it can be served.
func (n *Node) parseSeq(w http.ResponseWriter, r *http.Request) (uint64, bool) {
	last := n.exec.st.Version()
	seq := last
	if s := r.URL.Query().Get("seq"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil || v == 0 {
			writeError(w, http.StatusBadRequest, ReasonBadRequest, fmt.Sprintf("seq %q: want a positive integer", s))
			return 0, false
		}
		seq = v
	}
	if seq == 0 || seq > last {
		writeError(w, http.StatusNotFound, "not_executed", fmt.Sprintf("commit %d is not executed (last executed %d)", seq, last))
		return 0, false
	}
	return seq, true
}

// stateValue reads key at seq with its proof.
func (n *Node) stateValue(w http.ResponseWriter, key []byte, seq uint64, withProof bool) (*StateValue, []byte, bool) {
	v, pf, err := n.exec.st.GetWithProof(key, seq)
	if errors.Is(err, state.ErrVersionUnavailable) {
		writeError(w, http.StatusGone, "pruned", fmt.Sprintf("the state of commit %d is no longer kept (the last %d are)", seq, n.exec.opts.KeepVersions))
		return nil, nil, false
	}
	var root crypto.Digest
	if err == nil {
		root, err = n.exec.st.RootAt(seq)
	}
	if err != nil {
		writeError(w, http.StatusInternalServerError, "internal", err.Error())
		return nil, nil, false
	}
	sv := &StateValue{Key: hex.EncodeToString(key), Seq: seq, StateRoot: root.String(), Exists: v != nil}
	if v != nil {
		sv.Value = hex.EncodeToString(v)
	}
	if withProof {
		b, err := pf.MarshalBinary()
		if err != nil {
			writeError(w, http.StatusInternalServerError, "internal", err.Error())
			return nil, nil, false
		}
		sv.Proof = hex.EncodeToString(b)
	}
	return sv, v, true
}

func (n *Node) handleState(w http.ResponseWriter, r *http.Request) {
	if !n.executorOr503(w) {
		return
	}
	ks := r.PathValue("key")
	key, err := hex.DecodeString(ks)
	if err != nil || len(key) == 0 || len(key) > maxStateKeyBytes {
		writeError(w, http.StatusBadRequest, ReasonBadRequest, fmt.Sprintf("key %.80q: want 1 to %d bytes in hex", ks, maxStateKeyBytes))
		return
	}
	seq, ok := n.parseSeq(w, r)
	if !ok {
		return
	}
	if sv, _, ok := n.stateValue(w, key, seq, true); ok {
		writeJSON(w, http.StatusOK, sv)
	}
}

func (n *Node) handleAccount(w http.ResponseWriter, r *http.Request) {
	if !n.executorOr503(w) {
		return
	}
	raw, err := hex.DecodeString(r.PathValue("pubkey"))
	var pk crypto.AccountPublicKey
	if err == nil {
		pk, err = crypto.ParseAccountPublicKey(raw)
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, ReasonBadRequest, fmt.Sprintf("public key %.80q: want 64 hex characters", r.PathValue("pubkey")))
		return
	}
	withProof := false
	if s := r.URL.Query().Get("proof"); s != "" {
		if withProof, err = strconv.ParseBool(s); err != nil {
			writeError(w, http.StatusBadRequest, ReasonBadRequest, fmt.Sprintf("proof %q: want 0 or 1", s))
			return
		}
	}
	seq, ok := n.parseSeq(w, r)
	if !ok {
		return
	}
	sv, v, ok := n.stateValue(w, contracts.AccountKey(pk), seq, withProof)
	if !ok {
		return
	}
	out := AccountInfo{PublicKey: pk.String(), Exists: v != nil, Balance: "0", State: *sv}
	if v != nil {
		a, err := contracts.DecodeAccount(v)
		if err != nil {
			writeError(w, http.StatusInternalServerError, "internal", fmt.Sprintf("stored account: %v", err))
			return
		}
		out.Nonce, out.Balance = a.Nonce, strconv.FormatUint(a.Balance, 10)
	}
	writeJSON(w, http.StatusOK, out)
}
