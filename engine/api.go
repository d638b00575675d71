package engine

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"golang.org/x/sync/semaphore"

	"github.com/dagd/dagd/engine/apiserver"
	"github.com/dagd/dagd/engine/client"
	"github.com/dagd/dagd/engine/content"
)

// This file wires the API room (engine/apiserver) to the node: the
// server reaches the node through apiBackend only.

// Handler returns the node's HTTP API (also served on APIListenAddr when
// set): /metrics, /healthz, /readyz, /v1/status, /v1/commits,
// /v1/transactions, the Connect services of dagd.v1, and the content and
// execution endpoints. See package apiserver.
func (n *Node) Handler() http.Handler { return n.api.Handler() }

// newAPIServer builds the node's API server; the node's store must be
// open.
func (n *Node) newAPIServer() (*apiserver.Server, error) {
	o := apiserver.Options{API: n.opts.API, RPC: n.opts.RPC, MaxRequestBytes: n.opts.MaxRequestBytes,
		MaxRequestTxs: n.opts.MaxRequestTxs, MaxTxSize: n.opts.DAG.MaxTxSize, ChainID: n.opts.ChainID, Epoch: n.opts.Epoch,
		Self: n.self, Registerer: n.m.reg, EnablePprof: n.opts.EnablePprof, Logger: n.log,
		Mount: func(mux *http.ServeMux) {
			n.mountContent(mux)
			n.mountExecution(mux) // receipts, accounts, state proofs (execute_api.go)
		}}
	if !n.opts.DisableMetrics {
		o.Metrics = n.m.reg
	}
	return apiserver.New(apiBackend{n}, n.store, o)
}

// apiBackend is the node as the API server sees it (apiserver.Backend).
type apiBackend struct{ n *Node }

var _ apiserver.Backend = apiBackend{}

func (b apiBackend) Status() client.Status { return b.n.Status() }

func (b apiBackend) Ready() (bool, string) { return b.n.Ready() }

func (b apiBackend) Health() (string, string) {
	n := b.n
	select {
	case <-n.done:
		return "stopped", "node stopped"
	default:
	}
	if !n.running.Load() {
		return "not_running", "event loop not started"
	}
	if age := n.opts.Clock.Now().Sub(time.Unix(0, n.lastLoop.Load())); age > 5*time.Second {
		return "stalled", fmt.Sprintf("event loop last ran %s ago", age.Round(time.Millisecond))
	}
	return "", ""
}

func (b apiBackend) CheckTransactions(txs [][]byte) error { return b.n.CheckTransactions(txs) }

func (b apiBackend) TakeSubmitSlot() (func(), error) {
	release, se := b.n.takeSubmitSlot()
	if se != nil {
		return nil, se
	}
	return release, nil
}

func (b apiBackend) Submit(ctx context.Context, txs [][]byte) (int, error) {
	return b.n.Submit(ctx, txs)
}

func (b apiBackend) CountInvalid(txs int) {
	b.n.m.submitted.WithLabelValues("invalid").Add(float64(txs))
}

func (b apiBackend) CommitExecution(seq uint64) (*client.CommitExecution, error) {
	return b.n.commitExecution(seq)
}

func (b apiBackend) Stopping() <-chan struct{} { return b.n.loopDone }

// Refusal implements apiserver.Refusal: the API answers with the reason.
func (e *SubmitError) Refusal() (reason string, accepted, index int) {
	return e.Reason, e.Accepted, e.Index
}

// withRequestDeadlines bounds the request read and the answer's write of
// a unary endpoint mounted on the API (API.RequestReadTimeout,
// API.WriteTimeout).
func (n *Node) withRequestDeadlines(h http.Handler) http.Handler {
	return apiserver.WithRequestDeadlines(n.opts.API, h)
}

// lookupLimits bounds the content lookups that ask other validators
// (API.MaxContentLookups).
type lookupLimits struct {
	max     int
	lookups *semaphore.Weighted
}

func newLookupLimits(max int) *lookupLimits {
	return &lookupLimits{max: max, lookups: semaphore.NewWeighted(int64(max))}
}

// lookupSlot takes a slot for a content lookup that asks other
// validators, or says why not.
func (l *lookupLimits) lookupSlot() (func(), error) {
	if !l.lookups.TryAcquire(1) {
		return nil, fmt.Errorf("%w: %d content lookups asking other validators (API.MaxContentLookups)", content.ErrContentBusy, l.max)
	}
	return func() { l.lookups.Release(1) }, nil
}
