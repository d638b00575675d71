package engine

import (
	"testing"
	"time"

	"github.com/dagd/dagd/crypto"
)

func TestBatchFlow(t *testing.T) {
	f := newBatchFlow(4, 1000, time.Second)
	now := time.Unix(1000, 0)
	d := func(i int) crypto.Digest { return crypto.Hash([]byte{byte(i)}) }
	if !f.allow(1, d(1), 600, now) {
		t.Fatal("first batch held back")
	}
	if f.allow(1, d(1), 600, now.Add(500*time.Millisecond)) {
		t.Error("a batch still on its way was sent again")
	}
	if f.allow(1, d(2), 600, now) {
		t.Error("budget exceeded")
	}
	if !f.allow(2, d(2), 600, now) {
		t.Error("another peer's budget was used")
	}
	f.acked(1, d(1))
	if !f.allow(1, d(2), 600, now) {
		t.Error("an acknowledgement did not free the budget")
	}
	// An unacknowledged batch may go again after the expiry, and frees
	// its bytes.
	if !f.allow(1, d(2), 600, now.Add(2*time.Second)) {
		t.Error("expired batch not sent again")
	}
	if !f.allow(1, d(3), 2000, now.Add(4*time.Second)) {
		t.Error("an oversize batch to a peer with nothing outstanding must go")
	}
	if got := f.outstanding(); got != 2600 {
		t.Errorf("outstanding %d, want 2600", got)
	}
	f.acked(9, d(1)) // unknown peer: ignored
}
