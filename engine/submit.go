package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/dagd/dagd/dag"
	"github.com/dagd/dagd/engine/apiserver"
	"github.com/dagd/dagd/engine/client"
)

// Reasons a submission is refused, as SubmitError.Reason and in API
// answers.
const (
	// ReasonQueueFull: the node's submission queue is full (busy, retry).
	ReasonQueueFull = client.ReasonQueueFull
	// ReasonNodeBusy: the consensus worker holds as many batches as it may
	// (busy, retry).
	ReasonNodeBusy = client.ReasonNodeBusy
	// ReasonTooManyRequests: too many submissions are in flight on the
	// API (retry).
	ReasonTooManyRequests = client.ReasonTooManyRequests
	// ReasonTxTooLarge: a transaction exceeds the size cap.
	ReasonTxTooLarge = client.ReasonTxTooLarge
	// ReasonEmptyTx: a transaction has no bytes.
	ReasonEmptyTx = client.ReasonEmptyTx
	// ReasonTooManyTxs: the request carries more transactions than allowed.
	ReasonTooManyTxs = client.ReasonTooManyTxs
	// ReasonNoTxs: the request carries no transaction.
	ReasonNoTxs = client.ReasonNoTxs
	// ReasonBodyTooLarge: the request body exceeds its cap.
	ReasonBodyTooLarge = client.ReasonBodyTooLarge
	// ReasonBodyTimeout: the request body did not arrive within
	// apiserver.APIOptions.RequestReadTimeout.
	ReasonBodyTimeout = client.ReasonBodyTimeout
	// ReasonBadRequest: the request does not parse.
	ReasonBadRequest = client.ReasonBadRequest
	// ReasonStopped: the node is stopping.
	ReasonStopped = client.ReasonStopped
)

// SubmitError explains why transactions were refused. Transactions are
// taken in order: admission first refuses those listed in Rejected (each
// with its reason), then, of the others, the first Accepted were accepted
// and the rest were not.
type SubmitError struct {
	// Reason is one of the Reason constants.
	Reason string
	// Accepted counts the transactions accepted before the refusal.
	Accepted int
	// Index is the offending transaction for invalid input, -1 otherwise.
	Index int
	// Detail says what exactly went wrong.
	Detail string
	// Rejected lists the transactions admission refused, by index (see
	// ReasonInvalidTx); nil when it refused none.
	Rejected []TxRejection
}

// Error implements error.
func (e *SubmitError) Error() string {
	var msg string
	if e.Index >= 0 {
		msg = fmt.Sprintf("engine: submission refused (%s) at transaction %d: %s", e.Reason, e.Index, e.Detail)
	} else {
		msg = fmt.Sprintf("engine: submission refused (%s) after %d accepted: %s", e.Reason, e.Accepted, e.Detail)
	}
	if len(e.Rejected) > 0 {
		msg += " (refused at admission: " + describeRejections(e.Rejected) + ")"
	}
	return msg
}

// Retryable reports whether the same transactions may succeed later: the
// node was busy, not the input wrong.
func (e *SubmitError) Retryable() bool { return apiserver.RetryableReason(e.Reason) }

// HTTPStatus is the status the API answers with.
func (e *SubmitError) HTTPStatus() int { return apiserver.ReasonStatus(e.Reason) }

// takeSubmitSlot takes one of the MaxInflightRequests slots of
// submissions whose body is read, or says why not.
func (n *Node) takeSubmitSlot() (func(), *SubmitError) {
	if !n.inflight.TryAcquire(1) {
		n.m.submitted.WithLabelValues("busy").Inc()
		return nil, &SubmitError{Reason: ReasonTooManyRequests, Index: -1,
			Detail: fmt.Sprintf("more than %d submissions in flight (MaxInflightRequests)", n.opts.MaxInflightRequests)}
	}
	return func() { n.inflight.Release(1) }, nil
}

type submitRequest struct {
	txs   [][]byte
	reply chan submitReply
}

type submitReply struct {
	accepted int
	err      error
}

// CheckTransactions applies the admission rules that need no node state:
// count and sizes. Every entry point (Go, HTTP, later RPC) goes through it.
func (n *Node) CheckTransactions(txs [][]byte) error {
	if len(txs) == 0 {
		return &SubmitError{Reason: ReasonNoTxs, Index: -1, Detail: "no transactions"}
	}
	if len(txs) > n.opts.MaxRequestTxs {
		return &SubmitError{Reason: ReasonTooManyTxs, Index: -1, Detail: fmt.Sprintf("at least %d transactions, limit %d per request (MaxRequestTxs)", len(txs), n.opts.MaxRequestTxs)}
	}
	for i, tx := range txs {
		if len(tx) == 0 {
			return &SubmitError{Reason: ReasonEmptyTx, Index: i, Detail: "empty transaction"}
		}
		if len(tx) > n.opts.DAG.MaxTxSize {
			return &SubmitError{Reason: ReasonTxTooLarge, Index: i, Detail: fmt.Sprintf("%d bytes, limit %d", len(tx), n.opts.DAG.MaxTxSize)}
		}
	}
	return nil
}

// MaxTxSize returns the largest transaction the node accepts.
func (n *Node) MaxTxSize() int { return n.opts.DAG.MaxTxSize }

// Submit hands transactions to the node's worker, in order. It returns the
// number accepted; when not all were, the error is a *SubmitError saying
// why (busy errors are Retryable). It never queues without bound: a full
// queue or a busy worker refuses at once. The node keeps the slices: do
// not modify them afterwards.
func (n *Node) Submit(ctx context.Context, txs [][]byte) (int, error) {
	if err := n.CheckTransactions(txs); err != nil {
		n.m.submitted.WithLabelValues("invalid").Add(float64(len(txs)))
		return 0, err
	}
	keep, rej, err := n.admit(txs) // admission.go: per-transaction checks
	if err != nil {
		return 0, err
	}
	accepted, err := n.submit(ctx, keep)
	return accepted, withRejections(accepted, err, rej)
}

// submit hands admitted transactions to the loop.
func (n *Node) submit(ctx context.Context, txs [][]byte) (int, error) {
	req := &submitRequest{txs: txs, reply: make(chan submitReply, 1)}
	select {
	case <-n.loopDone:
		return 0, &SubmitError{Reason: ReasonStopped, Index: -1, Detail: "node stopped"}
	default:
	}
	select {
	case n.submitCh <- req:
	default:
		n.m.submitted.WithLabelValues("busy").Add(float64(len(txs)))
		return 0, &SubmitError{Reason: ReasonQueueFull, Index: -1, Detail: fmt.Sprintf("submission queue full (%d requests)", cap(n.submitCh))}
	}
	select {
	case r := <-req.reply:
		return r.accepted, r.err
	case <-n.loopDone:
		// The loop stopped: it answered already, or it never will (a
		// request left in the queue gets the same "stopped").
		select {
		case r := <-req.reply:
			return r.accepted, r.err
		default:
		}
		return 0, &SubmitError{Reason: ReasonStopped, Index: -1, Detail: "node stopped"}
	case <-ctx.Done():
		// The loop may still take the transactions; the caller gave up
		// waiting for the answer.
		return 0, fmt.Errorf("engine: submit: %w", ctx.Err())
	}
}

// handleSubmit runs on the loop.
func (n *Node) handleSubmit(req *submitRequest) {
	for i, tx := range req.txs {
		if err := n.core.Submit(tx); err != nil {
			reason, label := ReasonNodeBusy, "busy"
			if !errors.Is(err, dag.ErrBusy) {
				reason, label = ReasonBadRequest, "invalid"
			}
			n.m.submitted.WithLabelValues("accepted").Add(float64(i))
			n.m.submitted.WithLabelValues(label).Add(float64(len(req.txs) - i))
			st := n.core.Status()
			detail := err.Error()
			if reason == ReasonNodeBusy {
				detail = fmt.Sprintf("%d batches wait for a header (limit %d)", st.WorkerLoad, n.opts.DAG.MaxPendingBatches)
			}
			idx := -1
			if reason == ReasonBadRequest {
				idx = i
			}
			req.reply <- submitReply{accepted: i, err: &SubmitError{Reason: reason, Accepted: i, Index: idx, Detail: detail}}
			return
		}
	}
	n.m.submitted.WithLabelValues("accepted").Add(float64(len(req.txs)))
	req.reply <- submitReply{accepted: len(req.txs)}
}

// failPendingSubmits answers the requests still queued when the loop ends.
func (n *Node) failPendingSubmits() {
	for {
		select {
		case req := <-n.submitCh:
			req.reply <- submitReply{err: &SubmitError{Reason: ReasonStopped, Index: -1, Detail: "node stopped"}}
		default:
			return
		}
	}
}
