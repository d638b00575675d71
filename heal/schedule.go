package heal

import (
	"container/heap"
	"errors"
	"fmt"
	"time"
)

// Defaults of Options.
const (
	// DefaultConcurrency is the default number of repairs run at once.
	DefaultConcurrency = 2
	// DefaultBackoffMin is the default wait before the first retry.
	DefaultBackoffMin = time.Second
	// DefaultBackoffMax is the default longest wait between retries.
	DefaultBackoffMax = 5 * time.Minute
	// DefaultMaxQueued is the default bound of the repair queue.
	DefaultMaxQueued = 1 << 16
)

// Options configure a Scheduler. The zero value of a field means its
// default; call EnsureDefaults, then Validate.
type Options struct {
	// Concurrency is the number of repairs running at once. Default
	// DefaultConcurrency (2); range [1, 1024].
	Concurrency int
	// BackoffMin is the wait after a first failure; each further failure
	// doubles it. Default DefaultBackoffMin (1 s); at least 1 ms.
	BackoffMin time.Duration
	// BackoffMax caps the wait between retries. Default DefaultBackoffMax
	// (5 min); at least BackoffMin.
	BackoffMax time.Duration
	// MaxQueued bounds the keys waiting or running; Add refuses beyond it
	// (the next audit adds the key again). Default DefaultMaxQueued
	// (65536); at least Concurrency.
	MaxQueued int
}

// EnsureDefaults fills the zero fields of o with their defaults and
// returns o. A nil o is allocated.
func (o *Options) EnsureDefaults() *Options {
	if o == nil {
		o = &Options{}
	}
	if o.Concurrency == 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.BackoffMin == 0 {
		o.BackoffMin = DefaultBackoffMin
	}
	if o.BackoffMax == 0 {
		o.BackoffMax = max(DefaultBackoffMax, o.BackoffMin)
	}
	if o.MaxQueued == 0 {
		o.MaxQueued = max(DefaultMaxQueued, o.Concurrency)
	}
	return o
}

// Validate reports every field of o out of range. Call it after
// EnsureDefaults.
func (o *Options) Validate() error {
	var errs []error
	if o.Concurrency < 1 || o.Concurrency > 1024 {
		errs = append(errs, fmt.Errorf("concurrency %d outside [1, 1024]", o.Concurrency))
	}
	if o.BackoffMin < time.Millisecond {
		errs = append(errs, fmt.Errorf("backoff min %v below 1ms", o.BackoffMin))
	}
	if o.BackoffMax < o.BackoffMin {
		errs = append(errs, fmt.Errorf("backoff max %v below backoff min %v", o.BackoffMax, o.BackoffMin))
	}
	if o.MaxQueued < o.Concurrency {
		errs = append(errs, fmt.Errorf("max queued %d below concurrency %d", o.MaxQueued, o.Concurrency))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("heal: invalid options: %w", err)
	}
	return nil
}

// Scheduler decides which repairs run when: each key (an object) is queued
// at most once, at most Concurrency run at a time, due keys run in order of
// their due time, and a failed key waits an exponential backoff before it is
// due again. It reads no clock: every call takes the caller's time. It is not
// safe for concurrent use.
type Scheduler struct {
	opts    Options
	items   map[string]*item
	due     itemHeap
	running int
}

type item struct {
	key      string
	at       time.Time
	attempts int // failures so far
	running  bool
	again    bool // added while running: run once more after it ends
	index    int  // in the heap, -1 when not in it
}

// NewScheduler returns an empty scheduler; nil options mean all defaults.
func NewScheduler(opts *Options) (*Scheduler, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	o.EnsureDefaults()
	if err := o.Validate(); err != nil {
		return nil, err
	}
	return &Scheduler{opts: o, items: make(map[string]*item)}, nil
}

// Add makes key due at now, unless it is already queued (a key waiting for
// a retry keeps its later time: a fresh audit does not cut a backoff short)
// or running (it then runs once more after it ends). It reports false when
// the queue is full and key was not added.
func (s *Scheduler) Add(key string, now time.Time) bool {
	if it, ok := s.items[key]; ok {
		if it.running {
			it.again = true
		}
		return true
	}
	if len(s.items) >= s.opts.MaxQueued {
		return false
	}
	it := &item{key: key, at: now, index: -1}
	s.items[key] = it
	heap.Push(&s.due, it)
	return true
}

// Next returns a key due at now, marking it running, when fewer than
// Concurrency keys run; ok is false otherwise.
func (s *Scheduler) Next(now time.Time) (key string, ok bool) {
	if s.running >= s.opts.Concurrency || len(s.due) == 0 || s.due[0].at.After(now) {
		return "", false
	}
	it := heap.Pop(&s.due).(*item)
	it.running = true
	s.running++
	return it.key, true
}

// Done ends a run of key that Next returned. A nil err forgets the key (or
// queues it again at once when Add was called during the run); an error
// queues it again after the backoff of its number of failures.
func (s *Scheduler) Done(key string, err error, now time.Time) {
	it, ok := s.items[key]
	if !ok || !it.running {
		return
	}
	it.running = false
	s.running--
	switch {
	case err == nil && !it.again:
		delete(s.items, key)
		return
	case err == nil:
		it.attempts = 0
		it.at = now
	default:
		it.attempts++
		it.at = now.Add(s.Backoff(it.attempts))
	}
	it.again = false
	heap.Push(&s.due, it)
}

// Backoff returns the wait after the given number of consecutive
// failures: BackoffMin doubled for each failure after the first, capped at
// BackoffMax.
func (s *Scheduler) Backoff(failures int) time.Duration {
	d := s.opts.BackoffMin
	for i := 1; i < failures && d < s.opts.BackoffMax; i++ {
		d *= 2
	}
	return min(d, s.opts.BackoffMax)
}

// NextDue returns the time the earliest waiting key falls due; ok is false
// when none waits.
func (s *Scheduler) NextDue() (at time.Time, ok bool) {
	if len(s.due) == 0 {
		return time.Time{}, false
	}
	return s.due[0].at, true
}

// Attempts returns the consecutive failures of key (0 when unknown).
func (s *Scheduler) Attempts(key string) int {
	if it, ok := s.items[key]; ok {
		return it.attempts
	}
	return 0
}

// Len returns the number of keys waiting or running.
func (s *Scheduler) Len() int { return len(s.items) }

// Running returns the number of keys running.
func (s *Scheduler) Running() int { return s.running }

type itemHeap []*item

func (h itemHeap) Len() int { return len(h) }
func (h itemHeap) Less(i, j int) bool {
	if !h[i].at.Equal(h[j].at) {
		return h[i].at.Before(h[j].at)
	}
	return h[i].key < h[j].key
}
func (h itemHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *itemHeap) Push(x any) {
	it := x.(*item)
	it.index = len(*h)
	*h = append(*h, it)
}
func (h *itemHeap) Pop() any {
	old := *h
	it := old[len(old)-1]
	old[len(old)-1] = nil
	it.index = -1
	*h = old[:len(old)-1]
	return it
}
