package engine

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/dagd/dagd/contracts"
	"github.com/dagd/dagd/crypto"
	"github.com/dagd/dagd/engine/apiserver"
	"github.com/dagd/dagd/engine/client"
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

// commitExecution returns the execution record of commit seq, nil when it
// is not executed (or the node does not execute).
func (n *Node) commitExecution(seq uint64) (*client.CommitExecution, error) {
	if n.exec == nil {
		return nil, nil
	}
	rec, ok, err := shard.ReadCommitRecord(n.exec.State(), seq)
	if err != nil || !ok {
		return nil, err
	}
	return &client.CommitExecution{StateRoot: rec.StateRoot.String(), TxRoot: rec.TxRoot.String(), ReceiptsRoot: rec.ReceiptsRoot.String(),
		Time: rec.Time, Counts: client.ExecCounts(rec.Counts)}, nil
}

func (n *Node) executorOr503(w http.ResponseWriter) bool {
	if n.exec == nil {
		apiserver.WriteError(w, http.StatusServiceUnavailable, "execution_disabled", "this node does not execute transactions")
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
		apiserver.WriteError(w, http.StatusBadRequest, ReasonBadRequest, fmt.Sprintf("transaction digest %q: want 64 hex characters", r.PathValue("tx")))
		return
	}
	rec, ok, err := shard.ReadReceipt(n.exec.State(), d)
	if err != nil {
		apiserver.WriteError(w, http.StatusInternalServerError, "internal", err.Error())
		return
	}
	if !ok {
		apiserver.WriteError(w, http.StatusNotFound, client.ReasonUnknownTx, fmt.Sprintf("no receipt for %s (last executed commit %d): not executed yet, dropped (duplicate, expired, malformed) or never committed", d, n.exec.Executed()))
		return
	}
	rc, err := contracts.DecodeReceipt(rec.Receipt)
	if err != nil {
		apiserver.WriteError(w, http.StatusInternalServerError, "internal", fmt.Sprintf("stored receipt: %v", err))
		return
	}
	out := client.ReceiptInfo{Tx: d.String(), Seq: rec.Seq, Index: rec.Index, Code: uint16(rc.Code), CodeName: rc.Code.String(), OK: rc.OK(),
		Reason: rc.Reason, Fee: strconv.FormatUint(rc.Fee, 10), Receipt: hex.EncodeToString(rec.Receipt)}
	for _, ev := range rc.Events {
		e := client.ReceiptEvent{Type: ev.Type}
		if len(ev.Attrs) > 0 {
			e.Attrs = make(map[string]string, len(ev.Attrs))
			for _, a := range ev.Attrs {
				e.Attrs[a.Key] = a.Value
			}
		}
		out.Events = append(out.Events, e)
	}
	if cr, ok, err := shard.ReadCommitRecord(n.exec.State(), rec.Seq); err == nil && ok {
		out.TxRoot, out.ReceiptsRoot = cr.TxRoot.String(), cr.ReceiptsRoot.String()
	}
	apiserver.WriteJSON(w, http.StatusOK, out)
}

// parseSeq reads ?seq=, defaulting to the last executed commit, and
// checks it can be served.
func (n *Node) parseSeq(w http.ResponseWriter, r *http.Request) (uint64, bool) {
	last := n.exec.State().Version()
	seq := last
	if s := r.URL.Query().Get("seq"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil || v == 0 {
			apiserver.WriteError(w, http.StatusBadRequest, ReasonBadRequest, fmt.Sprintf("seq %q: want a positive integer", s))
			return 0, false
		}
		seq = v
	}
	if seq == 0 || seq > last {
		apiserver.WriteError(w, http.StatusNotFound, "not_executed", fmt.Sprintf("commit %d is not executed (last executed %d)", seq, last))
		return 0, false
	}
	return seq, true
}

// stateValue reads key at seq with its proof.
func (n *Node) stateValue(w http.ResponseWriter, key []byte, seq uint64, withProof bool) (*client.StateValue, []byte, bool) {
	v, pf, err := n.exec.State().GetWithProof(key, seq)
	if errors.Is(err, state.ErrVersionUnavailable) {
		apiserver.WriteError(w, http.StatusGone, "pruned", fmt.Sprintf("the state of commit %d is no longer kept (the last %d are)", seq, n.opts.Execution.KeepVersions))
		return nil, nil, false
	}
	var root crypto.Digest
	if err == nil {
		root, err = n.exec.State().RootAt(seq)
	}
	if err != nil {
		apiserver.WriteError(w, http.StatusInternalServerError, "internal", err.Error())
		return nil, nil, false
	}
	sv := &client.StateValue{Key: hex.EncodeToString(key), Seq: seq, StateRoot: root.String(), Exists: v != nil}
	if v != nil {
		sv.Value = hex.EncodeToString(v)
	}
	if withProof {
		b, err := pf.MarshalBinary()
		if err != nil {
			apiserver.WriteError(w, http.StatusInternalServerError, "internal", err.Error())
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
		apiserver.WriteError(w, http.StatusBadRequest, ReasonBadRequest, fmt.Sprintf("key %.80q: want 1 to %d bytes in hex", ks, maxStateKeyBytes))
		return
	}
	seq, ok := n.parseSeq(w, r)
	if !ok {
		return
	}
	if sv, _, ok := n.stateValue(w, key, seq, true); ok {
		apiserver.WriteJSON(w, http.StatusOK, sv)
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
		apiserver.WriteError(w, http.StatusBadRequest, ReasonBadRequest, fmt.Sprintf("public key %.80q: want 64 hex characters", r.PathValue("pubkey")))
		return
	}
	withProof := false
	if s := r.URL.Query().Get("proof"); s != "" {
		if withProof, err = strconv.ParseBool(s); err != nil {
			apiserver.WriteError(w, http.StatusBadRequest, ReasonBadRequest, fmt.Sprintf("proof %q: want 0 or 1", s))
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
	out := client.AccountInfo{PublicKey: pk.String(), Exists: v != nil, Balance: "0", State: *sv}
	if v != nil {
		a, err := contracts.DecodeAccount(v)
		if err != nil {
			apiserver.WriteError(w, http.StatusInternalServerError, "internal", fmt.Sprintf("stored account: %v", err))
			return
		}
		out.Nonce, out.Balance = a.Nonce, strconv.FormatUint(a.Balance, 10)
	}
	apiserver.WriteJSON(w, http.StatusOK, out)
}
