package testwait

import (
	"errors"
	"testing"
	"time"
)

func TestPollReturnsOnceTheConditionHolds(t *testing.T) {
	calls := 0
	if err := Poll(time.Minute, func() error {
		calls++
		if calls < 3 {
			return errors.New("not yet")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if calls != 3 {
		t.Fatalf("condition evaluated %d times, want 3", calls)
	}
}

func TestPollTimesOutWithTheLastError(t *testing.T) {
	last := errors.New("still waiting")
	err := Poll(0, func() error { return last })
	if !errors.Is(err, last) || !errors.Is(err, errTimeout) {
		t.Fatalf("Poll = %v, want a timeout wrapping the last error", err)
	}
}

func TestTimeoutScale(t *testing.T) {
	t.Setenv(ScaleEnv, "2.5")
	if got := Timeout(t, 2*time.Second); got != 5*time.Second {
		t.Fatalf("Timeout(2s) with scale 2.5 = %v, want 5s", got)
	}
	t.Setenv(ScaleEnv, "")
	if got := Timeout(t, 2*time.Second); got != 2*time.Second {
		t.Fatalf("Timeout(2s) unscaled = %v", got)
	}
	for _, bad := range []string{"0", "-1", "x", "NaN", "1e9"} {
		t.Setenv(ScaleEnv, bad)
		if _, err := Scale(); err == nil {
			t.Fatalf("%s=%q accepted", ScaleEnv, bad)
		}
	}
}
