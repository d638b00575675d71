package apiserver

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dagd/dagd/crypto"
	"github.com/dagd/dagd/dag"
	"github.com/dagd/dagd/engine/client"
	"github.com/dagd/dagd/engine/store"
)

// Backend is what the server needs of the node: its progress, its
// health, and the submission path. Errors of refused submissions
// implement Refusal.
type Backend interface {
	// Status returns the latest snapshot of the node's progress.
	Status() client.Status
	// Ready reports whether the node is connected to a quorum and
	// committing, and why not.
	Ready() (bool, string)
	// Health returns why the node is not healthy (a reason and a
	// message), or "" when it is.
	Health() (reason, msg string)
	// CheckTransactions applies the admission rules that need no node
	// state (count, sizes).
	CheckTransactions(txs [][]byte) error
	// TakeSubmitSlot takes a slot of the submissions in flight; the
	// caller calls release once the submission is answered.
	TakeSubmitSlot() (release func(), err error)
	// Submit hands transactions to the node and returns how many it
	// accepted.
	Submit(ctx context.Context, txs [][]byte) (int, error)
	// CountInvalid counts txs transactions refused by the server's
	// checks (the node's submission metrics).
	CountInvalid(txs int)
	// CommitExecution returns the execution record of commit seq, nil
	// when it is not executed.
	CommitExecution(seq uint64) (*client.CommitExecution, error)
	// Stopping is closed once the node stops committing: commit streams
	// end.
	Stopping() <-chan struct{}
}

// Commits is what the server reads of the node's store (*store.Store):
// commit records, the commit index, batch bodies and the equivocation
// evidence records. A missing entry is store.ErrNotFound.
type Commits interface {
	// CommitRecord reads the core's record of commit seq.
	CommitRecord(seq uint64) (*dag.CommitRecord, error)
	// CommitIndex reads the node's index entry of commit seq.
	CommitIndex(seq uint64) (*store.CommitIndex, error)
	// GetBatch calls fn with the encoding of batch d while it is valid.
	GetBatch(d crypto.Digest, fn func(v []byte) error) error
	// HasBatch reports whether batch d is stored.
	HasBatch(d crypto.Digest) bool
	// BatchSize returns the size of batch d's encoding.
	BatchSize(d crypto.Digest) (int64, bool)
	// ScanEvidence calls fn with each stored equivocation record from
	// slot from on, oldest first, until fn returns false; damaged records
	// are skipped.
	ScanEvidence(from store.EvidenceSlot, fn func(se store.StoredEvidence) bool) error
}

var _ Commits = (*store.Store)(nil)

// Options configures a Server. API and RPC must have their defaults set
// (EnsureDefaults).
type Options struct {
	// API bounds connections, time and memory.
	API APIOptions
	// RPC configures the Connect API.
	RPC RPCOptions
	// MaxRequestBytes bounds a submission's body.
	MaxRequestBytes int64
	// MaxRequestTxs bounds a submission's transactions.
	MaxRequestTxs int
	// MaxTxSize bounds one transaction.
	MaxTxSize int
	// ChainID and Epoch are reported by GetStatus.
	ChainID string
	// Epoch is the committee's epoch.
	Epoch uint64
	// Self is the node's validator index (the batches of txs=own).
	Self dag.ValidatorID
	// Metrics, when set, is served on /metrics.
	Metrics prometheus.Gatherer
	// Registerer takes the server's metrics; nil: not registered.
	Registerer prometheus.Registerer
	// EnablePprof serves net/http/pprof under /debug/pprof/.
	EnablePprof bool
	// Mount, when set, adds further endpoints to the API's mux (content,
	// execution); they write with WriteJSON and WriteError and wrap unary
	// handlers with WithRequestDeadlines.
	Mount func(mux *http.ServeMux)
	// Logger logs the HTTP server's errors (at debug level).
	Logger *slog.Logger
}

// Server is the node's HTTP/JSON and Connect API.
type Server struct {
	opts   Options
	b      Backend
	store  Commits
	m      *metrics
	limits *apiLimits
	// streams counts the open StreamCommits calls.
	streams atomic.Int64
	// commits wakes StreamCommits calls when the node publishes commits.
	commits commitSignal
	// beforeCommit, when set, runs before StreamCommits reads each commit
	// (tests hold a stream back with it). Nil in production.
	beforeCommit func(seq uint64)
}

// New returns a server of b, reading commits and batches from st.
func New(b Backend, st Commits, o Options) (*Server, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{opts: o, b: b, store: st, m: newMetrics(), limits: newAPILimits(o.API)}
	if o.Registerer != nil {
		if err := o.Registerer.Register(s.m.refused); err != nil {
			return nil, fmt.Errorf("apiserver: metrics: %w", err)
		}
	}
	return s, nil
}

// NotifyCommits wakes the commit streams; the node calls it after it
// publishes the status of new commits.
func (s *Server) NotifyCommits() { s.commits.broadcast() }

// Listener caps the connections of ln (API.MaxConns, API.MaxConnsPerIP):
// one beyond a cap gets a 503 naming it and is closed.
func (s *Server) Listener(ln net.Listener) net.Listener {
	return newLimitListener(ln, s.opts.API, func(reason string) { s.m.refused.WithLabelValues(reason).Inc() })
}

// HTTPServer returns an HTTP server of Handler with the limits of
// Options.API, serving HTTP/1.1 and cleartext HTTP/2.
func (s *Server) HTTPServer() *http.Server {
	o := s.opts.API
	return &http.Server{Handler: s.Handler(), ReadHeaderTimeout: o.ReadHeaderTimeout, IdleTimeout: o.IdleTimeout,
		Protocols: apiProtocols(), ErrorLog: slog.NewLogLogger(s.opts.Logger.Handler(), slog.LevelDebug)}
}

// metrics are the server's; the names are the node's (dagd_*).
type metrics struct {
	refused *prometheus.CounterVec
}

func newMetrics() *metrics {
	return &metrics{refused: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "dagd", Name: "api_refused_total",
		Help: "API connections and requests refused by a limit of APIOptions, by limit."}, []string{"limit"})}
}

// OpenStreams returns the StreamCommits calls open.
func (s *Server) OpenStreams() int { return int(s.streams.Load()) }
