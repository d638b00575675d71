// Package testwait is the test suite's one way to wait for something that
// happens eventually: a condition polled until it holds or a timeout, scaled
// for slow machines, passes. Tests synchronise on events; when the event is
// only observable as state (a counter, a status field), they wait for it here
// instead of with a hand-rolled deadline loop or a sleep.
//
// The timeouts are upper bounds that a healthy run never reaches: on a
// loaded or instrumented machine (the race detector, two cores shared by
// several builds) set DAGD_TEST_TIMEOUT_SCALE to a factor, such as 3, that
// stretches every one of them.
package testwait

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"
)

// ScaleEnv is the environment variable holding the factor (a positive
// number, default 1) every timeout of this package is multiplied by.
const ScaleEnv = "DAGD_TEST_TIMEOUT_SCALE"

// Scale returns the factor of ScaleEnv, or an error naming the variable if it
// is set to something other than a positive number.
func Scale() (float64, error) {
	v := os.Getenv(ScaleEnv)
	if v == "" {
		return 1, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || !(f > 0) || f > 1000 {
		return 0, fmt.Errorf("testwait: %s=%q: want a positive factor of at most 1000", ScaleEnv, v)
	}
	return f, nil
}

// Timeout returns d multiplied by the factor of ScaleEnv; it fails the test
// if the variable is malformed.
func Timeout(t testing.TB, d time.Duration) time.Duration {
	t.Helper()
	f, err := Scale()
	if err != nil {
		t.Fatal(err)
	}
	return time.Duration(float64(d) * f)
}

// maxPoll is the longest pause between two evaluations of a condition; the
// pauses start at a millisecond and double up to it, so a condition that
// holds soon is seen soon and one that takes long costs little CPU.
const maxPoll = 50 * time.Millisecond

// errTimeout is wrapped by the error Poll returns when the time runs out.
var errTimeout = errors.New("condition not met in time")

// Poll evaluates cond until it returns nil and returns nil then, or, once
// timeout (not scaled: see Timeout) has passed, an error wrapping cond's last
// error. It is safe to call from any goroutine.
func Poll(timeout time.Duration, cond func() error) error {
	deadline := time.Now().Add(timeout)
	pause := time.Millisecond
	for {
		err := cond()
		if err == nil {
			return nil
		}
		if !time.Now().Before(deadline) {
			return fmt.Errorf("%w after %v: %w", errTimeout, timeout, err)
		}
		time.Sleep(pause) // polling a state that has no event to wait on
		pause = min(2*pause, maxPoll)
	}
}

// For waits until cond returns nil, for at most Timeout(t, timeout), and
// fails the test with cond's last error if it never does. Call it from the
// test's goroutine only (it calls t.Fatal).
func For(t testing.TB, timeout time.Duration, cond func() error) {
	t.Helper()
	if err := Poll(Timeout(t, timeout), cond); err != nil {
		t.Fatal(err)
	}
}

// Until waits until cond returns true, for at most Timeout(t, timeout), and
// fails the test saying what was awaited if it never does. Call it from the
// test's goroutine only (it calls t.Fatal).
func Until(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	For(t, timeout, func() error {
		if cond() {
			return nil
		}
		return errors.New(what)
	})
}
