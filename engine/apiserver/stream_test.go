package apiserver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"connectrpc.com/connect"

	"github.com/dagd/dagd/dag"
	dagdv1 "github.com/dagd/dagd/engine/api/dagd/v1"
	"github.com/dagd/dagd/engine/api/dagd/v1/dagdv1connect"
	"github.com/dagd/dagd/internal/testwait"
)

// streamed is a commit reassembled from a stream.
type streamed struct {
	seq      uint64
	txs      [][]byte
	messages int
}

// follower reads whole commits from a commit stream.
type follower struct {
	s       *connect.ServerStreamForClient[dagdv1.StreamCommitsResponse]
	withTxs bool
}

func follow(ctx context.Context, t *testing.T, url string, from uint64, withTxs bool) *follower {
	t.Helper()
	c := dagdv1connect.NewCommitServiceClient(http.DefaultClient, url)
	s, err := c.StreamCommits(ctx, connect.NewRequest(&dagdv1.StreamCommitsRequest{FromSeq: from, IncludeTransactions: withTxs}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return &follower{s: s, withTxs: withTxs}
}

// next returns the next commit, skipping heartbeats.
func (f *follower) next() (*streamed, error) {
	var m *dagdv1.StreamCommitsResponse
	for m == nil || m.Commit == nil {
		if m != nil && len(m.Transactions) > 0 {
			return nil, fmt.Errorf("continuation without a commit (offset %d)", m.TxOffset)
		}
		if !f.s.Receive() {
			return nil, f.s.Err()
		}
		m = f.s.Msg()
	}
	sc := &streamed{seq: m.Commit.Seq, txs: m.Transactions, messages: 1}
	for f.withTxs && uint64(len(sc.txs)) < m.Commit.TxCount {
		if !f.s.Receive() {
			return nil, fmt.Errorf("commit %d: stream ended after %d of %d transactions: %w", sc.seq, len(sc.txs), m.Commit.TxCount, f.s.Err())
		}
		c := f.s.Msg()
		if c.Commit != nil || c.TxOffset != uint64(len(sc.txs)) {
			return nil, fmt.Errorf("commit %d: continuation at offset %d, want %d", sc.seq, c.TxOffset, len(sc.txs))
		}
		sc.txs = append(sc.txs, c.Transactions...)
		sc.messages++
	}
	return sc, nil
}

// cursorOf returns the CursorError detail of err, or nil.
func cursorOf(err error) *dagdv1.CursorError {
	var cerr *connect.Error
	if !errors.As(err, &cerr) {
		return nil
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

// addTxs adds a commit with n transactions of 100 bytes by validator 1,
// its own batch.
func addTxs(c *memCommits, n int) uint64 {
	var txs [][]byte
	seq := c.lastSeq() + 1
	for i := 0; i < n; i++ {
		txs = append(txs, []byte(fmt.Sprintf("%-100s", fmt.Sprintf("commit %d tx %d", seq, i))))
	}
	return c.add(map[dag.ValidatorID][][]byte{1: txs})
}

// TestStreamResume: a stream from a cursor sends every commit from it in
// order, waits for the next ones (woken by NotifyCommits), splits a
// commit's transactions into chunks of StreamChunkBytes, and a stream
// resumed from the seq after the last one read misses and repeats
// nothing; a cursor beyond the next commit is OutOfRange.
func TestStreamResume(t *testing.T) {
	env := newTestServer(t, func(o *Options) { o.RPC.StreamChunkBytes = 250 })
	ctx, cancel := context.WithTimeout(context.Background(), testwait.Timeout(t, 30*time.Second))
	defer cancel()
	for i := 0; i < 4; i++ {
		addTxs(env.commits, i+1)
	}
	f := follow(ctx, t, env.url, 2, true)
	for want := uint64(2); want <= 4; want++ {
		sc, err := f.next()
		if err != nil || sc.seq != want || len(sc.txs) != int(want) {
			t.Fatalf("commit %d: %+v %v", want, sc, err)
		}
		if chunks := (int(want) + 1) / 2; sc.messages != chunks {
			t.Errorf("commit %d of %d transactions in %d messages, want %d of 250 bytes", want, want, sc.messages, chunks)
		}
	}
	// Caught up: the stream waits for the node to publish more.
	addTxs(env.commits, 1)
	env.s.NotifyCommits()
	if sc, err := f.next(); err != nil || sc.seq != 5 {
		t.Fatalf("commit after the wake-up: %+v %v", sc, err)
	}
	f.s.Close()
	testwait.Until(t, testwait.Timeout(t, 10*time.Second), "the stream to close", func() bool { return env.s.OpenStreams() == 0 })

	// Resume after the last commit read, with commits made meanwhile.
	addTxs(env.commits, 2)
	addTxs(env.commits, 0)
	r := follow(ctx, t, env.url, 6, false)
	for want := uint64(6); want <= 7; want++ {
		if sc, err := r.next(); err != nil || sc.seq != want || len(sc.txs) != 0 {
			t.Fatalf("resumed stream, commit %d: %+v %v", want, sc, err)
		}
	}
	r.s.Close()

	far := follow(ctx, t, env.url, 9, false)
	_, err := far.next()
	if cd := cursorOf(err); connect.CodeOf(err) != connect.CodeOutOfRange || cd == nil || cd.Seq != 9 || cd.LastCommittedSeq != 7 {
		t.Fatalf("cursor beyond the next commit: %v, detail %v", err, cd)
	}
}

// TestStreamPruned: transactions asked from a commit whose batches are
// gone get FailedPrecondition naming the oldest commit with
// transactions; a stream that falls behind that far gets
// ResourceExhausted "lagged"; without transactions the same cursor
// works.
func TestStreamPruned(t *testing.T) {
	var gateAfter atomic.Uint64
	gate := make(chan struct{})
	env := newTestServerWith(t, 64, nil, func(s *Server) {
		s.beforeCommit = func(seq uint64) {
			if g := gateAfter.Load(); g != 0 && seq > g {
				<-gate
			}
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), testwait.Timeout(t, 30*time.Second))
	defer cancel()
	addTxs(env.commits, 2)
	gateAfter.Store(1)
	f := follow(ctx, t, env.url, 1, true)
	if sc, err := f.next(); err != nil || sc.seq != 1 || len(sc.txs) != 2 {
		t.Fatalf("commit 1: %+v %v", sc, err)
	}
	// Held back before commit 2, the stream falls behind the pruning.
	addTxs(env.commits, 2)
	addTxs(env.commits, 2)
	addTxs(env.commits, 2)
	env.commits.prune(2)
	env.s.NotifyCommits()
	close(gate)
	_, err := f.next()
	cd := cursorOf(err)
	if connect.CodeOf(err) != connect.CodeResourceExhausted || !strings.Contains(err.Error(), "lagged") || cd == nil || cd.Seq != 2 || cd.OldestSeq != 3 {
		t.Fatalf("held-back stream: %v, detail %v", err, cd)
	}

	old := follow(ctx, t, env.url, 1, true)
	_, err = old.next()
	cd = cursorOf(err)
	if connect.CodeOf(err) != connect.CodeFailedPrecondition || !strings.Contains(err.Error(), "no longer stored") || cd == nil || cd.Seq != 1 || cd.OldestSeq != 3 || cd.LastCommittedSeq != 4 {
		t.Fatalf("stream from pruned commit 1: %v, detail %v", err, cd)
	}
	ok := follow(ctx, t, env.url, cd.OldestSeq, true)
	if sc, err := ok.next(); err != nil || sc.seq != 3 || len(sc.txs) != 2 {
		t.Fatalf("stream from the oldest stored commit: %+v %v", sc, err)
	}
	meta := follow(ctx, t, env.url, 1, false)
	if sc, err := meta.next(); err != nil || sc.seq != 1 {
		t.Fatalf("stream without transactions from a pruned commit: %+v %v", sc, err)
	}
}

// TestStreamLimitsAndStop: beyond MaxCommitStreams a stream is refused
// with ResourceExhausted; open streams end Unavailable when the node
// stops.
func TestStreamLimitsAndStop(t *testing.T) {
	env := newTestServer(t, func(o *Options) { o.RPC.MaxCommitStreams = 1 })
	ctx, cancel := context.WithTimeout(context.Background(), testwait.Timeout(t, 30*time.Second))
	defer cancel()
	f := follow(ctx, t, env.url, 0, false)
	if !f.s.Receive() || f.s.Msg().Commit != nil {
		t.Fatalf("stream did not open with a heartbeat: %v", f.s.Err())
	}
	second := follow(ctx, t, env.url, 0, false)
	_, err := second.next()
	if connect.CodeOf(err) != connect.CodeResourceExhausted || !strings.Contains(err.Error(), "MaxCommitStreams") {
		t.Fatalf("second stream: %v, want ResourceExhausted naming MaxCommitStreams", err)
	}
	env.b.stop()
	if _, err := f.next(); connect.CodeOf(err) != connect.CodeUnavailable {
		t.Fatalf("stream of a stopped node: %v, want Unavailable", err)
	}
}
