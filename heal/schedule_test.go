package heal

import (
	"errors"
	"slices"
	"testing"
	"time"
)

func TestSchedulerConcurrencyAndOrder(t *testing.T) {
	s, err := NewScheduler(&Options{Concurrency: 2, BackoffMin: time.Second, BackoffMax: 8 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Unix(1000, 0)
	for i, k := range []string{"c", "a", "b"} {
		if !s.Add(k, t0.Add(time.Duration(i)*time.Millisecond)) {
			t.Fatal("refused")
		}
	}
	s.Add("a", t0) // already queued: no change
	if s.Len() != 3 {
		t.Fatalf("len %d", s.Len())
	}
	var got []string
	for {
		k, ok := s.Next(t0.Add(time.Second))
		if !ok {
			break
		}
		got = append(got, k)
	}
	if !slices.Equal(got, []string{"c", "a"}) {
		t.Fatalf("ran %v, want the two earliest (c, a) and no more than Concurrency", got)
	}
	if s.Running() != 2 {
		t.Fatalf("running %d", s.Running())
	}
	s.Done("c", nil, t0)
	if k, ok := s.Next(t0.Add(time.Second)); !ok || k != "b" {
		t.Fatalf("after a slot freed: %q %v", k, ok)
	}
	if s.Len() != 2 {
		t.Fatalf("len %d after a success", s.Len())
	}
}

func TestSchedulerBackoff(t *testing.T) {
	s, err := NewScheduler(&Options{Concurrency: 1, BackoffMin: time.Second, BackoffMax: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(0, 0)
	s.Add("x", now)
	var waits []time.Duration
	for range 5 {
		k, ok := s.Next(now)
		if !ok || k != "x" {
			t.Fatalf("not due at %v", now)
		}
		s.Done(k, errors.New("holders down"), now)
		at, ok := s.NextDue()
		if !ok {
			t.Fatal("failed key forgotten")
		}
		if _, ok := s.Next(at.Add(-time.Nanosecond)); ok {
			t.Fatal("due before its backoff")
		}
		waits = append(waits, at.Sub(now))
		now = at
	}
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second, 5 * time.Second}
	if !slices.Equal(waits, want) {
		t.Fatalf("backoffs %v, want %v", waits, want)
	}
	if s.Attempts("x") != 5 {
		t.Fatalf("attempts %d", s.Attempts("x"))
	}
	// An audit finding it again does not cut the backoff short.
	s.Add("x", now.Add(-time.Hour))
	if at, _ := s.NextDue(); !at.Equal(now) {
		t.Fatalf("Add moved a waiting key to %v", at)
	}
	k, _ := s.Next(now)
	s.Done(k, nil, now)
	if s.Len() != 0 || s.Attempts("x") != 0 {
		t.Fatal("success did not forget the key")
	}
}

func TestSchedulerAddWhileRunning(t *testing.T) {
	s, _ := NewScheduler(nil)
	now := time.Unix(0, 0)
	s.Add("x", now)
	k, _ := s.Next(now)
	s.Add("x", now) // new damage reported during the run
	s.Done(k, nil, now)
	if k2, ok := s.Next(now); !ok || k2 != "x" {
		t.Fatal("a key added while running does not run again")
	}
	s.Done("x", nil, now)
	s.Done("x", nil, now) // not running: ignored
	s.Done("y", errors.New("?"), now)
	if s.Len() != 0 {
		t.Fatalf("len %d", s.Len())
	}
}

func TestSchedulerBounded(t *testing.T) {
	s, err := NewScheduler(&Options{Concurrency: 1, MaxQueued: 3})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(0, 0)
	for i, k := range []string{"a", "b", "c", "d"} {
		if ok := s.Add(k, now); ok != (i < 3) {
			t.Fatalf("Add(%s) = %v", k, ok)
		}
	}
}

func TestOptions(t *testing.T) {
	o := (&Options{}).EnsureDefaults()
	if err := o.Validate(); err != nil {
		t.Fatal(err)
	}
	if o.Concurrency != DefaultConcurrency || o.BackoffMin != DefaultBackoffMin || o.BackoffMax != DefaultBackoffMax || o.MaxQueued != DefaultMaxQueued {
		t.Fatalf("defaults %+v", o)
	}
	for _, bad := range []Options{
		{Concurrency: -1, BackoffMin: time.Second, BackoffMax: time.Second, MaxQueued: 1},
		{Concurrency: 1, BackoffMin: time.Microsecond, BackoffMax: time.Second, MaxQueued: 1},
		{Concurrency: 1, BackoffMin: time.Second, BackoffMax: time.Millisecond, MaxQueued: 1},
		{Concurrency: 4, BackoffMin: time.Second, BackoffMax: time.Second, MaxQueued: 2},
	} {
		if bad.Validate() == nil {
			t.Errorf("%+v validated", bad)
		}
	}
	if _, err := NewScheduler(&Options{Concurrency: 2000}); err == nil {
		t.Error("NewScheduler took bad options")
	}
}
