package engine

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dagd/dagd/engine/apiserver"
	"github.com/dagd/dagd/erasure"
	"github.com/dagd/dagd/internal/testwait"
)

// fakeClock is a Clock that moves only when the test advances it.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []fakeWaiter
}

type fakeWaiter struct {
	at time.Time
	ch chan time.Time
}

func newFakeClock(start time.Time) *fakeClock { return &fakeClock{now: start} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	if d <= 0 {
		ch <- c.now
		return ch
	}
	c.waiters = append(c.waiters, fakeWaiter{at: c.now.Add(d), ch: ch})
	return ch
}

// Advance moves the clock d forward and fires every timer now due.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if w.at.After(c.now) {
			kept = append(kept, w)
			continue
		}
		w.ch <- c.now
	}
	c.waiters = kept
}

// waiting reports whether someone waits for a time at least d from now:
// a loop that re-armed its timer of period d after its last wake-up.
func (c *fakeClock) waiting(d time.Duration) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, w := range c.waiters {
		if !w.at.Before(c.now.Add(d)) {
			return true
		}
	}
	return false
}

// TestUncertifiedObjectDeletedAfterTTL drives node 0's audit loop with a
// fake clock: shards of an object that no certificate or registration
// claims survive the audit passes within UncertifiedTTL and are deleted
// by the first pass after it. With the system clock this took an hour.
func TestUncertifiedObjectDeletedAfterTTL(t *testing.T) {
	const audit, ttl = time.Minute, time.Hour
	clock := newFakeClock(time.Now())
	d := contentDevnet(t, true, func(i int, o *Options) {
		if i == 0 {
			o.Clock = clock
			o.Content.AuditInterval = audit
			o.Content.UncertifiedTTL = ttl
		}
	})
	s := d.Node(0).content
	data := randomContent(77, 200<<10)
	enc, err := erasure.NewEncoder(&erasure.Options{ChunkSize: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	_, man, err := enc.Encode(context.Background(), bytes.NewReader(data), int64(len(data)), discardSink{})
	if err != nil {
		t.Fatal(err)
	}
	id := man.CID()
	if _, err := s.store.adopt(id, man, []int{0}); err != nil {
		t.Fatal(err)
	}
	// pass lets one audit pass run: the loop, parked on its timer, wakes,
	// runs the pass and parks again on a timer a whole interval away.
	pass := func(advance time.Duration) {
		t.Helper()
		testwait.Until(t, testTimeout, "the audit loop to wait for its next pass", func() bool { return clock.waiting(audit / 2) })
		clock.Advance(advance)
		testwait.Until(t, testTimeout, "the audit loop to finish the pass", func() bool { return clock.waiting(audit / 2) })
	}
	for elapsed := time.Duration(0); elapsed+audit < ttl; elapsed += audit {
		pass(audit)
		if _, err := s.store.holding(id); err != nil {
			t.Fatalf("the uncertified object was deleted %v after it was stored, before its TTL of %v: %v", elapsed+audit, ttl, err)
		}
	}
	pass(audit)
	testwait.Until(t, testTimeout, "the uncertified object to be deleted after its TTL", func() bool {
		_, err := s.store.holding(id)
		return err != nil
	})
}

// TestHealthStallAge: /healthz turns unavailable, naming the stall, once
// the event loop has not run for more than 5 s on the node's clock; a
// node alone, no event loop, the loop's stamp set by hand.
func TestHealthStallAge(t *testing.T) {
	clock := newFakeClock(time.Unix(1_700_000_000, 0))
	n := &Node{opts: Options{Clock: clock}, done: make(chan struct{})}
	n.running.Store(true)
	n.lastLoop.Store(clock.Now().UnixNano())
	api, err := apiserver.New(apiBackend{n}, nil, apiserver.Options{})
	if err != nil {
		t.Fatal(err)
	}
	h := api.Handler()
	health := func() (int, string) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
		return rec.Code, rec.Body.String()
	}
	if code, body := health(); code != http.StatusOK {
		t.Fatalf("fresh loop: %d %s", code, body)
	}
	clock.Advance(5 * time.Second)
	if code, body := health(); code != http.StatusOK {
		t.Fatalf("loop 5 s old (the limit): %d %s", code, body)
	}
	clock.Advance(time.Millisecond)
	code, body := health()
	if code != http.StatusServiceUnavailable || !strings.Contains(body, `"reason":"stalled"`) || !strings.Contains(body, "5.001s ago") {
		t.Fatalf("loop 5.001 s old: %d %s, want 503 stalled naming the age", code, body)
	}
	n.lastLoop.Store(clock.Now().UnixNano()) // the loop runs again
	if code, body := health(); code != http.StatusOK {
		t.Fatalf("loop running again: %d %s", code, body)
	}
}
