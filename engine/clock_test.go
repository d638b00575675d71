package engine

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/dagd/dagd/engine/apiserver"
	"github.com/dagd/dagd/internal/testclock"
)

// TestHealthStallAge: /healthz turns unavailable, naming the stall, once
// the event loop has not run for more than 5 s on the node's clock; a
// node alone, no event loop, the loop's stamp set by hand.
func TestHealthStallAge(t *testing.T) {
	clock := testclock.New(time.Unix(1_700_000_000, 0))
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
