package apiserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dagd/dagd/dag"
	"golang.org/x/sync/semaphore"
)

// APIOptions bounds what clients of the HTTP API may hold of the node:
// connections, time and memory. Zero values mean defaults. Every refusal
// they cause names the limit (HTTP status and message, or a Connect error
// with a reason).
type APIOptions struct {
	// MaxConns bounds the API's open connections; beyond it a new
	// connection gets a 503 naming the limit and is closed. Default 4096.
	MaxConns int `toml:"max_conns"`
	// MaxConnsPerIP bounds the open connections of one client address;
	// beyond it a new connection gets a 503 naming the limit and is
	// closed. Default 128.
	MaxConnsPerIP int `toml:"max_conns_per_ip"`
	// ReadHeaderTimeout bounds the wait for a request's headers (also for
	// the first request of a new connection). Default 10 s.
	ReadHeaderTimeout time.Duration `toml:"read_header_timeout"`
	// IdleTimeout closes a keep-alive connection with no request for this
	// long. Default 60 s.
	IdleTimeout time.Duration `toml:"idle_timeout"`
	// RequestReadTimeout bounds the reading of the whole body of a
	// submission or a read request (JSON endpoints and the Connect
	// services); a body not received within it is refused (408, or
	// DeadlineExceeded). Default 15 s.
	RequestReadTimeout time.Duration `toml:"request_read_timeout"`
	// BodyIdleTimeout bounds the wait for the next bytes of any request
	// body, uploads included (which may last longer than
	// RequestReadTimeout as long as they make progress). Default 30 s.
	BodyIdleTimeout time.Duration `toml:"body_idle_timeout"`
	// WriteTimeout bounds the writing of a unary answer. Commit streams
	// have their own per-message deadline (RPCOptions.StreamWriteTimeout)
	// and content downloads their own. Default 30 s.
	WriteTimeout time.Duration `toml:"write_timeout"`
	// MaxSubmitBytes bounds the memory of all submissions in flight (JSON,
	// binary and Connect): each is charged twice its body bytes as they
	// arrive (the body and the decoded transactions), twice
	// MaxRequestBytes up front when compressed (decompressed message and
	// its decoding), and a fixed 24 bytes per allowed transaction. A
	// submission that does not fit is refused as busy (429 or
	// ResourceExhausted, too_many_requests). Default 256 MiB; at least
	// 2*MaxRequestBytes plus the fixed part.
	MaxSubmitBytes int64 `toml:"max_submit_bytes,size"`
	// MaxSubmitBytesPerIP bounds what the submissions of one client
	// address hold of MaxSubmitBytes, so that one address cannot take it
	// all. Default half of MaxSubmitBytes; at least one compressed
	// submission (2*MaxRequestBytes plus the fixed part).
	MaxSubmitBytesPerIP int64 `toml:"max_submit_bytes_per_ip,size"`
	// MaxResponseBytes bounds the transactions one read answer carries
	// (GET /v1/commits, GET /v1/commits/{seq}): a range stops before the
	// commit that would exceed it ("more": true), a single commit stops
	// within its transactions ("next_tx_offset" continues it). Default
	// 8 MiB.
	MaxResponseBytes int `toml:"max_response_bytes,size"`
	// MaxReadBytes bounds the memory of all read answers being built at
	// once (three times their transaction bytes: copies, JSON encoding);
	// beyond it a read is refused with 429. Default 256 MiB; at least
	// 3*MaxResponseBytes.
	MaxReadBytes int64 `toml:"max_read_bytes,size"`
	// MaxStreamsPerIP bounds the commit streams of one client address
	// (RPCOptions.MaxCommitStreams bounds them all). Default 16.
	MaxStreamsPerIP int `toml:"max_streams_per_ip"`
	// MaxContentLookups bounds the content lookups that ask other
	// validators for a manifest at once (they share per-peer request slots
	// with repair); beyond it a lookup is refused as busy. Default 4.
	MaxContentLookups int `toml:"max_content_lookups"`
}

// EnsureDefaults sets the zero values of o to their defaults.
func (o *APIOptions) EnsureDefaults() {
	set := func(p *int, v int) {
		if *p <= 0 {
			*p = v
		}
	}
	setD := func(p *time.Duration, v time.Duration) {
		if *p <= 0 {
			*p = v
		}
	}
	set(&o.MaxConns, 4096)
	set(&o.MaxConnsPerIP, 128)
	setD(&o.ReadHeaderTimeout, 10*time.Second)
	setD(&o.IdleTimeout, 60*time.Second)
	setD(&o.RequestReadTimeout, 15*time.Second)
	setD(&o.BodyIdleTimeout, 30*time.Second)
	setD(&o.WriteTimeout, 30*time.Second)
	if o.MaxSubmitBytes <= 0 {
		o.MaxSubmitBytes = 256 << 20
	}
	if o.MaxSubmitBytesPerIP <= 0 {
		o.MaxSubmitBytesPerIP = o.MaxSubmitBytes / 2
	}
	set(&o.MaxResponseBytes, 8<<20)
	if o.MaxReadBytes <= 0 {
		o.MaxReadBytes = 256 << 20
	}
	set(&o.MaxStreamsPerIP, 16)
	set(&o.MaxContentLookups, 4)
}

// submitFixedCost is what a submission is charged before its body: the
// slice headers of its transactions.
func submitFixedCost(maxTxs int) int64 { return 24 * int64(maxTxs) }

// Validate reports the API limits that cannot work, as
// *dag.OptionErrors whose fields start with prefix; a submission of
// maxRequestBytes and maxTxs must fit one client's share.
func (o *APIOptions) Validate(prefix string, maxRequestBytes int64, maxTxs int) []error {
	c := &dag.OptionChecker{Prefix: prefix}
	for _, t := range []struct {
		field string
		d     time.Duration
	}{{"ReadHeaderTimeout", o.ReadHeaderTimeout}, {"IdleTimeout", o.IdleTimeout}, {"RequestReadTimeout", o.RequestReadTimeout},
		{"BodyIdleTimeout", o.BodyIdleTimeout}, {"WriteTimeout", o.WriteTimeout}} {
		if t.d < time.Millisecond {
			c.Bad(t.field, "%s: must be at least 1ms", t.d)
		}
	}
	c.Positive("MaxConns", int64(o.MaxConns))
	c.Positive("MaxConnsPerIP", int64(o.MaxConnsPerIP))
	if o.MaxConnsPerIP > o.MaxConns {
		c.Bad("MaxConnsPerIP", "%d exceeds MaxConns (%d)", o.MaxConnsPerIP, o.MaxConns)
	}
	c.Positive("MaxSubmitBytes", o.MaxSubmitBytes)
	c.Positive("MaxSubmitBytesPerIP", o.MaxSubmitBytesPerIP)
	if need := 2*maxRequestBytes + submitFixedCost(maxTxs); o.MaxSubmitBytesPerIP > 0 && o.MaxSubmitBytesPerIP < need {
		c.Bad("MaxSubmitBytesPerIP", "%d is below one compressed submission (2*MaxRequestBytes + 24*MaxRequestTxs = %d)", o.MaxSubmitBytesPerIP, need)
	}
	if o.MaxSubmitBytes < o.MaxSubmitBytesPerIP {
		c.Bad("MaxSubmitBytes", "%d is below MaxSubmitBytesPerIP (%d)", o.MaxSubmitBytes, o.MaxSubmitBytesPerIP)
	}
	c.Positive("MaxResponseBytes", int64(o.MaxResponseBytes))
	c.Positive("MaxReadBytes", o.MaxReadBytes)
	if o.MaxReadBytes < 3*int64(o.MaxResponseBytes) {
		c.Bad("MaxReadBytes", "%d is below three answers of MaxResponseBytes (3*%d)", o.MaxReadBytes, o.MaxResponseBytes)
	}
	c.Positive("MaxStreamsPerIP", int64(o.MaxStreamsPerIP))
	c.Positive("MaxContentLookups", int64(o.MaxContentLookups))
	return c.Errs
}

// apiLimits is the state behind APIOptions; built by New.
type apiLimits struct {
	opts APIOptions
	// submit and read budget memory by bytes.
	submit, read *byteBudget
	// streams counts commit streams per client address.
	streams perKeyCounter
	// submitPerIP counts the submission bytes held per client address.
	submitPerIP perKeyBytes
}

// perKeyBytes counts bytes held per key (client address) under a share.
type perKeyBytes struct {
	mu sync.Mutex
	m  map[string]int64
}

func (p *perKeyBytes) add(key string, n, share int64) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.m[key]+n > share {
		return false
	}
	if p.m == nil {
		p.m = make(map[string]int64)
	}
	p.m[key] += n
	return true
}

func (p *perKeyBytes) sub(key string, n int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.m[key] <= n {
		delete(p.m, key)
		return
	}
	p.m[key] -= n
}

func newAPILimits(o APIOptions) *apiLimits {
	return &apiLimits{opts: o, submit: newByteBudget(o.MaxSubmitBytes), read: newByteBudget(o.MaxReadBytes)}
}

// byteBudget is a semaphore of bytes that knows how much is in use (for
// the messages of refusals).
type byteBudget struct {
	sem   *semaphore.Weighted
	limit int64
	used  atomic.Int64
}

func newByteBudget(limit int64) *byteBudget {
	return &byteBudget{sem: semaphore.NewWeighted(limit), limit: limit}
}

// tryTake takes n bytes if free, without waiting.
func (b *byteBudget) tryTake(n int64) bool {
	if n <= 0 {
		return true
	}
	if n > b.limit || !b.sem.TryAcquire(n) {
		return false
	}
	b.used.Add(n)
	return true
}

// take waits for n bytes (at most the whole budget) until ctx ends, and
// returns what it took.
func (b *byteBudget) take(ctx context.Context, n int64) (int64, error) {
	n = min(n, b.limit)
	if n <= 0 {
		return 0, nil
	}
	if err := b.sem.Acquire(ctx, n); err != nil {
		return 0, err
	}
	b.used.Add(n)
	return n, nil
}

func (b *byteBudget) give(n int64) {
	if n > 0 {
		b.used.Add(-n)
		b.sem.Release(n)
	}
}

// charge is what one request holds of a budget, and when perIP is set of
// its client address's share; release gives it all back.
type charge struct {
	b    *byteBudget
	held int64
	// perIP, when set, bounds what ip holds to share.
	perIP *perKeyBytes
	ip    string
	share int64
	// overShare: the last refusal was the address's share, not the
	// budget.
	overShare bool
}

func (c *charge) take(n int64) bool {
	if c.perIP != nil && !c.perIP.add(c.ip, n, c.share) {
		c.overShare = true
		return false
	}
	if !c.b.tryTake(n) {
		if c.perIP != nil {
			c.perIP.sub(c.ip, n)
		}
		c.overShare = false
		return false
	}
	c.held += n
	return true
}

func (c *charge) release() {
	c.b.give(c.held)
	if c.perIP != nil {
		c.perIP.sub(c.ip, c.held)
	}
	c.held = 0
}

// refusal explains the last take that failed.
func (c *charge) refusal() *errBudget {
	return &errBudget{limit: c.b.limit, used: c.b.used.Load(), ip: c.ip, share: c.share, overShare: c.overShare}
}

// errBudget is the error of a body read that found the submission memory
// budget used up.
type errBudget struct {
	limit, used int64
	ip          string
	share       int64
	overShare   bool
}

func (e *errBudget) Error() string {
	if e.overShare {
		return fmt.Sprintf("submissions from %s hold their share of the submission memory budget (%d bytes, API.MaxSubmitBytesPerIP); retry", e.ip, e.share)
	}
	return fmt.Sprintf("submission memory budget in use (%d of %d bytes, API.MaxSubmitBytes); retry", e.used, e.limit)
}

// ErrBodyTimeout is what a request body read returns, wrapped with the
// limit it hit (APIOptions.RequestReadTimeout or BodyIdleTimeout), when
// the client does not send it in time.
var ErrBodyTimeout = errors.New("apiserver: request body not received in time")

// errBodyTimeout is the error of a body that did not arrive in time.
type errBodyTimeout struct {
	d     time.Duration
	limit string // the option's name
	err   error
}

func (e *errBodyTimeout) Error() string {
	return fmt.Sprintf("request body not received within %s (%s): %v", e.d, e.limit, e.err)
}

// Is makes errors.Is(err, ErrBodyTimeout) hold.
func (e *errBodyTimeout) Is(target error) bool { return target == ErrBodyTimeout }

func (e *errBodyTimeout) Unwrap() error { return e.err }

// chargedBody reads a request body, charging every byte read (times
// factor) to a budget, and names a timeout for what it is.
type chargedBody struct {
	r       io.ReadCloser
	c       *charge
	factor  int64
	timeout time.Duration
	// wrap, when set, turns a refusal into the error Read returns (a
	// Connect error for the Connect API).
	wrap func(*refusal) error
	err  error
}

func (b *chargedBody) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	n, err := b.r.Read(p)
	if n > 0 && !b.c.take(int64(n)*b.factor) {
		return 0, b.fail(b.c.refusal())
	}
	var te *errBodyTimeout
	var ne net.Error
	switch {
	case err == nil:
	case errors.As(err, &te):
		return n, b.fail(te)
	case errors.As(err, &ne) && ne.Timeout():
		return n, b.fail(&errBodyTimeout{d: b.timeout, limit: "API.RequestReadTimeout", err: err})
	}
	return n, err
}

func (b *chargedBody) fail(err error) error {
	b.err = err
	if b.wrap != nil {
		b.err = b.wrap(bodyRefusal(err))
	}
	return b.err
}

func (b *chargedBody) Close() error { return b.r.Close() }

// ProgressBody is the body of every request the server reads: it sets a read deadline before every read of a body, so that
// a body that stops arriving ends after BodyIdleTimeout however long it
// has been flowing. It is the one place that sets read deadlines on a
// request body: a handler tightens it (until, pace), never sets its own.
type ProgressBody struct {
	r    io.ReadCloser
	rc   *http.ResponseController
	idle time.Duration
	// until, when set, is a deadline for the whole body that the idle
	// deadline never extends, total after the request started.
	until time.Time
	total time.Duration
	// A paced body (a content put) has a deadline that moves with what
	// was read: byte n must arrive within grace + n/minRate of start, so
	// a client trickling a large body cannot hold an upload slot.
	start   time.Time
	grace   time.Duration
	minRate int64
	read    int64
	// timedOut is the timeout a read hit, for a handler that sees only
	// the cancellation the server makes of it.
	timedOut atomic.Pointer[errBodyTimeout]
}

// Pace gives the body a minimum average rate after a grace period,
// counted from start.
func (b *ProgressBody) Pace(start time.Time, grace time.Duration, minRate int64) {
	b.start, b.grace, b.minRate = start, grace, max(minRate, 1)
}

// Timeout returns the timeout a read of the body hit, or nil.
func (b *ProgressBody) Timeout() error {
	if te := b.timedOut.Load(); te != nil {
		return te
	}
	return nil
}

// Read reads the body within its deadlines.
func (b *ProgressBody) Read(p []byte) (int, error) {
	now := time.Now()
	d, limit, within := now.Add(b.idle), "API.BodyIdleTimeout", b.idle
	if !b.until.IsZero() && b.until.Before(d) {
		d, limit, within = b.until, "API.RequestReadTimeout", b.total
	}
	if b.minRate > 0 {
		allow := b.read + int64(len(p))
		paced := b.grace + time.Duration(float64(allow)/float64(b.minRate)*float64(time.Second))
		if u := b.start.Add(paced); u.Before(d) {
			d, limit, within = u, "Content.MinUploadRate after Content.UploadBodyGrace", paced
		}
	}
	_ = b.rc.SetReadDeadline(d)
	n, err := b.r.Read(p)
	b.read += int64(n)
	var ne net.Error
	switch {
	case errors.Is(err, io.EOF):
		// The body is in: no deadline for the server's background read
		// of the connection while the handler works.
		_ = b.rc.SetReadDeadline(time.Time{})
	case errors.As(err, &ne) && ne.Timeout():
		te := &errBodyTimeout{d: within, limit: limit, err: err}
		b.timedOut.Store(te)
		err = te
	}
	return n, err
}

// Close closes the body.
func (b *ProgressBody) Close() error { return b.r.Close() }

// withBodyProgress applies BodyIdleTimeout to every request body the API
// reads (the outermost handler).
func withBodyProgress(o APIOptions, h http.Handler) http.Handler {
	idle := o.BodyIdleTimeout
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil && r.Body != http.NoBody {
			rc := http.NewResponseController(w)
			// Also for a body the handler never reads: the server reads
			// what is left of a small one before it answers.
			_ = rc.SetReadDeadline(time.Now().Add(idle))
			// A copy: the server must still see its own body type (it
			// decides from it whether to read the rest before answering).
			r = r.WithContext(r.Context())
			r.Body = &ProgressBody{r: r.Body, rc: rc, idle: idle}
		}
		h.ServeHTTP(w, r)
	})
}

// WithRequestDeadlines bounds the whole body read (o.RequestReadTimeout)
// and the answer's write (o.WriteTimeout) of a unary endpoint: the
// mounted endpoints wrap their handlers with it.
func WithRequestDeadlines(o APIOptions, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := time.Now()
		rc := http.NewResponseController(w)
		if pb, ok := r.Body.(*ProgressBody); ok {
			pb.until, pb.total = now.Add(o.RequestReadTimeout), o.RequestReadTimeout
		}
		_ = rc.SetWriteDeadline(now.Add(o.RequestReadTimeout + o.WriteTimeout))
		// A keep-alive connection's next request starts without it.
		defer func() { _ = rc.SetWriteDeadline(time.Time{}) }()
		h.ServeHTTP(w, r)
	})
}

// clientIP is the address part of a remote address ("" when it has none).
func clientIP(remote string) string {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		return remote
	}
	return host
}

// perKeyCounter counts holders per key (client address) under a limit.
type perKeyCounter struct {
	mu sync.Mutex
	m  map[string]int
}

// acquire counts one more for key unless limit are held; it returns the
// count held before.
func (c *perKeyCounter) acquire(key string, limit int) (int, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[string]int)
	}
	held := c.m[key]
	if held >= limit {
		return held, false
	}
	c.m[key] = held + 1
	return held, true
}

func (c *perKeyCounter) release(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m[key] <= 1 {
		delete(c.m, key)
		return
	}
	c.m[key]--
}

// limitListener caps the open connections of the API, in all and per
// client address. A connection beyond a cap gets a short HTTP/1.1 503
// naming the limit and is closed.
type limitListener struct {
	net.Listener
	max, perIP int
	open       atomic.Int64
	perKey     perKeyCounter
	refused    func(reason string)
}

func newLimitListener(ln net.Listener, o APIOptions, refused func(string)) *limitListener {
	return &limitListener{Listener: ln, max: o.MaxConns, perIP: o.MaxConnsPerIP, refused: refused}
}

// Accept returns the next connection within the caps.
func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		ip := clientIP(c.RemoteAddr().String())
		if l.open.Add(1) > int64(l.max) {
			l.open.Add(-1)
			l.refuse(c, "conns", fmt.Sprintf("more than %d API connections open (API.MaxConns)", l.max))
			continue
		}
		if _, ok := l.perKey.acquire(ip, l.perIP); !ok {
			l.open.Add(-1)
			l.refuse(c, "conns_per_ip", fmt.Sprintf("more than %d API connections open from %s (API.MaxConnsPerIP)", l.perIP, ip))
			continue
		}
		return &limitedConn{Conn: c, l: l, ip: ip}, nil
	}
}

// refuse answers a connection beyond a cap and closes it. A new
// connection's send buffer is empty: the short write does not block.
func (l *limitListener) refuse(c net.Conn, reason, msg string) {
	if l.refused != nil {
		l.refused(reason)
	}
	body := fmt.Sprintf(`{"error":%q,"reason":%q}`+"\n", msg, reason)
	_ = c.SetWriteDeadline(time.Now().Add(50 * time.Millisecond))
	_, _ = fmt.Fprintf(c, "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 1\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
	_ = c.Close()
}

// limitedConn gives its place back when closed.
type limitedConn struct {
	net.Conn
	l    *limitListener
	ip   string
	once sync.Once
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() {
		c.l.open.Add(-1)
		c.l.perKey.release(c.ip)
	})
	return err
}

// readCharge is a charge to the read budget for one answer built in
// memory; release it once the answer is written.
func (s *Server) readCharge() *charge { return &charge{b: s.limits.read} }

// readBudgetError is the refusal of a read the budget cannot take.
func (s *Server) readBudgetError(w http.ResponseWriter) {
	b := s.limits.read
	w.Header().Set("Retry-After", "1")
	WriteError(w, http.StatusTooManyRequests, "read_budget", fmt.Sprintf("read answers in memory use %d of %d bytes (API.MaxReadBytes); retry", b.used.Load(), b.limit))
}
