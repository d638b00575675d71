package loadtest

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/dagd/dagd/crypto"
	"github.com/dagd/dagd/engine/client"
)

// HTTPOptions configures an HTTPTarget. Zero values mean defaults.
type HTTPOptions struct {
	// PollInterval is how often each node's commits are polled when the
	// follower is caught up. Default 20 ms (it adds to measured latency:
	// half of it on average).
	PollInterval time.Duration
	// Timeout bounds one HTTP request. Default 10 s.
	Timeout time.Duration
	// MaxConnsPerHost bounds connections per node. Default 64.
	MaxConnsPerHost int
	// FullTransactions makes Follow report whole transactions rather
	// than their first HeaderSize bytes: workloads of signed transactions
	// identify them by digest (Transfers, Mixed). Default false.
	FullTransactions bool
	// Receipts makes FollowExecution report the receipt of every
	// transaction of each node's own batches, one GET /v1/receipts/{tx}
	// each: signed workloads pace their accounts by receipts. Without
	// it, FollowExecution reports state roots only. Default false.
	Receipts bool
	// ReceiptConcurrency bounds the receipt requests in flight per node.
	// Default 16.
	ReceiptConcurrency int
	// Logger. Default: discard.
	Logger *slog.Logger
}

// maxAnswerBytes bounds one JSON answer the follower reads: a page of
// commits carries up to the node's APIOptions.MaxResponseBytes (8 MiB by
// default) of transactions, base64 in JSON; this leaves room for nodes
// configured larger.
const maxAnswerBytes = 64 << 20

// HTTPTarget offers load to running nodes over their HTTP API:
// POST /v1/transactions with the length-prefixed binary body, and commits
// followed by polling GET /v1/commits?from=S&limit=L&txs=own&tx_prefix=24
// on every node. Each node returns the headers of the transactions of its
// own batches, so a transaction is observed once, at the node it was sent
// to, and every node's digests feed the consistency check.
type HTTPTarget struct {
	nodes []*client.Client
	opts  HTTPOptions
}

// NewHTTPTarget returns a target over nodes at hostports ("host:port" or
// URLs).
func NewHTTPTarget(hostports []string, o HTTPOptions) (*HTTPTarget, error) {
	if len(hostports) == 0 {
		return nil, errors.New("loadtest: no targets")
	}
	if o.PollInterval <= 0 {
		o.PollInterval = 20 * time.Millisecond
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.MaxConnsPerHost <= 0 {
		o.MaxConnsPerHost = 64
	}
	if o.ReceiptConcurrency <= 0 {
		o.ReceiptConcurrency = 16
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	hc := &http.Client{Timeout: o.Timeout, Transport: &http.Transport{
		MaxIdleConnsPerHost: o.MaxConnsPerHost, MaxConnsPerHost: o.MaxConnsPerHost, IdleConnTimeout: time.Minute}}
	t := &HTTPTarget{opts: o}
	for _, h := range hostports {
		h = strings.TrimSpace(h)
		if h == "" {
			continue
		}
		c, err := client.New(h, client.Options{HTTPClient: hc, MaxAnswerBytes: maxAnswerBytes})
		if err != nil {
			return nil, fmt.Errorf("loadtest: target: %w", err)
		}
		t.nodes = append(t.nodes, c)
	}
	if len(t.nodes) == 0 {
		return nil, errors.New("loadtest: no targets")
	}
	return t, nil
}

// Nodes implements Target.
func (t *HTTPTarget) Nodes() int { return len(t.nodes) }

// Submit implements Target.
func (t *HTTPTarget) Submit(ctx context.Context, node int, txs [][]byte) (int, error) {
	sr, err := t.nodes[node].Submit(ctx, txs)
	if err == nil {
		return sr.Accepted, nil
	}
	var ae *client.APIError
	if !errors.As(err, &ae) {
		return 0, &SubmitError{Reason: "http_error", Err: err}
	}
	accepted := 0
	if sr != nil {
		accepted = sr.Accepted
	}
	busy := ae.Status == http.StatusServiceUnavailable || ae.Status == http.StatusTooManyRequests
	return accepted, &SubmitError{Reason: ae.Reason, Busy: busy, Accepted: accepted, Err: err}
}

// Status returns node i's status.
func (t *HTTPTarget) Status(ctx context.Context, node int) (*client.Status, error) {
	st, _, err := t.nodes[node].Status(ctx)
	return st, err
}

// Round implements Target.
func (t *HTTPTarget) Round(ctx context.Context) (uint64, error) {
	var r uint64
	var errs []error
	for i := range t.nodes {
		st, err := t.Status(ctx, i)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		r = max(r, st.Round)
	}
	if len(errs) == len(t.nodes) {
		return 0, errors.Join(errs...)
	}
	return r, nil
}

// Follow implements Target: one poller per node, starting after each
// node's last commit at the time of the call.
func (t *HTTPTarget) Follow(ctx context.Context, fn func(Observation)) (func(), error) {
	return t.followEach(ctx, func(st *client.Status) uint64 { return st.LastCommittedSeq + 1 },
		func(ctx context.Context, node int, next uint64) { t.poll(ctx, node, next, fn) })
}

// followEach starts one poller per node, each from the sequence number
// startOf gives of the node's status at the time of the call, and returns
// the function that stops them and waits for them to end.
func (t *HTTPTarget) followEach(ctx context.Context, startOf func(*client.Status) uint64,
	poll func(ctx context.Context, node int, next uint64)) (func(), error) {
	starts := make([]uint64, len(t.nodes))
	for i := range t.nodes {
		st, err := t.Status(ctx, i)
		if err != nil {
			return nil, fmt.Errorf("loadtest: node %s: %w", t.nodes[i].Addr(), err)
		}
		starts[i] = startOf(st)
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for i := range t.nodes {
		wg.Go(func() { poll(ctx, i, starts[i]) })
	}
	var once sync.Once
	return func() { once.Do(func() { cancel(); wg.Wait() }) }, nil
}

// pollLoop runs step for node until ctx ends: at once, again at once
// after a step that read a full page, after PollInterval after one that
// read less, and after five PollIntervals after one that failed (logged
// as what).
func (t *HTTPTarget) pollLoop(ctx context.Context, node int, what string, step func() (full bool, err error)) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		full, err := step()
		switch {
		case err != nil:
			if ctx.Err() == nil {
				t.opts.Logger.Warn(what, "node", t.nodes[node].Addr(), "err", err)
			}
			timer.Reset(t.opts.PollInterval * 5)
		case full:
			timer.Reset(0)
		default:
			timer.Reset(t.opts.PollInterval)
		}
	}
}

const pollLimit = 200

// restOf returns the transactions of c, asking node for those the answer
// cut (the node's response size limit: CommitInfo.NextTxOffset).
func (t *HTTPTarget) restOf(ctx context.Context, node int, c *client.CommitInfo, q client.CommitQuery) ([][]byte, error) {
	txs := c.Transactions
	for off := c.NextTxOffset; off != nil && *off > 0; {
		q.TxOffset = *off
		rest, err := t.nodes[node].Commit(ctx, c.Seq, q)
		if err != nil {
			return nil, fmt.Errorf("commit %d from transaction %d: %w", c.Seq, q.TxOffset, err)
		}
		if rest.NextTxOffset != nil && *rest.NextTxOffset <= *off {
			return nil, fmt.Errorf("commit %d: the node's cursor went from %d back to %d", c.Seq, *off, *rest.NextTxOffset)
		}
		txs = append(txs, rest.Transactions...)
		off = rest.NextTxOffset
	}
	return txs, nil
}

func (t *HTTPTarget) poll(ctx context.Context, node int, next uint64, fn func(Observation)) {
	t.pollLoop(ctx, node, "poll commits", func() (bool, error) {
		q := client.CommitQuery{Txs: "own", TxPrefix: HeaderSize}
		if t.opts.FullTransactions {
			q.TxPrefix = 0
		}
		cr, err := t.nodes[node].Commits(ctx, next, pollLimit, q)
		at := time.Now()
		if err != nil {
			return false, err
		}
		for _, c := range cr.Commits {
			if c.Seq != next {
				break
			}
			var d [32]byte
			if b, err := hex.DecodeString(c.Digest); err == nil && len(b) == 32 {
				copy(d[:], b)
			}
			if c.Pruned {
				t.opts.Logger.Warn("transactions pruned before they were read: follower too slow", "node", t.nodes[node].Addr(), "seq", c.Seq)
			}
			txs, err := t.restOf(ctx, node, c, q)
			if err != nil {
				return false, err // next is this commit: asked again
			}
			ob := Observation{Node: node, Seq: c.Seq, Digest: d, Txs: txs, At: at}
			if c.CommitExecution != nil {
				if b, err := hex.DecodeString(c.StateRoot); err == nil && len(b) == 32 {
					copy(ob.StateRoot[:], b)
					ob.HasState = true
				}
			}
			fn(ob)
			next++
		}
		return len(cr.Commits) == pollLimit, nil
	})
}

// FollowExecution implements ExecutionFollower: one poller per node of
// GET /v1/commits?from=S (with txs=own when Receipts is set), starting
// after each node's last executed commit at the time of the call. A
// commit is reported once the node has executed it, with its state root
// and, when Receipts is set, the receipts of the node's own transactions
// (a transaction without a receipt was dropped: duplicate, expired or
// malformed).
func (t *HTTPTarget) FollowExecution(ctx context.Context, fn func(ExecObservation)) (func(), error) {
	return t.followEach(ctx, func(st *client.Status) uint64 { return st.LastExecutedSeq + 1 },
		func(ctx context.Context, node int, next uint64) { t.pollExec(ctx, node, next, fn) })
}

func (t *HTTPTarget) pollExec(ctx context.Context, node int, next uint64, fn func(ExecObservation)) {
	t.pollLoop(ctx, node, "poll executed commits", func() (bool, error) {
		var q client.CommitQuery
		if t.opts.Receipts {
			q.Txs = "own"
		}
		cr, err := t.nodes[node].Commits(ctx, next, pollLimit, q)
		at := time.Now()
		if err != nil {
			return false, err
		}
		reported := 0
		for _, c := range cr.Commits {
			if c.Seq != next || c.CommitExecution == nil {
				break // not executed yet: asked again at the next poll
			}
			ob := ExecObservation{Node: node, Seq: c.Seq, At: at,
				Dropped: uint64(c.CommitExecution.Counts.BadSignature) + uint64(c.CommitExecution.Counts.Unpaid)}
			if b, err := hex.DecodeString(c.StateRoot); err == nil && len(b) == 32 {
				copy(ob.StateRoot[:], b)
			}
			if c.Pruned {
				t.opts.Logger.Warn("transactions pruned before their receipts were read: follower too slow", "node", t.nodes[node].Addr(), "seq", c.Seq)
			}
			if t.opts.Receipts && len(c.Transactions) > 0 {
				txs, err := t.restOf(ctx, node, c, q)
				if err == nil {
					ob.Txs, err = t.receipts(ctx, node, txs)
				}
				if err != nil {
					if ctx.Err() == nil {
						t.opts.Logger.Warn("read receipts", "node", t.nodes[node].Addr(), "seq", c.Seq, "err", err)
					}
					break
				}
			}
			fn(ob)
			next++
			reported++
		}
		return reported == pollLimit, nil
	})
}

// receipts returns the receipts of txs at node, in order, leaving out
// those without one.
func (t *HTTPTarget) receipts(ctx context.Context, node int, txs [][]byte) ([]ExecTx, error) {
	out := make([]ExecTx, len(txs))
	found := make([]bool, len(txs))
	errs := make([]error, len(txs))
	sem := make(chan struct{}, t.opts.ReceiptConcurrency)
	var wg sync.WaitGroup
	for i, tx := range txs {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			d := crypto.Hash(tx)
			ri, ok, err := t.nodes[node].Receipt(ctx, d)
			switch {
			case err != nil:
				errs[i] = err
			case ok:
				out[i], found[i] = ExecTx{Digest: d, OK: ri.OK, Code: ri.CodeName}, true
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	res := out[:0]
	for i := range out {
		if found[i] {
			res = append(res, out[i])
		}
	}
	return res, nil
}

// StateRoots implements StateRootLister with GET /v1/commits?from=S,
// whose commits carry their state root once executed.
func (t *HTTPTarget) StateRoots(ctx context.Context, node int, from uint64, max int) ([][32]byte, error) {
	var roots [][32]byte
	for len(roots) < max {
		limit := min(max-len(roots), client.MaxCommitsPerRequest)
		seq := from + uint64(len(roots))
		cr, err := t.nodes[node].Commits(ctx, seq, limit, client.CommitQuery{})
		if err != nil {
			return nil, fmt.Errorf("loadtest: node %s: %w", t.nodes[node].Addr(), err)
		}
		n := len(roots)
		for _, c := range cr.Commits {
			if c.Seq != seq || c.CommitExecution == nil {
				break
			}
			b, err := hex.DecodeString(c.StateRoot)
			if err != nil || len(b) != 32 {
				return nil, fmt.Errorf("loadtest: node %s: commit %d: state root %q", t.nodes[node].Addr(), c.Seq, c.StateRoot)
			}
			roots = append(roots, [32]byte(b))
			seq++
		}
		if len(roots) == n || len(roots)-n < limit {
			break // the node has executed no further (or answered a shorter page)
		}
	}
	return roots, nil
}
