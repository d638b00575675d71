package engine

import (
	"bytes"
	"context"
	cryptorand "crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"

	dagdv1 "github.com/dagd/dagd/engine/api/dagd/v1"
	"github.com/dagd/dagd/engine/api/dagd/v1/dagdv1connect"
	"github.com/dagd/dagd/engine/client"
	"github.com/dagd/dagd/internal/testwait"
)

// protoLog records the HTTP protocol of every response a client gets.
type protoLog struct {
	rt     http.RoundTripper
	mu     sync.Mutex
	protos map[string]int
}

func (p *protoLog) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := p.rt.RoundTrip(r)
	if err == nil {
		p.mu.Lock()
		p.protos[resp.Proto]++
		p.mu.Unlock()
	}
	return resp, err
}

func (p *protoLog) only(t *testing.T, want string) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.protos) != 1 || p.protos[want] == 0 {
		t.Errorf("responses came over %v, want only %s", p.protos, want)
	}
}

// rpcClient is the generated clients of one node over one transport.
type rpcClient struct {
	name   string
	proto  string // the HTTP protocol its responses must use
	log    *protoLog
	hc     *http.Client
	tx     dagdv1connect.TransactionServiceClient
	node   dagdv1connect.NodeServiceClient
	commit dagdv1connect.CommitServiceClient
}

// newRPCClient dials base over HTTP/1.1 or, with h2c, cleartext HTTP/2.
func newRPCClient(t *testing.T, name, base string, h2c bool, opts ...connect.ClientOption) *rpcClient {
	t.Helper()
	tr := &http.Transport{Protocols: new(http.Protocols)}
	want := "HTTP/1.1"
	if h2c {
		tr.Protocols.SetUnencryptedHTTP2(true)
		want = "HTTP/2.0"
	} else {
		tr.Protocols.SetHTTP1(true)
	}
	t.Cleanup(tr.CloseIdleConnections)
	log := &protoLog{rt: tr, protos: map[string]int{}}
	hc := &http.Client{Transport: log}
	return &rpcClient{name: name, proto: want, log: log, hc: hc,
		tx:     dagdv1connect.NewTransactionServiceClient(hc, base, opts...),
		node:   dagdv1connect.NewNodeServiceClient(hc, base, opts...),
		commit: dagdv1connect.NewCommitServiceClient(hc, base, opts...)}
}

// serveNode serves n's API, as the node's own listener does, on a test
// server (for nodes that never run).
func serveNode(t *testing.T, n *Node) string {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	srv.Config = n.api.HTTPServer()
	srv.Start()
	t.Cleanup(srv.Close)
	return srv.URL
}

// rejection returns the SubmitRejection detail of err, or nil.
func rejection(t *testing.T, err error) *dagdv1.SubmitRejection {
	t.Helper()
	var cerr *connect.Error
	if !errors.As(err, &cerr) {
		t.Fatalf("error %v is not a connect error", err)
	}
	for _, d := range cerr.Details() {
		v, derr := d.Value()
		if derr != nil {
			t.Fatalf("detail %s: %v", d.Type(), derr)
		}
		if r, ok := v.(*dagdv1.SubmitRejection); ok {
			return r
		}
	}
	return nil
}

// cursorDetail returns the CursorError detail of err, or nil.
func cursorDetail(t *testing.T, err error) *dagdv1.CursorError {
	t.Helper()
	var cerr *connect.Error
	if !errors.As(err, &cerr) {
		t.Fatalf("error %v is not a connect error", err)
	}
	for _, d := range cerr.Details() {
		if v, derr := d.Value(); derr == nil {
			if c, ok := v.(*dagdv1.CursorError); ok {
				return c
			}
		}
	}
	return nil
}

func submitRPC(ctx context.Context, c *rpcClient, txs ...[]byte) (*connect.Response[dagdv1.SubmitTransactionsResponse], error) {
	return c.tx.SubmitTransactions(ctx, connect.NewRequest(&dagdv1.SubmitTransactionsRequest{Transactions: txs}))
}

// TestRPCSubmitInvalid: bad submissions get InvalidArgument with the
// reason and the offending transaction, an oversize message
// ResourceExhausted without a rejection detail (not to be retried), over
// HTTP/1.1 and h2c, Connect and gRPC.
func TestRPCSubmitInvalid(t *testing.T) {
	o := testOptions(t, 4, 0, NewMemNetwork(0))
	o.MaxRequestTxs = 3
	o.DAG.MaxTxSize = 1000
	o.MaxRequestBytes = 4000
	n, err := New(context.Background(), o) // admission checks need no running loop
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	base := serveNode(t, n)
	ok := []byte("fine")
	clients := []*rpcClient{
		newRPCClient(t, "connect/http1", base, false),
		newRPCClient(t, "connect/h2c", base, true),
		newRPCClient(t, "grpc/h2c", base, true, connect.WithGRPC()),
		newRPCClient(t, "connect-json/http1", base, false, connect.WithProtoJSON()),
	}
	for _, c := range clients {
		t.Run(c.name, func(t *testing.T) {
			cases := []struct {
				name   string
				txs    [][]byte
				reason dagdv1.RejectReason
				index  int // -1: none
			}{
				{"no transactions", nil, dagdv1.RejectReason_REJECT_REASON_NO_TXS, -1},
				{"empty transaction", [][]byte{ok, {}}, dagdv1.RejectReason_REJECT_REASON_EMPTY_TX, 1},
				{"oversize transaction", [][]byte{ok, ok, make([]byte, 1001)}, dagdv1.RejectReason_REJECT_REASON_TX_TOO_LARGE, 2},
				{"too many transactions", [][]byte{ok, ok, ok, ok}, dagdv1.RejectReason_REJECT_REASON_TOO_MANY_TXS, -1},
			}
			for _, tc := range cases {
				_, err := submitRPC(context.Background(), c, tc.txs...)
				if connect.CodeOf(err) != connect.CodeInvalidArgument {
					t.Errorf("%s: %v, want InvalidArgument", tc.name, err)
					continue
				}
				r := rejection(t, err)
				if r == nil || r.Reason != tc.reason || r.Accepted != 0 || r.RetryAfter != nil {
					t.Errorf("%s: rejection %v, want %s", tc.name, r, tc.reason)
					continue
				}
				if (tc.index < 0) != (r.TxIndex == nil) || (tc.index >= 0 && int(r.GetTxIndex()) != tc.index) {
					t.Errorf("%s: tx_index %v, want %d", tc.name, r.TxIndex, tc.index)
				}
				if !strings.Contains(err.Error(), reasonName(tc.reason)) {
					t.Errorf("%s: message %q does not name the reason", tc.name, err)
				}
			}
			// A message above MaxRequestBytes is refused by the RPC layer.
			big := bytes.Repeat([]byte("x"), 900)
			_, err := submitRPC(context.Background(), c, big, big, big, big, big)
			if connect.CodeOf(err) != connect.CodeResourceExhausted || rejection(t, err) != nil {
				t.Errorf("oversize message: %v, want ResourceExhausted without a rejection detail", err)
			}
			c.log.only(t, c.proto)
		})
	}
}

// TestRPCSubmitBusy: a full queue, too many submissions in flight (the
// JSON API's slots) and a busy worker answer ResourceExhausted with a
// retry hint, and the accepted prefix.
func TestRPCSubmitBusy(t *testing.T) {
	t.Run("queue full and in flight", func(t *testing.T) {
		o := testOptions(t, 4, 0, NewMemNetwork(0))
		o.SubmitQueue = 1
		o.MaxInflightRequests = 1
		n, err := New(context.Background(), o) // never run: nothing drains the queue
		if err != nil {
			t.Fatal(err)
		}
		defer n.Close()
		base := serveNode(t, n)
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		_, err = n.Submit(ctx, [][]byte{[]byte("first")})
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("first submit: %v, want a timeout while it waits in the queue", err)
		}
		check := func(c *rpcClient, err error, reason dagdv1.RejectReason) {
			t.Helper()
			if connect.CodeOf(err) != connect.CodeResourceExhausted {
				t.Fatalf("%s: %v, want ResourceExhausted", c.name, err)
			}
			r := rejection(t, err)
			if r == nil || r.Reason != reason || r.RetryAfter.AsDuration() != time.Second {
				t.Fatalf("%s: rejection %v, want %s with retry_after 1s", c.name, r, reason)
			}
			var cerr *connect.Error
			errors.As(err, &cerr)
			if cerr.Meta().Get("Retry-After") != "1" {
				t.Errorf("%s: Retry-After %q", c.name, cerr.Meta().Get("Retry-After"))
			}
		}
		for _, c := range []*rpcClient{newRPCClient(t, "connect/http1", base, false), newRPCClient(t, "grpc/h2c", base, true, connect.WithGRPC())} {
			_, err := submitRPC(context.Background(), c, []byte("second"))
			check(c, err, dagdv1.RejectReason_REJECT_REASON_QUEUE_FULL)
			if !n.inflight.TryAcquire(1) { // the only slot, as a JSON submission would hold it
				t.Fatal("in-flight slot taken")
			}
			_, err = submitRPC(context.Background(), c, []byte("third"))
			n.inflight.Release(1)
			check(c, err, dagdv1.RejectReason_REJECT_REASON_TOO_MANY_REQUESTS)
		}
	})
	t.Run("worker busy", func(t *testing.T) {
		o := testOptions(t, 4, 0, NewMemNetwork(0)) // peers never start: no batch is ever acknowledged
		o.DAG.MaxPendingBatches = 2
		o.DAG.BatchSize = 100
		n := runLoneNode(t, o)
		base := serveNode(t, n)
		tx := bytes.Repeat([]byte("b"), 100) // each seals a batch
		c := newRPCClient(t, "connect/h2c", base, true)
		_, err := submitRPC(context.Background(), c, tx, tx, tx, tx)
		if connect.CodeOf(err) != connect.CodeResourceExhausted {
			t.Fatalf("busy worker: %v, want ResourceExhausted", err)
		}
		r := rejection(t, err)
		if r == nil || r.Reason != dagdv1.RejectReason_REJECT_REASON_NODE_BUSY || r.Accepted != 2 || r.RetryAfter == nil || r.TxIndex != nil {
			t.Fatalf("busy worker: rejection %v", r)
		}
		if !strings.Contains(err.Error(), "limit 2") {
			t.Errorf("message does not say why: %q", err)
		}
	})
}

// TestRPCStreamLimitsAndStop: streams beyond MaxCommitStreams are refused,
// a cursor beyond the next commit is OutOfRange, and a stopping node ends
// its streams with Unavailable.
func TestRPCStreamLimitsAndStop(t *testing.T) {
	o := testOptions(t, 4, 0, NewMemNetwork(0))
	o.RPC.MaxCommitStreams = 1
	n, err := New(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	defer func() {
		if !closed {
			n.Close()
		}
	}()
	base := serveNode(t, n)
	c := newRPCClient(t, "connect/h2c", base, true)
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()

	s, err := c.commit.StreamCommits(ctx, connect.NewRequest(&dagdv1.StreamCommitsRequest{FromSeq: 2}))
	if err == nil && !s.Receive() {
		err = s.Err()
	}
	if connect.CodeOf(err) != connect.CodeOutOfRange {
		t.Fatalf("from_seq 2 on a node without commits: %v, want OutOfRange", err)
	}
	if cd := cursorDetail(t, err); cd == nil || cd.Seq != 2 || cd.LastCommittedSeq != 0 {
		t.Errorf("cursor detail %v", cd)
	}
	s.Close()

	// Follow from now: the node makes no commit, the stream waits.
	follow, err := c.commit.StreamCommits(ctx, connect.NewRequest(&dagdv1.StreamCommitsRequest{}))
	if err != nil {
		t.Fatal(err)
	}
	testwait.Until(t, testTimeout, "the stream to start", func() bool { return n.api.OpenStreams() == 1 })
	second, err := c.commit.StreamCommits(ctx, connect.NewRequest(&dagdv1.StreamCommitsRequest{}))
	if err == nil && !second.Receive() {
		err = second.Err()
	}
	if connect.CodeOf(err) != connect.CodeResourceExhausted || !strings.Contains(err.Error(), "streams") {
		t.Errorf("second stream: %v, want ResourceExhausted", err)
	}
	if !follow.Receive() || follow.Msg().Commit != nil || follow.Msg().HeadSeq != 0 {
		t.Fatalf("stream did not open with a heartbeat: %v %v", follow.Msg(), follow.Err())
	}
	got := make(chan error, 1)
	go func() {
		for follow.Receive() {
		}
		got <- follow.Err()
	}()
	closed = true
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-got:
		if connect.CodeOf(err) != connect.CodeUnavailable {
			t.Errorf("stream of a stopped node: %v, want Unavailable", err)
		}
	case <-time.After(testwait.Timeout(t, testTimeout)):
		t.Fatal("stream did not end with the node")
	}
}

// streamedCommit is a commit reassembled from a stream.
type streamedCommit struct {
	c        *dagdv1.Commit
	txs      [][]byte
	messages int
}

// commitReader reads whole commits from a stream.
type commitReader struct {
	s          *connect.ServerStreamForClient[dagdv1.StreamCommitsResponse]
	withTxs    bool
	heartbeats int
}

func (r *commitReader) next() (*streamedCommit, error) {
	var m *dagdv1.StreamCommitsResponse
	for m == nil {
		if !r.s.Receive() {
			if err := r.s.Err(); err != nil {
				return nil, err
			}
			return nil, io.EOF
		}
		m = r.s.Msg()
		if m.Commit == nil && len(m.Transactions) == 0 {
			r.heartbeats++
			m = nil
		}
	}
	if m.Commit == nil || m.TxOffset != 0 {
		return nil, fmt.Errorf("commit message without a commit (offset %d)", m.TxOffset)
	}
	sc := &streamedCommit{c: m.Commit, txs: m.Transactions, messages: 1}
	if !r.withTxs {
		if len(m.Transactions) > 0 {
			return nil, fmt.Errorf("commit %d: transactions not asked for", sc.c.Seq)
		}
		return sc, nil
	}
	for uint64(len(sc.txs)) < sc.c.TxCount {
		if !r.s.Receive() {
			return nil, fmt.Errorf("commit %d: stream ended after %d of %d transactions: %w", sc.c.Seq, len(sc.txs), sc.c.TxCount, r.s.Err())
		}
		m := r.s.Msg()
		if m.Commit != nil || m.TxOffset != uint64(len(sc.txs)) || len(m.Transactions) == 0 {
			return nil, fmt.Errorf("commit %d: continuation with commit %v at offset %d, want offset %d", sc.c.Seq, m.Commit != nil, m.TxOffset, len(sc.txs))
		}
		sc.txs = append(sc.txs, m.Transactions...)
		sc.messages++
	}
	if uint64(len(sc.txs)) != sc.c.TxCount {
		return nil, fmt.Errorf("commit %d: %d transactions, tx_count %d", sc.c.Seq, len(sc.txs), sc.c.TxCount)
	}
	return sc, nil
}

func openStream(ctx context.Context, t *testing.T, c *rpcClient, from uint64, withTxs bool) *commitReader {
	t.Helper()
	s, err := c.commit.StreamCommits(ctx, connect.NewRequest(&dagdv1.StreamCommitsRequest{FromSeq: from, IncludeTransactions: withTxs}))
	if err != nil {
		t.Fatalf("%s: StreamCommits from %d: %v", c.name, from, err)
	}
	t.Cleanup(func() { s.Close() })
	return &commitReader{s: s, withTxs: withTxs}
}

// getCommitJSON reads GET /v1/commits/{seq}?txs=all.
func getCommitJSON(t *testing.T, base string, seq uint64) client.CommitInfo {
	t.Helper()
	resp, err := http.Get(fmt.Sprintf("%s/v1/commits/%d?txs=all", base, seq))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var ci client.CommitInfo
	if err := json.NewDecoder(resp.Body).Decode(&ci); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET commit %d: %s %v", seq, resp.Status, err)
	}
	return ci
}

// TestRPCOverHTTP runs a devnet with APIs on loopback: submissions over
// Connect (HTTP/1.1 and h2c) and gRPC commit; StreamCommits from 1 sends
// consecutive commits equal to the JSON API's, with their transactions in
// chunks; a resumed stream has no gap and no duplicate; status and
// commits over NodeService; garbage on every endpoint gets a clear error
// and the node goes on committing.
func TestRPCOverHTTP(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*testTimeout)
	defer cancel()
	const chunk = 120
	d, err := StartDevnet(ctx, DevnetOptions{BaseDir: t.TempDir(), API: true, InMemoryNetwork: true,
		Configure: func(_ int, o *Options) { o.RPC.StreamChunkBytes = chunk }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() }) // after the streams (cleanups run last first)
	base := "http://" + d.Node(1).APIAddr()
	clients := []*rpcClient{
		newRPCClient(t, "connect/http1", base, false),
		newRPCClient(t, "connect/h2c", base, true),
		newRPCClient(t, "grpc/h2c", base, true, connect.WithGRPC()),
	}
	main := clients[1]
	stream := openStream(ctx, t, main, 1, true)

	// Submit through every client; follow the stream from commit 1 until
	// every submission committed (resubmitting a fresh set after a while:
	// a batch of an orphaned certificate commits late, once proposed again).
	pending := map[string]string{} // tx -> client
	submitAllClients := func(try int) {
		for _, c := range clients {
			var txs [][]byte
			for i := range 3 {
				tx := testTx(fmt.Sprintf("rpc-%s-%d", c.name, try), i, 50)
				txs = append(txs, tx)
				pending[string(tx)] = c.name
			}
			resp, err := submitRPC(ctx, c, txs...)
			if err != nil || resp.Msg.Accepted != 3 {
				t.Fatalf("%s: submit: %v %v", c.name, resp, err)
			}
		}
	}
	submitAllClients(0)
	committedBy := map[string]bool{}
	var seen []*streamedCommit
	chunked := 0
	retry := time.Now().Add(5 * time.Second)
	for try := 0; len(committedBy) < len(clients); {
		sc, err := stream.next()
		if err != nil {
			t.Fatalf("stream: %v", err)
		}
		if want := uint64(len(seen) + 1); sc.c.Seq != want {
			t.Fatalf("stream sent commit %d, want %d", sc.c.Seq, want)
		}
		seen = append(seen, sc)
		if sc.messages > 1 {
			chunked++
		}
		for _, tx := range sc.txs {
			if name, ok := pending[string(tx)]; ok {
				committedBy[name] = true
			}
		}
		if time.Now().After(retry) && len(committedBy) < len(clients) {
			try++
			t.Logf("not all submissions committed after 5 s (%v); submitting again", committedBy)
			submitAllClients(try)
			retry = time.Now().Add(5 * time.Second)
		}
	}
	if chunked == 0 {
		t.Errorf("no commit was split over several messages with StreamChunkBytes %d", chunk)
	}
	for _, c := range clients {
		c.log.only(t, c.proto)
	}

	// Every streamed commit equals the JSON API's.
	for _, sc := range seen {
		ci := getCommitJSON(t, base, sc.c.Seq)
		if hex.EncodeToString(sc.c.Digest) != ci.Digest || sc.c.LeaderRound != ci.LeaderRound || sc.c.TimestampMs != ci.Timestamp ||
			int(sc.c.Certificates) != ci.Certificates || ci.TxCount == nil || uint64(*ci.TxCount) != sc.c.TxCount || len(sc.c.Batches) != *ci.Batches {
			t.Fatalf("commit %d: streamed %v, JSON %+v", sc.c.Seq, sc.c, ci)
		}
		if len(ci.Transactions) != len(sc.txs) {
			t.Fatalf("commit %d: %d transactions streamed, %d over JSON", sc.c.Seq, len(sc.txs), len(ci.Transactions))
		}
		for i := range sc.txs {
			if !bytes.Equal(sc.txs[i], ci.Transactions[i]) {
				t.Fatalf("commit %d: transaction %d differs", sc.c.Seq, i)
			}
		}
	}

	// Resume from a cursor in the middle (HTTP/1.1, no transactions): no
	// gap, no duplicate, then new commits as they come.
	last := seen[len(seen)-1].c.Seq
	from := max(last/2, 1)
	resumed := openStream(ctx, t, clients[0], from, false)
	for want := from; want <= last+3; want++ {
		sc, err := resumed.next()
		if err != nil {
			t.Fatalf("resumed stream: %v", err)
		}
		if sc.c.Seq != want {
			t.Fatalf("resumed stream sent %d, want %d", sc.c.Seq, want)
		}
		if want <= last && !bytes.Equal(sc.c.Digest, seen[want-1].c.Digest) {
			t.Fatalf("commit %d: digest differs between streams", want)
		}
	}

	// NodeService.
	st, err := main.node.GetStatus(ctx, connect.NewRequest(&dagdv1.GetStatusRequest{}))
	if err != nil {
		t.Fatal(err)
	}
	if s := st.Msg; s.Validator != 1 || s.CommitteeSize != 4 || s.ChainId != "dagd-devnet" || s.LastCommittedSeq < last ||
		len(s.CommitDigest) != 32 || s.Limits.GetMaxTxSize() != 64<<10 || s.LastCommitTime == nil || s.PeersConnected != 3 ||
		s.Execution == nil || (s.Execution.LastExecutedSeq > 0 && len(s.Execution.StateRoot) != 32) {
		t.Errorf("status: %v", s)
	}
	getClient := dagdv1connect.NewNodeServiceClient(clients[0].hc, base, connect.WithHTTPGet())
	gc, err := getClient.GetCommit(ctx, connect.NewRequest(&dagdv1.GetCommitRequest{Seq: last}))
	if err != nil || gc.Msg.Commit.Seq != last || !bytes.Equal(gc.Msg.Commit.Digest, seen[last-1].c.Digest) || gc.Msg.Commit.TxCount != seen[last-1].c.TxCount {
		t.Errorf("GetCommit %d over GET: %v %v", last, gc, err)
	}
	if _, err := main.node.GetCommit(ctx, connect.NewRequest(&dagdv1.GetCommitRequest{})); connect.CodeOf(err) != connect.CodeInvalidArgument {
		t.Errorf("GetCommit 0: %v, want InvalidArgument", err)
	}
	if _, err := main.node.GetCommit(ctx, connect.NewRequest(&dagdv1.GetCommitRequest{Seq: 1 << 40})); connect.CodeOf(err) != connect.CodeNotFound {
		t.Errorf("GetCommit unknown: %v, want NotFound", err)
	}
	// A cursor beyond the next commit.
	far := openStream(ctx, t, main, st.Msg.LastCommittedSeq+1000, false)
	if _, err := far.next(); connect.CodeOf(err) != connect.CodeOutOfRange {
		t.Errorf("cursor beyond the head: %v, want OutOfRange", err)
	} else if cd := cursorDetail(t, err); cd == nil || cd.Seq != st.Msg.LastCommittedSeq+1000 || cd.LastCommittedSeq < st.Msg.LastCommittedSeq {
		t.Errorf("cursor detail: %v", cd)
	}
	// The Connect JSON protocol, as curl speaks it.
	resp, err := http.Post(base+"/dagd.v1.NodeService/GetStatus", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte(`"lastCommittedSeq"`)) {
		t.Errorf("GetStatus over curl-style JSON: %s %s", resp.Status, body)
	}

	// Garbage on every endpoint: clear errors, no panic, the node goes on.
	garbage := [][]byte{{0xff, 0xfe, 0x00, 0x01}, []byte("{not json"), bytes.Repeat([]byte{0x0a, 0xff}, 100),
		{0, 0, 0, 0, 200, 1, 2, 3}, {0x00, 0x7f, 0xff, 0xff, 0xff}}
	paths := []string{dagdv1connect.TransactionServiceSubmitTransactionsProcedure, dagdv1connect.NodeServiceGetStatusProcedure,
		dagdv1connect.NodeServiceGetCommitProcedure, dagdv1connect.CommitServiceStreamCommitsProcedure}
	ctypes := []string{"application/proto", "application/json", "application/grpc", "application/grpc+proto",
		"application/connect+proto", "application/connect+json", "text/plain", ""}
	for _, hc := range []*http.Client{clients[0].hc, main.hc} {
		for _, p := range paths {
			for _, ct := range ctypes {
				for _, g := range garbage {
					status, grpcStatus, msg := postRaw(t, hc, base+p, ct, g)
					if status == http.StatusOK && (grpcStatus == "" || grpcStatus == "0") && !strings.Contains(msg, `"error"`) {
						t.Errorf("POST %x (%s) to %s: accepted: %d %s", g, ct, p, status, msg)
					}
					if status >= 500 {
						t.Errorf("POST %x (%s) to %s: %d %s", g, ct, p, status, msg)
					}
				}
			}
		}
	}
	for _, u := range []string{"/dagd.v1.NodeService/GetCommit?connect=v1&encoding=json&message=%7Bnope",
		"/dagd.v1.NodeService/GetCommit?connect=v1&encoding=proto&base64=1&message=____",
		"/dagd.v1.TransactionService/SubmitTransactions?connect=v1&encoding=json&message=%7B%7D",
		"/dagd.v1.CommitService/StreamCommits?connect=v1&encoding=json&message=%7B%7D", "/dagd.v1.NoSuchService/Get"} {
		resp, err := main.hc.Get(base + u)
		if err != nil {
			t.Fatalf("GET %s: %v", u, err)
		}
		msg, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode < 400 || resp.StatusCode >= 500 {
			t.Errorf("GET %s: %s %s, want a 4xx", u, resp.Status, msg)
		}
	}
	before := d.Node(1).Status().LastCommittedSeq
	testwait.Until(t, testTimeout, "commits after garbage", func() bool { return d.Node(1).Status().LastCommittedSeq >= before+3 })
	if _, err := submitRPC(ctx, main, []byte("after-garbage")); err != nil {
		t.Errorf("submit after garbage: %v", err)
	}
}

// postRaw posts body and returns the status, the grpc-status (header or
// trailer) and the body.
func postRaw(t *testing.T, hc *http.Client, url, ctype string, body []byte) (int, string, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := hc.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("POST %s (%s) %x: reading the answer: %v", url, ctype, body, err)
	}
	gs := resp.Header.Get("Grpc-Status")
	if gs == "" {
		gs = resp.Trailer.Get("Grpc-Status")
	}
	return resp.StatusCode, gs, string(b)
}

// TestRPCStreamStalledReader: a reader that stops reading holds its stream
// only until a message waits StreamWriteTimeout; the node goes on.
func TestRPCStreamStalledReader(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*testTimeout)
	defer cancel()
	d, err := StartDevnet(ctx, DevnetOptions{BaseDir: t.TempDir(), API: true, InMemoryNetwork: true,
		Configure: func(_ int, o *Options) { o.RPC.StreamWriteTimeout = 300 * time.Millisecond }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	n := d.Node(1)
	c := newRPCClient(t, "connect/h2c", "http://"+n.APIAddr(), true)
	// A small HTTP/2 receive window: a reader that stops reading blocks the
	// server after 64 KiB.
	tr := c.log.rt.(*http.Transport)
	tr.HTTP2 = &http.HTTP2Config{MaxReceiveBufferPerStream: 64 << 10, MaxReceiveBufferPerConnection: 64 << 10}
	stalled := openStream(ctx, t, c, 1, true)
	if !stalled.s.Receive() { // the opening heartbeat; then it stops reading
		t.Fatalf("stream: %v", stalled.s.Err())
	}
	// Load until the stream is cut: the stalled reader's window fills.
	testwait.For(t, testTimeout, func() error {
		if n.api.OpenStreams() == 0 {
			return nil
		}
		// Random bytes: the stream is gzipped when the client accepts it.
		txs := [][]byte{make([]byte, 30_000), make([]byte, 30_000)}
		for _, tx := range txs {
			_, _ = cryptorand.Read(tx)
		}
		submitAll(ctx, t, d, 1, txs)
		return fmt.Errorf("the stalled stream was not cut (%d transactions committed)", n.Status().CommittedTxs)
	})
	t.Logf("cut after %d transactions committed", n.Status().CommittedTxs)
	before := n.Status().LastCommittedSeq
	testwait.Until(t, testTimeout, "commits after the stalled stream", func() bool { return n.Status().LastCommittedSeq >= before+3 })
	fresh := openStream(ctx, t, c, before, false)
	if sc, err := fresh.next(); err != nil || sc.c.Seq != before {
		t.Fatalf("new stream from %d: %v %v", before, sc, err)
	}
}

// reasonName is the engine's name of an API reason, as error messages
// spell it.
func reasonName(r dagdv1.RejectReason) string {
	return strings.ToLower(strings.TrimPrefix(r.String(), "REJECT_REASON_"))
}
