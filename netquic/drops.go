package netquic

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/quic-go/quic-go/qlog"
	"github.com/quic-go/quic-go/qlogwriter"
)

// Outsiders can cause some events at will (refused handshakes, dropped
// datagrams, bad frames); their logs are rate-limited by kind with a token
// bucket: a burst of logBurst, then one per logInterval. The ones
// suppressed are counted and reported with the next that is logged.
const (
	logBurst    = 20
	logInterval = time.Second
)

// logLimiter rate-limits logs by kind. Kinds are a small fixed set of
// strings chosen by this package, never by a peer.
type logLimiter struct {
	mu    sync.Mutex
	state map[string]*limitState
}

type limitState struct {
	tokens     float64
	last       time.Time
	suppressed int
}

// allow reports whether an event of this kind may be logged now, and how
// many were suppressed since the last one that was.
func (l *logLimiter) allow(kind string, now time.Time) (ok bool, suppressed int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.state == nil {
		l.state = make(map[string]*limitState)
	}
	s := l.state[kind]
	if s == nil {
		s = &limitState{tokens: logBurst, last: now}
		l.state[kind] = s
	}
	s.tokens = min(logBurst, s.tokens+float64(now.Sub(s.last))/float64(logInterval))
	s.last = now
	if s.tokens < 1 {
		s.suppressed++
		return false, 0
	}
	s.tokens--
	suppressed, s.suppressed = s.suppressed, 0
	return true, suppressed
}

// logLimited logs msg at level unless events of this kind exceed the
// rate limit.
func (t *Transport) logLimited(kind string, level slog.Level, msg string, args ...any) {
	ok, suppressed := t.limiter.allow(kind, time.Now())
	if !ok {
		return
	}
	if suppressed > 0 {
		args = append(args, "suppressed_since_last", suppressed)
	}
	t.log.Log(context.Background(), level, msg, args...)
}

// dropRecorder receives the events that quic-go records outside any
// connection; it counts and logs the datagrams quic-go drops there
// (garbage, unknown connection IDs, unsupported versions, overload).
type dropRecorder struct {
	t      *Transport
	closed atomic.Bool
}

var _ qlogwriter.Recorder = (*dropRecorder)(nil)

// RecordEvent implements qlogwriter.Recorder.
func (r *dropRecorder) RecordEvent(ev qlogwriter.Event) {
	if r.closed.Load() {
		return
	}
	d, ok := ev.(qlog.PacketDropped)
	if !ok {
		return
	}
	r.t.droppedDatagrams.Add(1)
	reason := string(d.Trigger)
	r.t.logLimited("drop:"+reason, slog.LevelInfo, "netquic: dropped a datagram",
		"reason", reason, "bytes", d.Raw.Length)
}

// Close implements qlogwriter.Recorder.
func (r *dropRecorder) Close() error {
	r.closed.Store(true)
	return nil
}

// readNonQUIC takes the datagrams that are not QUIC at all (quic-go hands
// them out rather than dropping them silently) and counts and logs them.
func (t *Transport) readNonQUIC() {
	defer t.wg.Done()
	buf := make([]byte, 64)
	for {
		_, addr, err := t.qt.ReadNonQUICPacket(t.ctx, buf)
		if err != nil {
			return
		}
		t.droppedDatagrams.Add(1)
		from := "unknown"
		if addr != nil {
			from = addr.String()
		}
		t.logLimited("drop:not_quic", slog.LevelInfo, "netquic: dropped a datagram",
			"reason", "not_quic", "from", from)
	}
}
