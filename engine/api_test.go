package engine

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/dagd/dagd/crypto"
	"github.com/dagd/dagd/dag"
	"github.com/dagd/dagd/engine/client"
	"github.com/dagd/dagd/engine/execution"
	"github.com/dagd/dagd/internal/testwait"
)

// testOptions returns the options of validator self in a committee of n
// devnet keys connected through mem.
func testOptions(t testing.TB, n, self int, mem *MemNetwork) Options {
	t.Helper()
	var committee []Validator
	var bk *crypto.BLSPrivateKey
	var nk ed25519.PrivateKey
	for i := 0; i < n; i++ {
		b, k, err := DevnetKeys("api-test", i)
		if err != nil {
			t.Fatal(err)
		}
		if i == self {
			bk, nk = b, k
		}
		committee = append(committee, Validator{BLSPublicKey: b.PublicKey().Bytes(), ProofOfPossession: b.ProofOfPossession(),
			Stake: 1, NetworkKey: k.Public().(ed25519.PublicKey), Address: fmt.Sprintf("mem:%d", i)})
	}
	return Options{Self: dag.ValidatorID(self), Committee: committee, ChainID: "api-test", BLSKey: bk, NetworkKey: nk,
		DataDir: t.TempDir(), NewTransport: mem.Factory(), Execution: execution.Options{AdmitOpaque: true}}
}

func testOptionsF(f *testing.F) Options { return testOptions(f, 4, 0, NewMemNetwork(0)) }

type apiResult struct {
	status int
	body   client.SubmitResponse
	raw    string
	header http.Header
}

func post(t *testing.T, h http.Handler, ctype string, body []byte) apiResult {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/v1/transactions", bytes.NewReader(body))
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	res := apiResult{status: rec.Code, raw: rec.Body.String(), header: rec.Header()}
	if err := json.Unmarshal(rec.Body.Bytes(), &res.body); err != nil {
		t.Fatalf("answer %d is not JSON: %q", rec.Code, rec.Body.String())
	}
	return res
}

func jsonBody(txs ...[]byte) []byte {
	b, _ := json.Marshal(client.SubmitJSON{Transactions: txs})
	return b
}

func binaryBody(txs ...[]byte) []byte {
	var b []byte
	for _, tx := range txs {
		b = client.AppendBinaryTx(b, tx)
	}
	return b
}

// TestSubmitInvalid checks every refusal of malformed or oversize input:
// each has its status, its reason and, where it applies, the index of the
// offending transaction; nothing reaches the node.
func TestSubmitInvalid(t *testing.T) {
	o := testOptions(t, 4, 0, NewMemNetwork(0))
	o.DAG.MaxTxSize = 1000
	o.MaxRequestTxs = 10
	o.MaxRequestBytes = 8000
	n, err := New(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	h := n.Handler()
	big := bytes.Repeat([]byte("x"), 1001)
	ok := []byte("fine")
	many := make([][]byte, 11)
	for i := range many {
		many[i] = ok
	}
	trunc := binary.BigEndian.AppendUint32(nil, 10)
	trunc = append(trunc, "short"...)
	cases := []struct {
		name, ctype string
		body        []byte
		status      int
		reason      string
		index       int // -1: none
	}{
		{"oversize json", client.ContentTypeJSON, jsonBody(ok, big), 413, ReasonTxTooLarge, 1},
		{"oversize binary", client.ContentTypeBinary, binaryBody(ok, ok, big), 413, ReasonTxTooLarge, 2},
		{"empty tx", client.ContentTypeJSON, jsonBody(ok, []byte{}), 400, ReasonEmptyTx, 1},
		{"empty binary tx", client.ContentTypeBinary, binaryBody([]byte{}), 400, ReasonEmptyTx, 0},
		{"no txs", client.ContentTypeJSON, []byte(`{"transactions":[]}`), 400, ReasonNoTxs, -1},
		{"too many", client.ContentTypeJSON, jsonBody(many...), 413, ReasonTooManyTxs, -1},
		{"too many binary", client.ContentTypeBinary, binaryBody(many...), 413, ReasonTooManyTxs, -1},
		{"bad base64", client.ContentTypeJSON, []byte(`{"transactions":["%%%"]}`), 400, ReasonBadRequest, -1},
		{"not json", client.ContentTypeJSON, []byte(`transactions`), 400, ReasonBadRequest, -1},
		{"unknown field", client.ContentTypeJSON, []byte(`{"txs":["AAAA"]}`), 400, ReasonBadRequest, -1},
		{"trailing data", client.ContentTypeJSON, []byte(`{"transactions":["AAAA"]} {}`), 400, ReasonBadRequest, -1},
		{"truncated binary", client.ContentTypeBinary, trunc, 400, ReasonBadRequest, -1},
		{"truncated length", client.ContentTypeBinary, []byte{0, 0}, 400, ReasonBadRequest, -1},
		{"content type", "text/plain", []byte("hello"), 400, ReasonBadRequest, -1},
		{"body too large", client.ContentTypeBinary, bytes.Repeat([]byte{0, 0, 0, 1, 'x'}, 2000), 413, ReasonBodyTooLarge, -1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := post(t, h, c.ctype, c.body)
			if r.status != c.status || r.body.Reason != c.reason {
				t.Fatalf("got %d %q, want %d %q: %s", r.status, r.body.Reason, c.status, c.reason, r.raw)
			}
			if r.body.Accepted != 0 {
				t.Errorf("accepted %d of an invalid request", r.body.Accepted)
			}
			if r.body.Error == "" {
				t.Error("refusal without an explanation")
			}
			switch {
			case c.index < 0 && r.body.Index != nil:
				t.Errorf("index %d, want none", *r.body.Index)
			case c.index >= 0 && (r.body.Index == nil || *r.body.Index != c.index):
				t.Errorf("index %v, want %d", r.body.Index, c.index)
			}
		})
	}
	if got := len(n.submitCh); got != 0 {
		t.Errorf("%d invalid requests reached the node", got)
	}
}

// TestSubmitBusy checks the admission limits: a full submission queue
// answers 503 queue_full, too many requests in flight 429, a worker with
// too many pending batches 503 node_busy with the accepted prefix; all
// with Retry-After.
func TestSubmitBusy(t *testing.T) {
	t.Run("queue full and in flight", func(t *testing.T) {
		o := testOptions(t, 4, 0, NewMemNetwork(0))
		o.SubmitQueue = 1
		o.MaxInflightRequests = 1
		n, err := New(context.Background(), o) // never run: nothing drains the queue
		if err != nil {
			t.Fatal(err)
		}
		defer n.Close()
		h := n.Handler()
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		_, err = n.Submit(ctx, [][]byte{[]byte("first")})
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("first submit: %v, want a timeout while it waits in the queue", err)
		}
		r := post(t, h, client.ContentTypeJSON, jsonBody([]byte("second")))
		if r.status != http.StatusServiceUnavailable || r.body.Reason != ReasonQueueFull || r.header.Get("Retry-After") == "" {
			t.Fatalf("full queue: %d %s", r.status, r.raw)
		}
		// Hold the only in-flight slot with a request that cannot finish.
		if !n.inflight.TryAcquire(1) {
			t.Fatal("in-flight slot taken")
		}
		r = post(t, h, client.ContentTypeJSON, jsonBody([]byte("third")))
		n.inflight.Release(1)
		if r.status != http.StatusTooManyRequests || r.body.Reason != ReasonTooManyRequests || r.header.Get("Retry-After") == "" {
			t.Fatalf("in flight: %d %s", r.status, r.raw)
		}
	})
	t.Run("worker busy", func(t *testing.T) {
		mem := NewMemNetwork(0)
		o := testOptions(t, 4, 0, mem) // peers never start: no batch is ever acknowledged
		o.DAG.MaxPendingBatches = 2
		o.DAG.BatchSize = 100
		n := runLoneNode(t, o)
		tx := bytes.Repeat([]byte("b"), 100) // each seals a batch
		r := post(t, n.Handler(), client.ContentTypeBinary, binaryBody(tx, tx, tx, tx))
		if r.status != http.StatusServiceUnavailable || r.body.Reason != ReasonNodeBusy || r.body.Accepted != 2 || r.body.Rejected != 2 {
			t.Fatalf("busy worker: %d %s", r.status, r.raw)
		}
		if r.header.Get("Retry-After") == "" {
			t.Error("no Retry-After")
		}
		if !strings.Contains(r.body.Error, "limit 2") {
			t.Errorf("reason does not say why: %q", r.body.Error)
		}
	})
}

func get(t *testing.T, h http.Handler, url string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, url, nil))
	return rec.Code, rec.Body.String()
}

// TestAPIOverHTTP runs a devnet with APIs on loopback and checks the
// read endpoints and a JSON submission end to end.
func TestAPIOverHTTP(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	d, err := StartDevnet(ctx, DevnetOptions{BaseDir: t.TempDir(), API: true, InMemoryNetwork: true})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	base := "http://" + d.Node(1).APIAddr()
	sub := d.Node(1).Subscribe(SubscribeOptions{Transactions: client.TxOwn})
	defer sub.Close()

	// Submit a pair over HTTP; if it has not committed after a few
	// seconds (a batch of an orphaned certificate commits only once it
	// is proposed again, after garbage collection), submit a fresh pair.
	var txs [][]byte
	submit := func(try int) {
		txs = [][]byte{fmt.Appendf(nil, "over-http-%d-1", try), fmt.Appendf(nil, "over-http-%d-2", try)}
		resp, err := http.Post(base+"/v1/transactions", client.ContentTypeJSON, bytes.NewReader(jsonBody(txs...)))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted || !strings.Contains(string(body), `"accepted":2`) {
			t.Fatalf("submit: %s %s", resp.Status, body)
		}
	}
	try := 0
	submit(try)
	var seq uint64
	var digest crypto.Digest
	deadline := time.After(testwait.Timeout(t, testTimeout))
	retry := time.NewTicker(5 * time.Second)
	defer retry.Stop()
	for seq == 0 {
		select {
		case c := <-sub.C():
			for _, b := range c.Batches {
				for _, tx := range b.Transactions {
					if bytes.Equal(tx, txs[0]) {
						seq, digest = c.Seq, c.Digest
					}
				}
			}
		case <-retry.C:
			try++
			t.Logf("pair %d not committed after 5 s; submitting another", try-1)
			submit(try)
		case <-deadline:
			t.Fatal("transactions not committed")
		}
	}
	getJSON := func(url string, v any) int {
		resp, err := http.Get(base + url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if v != nil && resp.StatusCode == http.StatusOK {
			if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
				t.Fatalf("GET %s: %v", url, err)
			}
		}
		return resp.StatusCode
	}
	var ci client.CommitInfo
	if code := getJSON(fmt.Sprintf("/v1/commits/%d?txs=own", seq), &ci); code != http.StatusOK {
		t.Fatalf("GET commit %d: %d", seq, code)
	}
	if ci.Seq != seq || ci.Digest != digest.String() {
		t.Errorf("commit %d: %+v, want digest %s", seq, ci, digest)
	}
	found := false
	for _, tx := range ci.Transactions {
		found = found || bytes.Equal(tx, txs[1])
	}
	if !found {
		t.Errorf("commit %d does not list the submitted transaction", seq)
	}
	var prefixed client.CommitInfo
	getJSON(fmt.Sprintf("/v1/commits/%d?txs=all&tx_prefix=4", seq), &prefixed)
	for _, tx := range prefixed.Transactions {
		if len(tx) > 4 {
			t.Errorf("tx_prefix=4 returned %d bytes", len(tx))
		}
	}
	var rng client.CommitRange
	if code := getJSON(fmt.Sprintf("/v1/commits?from=%d&limit=3", seq), &rng); code != http.StatusOK || len(rng.Commits) == 0 || rng.Commits[0].Seq != seq {
		t.Errorf("range from %d: %d %+v", seq, code, rng)
	}
	if code := getJSON("/v1/commits/999999999", nil); code != http.StatusNotFound {
		t.Errorf("unknown seq: %d, want 404", code)
	}
	for _, bad := range []string{"/v1/commits/abc", "/v1/commits/0", "/v1/commits/1?txs=some", "/v1/commits?from=x", "/v1/commits?from=1&limit=100000"} {
		if code := getJSON(bad, nil); code != http.StatusBadRequest {
			t.Errorf("GET %s: %d, want 400", bad, code)
		}
	}
	var st client.Status
	if code := getJSON("/v1/status", &st); code != http.StatusOK || st.LastCommittedSeq < seq || st.CommitDigest == "" || st.Validator != 1 {
		t.Errorf("status: %d %+v", code, st)
	}
	testwait.Until(t, testTimeout, "readyz", func() bool { return getJSON("/readyz", nil) == http.StatusOK })
	if code := getJSON("/healthz", nil); code != http.StatusOK {
		t.Errorf("healthz: %d", code)
	}
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, m := range []string{"dagd_commits_total", "dagd_committed_transactions_total", "dagd_commit_latency_seconds_bucket",
		"dagd_round", "dagd_peers_connected 3", "dagd_queue_depth{queue=\"submit\"}"} {
		if !bytes.Contains(metrics, []byte(m)) {
			t.Errorf("/metrics lacks %s", m)
		}
	}
	if code := getJSON("/debug/pprof/", nil); code == http.StatusOK {
		t.Error("pprof served without EnablePprof")
	}
}

// TestReadyzNotReady: a node alone is healthy but not ready.
func TestReadyzNotReady(t *testing.T) {
	o := testOptions(t, 4, 0, NewMemNetwork(0))
	n := runLoneNode(t, o)
	testwait.Until(t, testTimeout, "healthz", func() bool { c, _ := get(t, n.Handler(), "/healthz"); return c == http.StatusOK })
	code, body := get(t, n.Handler(), "/readyz")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "no quorum") {
		t.Errorf("readyz of a lone node: %d %s", code, body)
	}
}

// runLoneNode starts a node of o and runs it until the test ends.
func runLoneNode(t *testing.T, o Options) *Node {
	t.Helper()
	n, err := New(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return n
}
