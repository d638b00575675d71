package apiserver

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"net/http"
	"sync"
	"time"

	"github.com/dagd/dagd/engine/store"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/dagd/dagd/crypto"
	dagdv1 "github.com/dagd/dagd/engine/api/dagd/v1"
	"github.com/dagd/dagd/engine/api/dagd/v1/dagdv1connect"
	"github.com/dagd/dagd/engine/client"
)

// RPCOptions configures the node's Connect API (package dagdv1; see the
// package documentation). Zero values mean defaults.
type RPCOptions struct {
	// MaxCommitStreams bounds the StreamCommits calls open at once; beyond
	// it a call is refused with ResourceExhausted. Default 256.
	MaxCommitStreams int `toml:"max_commit_streams"`
	// StreamChunkBytes: with include_transactions, a commit's
	// transactions beyond this many bytes continue in further stream
	// messages. Default 3 MiB, below the 4 MiB that gRPC clients accept by
	// default (a message holds more only to carry one larger transaction).
	StreamChunkBytes int `toml:"stream_chunk_bytes,size"`
	// StreamHeartbeat is how long a commit stream stays silent before it
	// sends a heartbeat (it also opens with one). Default 10 s.
	StreamHeartbeat time.Duration
	// StreamWriteTimeout bounds how long one message of a commit stream
	// may wait for a reader that stopped reading; then the stream is cut
	// (the reader resumes from its last seq). Default 30 s.
	StreamWriteTimeout time.Duration
}

// EnsureDefaults sets the zero values of o to their defaults.
func (o *RPCOptions) EnsureDefaults() {
	if o.MaxCommitStreams <= 0 {
		o.MaxCommitStreams = 256
	}
	if o.StreamChunkBytes <= 0 {
		o.StreamChunkBytes = 3 << 20
	}
	if o.StreamHeartbeat <= 0 {
		o.StreamHeartbeat = 10 * time.Second
	}
	if o.StreamWriteTimeout <= 0 {
		o.StreamWriteTimeout = 30 * time.Second
	}
}

// rpcReadMaxBytes bounds the requests of the read-only services: they
// carry a few integers.
const rpcReadMaxBytes = 64 << 10

// rpcCompressMinBytes: smaller answers are not worth gzipping.
const rpcCompressMinBytes = 1024

// retryAfter is the hint given with a busy refusal (and its Retry-After
// header, in whole seconds, as the JSON API sends it).
const retryAfter = time.Second

// openCommitStream counts a new stream, unless MaxCommitStreams are open.
func (s *Server) openCommitStream() bool {
	if s.streams.Add(1) > int64(s.opts.RPC.MaxCommitStreams) {
		s.streams.Add(-1)
		return false
	}
	return true
}

// commitSignal wakes every waiter once new commits are published.
type commitSignal struct {
	mu sync.Mutex
	ch chan struct{}
}

// wait returns a channel closed at the next broadcast.
func (s *commitSignal) wait() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch == nil {
		s.ch = make(chan struct{})
	}
	return s.ch
}

// broadcast wakes the waiters (cheap when there are none).
func (s *commitSignal) broadcast() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch != nil {
		close(s.ch)
		s.ch = nil
	}
}

// apiProtocols are the protocols of the API listener: HTTP/1.1 and
// cleartext HTTP/2 with prior knowledge (h2c), so that gRPC clients reach
// the API without TLS.
func apiProtocols() *http.Protocols {
	p := new(http.Protocols)
	p.SetHTTP1(true)
	p.SetUnencryptedHTTP2(true)
	return p
}

// rpcService implements the services of dagd.v1 on a server.
type rpcService struct {
	s *Server
}

var (
	_ dagdv1connect.TransactionServiceHandler = (*rpcService)(nil)
	_ dagdv1connect.NodeServiceHandler        = (*rpcService)(nil)
	_ dagdv1connect.CommitServiceHandler      = (*rpcService)(nil)
)

// mountRPC adds the Connect services to the node's mux. Every service
// decodes within its limits (rpc_limits.go); the unary ones read their
// request within API.RequestReadTimeout and write their answer within
// API.WriteTimeout; commit streams set a deadline per message.
func (s *Server) mountRPC(mux *http.ServeMux) {
	svc := &rpcService{s: s}
	submitMax := int(min(s.opts.MaxRequestBytes, int64(math.MaxInt32)))
	// Answers are gzipped for clients that accept it, unless small.
	compress := connect.WithCompressMinBytes(rpcCompressMinBytes)
	path, h := dagdv1connect.NewTransactionServiceHandler(svc, connect.WithReadMaxBytes(submitMax), compress,
		rpcLimitOptions(int64(submitMax), s.opts.MaxRequestTxs))
	mux.Handle(path, WithRequestDeadlines(s.opts.API, s.limitSubmissions(h)))
	path, h = dagdv1connect.NewNodeServiceHandler(svc, connect.WithReadMaxBytes(rpcReadMaxBytes), compress,
		rpcLimitOptions(rpcReadMaxBytes, s.opts.MaxRequestTxs))
	mux.Handle(path, WithRequestDeadlines(s.opts.API, h))
	path, h = dagdv1connect.NewCommitServiceHandler(svc, connect.WithReadMaxBytes(rpcReadMaxBytes), compress,
		rpcLimitOptions(rpcReadMaxBytes, s.opts.MaxRequestTxs))
	mux.Handle(path, withResponseController(h))
}

// responseControllerKey carries the request's *http.ResponseController in
// its context, for write deadlines on streams.
type responseControllerKey struct{}

func withResponseController(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := context.WithValue(r.Context(), responseControllerKey{}, http.NewResponseController(w))
		h.ServeHTTP(w, r.WithContext(ctx))
	})
}

// limitSubmissions charges a submission to the submission memory budget
// as its body arrives (admitSubmission) and refuses at once, in the
// caller's protocol, when the budget cannot take it. It takes no slot: a
// slow body holds only the bytes it sent, until API.RequestReadTimeout.
func (s *Server) limitSubmissions(h http.Handler) http.Handler {
	ew := connect.NewErrorWriter()
	wrap := func(se *refusal) error { return submitRPCError(se) }
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !ew.IsSupported(r) {
			h.ServeHTTP(w, r) // refused by the RPC layer without reading the body
			return
		}
		c, se := s.admitSubmission(r, rpcCompressed(r), wrap)
		if se != nil {
			s.m.refused.WithLabelValues(se.Reason).Inc()
			_ = ew.Write(w, r, submitRPCError(se))
			return
		}
		defer c.release()
		h.ServeHTTP(w, r)
	})
}

// SubmitTransactions implements dagdv1connect.TransactionServiceHandler
// with Backend.Submit. Its request is decoded: it takes a submission slot
// only now.
func (r *rpcService) SubmitTransactions(ctx context.Context, req *connect.Request[dagdv1.SubmitTransactionsRequest]) (*connect.Response[dagdv1.SubmitTransactionsResponse], error) {
	b := r.s.b
	if err := b.CheckTransactions(req.Msg.GetTransactions()); err != nil {
		b.CountInvalid(len(req.Msg.GetTransactions()))
		return nil, submitRPCError(refusalOrBad(err))
	}
	release, err := b.TakeSubmitSlot()
	if err != nil {
		return nil, submitRPCError(refusalOrBad(err))
	}
	defer release()
	accepted, err := b.Submit(ctx, req.Msg.GetTransactions())
	if err == nil {
		return connect.NewResponse(&dagdv1.SubmitTransactionsResponse{Accepted: uint32(accepted)}), nil
	}
	if se := refusalOf(err); se != nil {
		return nil, submitRPCError(se)
	}
	return nil, contextRPCError(err, "submit (the node may still take the transactions)")
}

// refusalOrBad is the refusal err carries, or a bad request saying err.
func refusalOrBad(err error) *refusal {
	if se := refusalOf(err); se != nil {
		return se
	}
	return &refusal{Reason: client.ReasonBadRequest, Index: -1, Detail: err.Error()}
}

// rejectReason maps a SubmitError reason to the API's.
func rejectReason(reason string) dagdv1.RejectReason {
	switch reason {
	case client.ReasonNoTxs:
		return dagdv1.RejectReason_REJECT_REASON_NO_TXS
	case client.ReasonEmptyTx:
		return dagdv1.RejectReason_REJECT_REASON_EMPTY_TX
	case client.ReasonTxTooLarge:
		return dagdv1.RejectReason_REJECT_REASON_TX_TOO_LARGE
	case client.ReasonTooManyTxs:
		return dagdv1.RejectReason_REJECT_REASON_TOO_MANY_TXS
	case client.ReasonQueueFull:
		return dagdv1.RejectReason_REJECT_REASON_QUEUE_FULL
	case client.ReasonNodeBusy:
		return dagdv1.RejectReason_REJECT_REASON_NODE_BUSY
	case client.ReasonTooManyRequests:
		return dagdv1.RejectReason_REJECT_REASON_TOO_MANY_REQUESTS
	case client.ReasonStopped:
		return dagdv1.RejectReason_REJECT_REASON_STOPPED
	}
	return dagdv1.RejectReason_REJECT_REASON_BAD_REQUEST
}

// submitRPCError turns a refusal into a Connect error with a
// SubmitRejection detail: ResourceExhausted with a retry hint when the
// node is busy, Unavailable when it stops, InvalidArgument otherwise.
func submitRPCError(se *refusal) *connect.Error {
	code := connect.CodeInvalidArgument
	switch {
	case RetryableReason(se.Reason):
		code = connect.CodeResourceExhausted
	case se.Reason == client.ReasonStopped:
		code = connect.CodeUnavailable
	case se.Reason == client.ReasonBodyTimeout:
		code = connect.CodeDeadlineExceeded
	}
	rej := &dagdv1.SubmitRejection{Reason: rejectReason(se.Reason), Accepted: uint32(max(se.Accepted, 0))}
	if se.Index >= 0 {
		i := uint32(se.Index)
		rej.TxIndex = &i
	}
	cerr := connect.NewError(code, se)
	if RetryableReason(se.Reason) {
		rej.RetryAfter = durationpb.New(retryAfter)
		cerr.Meta().Set("Retry-After", fmt.Sprint(int(retryAfter/time.Second)))
	}
	if d, err := connect.NewErrorDetail(rej); err == nil {
		cerr.AddDetail(d)
	}
	return cerr
}

// contextRPCError maps an error of a call whose context ended.
func contextRPCError(err error, what string) *connect.Error {
	switch {
	case errors.Is(err, context.Canceled):
		return connect.NewError(connect.CodeCanceled, fmt.Errorf("%s: %w", what, err))
	case errors.Is(err, context.DeadlineExceeded):
		return connect.NewError(connect.CodeDeadlineExceeded, fmt.Errorf("%s: %w", what, err))
	}
	return connect.NewError(connect.CodeInternal, fmt.Errorf("%s: %w", what, err))
}

// GetStatus implements dagdv1connect.NodeServiceHandler.
func (r *rpcService) GetStatus(_ context.Context, _ *connect.Request[dagdv1.GetStatusRequest]) (*connect.Response[dagdv1.GetStatusResponse], error) {
	s := r.s
	st := s.b.Status()
	ready, why := s.b.Ready()
	resp := &dagdv1.GetStatusResponse{
		Validator: uint32(st.Validator), CommitteeSize: uint32(st.CommitteeSize), ChainId: s.opts.ChainID, Epoch: s.opts.Epoch,
		Round: st.Round, LastCommittedRound: st.LastCommittedRound, LastCommittedSeq: st.LastCommittedSeq,
		CommittedTxs: st.CommittedTxs, PeersConnected: uint32(st.PeersConnected), QuorumConnected: st.QuorumConnected,
		Ready: ready, ReadyDetail: why,
		Load: &dagdv1.NodeLoad{PendingCerts: uint32(st.PendingCerts), PendingCommits: uint32(st.PendingCommits),
			WorkerLoad: uint32(st.WorkerLoad), SubmitQueue: uint32(st.SubmitQueue), InboxQueue: uint32(st.InboxQueue)},
		Limits: &dagdv1.NodeLimits{MaxTxSize: uint32(s.opts.MaxTxSize), MaxRequestTxs: uint32(s.opts.MaxRequestTxs),
			MaxRequestBytes: uint64(s.opts.MaxRequestBytes)},
	}
	if d, err := crypto.ParseDigest(st.CommitDigest); err == nil {
		resp.CommitDigest = d[:]
	}
	if !st.LastCommitAt.IsZero() {
		resp.LastCommitTime = timestamppb.New(st.LastCommitAt)
	}
	resp.Execution = &dagdv1.ExecutionStatus{LastExecutedSeq: st.LastExecutedSeq, ExecutedTxs: st.ExecutedTxs, Error: st.ExecutionError}
	if root, err := hex.DecodeString(st.StateRoot); err == nil {
		resp.Execution.StateRoot = root
	}
	return connect.NewResponse(resp), nil
}

// GetCommit implements dagdv1connect.NodeServiceHandler.
func (r *rpcService) GetCommit(_ context.Context, req *connect.Request[dagdv1.GetCommitRequest]) (*connect.Response[dagdv1.GetCommitResponse], error) {
	seq := req.Msg.GetSeq()
	if seq == 0 {
		return nil, connect.NewError(connect.CodeInvalidArgument, errors.New("commit seq 0: commits are numbered from 1"))
	}
	c, _, err := r.s.rpcCommit(seq)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, connect.NewError(connect.CodeNotFound, fmt.Errorf("no commit %d (last committed %d)", seq, r.s.b.Status().LastCommittedSeq))
	case err != nil:
		return nil, connect.NewError(connect.CodeInternal, err)
	}
	return connect.NewResponse(&dagdv1.GetCommitResponse{Commit: c}), nil
}

// rpcCommit reads commit seq as the API serves it, and its index entry.
// It reports store.ErrNotFound for a commit the node has not made.
func (s *Server) rpcCommit(seq uint64) (*dagdv1.Commit, *store.CommitIndex, error) {
	cr, err := s.store.CommitRecord(seq)
	if err != nil {
		return nil, nil, err
	}
	idx, err := s.store.CommitIndex(seq)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, fmt.Errorf("apiserver: commit %d has no index entry", seq)
	}
	if err != nil {
		return nil, nil, err
	}
	c := &dagdv1.Commit{Seq: cr.Seq, Digest: cr.Digest[:], LeaderRound: cr.LeaderRound, LeaderCertificate: cr.Leader[:],
		TimestampMs: uint64(cr.Timestamp), Certificates: uint32(len(cr.Certificates)), TxCount: uint64(idx.TxCount()),
		Batches: make([]*dagdv1.CommittedBatch, len(idx.Batches))}
	for i := range idx.Batches {
		b := &idx.Batches[i]
		c.Batches[i] = &dagdv1.CommittedBatch{Digest: b.Digest[:], Author: uint32(b.Author), TxCount: uint32(b.Txs)}
	}
	return c, idx, nil
}
