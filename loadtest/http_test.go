package loadtest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dagd/dagd/engine/client"
)

// TestFollowReadsCutCommits: a node cuts a commit's transactions at its
// response size limit (next_tx_offset); the follower must ask for the
// rest, not report the commit with part of its transactions.
func TestFollowReadsCutCommits(t *testing.T) {
	txs := make([][]byte, 7)
	for i := range txs {
		txs[i] = []byte(fmt.Sprintf("transaction %d", i))
	}
	const cut = 3 // transactions per answer
	page := func(off int) *client.CommitInfo {
		c := &client.CommitInfo{Seq: 1, Digest: strings.Repeat("ab", 32), TxOffset: off}
		end := min(off+cut, len(txs))
		c.Transactions = txs[off:end]
		if end < len(txs) {
			c.NextTxOffset = &end
		}
		return c
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/status", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(&client.Status{LastCommittedSeq: 0})
	})
	mux.HandleFunc("GET /v1/commits", func(w http.ResponseWriter, r *http.Request) {
		cr := &client.CommitRange{LastCommittedSeq: 1}
		if r.URL.Query().Get("from") == "1" {
			cr.Commits = []*client.CommitInfo{page(0)}
		}
		_ = json.NewEncoder(w).Encode(cr)
	})
	mux.HandleFunc("GET /v1/commits/{seq}", func(w http.ResponseWriter, r *http.Request) {
		off, err := strconv.Atoi(r.URL.Query().Get("tx_offset"))
		if r.PathValue("seq") != "1" || err != nil || off < 0 || off >= len(txs) {
			http.Error(w, `{"reason":"bad_request"}`, http.StatusBadRequest)
			return
		}
		_ = json.NewEncoder(w).Encode(page(off))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	target, err := NewHTTPTarget([]string{strings.TrimPrefix(srv.URL, "http://")}, HTTPOptions{PollInterval: time.Millisecond, FullTransactions: true})
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan Observation, 1)
	stop, err := target.Follow(context.Background(), func(o Observation) { got <- o })
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	o := <-got
	if o.Seq != 1 || len(o.Txs) != len(txs) {
		t.Fatalf("commit %d reported with %d of its %d transactions", o.Seq, len(o.Txs), len(txs))
	}
	for i := range txs {
		if string(o.Txs[i]) != string(txs[i]) {
			t.Fatalf("transaction %d: %q, want %q", i, o.Txs[i], txs[i])
		}
	}
}
