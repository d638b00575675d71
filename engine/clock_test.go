package engine

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
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

// TestHealthStallAge: /healthz turns unavailable, naming the stall, once
// the event loop has not run for more than 5 s on the node's clock; a
// node alone, no event loop, the loop's stamp set by hand.
func TestHealthStallAge(t *testing.T) {
	clock := newFakeClock(time.Unix(1_700_000_000, 0))
	n := &Node{opts: Options{Clock: clock}, done: make(chan struct{})}
	n.running.Store(true)
	n.lastLoop.Store(clock.Now().UnixNano())
	health := func() (int, string) {
		rec := httptest.NewRecorder()
		n.handleHealth(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
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
