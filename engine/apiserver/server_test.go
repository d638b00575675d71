package apiserver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"connectrpc.com/connect"

	"github.com/dagd/dagd/dag"
	dagdv1 "github.com/dagd/dagd/engine/api/dagd/v1"
	"github.com/dagd/dagd/engine/api/dagd/v1/dagdv1connect"
	"github.com/dagd/dagd/engine/client"
)

// get answers GET url with its status and body.
func get(t *testing.T, url string) (int, []byte) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

// getJSON decodes the answer of GET url into v; it fails unless 200.
func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	status, b := get(t, url)
	if status != http.StatusOK {
		t.Fatalf("GET %s: %d %s", url, status, b)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

// errorReason returns the reason of an ErrorBody.
func errorReason(t *testing.T, b []byte) string {
	t.Helper()
	var e client.ErrorBody
	if err := json.Unmarshal(b, &e); err != nil || e.Error == "" {
		t.Fatalf("refusal %q is not an ErrorBody with a message", b)
	}
	return e.Reason
}

// TestStatusHealthReady: /v1/status and GetStatus serve the node's
// status, /readyz and /healthz its readiness and health with their
// reasons.
func TestStatusHealthReady(t *testing.T) {
	env := newTestServer(t, func(o *Options) { o.Epoch = 7 })
	env.commits.add(map[dag.ValidatorID][][]byte{0: {[]byte("a")}})
	env.commits.add(nil)
	var st client.Status
	getJSON(t, env.url+"/v1/status", &st)
	if want := env.b.Status(); st.LastCommittedSeq != 2 || st.CommitDigest != want.CommitDigest || !st.LastCommitAt.Equal(want.LastCommitAt) {
		t.Errorf("status %+v, want %+v", st, want)
	}
	nc := dagdv1connect.NewNodeServiceClient(http.DefaultClient, env.url)
	resp, err := nc.GetStatus(context.Background(), connect.NewRequest(&dagdv1.GetStatusRequest{}))
	if err != nil {
		t.Fatal(err)
	}
	m := resp.Msg
	if m.LastCommittedSeq != 2 || m.ChainId != "fake" || m.Epoch != 7 || !m.Ready || m.Limits.GetMaxRequestTxs() != 20000 || len(m.CommitDigest) != 32 {
		t.Errorf("GetStatus %v", m)
	}
	if status, b := get(t, env.url+"/readyz"); status != http.StatusOK || !strings.Contains(string(b), "ready") {
		t.Errorf("/readyz of a ready node: %d %s", status, b)
	}
	env.b.ready.Store(false)
	if status, b := get(t, env.url+"/readyz"); status != http.StatusServiceUnavailable || errorReason(t, b) != "not_ready" || !strings.Contains(string(b), "no commit yet") {
		t.Errorf("/readyz of a node not ready: %d %s", status, b)
	}
	if status, b := get(t, env.url+"/healthz"); status != http.StatusOK {
		t.Errorf("/healthz of a healthy node: %d %s", status, b)
	}
	env.b.health.Store(&[2]string{"stalled", "event loop last ran 6s ago"})
	if status, b := get(t, env.url+"/healthz"); status != http.StatusServiceUnavailable || errorReason(t, b) != "stalled" || !strings.Contains(string(b), "6s ago") {
		t.Errorf("/healthz of a stalled node: %d %s", status, b)
	}
}

// TestCommitPaging: commits are served with the transactions asked
// (own: the node's batches only; a prefix of each), and an answer beyond
// MaxResponseBytes stops with a cursor (more and next_seq for a range,
// next_tx_offset within a commit) that a follower reads every
// transaction through; unknown and pruned commits are refused with their
// reason.
func TestCommitPaging(t *testing.T) {
	const limit = 100
	env := newTestServer(t, func(o *Options) { o.API.MaxResponseBytes = limit })
	want := map[string]bool{}
	var own, other [][]byte
	for c := 0; c < 6; c++ {
		own, other = nil, nil
		for i := 0; i < 3+c; i++ {
			tx := fmt.Appendf(nil, "own-%d-%d-%s", c, i, strings.Repeat("x", 10))
			own = append(own, tx)
			want[string(tx)] = true
			other = append(other, fmt.Appendf(nil, "other-%d-%d", c, i))
		}
		env.commits.add(map[dag.ValidatorID][][]byte{0: own, 1: other})
	}
	ranges, cut := 0, 0
	for next := uint64(1); next <= 6; {
		var cr client.CommitRange
		getJSON(t, fmt.Sprintf("%s/v1/commits?from=%d&limit=1000&txs=own", env.url, next), &cr)
		ranges++
		if cr.LastCommittedSeq != 6 || len(cr.Commits) == 0 {
			t.Fatalf("range from %d: %+v", next, cr)
		}
		size := 0
		for _, c := range cr.Commits {
			if c.Seq != next {
				t.Fatalf("range gave commit %d, want %d", c.Seq, next)
			}
			for _, tx := range c.Transactions {
				if !want[string(tx)] {
					t.Fatalf("commit %d: transaction %q not own, or twice", c.Seq, tx)
				}
				delete(want, string(tx))
				size += len(tx)
			}
			for off := c.NextTxOffset; off != nil; {
				cut++
				var ci client.CommitInfo
				getJSON(t, fmt.Sprintf("%s/v1/commits/%d?txs=own&tx_offset=%d", env.url, c.Seq, *off), &ci)
				if ci.TxOffset != *off || len(ci.Transactions) == 0 {
					t.Fatalf("commit %d from %d: offset %d, %d transactions", c.Seq, *off, ci.TxOffset, len(ci.Transactions))
				}
				for _, tx := range ci.Transactions {
					delete(want, string(tx))
				}
				off = ci.NextTxOffset
			}
			next = c.Seq + 1
		}
		if size > limit && len(cr.Commits) > 1 {
			t.Fatalf("range of %d commits with %d bytes of transactions, limit %d", len(cr.Commits), size, limit)
		}
		if cr.More {
			if cr.NextSeq != next {
				t.Fatalf("more from %d, next commit is %d", cr.NextSeq, next)
			}
		} else if next <= 6 {
			t.Fatalf("range stopped before %d without more", next)
		}
	}
	if len(want) != 0 || ranges < 3 || cut == 0 {
		t.Fatalf("%d transactions unread after %d ranges and %d cut commits", len(want), ranges, cut)
	}

	var ci client.CommitInfo
	getJSON(t, env.url+"/v1/commits/1?txs=all&tx_prefix=5", &ci)
	if ci.TxCount == nil || *ci.TxCount != 6 || ci.Batches == nil || *ci.Batches != 2 || len(ci.Transactions) != 6 || string(ci.Transactions[0]) != "own-0" {
		t.Fatalf("commit 1 with prefixes: %+v", ci)
	}
	var meta client.CommitInfo
	getJSON(t, env.url+"/v1/commits/2", &meta)
	if meta.Seq != 2 || meta.LeaderRound != 4 || len(meta.Transactions) != 0 || meta.TxCount == nil || *meta.TxCount != 8 {
		t.Fatalf("commit 2 without transactions: %+v", meta)
	}
	for _, c := range []struct {
		path   string
		status int
		reason string
	}{
		{"/v1/commits/7", http.StatusNotFound, "unknown_commit"},
		{"/v1/commits/0", http.StatusBadRequest, client.ReasonBadRequest},
		{"/v1/commits/1?txs=some", http.StatusBadRequest, client.ReasonBadRequest},
		{"/v1/commits?from=0", http.StatusBadRequest, client.ReasonBadRequest},
		{"/v1/commits?from=1&limit=1001", http.StatusBadRequest, client.ReasonBadRequest},
	} {
		if status, b := get(t, env.url+c.path); status != c.status || errorReason(t, b) != c.reason {
			t.Errorf("GET %s: %d %s, want %d %s", c.path, status, b, c.status, c.reason)
		}
	}
	env.commits.prune(1)
	if status, b := get(t, env.url+"/v1/commits/1?txs=all"); status != http.StatusGone || errorReason(t, b) != "pruned" {
		t.Errorf("pruned commit: %d %s", status, b)
	}
	if status, b := get(t, env.url+"/v1/commits/1"); status != http.StatusOK {
		t.Errorf("pruned commit without transactions: %d %s", status, b)
	}
}

// postTxs submits txs as JSON and returns the status, the Retry-After
// header and the answer.
func postTxs(t *testing.T, url string, txs ...[]byte) (int, string, client.SubmitResponse) {
	t.Helper()
	body, _ := json.Marshal(client.SubmitJSON{Transactions: txs})
	res, err := http.Post(url+"/v1/transactions", client.ContentTypeJSON, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var sr client.SubmitResponse
	if err := json.NewDecoder(res.Body).Decode(&sr); err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, res.Header.Get("Retry-After"), sr
}

// TestSubmitRefusals: the node's refusals (its Refusal errors) reach
// JSON and Connect clients with their reason, the accepted prefix and,
// when busy, a retry hint; the server's own checks count as invalid.
func TestSubmitRefusals(t *testing.T) {
	env := newTestServerSlots(t, 1, func(o *Options) { o.MaxTxSize = 16 })
	tx := func(s string) []byte { return []byte(s) }
	tc := dagdv1connect.NewTransactionServiceClient(http.DefaultClient, env.url)
	rpcSubmit := func(txs ...[]byte) (*dagdv1.SubmitRejection, error) {
		_, err := tc.SubmitTransactions(context.Background(), connect.NewRequest(&dagdv1.SubmitTransactionsRequest{Transactions: txs}))
		var cerr *connect.Error
		if !errors.As(err, &cerr) {
			return nil, err
		}
		for _, d := range cerr.Details() {
			if v, derr := d.Value(); derr == nil {
				if r, ok := v.(*dagdv1.SubmitRejection); ok {
					return r, err
				}
			}
		}
		return nil, err
	}

	if status, _, sr := postTxs(t, env.url, tx("a"), tx("b")); status != http.StatusAccepted || sr.Accepted != 2 {
		t.Fatalf("submission: %d %+v", status, sr)
	}
	status, _, sr := postTxs(t, env.url, tx("ok"), tx(strings.Repeat("x", 17)))
	if status != http.StatusRequestEntityTooLarge || sr.Reason != client.ReasonTxTooLarge || sr.Index == nil || *sr.Index != 1 {
		t.Errorf("oversized transaction: %d %+v", status, sr)
	}
	if got := env.b.invalid.Load(); got != 1 {
		t.Errorf("%d invalid submissions counted, want 1", got)
	}
	rej, err := rpcSubmit(tx("ok"), tx(""))
	if connect.CodeOf(err) != connect.CodeInvalidArgument || rej.GetReason() != dagdv1.RejectReason_REJECT_REASON_EMPTY_TX || rej.GetTxIndex() != 1 {
		t.Errorf("empty transaction over Connect: %v %v", rej, err)
	}

	// The node takes one more and refuses the rest: busy, retry.
	env.b.setCapacity(3)
	status, retry, sr := postTxs(t, env.url, tx("c"), tx("d"), tx("e"))
	if status != http.StatusServiceUnavailable || retry != "1" || sr.Reason != client.ReasonQueueFull || sr.Accepted != 1 || sr.Rejected != 2 || !strings.Contains(sr.Error, "fake: submission refused") {
		t.Errorf("queue full: %d retry %q %+v", status, retry, sr)
	}
	rej, err = rpcSubmit(tx("f"))
	if connect.CodeOf(err) != connect.CodeResourceExhausted || rej.GetReason() != dagdv1.RejectReason_REJECT_REASON_QUEUE_FULL || rej.GetRetryAfter() == nil {
		t.Errorf("queue full over Connect: %v %v", rej, err)
	}

	// The one submission slot is taken: too many requests.
	release, err := env.b.TakeSubmitSlot()
	if err != nil {
		t.Fatal(err)
	}
	status, retry, sr = postTxs(t, env.url, tx("g"))
	if status != http.StatusTooManyRequests || retry != "1" || sr.Reason != client.ReasonTooManyRequests || !strings.Contains(sr.Error, "MaxInflightRequests") {
		t.Errorf("no slot: %d retry %q %+v", status, retry, sr)
	}
	rej, err = rpcSubmit(tx("g"))
	if connect.CodeOf(err) != connect.CodeResourceExhausted || rej.GetReason() != dagdv1.RejectReason_REJECT_REASON_TOO_MANY_REQUESTS {
		t.Errorf("no slot over Connect: %v %v", rej, err)
	}
	release()

	// A stopping node.
	env.b.stop()
	if status, _, sr := postTxs(t, env.url, tx("h")); status != http.StatusServiceUnavailable || sr.Reason != client.ReasonStopped {
		t.Errorf("stopped node: %d %+v", status, sr)
	}
	if rej, err := rpcSubmit(tx("h")); connect.CodeOf(err) != connect.CodeUnavailable || rej.GetReason() != dagdv1.RejectReason_REJECT_REASON_STOPPED {
		t.Errorf("stopped node over Connect: %v %v", rej, err)
	}
}

// reasonName is the name of an API reason, as error messages spell it.
func reasonName(r dagdv1.RejectReason) string {
	return strings.ToLower(strings.TrimPrefix(r.String(), "REJECT_REASON_"))
}

// TestRPCRejectReasonsCovered: every refusal reason maps to its own API
// reason.
func TestRPCRejectReasonsCovered(t *testing.T) {
	seen := map[dagdv1.RejectReason]string{}
	for _, r := range []string{client.ReasonQueueFull, client.ReasonNodeBusy, client.ReasonTooManyRequests, client.ReasonTxTooLarge,
		client.ReasonEmptyTx, client.ReasonTooManyTxs, client.ReasonNoTxs, client.ReasonBadRequest, client.ReasonStopped} {
		api := rejectReason(r)
		if reasonName(api) != r {
			t.Errorf("reason %s maps to %s", r, api)
		}
		if prev, dup := seen[api]; dup {
			t.Errorf("reasons %s and %s both map to %s", prev, r, api)
		}
		seen[api] = r
	}
}
