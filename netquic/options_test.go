package netquic

import (
	"context"
	"crypto/ed25519"
	"strings"
	"testing"
	"time"

	"github.com/dagd/dagd/internal/testwait"
)

func validOptions() Options {
	return Options{
		Self:    0,
		Key:     testKey(0),
		ChainID: "c",
		Peers: []Peer{
			{ID: 0, Addr: "127.0.0.1:0", PublicKey: pub(testKey(0))},
			{ID: 1, Addr: "127.0.0.1:9", PublicKey: pub(testKey(1))},
		},
	}
}

func TestOptionsDefaults(t *testing.T) {
	o := validOptions()
	o.EnsureDefaults()
	if err := o.Validate(); err != nil {
		t.Fatal(err)
	}
	if o.ListenAddr != "127.0.0.1:0" {
		t.Errorf("ListenAddr default %q, want Self's address", o.ListenAddr)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"MaxFrameSize", o.MaxFrameSize, 4 << 20},
		{"SendQueueLen", o.SendQueueLen, 4096},
		{"SendQueueBytes", o.SendQueueBytes, 32 << 20},
		{"InboxLen", o.InboxLen, 1024},
		{"InboxBytes", o.InboxBytes, 64 << 20},
		{"KeepAlivePeriod", o.KeepAlivePeriod, 5 * time.Second},
		{"MaxIdleTimeout", o.MaxIdleTimeout, 20 * time.Second},
		{"HandshakeTimeout", o.HandshakeTimeout, 5 * time.Second},
		{"DialBackoffMin", o.DialBackoffMin, 100 * time.Millisecond},
		{"DialBackoffMax", o.DialBackoffMax, 5 * time.Second},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s default %v, want %v", c.name, c.got, c.want)
		}
	}
	if o.Logger == nil {
		t.Error("no default Logger")
	}
	// Set values are kept.
	o2 := validOptions()
	o2.MaxFrameSize = 1000
	o2.ListenAddr = "127.0.0.1:5"
	o2.EnsureDefaults()
	if o2.MaxFrameSize != 1000 || o2.ListenAddr != "127.0.0.1:5" {
		t.Errorf("EnsureDefaults overwrote set values: %d %q", o2.MaxFrameSize, o2.ListenAddr)
	}
}

func TestOptionsValidate(t *testing.T) {
	cases := []struct {
		name string
		mod  func(o *Options)
		want string
	}{
		{"no key", func(o *Options) { o.Key = nil }, "Key has 0 bytes"},
		{"no chain", func(o *Options) { o.ChainID = "" }, "ChainID"},
		{"long chain", func(o *Options) { o.ChainID = strings.Repeat("x", 256) }, "ChainID has 256 bytes"},
		{"no peers", func(o *Options) { o.Peers = nil }, "Peers is empty"},
		{"self missing", func(o *Options) { o.Self = 5 }, "Self (validator 5) is not in Peers"},
		{"self key", func(o *Options) { o.Key = testKey(9) }, "not the public key of Key"},
		{"duplicate id", func(o *Options) { o.Peers[1].ID = 0 }, "appears twice"},
		{"duplicate key", func(o *Options) { o.Peers[1].PublicKey = pub(testKey(0)) }, "same key"},
		{"short key", func(o *Options) { o.Peers[1].PublicKey = make(ed25519.PublicKey, 31) }, "public key has 31 bytes"},
		{"no addr", func(o *Options) { o.Peers[1].Addr = "" }, "Addr is empty"},
		{"duplicate addr", func(o *Options) {
			o.Peers = append(o.Peers, Peer{ID: 2, Addr: o.Peers[1].Addr, PublicKey: pub(testKey(2))})
		}, "same address"},
		{"frame size", func(o *Options) { o.MaxFrameSize = MaxMaxFrameSize + 1 }, "MaxFrameSize"},
		{"queue bytes", func(o *Options) { o.SendQueueBytes = 10 }, "SendQueueBytes"},
		{"inbox bytes", func(o *Options) { o.InboxBytes = 10 }, "InboxBytes"},
		{"negative queue", func(o *Options) { o.SendQueueLen = -1 }, "SendQueueLen"},
		{"negative inbox", func(o *Options) { o.InboxLen = -1 }, "InboxLen"},
		{"negative timeout", func(o *Options) { o.HandshakeTimeout = -time.Second }, "HandshakeTimeout"},
		{"keepalive", func(o *Options) { o.KeepAlivePeriod = time.Minute }, "KeepAlivePeriod"},
		{"backoff", func(o *Options) { o.DialBackoffMin = time.Minute }, "DialBackoffMin"},
	}
	for _, c := range cases {
		o := validOptions()
		o.Peers = append([]Peer(nil), o.Peers...)
		c.mod(&o)
		o.EnsureDefaults()
		err := o.Validate()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Validate() = %v, want an error saying %q", c.name, err, c.want)
		}
		if err != nil {
			if _, nerr := New(context.Background(), o); nerr == nil || !strings.Contains(nerr.Error(), c.want) {
				t.Errorf("%s: New accepted invalid options: %v", c.name, nerr)
			}
		}
	}
	// All problems at once.
	o := Options{}
	o.EnsureDefaults()
	err := o.Validate()
	for _, want := range []string{"ListenAddr", "Key", "ChainID", "Peers is empty"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("empty Options: %v does not mention %q", err, want)
		}
	}
}

func TestBackoff(t *testing.T) {
	tr := &Transport{opts: Options{DialBackoffMin: 100 * time.Millisecond, DialBackoffMax: 2 * time.Second}}
	rng := newJitter()
	for attempt, ceil := range []time.Duration{100, 200, 400, 800, 1600, 2000, 2000, 2000} {
		ceil *= time.Millisecond
		for range 200 {
			d := tr.backoff(rng, attempt)
			if d < ceil/2 || d > ceil {
				t.Fatalf("attempt %d: backoff %v outside [%v, %v]", attempt, d, ceil/2, ceil)
			}
		}
	}
	// Jitter: not always the same value.
	seen := map[time.Duration]bool{}
	for range 50 {
		seen[tr.backoff(rng, 3)] = true
	}
	if len(seen) < 10 {
		t.Fatalf("only %d distinct backoffs in 50 draws", len(seen))
	}
	// Huge attempt counts do not overflow.
	if d := tr.backoff(rng, 1000); d < time.Second || d > 2*time.Second {
		t.Fatalf("attempt 1000: %v", d)
	}
}

func TestLogLimiter(t *testing.T) {
	var l logLimiter
	now := time.Unix(1000, 0)
	for i := range logBurst {
		if ok, _ := l.allow("k", now); !ok {
			t.Fatalf("event %d of the burst refused", i)
		}
	}
	if ok, _ := l.allow("k", now); ok {
		t.Fatal("event past the burst allowed")
	}
	if ok, _ := l.allow("other", now); !ok {
		t.Fatal("kinds are not limited independently")
	}
	for range 5 {
		l.allow("k", now)
	}
	ok, suppressed := l.allow("k", now.Add(logInterval))
	if !ok || suppressed != 6 {
		t.Fatalf("after an interval: allowed %v, suppressed %d; want true, 6", ok, suppressed)
	}
}

// waitProducer waits until a producer is inside q.put, which it holds
// while it waits for room (q.sendMu).
func waitProducer(t *testing.T, q *inbox) {
	t.Helper()
	testwait.Until(t, 10*time.Second, "a producer waiting in put", func() bool {
		if q.sendMu.TryLock() {
			q.sendMu.Unlock()
			return false
		}
		return true
	})
}

func TestInboxByteBudget(t *testing.T) {
	q := newInbox(10, 100)
	ctx := context.Background()
	if err := q.put(ctx, Inbound{Frame: make([]byte, 60)}); err != nil {
		t.Fatal(err)
	}
	// The decision itself, without a clock: 60 more bytes do not fit.
	if q.fits(60) {
		t.Fatal("a second 60-byte frame fits a 100-byte inbox holding 60")
	}
	done := make(chan error)
	go func() { done <- q.put(ctx, Inbound{From: 1, Frame: make([]byte, 60)}) }()
	waitProducer(t, q)
	select {
	case err := <-done:
		t.Fatalf("a second 60-byte frame entered a 100-byte inbox: %v", err)
	default:
	}
	if n, b := q.pending(); n != 1 || b != 60 {
		t.Fatalf("pending %d frames, %d bytes; want 1, 60", n, b)
	}
	<-q.ch
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if in := <-q.ch; in.From != 1 {
		t.Fatalf("got frame from %d", in.From)
	}
	if n, b := q.pending(); n != 0 || b != 0 {
		t.Fatalf("pending %d frames, %d bytes after draining", n, b)
	}
	// A frame larger than the budget still passes an empty inbox.
	if err := q.put(ctx, Inbound{Frame: make([]byte, 150)}); err != nil {
		t.Fatal(err)
	}
	// A waiting producer gives up when its context ends.
	cctx, cancel := context.WithCancel(ctx)
	go func() { done <- q.put(cctx, Inbound{Frame: make([]byte, 1)}) }()
	waitProducer(t, q)
	cancel()
	if err := <-done; err != context.Canceled {
		t.Fatalf("put after cancel: %v", err)
	}
	// The frame limit holds too.
	q2 := newInbox(2, 1000)
	for range 2 {
		if err := q2.put(ctx, Inbound{Frame: []byte{1}}); err != nil {
			t.Fatal(err)
		}
	}
	tctx, cancel2 := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel2()
	if err := q2.put(tctx, Inbound{Frame: []byte{1}}); err != context.DeadlineExceeded {
		t.Fatalf("third frame in a 2-frame inbox: %v", err)
	}
}
