package apiserver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/dagd/dagd/engine/store"

	"connectrpc.com/connect"

	dagdv1 "github.com/dagd/dagd/engine/api/dagd/v1"
)

// errPruned says the transactions of a commit are no longer stored.
var errPruned = errors.New("apiserver: transactions pruned")

// StreamCommits implements dagdv1connect.CommitServiceHandler. It reads
// every commit from the store (the commit records and the engine's index
// live forever; batch bodies as long as the core keeps them), so it never
// skips or repeats one and a slow reader holds nothing but its own
// position: it is woken when the node publishes commits and sends what it
// has not sent yet.
func (r *rpcService) StreamCommits(ctx context.Context, req *connect.Request[dagdv1.StreamCommitsRequest], ss *connect.ServerStream[dagdv1.StreamCommitsResponse]) error {
	s := r.s
	stream := &deadlineStream{ctx: ctx, ss: ss, timeout: s.opts.RPC.StreamWriteTimeout}
	stream.rc, _ = ctx.Value(responseControllerKey{}).(*http.ResponseController)
	if !s.openCommitStream() {
		s.m.refused.WithLabelValues("streams").Inc()
		cerr := connect.NewError(connect.CodeResourceExhausted, fmt.Errorf("more than %d commit streams open (RPC.MaxCommitStreams)", s.opts.RPC.MaxCommitStreams))
		cerr.Meta().Set("Retry-After", fmt.Sprint(int(retryAfter.Seconds())))
		return cerr
	}
	defer s.streams.Add(-1)
	ip := clientIP(req.Peer().Addr)
	if held, ok := s.limits.streams.acquire(ip, s.opts.API.MaxStreamsPerIP); !ok {
		s.m.refused.WithLabelValues("streams_per_ip").Inc()
		cerr := connect.NewError(connect.CodeResourceExhausted, fmt.Errorf("%d commit streams open from %s, limit %d per address (API.MaxStreamsPerIP)", held, ip, s.opts.API.MaxStreamsPerIP))
		cerr.Meta().Set("Retry-After", fmt.Sprint(int(retryAfter.Seconds())))
		return cerr
	}
	defer s.limits.streams.release(ip)
	withTxs := req.Msg.GetIncludeTransactions()
	last := s.b.Status().LastCommittedSeq
	next := req.Msg.GetFromSeq()
	if next == 0 {
		next = last + 1
	}
	if next > last+1 {
		return cursorRPCError(connect.CodeOutOfRange, &dagdv1.CursorError{Seq: next, OldestSeq: 1, LastCommittedSeq: last},
			fmt.Errorf("from_seq %d is beyond the next commit %d (last committed %d)", next, last+1, last))
	}
	// The opening heartbeat tells the client the stream is established.
	if err := stream.Send(&dagdv1.StreamCommitsResponse{HeadSeq: last}); err != nil {
		return err
	}
	heartbeat := time.NewTimer(s.opts.RPC.StreamHeartbeat)
	defer heartbeat.Stop()
	sentTxs := false // a commit with transactions went out
	for {
		wake := s.commits.wait() // before reading the status: no wake-up is missed
		last = s.b.Status().LastCommittedSeq
		for ; next <= last; next++ {
			select {
			case <-s.b.Stopping():
				return connect.NewError(connect.CodeUnavailable, errors.New("node stopping"))
			default:
			}
			if s.beforeCommit != nil {
				s.beforeCommit(next)
			}
			withData, err := s.sendCommit(stream, next, last, withTxs)
			if errors.Is(err, errPruned) {
				return s.prunedRPCError(next, last, sentTxs)
			}
			if err != nil {
				if ctx.Err() != nil {
					return contextRPCError(ctx.Err(), "stream commits")
				}
				return err
			}
			sentTxs = sentTxs || withData
			heartbeat.Reset(s.opts.RPC.StreamHeartbeat)
		}
		select {
		case <-wake:
		case <-heartbeat.C:
			if err := stream.Send(&dagdv1.StreamCommitsResponse{HeadSeq: last}); err != nil {
				return err
			}
			heartbeat.Reset(s.opts.RPC.StreamHeartbeat)
		case <-ctx.Done():
			return contextRPCError(ctx.Err(), "stream commits")
		case <-s.b.Stopping():
			return connect.NewError(connect.CodeUnavailable, errors.New("node stopping"))
		}
	}
}

// sendCommit sends commit seq, and its transactions in chunks when asked;
// it reports whether it sent transactions. It reports errPruned (before
// sending anything, but for a race with pruning) when the transactions
// are no longer stored.
func (s *Server) sendCommit(stream *deadlineStream, seq, head uint64, withTxs bool) (bool, error) {
	c, idx, err := s.rpcCommit(seq)
	if err != nil {
		return false, connect.NewError(connect.CodeInternal, fmt.Errorf("commit %d: %w", seq, err))
	}
	msg := &dagdv1.StreamCommitsResponse{Commit: c, HeadSeq: head}
	if !withTxs || c.TxCount == 0 {
		return false, stream.Send(msg)
	}
	for _, b := range idx.Batches {
		if b.Txs > 0 && !s.store.HasBatch(b.Digest) {
			return false, errPruned
		}
	}
	var offset uint64
	msgSize, chunk := 0, s.opts.RPC.StreamChunkBytes
	for _, b := range idx.Batches {
		if b.Txs == 0 {
			continue
		}
		// The batch is read whole and its transactions copied: twice its
		// size, held from the read budget (API.MaxReadBytes) while the
		// stream works on it, so that many streams wait rather than hold
		// every batch at once. (The message being filled, at most
		// StreamChunkBytes, is the stream's own.)
		size, _ := s.store.BatchSize(b.Digest)
		held, err := s.limits.read.take(stream.ctx, 2*size)
		if err != nil {
			return true, contextRPCError(err, "stream commits: wait for the read budget")
		}
		var txs [][]byte
		err = s.store.GetBatch(b.Digest, func(v []byte) error { return appendAll(v, &txs) })
		if err != nil {
			s.limits.read.give(held)
		}
		if errors.Is(err, store.ErrNotFound) {
			// Pruned after the check above; part of the commit may be out.
			return true, errPruned
		}
		if err != nil {
			return true, connect.NewError(connect.CodeInternal, fmt.Errorf("commit %d, batch %s: %w", seq, b.Digest.Short(), err))
		}
		if len(txs) != b.Txs {
			s.limits.read.give(held)
			return true, connect.NewError(connect.CodeDataLoss, fmt.Errorf("commit %d, batch %s: %d transactions stored, %d indexed", seq, b.Digest.Short(), len(txs), b.Txs))
		}
		for _, tx := range txs {
			if msgSize > 0 && msgSize+len(tx) > chunk {
				if err := stream.Send(msg); err != nil {
					s.limits.read.give(held)
					return true, err
				}
				offset += uint64(len(msg.Transactions))
				msg, msgSize = &dagdv1.StreamCommitsResponse{TxOffset: offset, HeadSeq: head}, 0
			}
			msg.Transactions = append(msg.Transactions, tx)
			msgSize += len(tx)
		}
		s.limits.read.give(held)
	}
	return true, stream.Send(msg)
}

// deadlineStream sends with a write deadline, so that a reader that
// stopped reading does not hold a stream forever.
type deadlineStream struct {
	// ctx is the stream's context.
	ctx     context.Context
	ss      *connect.ServerStream[dagdv1.StreamCommitsResponse]
	rc      *http.ResponseController // nil: no deadline
	timeout time.Duration
}

// Send sends m within the write timeout.
func (d *deadlineStream) Send(m *dagdv1.StreamCommitsResponse) error {
	if d.rc == nil {
		return d.ss.Send(m)
	}
	_ = d.rc.SetWriteDeadline(time.Now().Add(d.timeout))
	err := d.ss.Send(m)
	_ = d.rc.SetWriteDeadline(time.Time{})
	if err != nil {
		return fmt.Errorf("apiserver: commit stream send (write timeout %s): %w", d.timeout, err)
	}
	return nil
}

// prunedRPCError explains a stream that cannot go on because the
// transactions of commit seq are gone: FailedPrecondition for a cursor
// that was already too old (no transactions sent yet), ResourceExhausted
// "lagged" for a stream that fell behind.
func (s *Server) prunedRPCError(seq, last uint64, sentTxs bool) error {
	oldest := s.oldestStoredTxs(seq+1, last)
	detail := &dagdv1.CursorError{Seq: seq, OldestSeq: oldest, LastCommittedSeq: last}
	where := fmt.Sprintf("the oldest commit whose transactions are stored is %d", oldest)
	if oldest > last {
		where = fmt.Sprintf("no stored commit has its transactions any more; follow from %d", oldest)
	}
	if !sentTxs {
		return cursorRPCError(connect.CodeFailedPrecondition, detail,
			fmt.Errorf("transactions of commit %d are no longer stored (kept for recent rounds only): %s; or stream without transactions", seq, where))
	}
	return cursorRPCError(connect.CodeResourceExhausted, detail,
		fmt.Errorf("lagged: the stream fell behind and the transactions of commit %d are no longer stored; %s", seq, where))
}

// oldestStoredTxs estimates the oldest commit in [from, last+1] whose
// transactions are stored: batches are pruned oldest round first, so a
// binary search finds the boundary. last+1 means none.
func (s *Server) oldestStoredTxs(from, last uint64) uint64 {
	lo, hi := from, last+1
	for lo < hi {
		mid := lo + (hi-lo)/2
		if s.txsStored(mid, last) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo
}

// txsStored reports whether the batches of commit seq are stored. A commit
// without transactions answers for the next one with some, up to 64
// commits on (beyond, it answers true).
func (s *Server) txsStored(seq, last uint64) bool {
	for i := 0; i < 64 && seq <= last; i, seq = i+1, seq+1 {
		idx, err := s.store.CommitIndex(seq)
		if err != nil {
			return false
		}
		if idx.TxCount() == 0 {
			continue
		}
		for _, b := range idx.Batches {
			if b.Txs > 0 && !s.store.HasBatch(b.Digest) {
				return false
			}
		}
		return true
	}
	return true
}

// cursorRPCError is a Connect error with a CursorError detail.
func cursorRPCError(code connect.Code, detail *dagdv1.CursorError, err error) *connect.Error {
	cerr := connect.NewError(code, err)
	if d, derr := connect.NewErrorDetail(detail); derr == nil {
		cerr.AddDetail(d)
	}
	return cerr
}
