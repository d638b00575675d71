package netquic

import (
	"testing"
	"time"

	"github.com/dagd/dagd/internal/testwait"
)

// TestPause: while validator 0 pauses validator 1, none of 1's frames is
// read; they arrive once the pause ends, in order; validator 0 still
// sends to 1 meanwhile.
func TestPause(t *testing.T) {
	nodes := startNet(t, 2, nil)
	a, b := nodes[0], nodes[1]
	testwait.Until(t, 10*time.Second, "the links", func() bool { return len(a.tr.Connected()) == 1 && len(b.tr.Connected()) == 1 })
	if err := b.tr.Send(0, []byte("before")); err != nil {
		t.Fatal(err)
	}
	if got := <-a.tr.Inbox(); string(got.Frame) != "before" {
		t.Fatalf("got %q", got.Frame)
	}
	const pause = 400 * time.Millisecond
	until := time.Now().Add(pause)
	a.tr.Pause(1, until)
	// The reader may be inside its wait for the next frame when Pause is
	// called: that one frame is still delivered. Send it first.
	if err := b.tr.Send(0, []byte("in-flight")); err != nil {
		t.Fatal(err)
	}
	<-a.tr.Inbox()
	for i := range 3 {
		if err := b.tr.Send(0, []byte{byte('0' + i)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.tr.Send(1, []byte("to b")); err != nil {
		t.Fatal(err)
	}
	if got := <-b.tr.Inbox(); string(got.Frame) != "to b" {
		t.Fatalf("b got %q", got.Frame)
	}
	for i := range 3 {
		got := <-a.tr.Inbox()
		if at := time.Now(); at.Before(until) {
			t.Fatalf("frame %d read %v before the pause ended", i, until.Sub(at))
		}
		if string(got.Frame) != string(rune('0'+i)) {
			t.Fatalf("frame %d: %q", i, got.Frame)
		}
	}
}
