package engine

import (
	"context"
	"testing"
	"time"

	"github.com/dagd/dagd/internal/testwait"
)

// TestDevnetCloseEndsSubscriptions: closing a devnet closes the channels
// of its commit and execution subscriptions, so that a reader ranging over
// them ends (the execution one stayed open before both shared one fan-in).
func TestDevnetCloseEndsSubscriptions(t *testing.T) {
	d, err := StartDevnet(context.Background(), DevnetOptions{BaseDir: t.TempDir(), InMemoryNetwork: true, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	commits := d.Subscribe(SubscribeOptions{})
	execs := d.SubscribeExecution(0)
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	drained := func(name string, done <-chan struct{}) {
		select {
		case <-done:
		case <-time.After(testwait.Timeout(t, 10*time.Second)):
			t.Fatalf("%s subscription still open 10 s after the devnet closed", name)
		}
	}
	c1, c2 := make(chan struct{}), make(chan struct{})
	go func() {
		for range commits.C() {
		}
		close(c1)
	}()
	go func() {
		for range execs.C() {
		}
		close(c2)
	}()
	drained("commit", c1)
	drained("execution", c2)
}
