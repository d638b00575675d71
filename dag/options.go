package dag

import (
	"errors"
	"fmt"
)

// Options tunes the consensus core. The zero value of a field means its
// default; call EnsureDefaults, then Validate.
//
// A field's toml tag is its key in a node's configuration file (table
// [dag], see engine/config); ",size" marks a number of bytes. Times
// (Time, milliseconds) are durations there. A field without a tag is no
// setting of the file.
type Options struct {
	// GCDepth is how many rounds below the last committed leader are kept.
	// Default 50.
	GCDepth uint64 `toml:"gc_depth"`
	// RetainRounds is how many rounds below the GC round the records of
	// certificates and batches stay on disk, so that a validator that fell
	// further behind than GCDepth can still fetch the history it must
	// order. Default 1000.
	RetainRounds uint64 `toml:"retain_rounds"`
	// MaxRoundsAhead bounds how far beyond the local round a header or
	// certificate may be before it is refused (the node then syncs instead
	// of buffering). Default 60.
	MaxRoundsAhead uint64 `toml:"max_rounds_ahead"`
	// MinHeaderDelay is the least time between two own headers. Default 0.
	MinHeaderDelay Time `toml:"min_header_delay"`
	// MaxHeaderDelay is how long a primary waits for batches before
	// proposing a header without any. Default 200 ms.
	MaxHeaderDelay Time `toml:"max_header_delay"`
	// LeaderTimeout bounds the wait for the leader's certificate (even
	// rounds) or for support for it (odd rounds) before advancing anyway.
	// Default 1000 ms.
	LeaderTimeout Time `toml:"leader_timeout"`
	// BatchSize seals a batch once its transactions reach this many bytes.
	// Default 512 KiB.
	BatchSize int `toml:"batch_size,size"`
	// MaxBatchDelay seals a non-empty batch after this long. Default 50 ms.
	MaxBatchDelay Time `toml:"max_batch_delay"`
	// MaxHeaderBatches bounds the batch references in one header. Default 1000.
	MaxHeaderBatches int `toml:"max_header_batches"`
	// MaxPendingBatches bounds own batches sealed but not yet stored by a
	// quorum, plus those waiting for a header; Submit answers ErrBusy beyond
	// it. Default 1000.
	MaxPendingBatches int `toml:"max_pending_batches"`
	// MaxTxSize is the largest transaction Submit accepts. Default 64 KiB.
	MaxTxSize int `toml:"max_tx_size,size"`
	// ResendInterval is how long to wait for votes, acknowledgements or
	// requested data before asking again. Default 500 ms.
	ResendInterval Time `toml:"resend_interval"`
	// SyncInterval: without progress for this long, ask a peer for the
	// certificates from the local round on. Default 1000 ms.
	SyncInterval Time `toml:"sync_interval"`
	// SyncLimit bounds the certificates sent in answer to one sync request.
	// Default 500.
	SyncLimit uint32 `toml:"sync_limit"`
	// MaxPendingCerts bounds certificates waiting for their parents.
	// Default 4096.
	MaxPendingCerts int `toml:"max_pending_certs"`
	// MaxUnreferencedBatches bounds, per author, stored batches that no
	// certificate references yet; the oldest are dropped first. Default 2000.
	MaxUnreferencedBatches int `toml:"max_unreferenced_batches"`
	// MaxUnreferencedBytes bounds, per author, the bytes of stored batches
	// that no certificate references yet; the oldest are dropped first.
	// Default 256 MiB.
	MaxUnreferencedBytes int `toml:"max_unreferenced_bytes,size"`
	// MaxClockDrift is how far ahead of the local clock a header's
	// timestamp may be for this node to vote for it. Default 5000 ms.
	MaxClockDrift Time `toml:"max_clock_drift"`
}

// EnsureDefaults fills zero fields with their defaults and returns o.
func (o *Options) EnsureDefaults() *Options {
	def := func(v *Time, d Time) {
		if *v == 0 {
			*v = d
		}
	}
	defInt := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	if o.GCDepth == 0 {
		o.GCDepth = 50
	}
	if o.RetainRounds == 0 {
		o.RetainRounds = 1000
	}
	if o.MaxRoundsAhead == 0 {
		o.MaxRoundsAhead = 60
	}
	def(&o.MaxHeaderDelay, 200)
	def(&o.LeaderTimeout, 1000)
	defInt(&o.BatchSize, 512<<10)
	def(&o.MaxBatchDelay, 50)
	defInt(&o.MaxHeaderBatches, 1000)
	defInt(&o.MaxPendingBatches, 1000)
	defInt(&o.MaxTxSize, 64<<10)
	def(&o.ResendInterval, 500)
	def(&o.SyncInterval, 1000)
	if o.SyncLimit == 0 {
		o.SyncLimit = 500
	}
	defInt(&o.MaxPendingCerts, 4096)
	defInt(&o.MaxUnreferencedBatches, 2000)
	defInt(&o.MaxUnreferencedBytes, 256<<20)
	def(&o.MaxClockDrift, 5000)
	return o
}

// Validate reports settings that cannot work: every error is an
// *OptionError naming its field (OptionErrors lists them). It does not
// fill defaults: a zero is refused wherever zero cannot work, so call
// EnsureDefaults first unless the zeros are the caller's own choice.
func (o *Options) Validate() error {
	c := &OptionChecker{}
	c.AtLeast("GCDepth", o.GCDepth, 4)
	c.AtLeast("RetainRounds", o.RetainRounds, 1)
	c.AtLeast("MaxRoundsAhead", o.MaxRoundsAhead, 4)
	for _, t := range []struct {
		field string
		v     Time
	}{{"MaxHeaderDelay", o.MaxHeaderDelay}, {"LeaderTimeout", o.LeaderTimeout}, {"MaxBatchDelay", o.MaxBatchDelay},
		{"ResendInterval", o.ResendInterval}, {"SyncInterval", o.SyncInterval}, {"MaxClockDrift", o.MaxClockDrift}} {
		if t.v == 0 {
			c.Bad(t.field, "0ms: must be at least 1ms")
		}
	}
	if o.MinHeaderDelay > o.MaxHeaderDelay && o.MaxHeaderDelay > 0 {
		c.Bad("MinHeaderDelay", "%dms exceeds MaxHeaderDelay (%dms)", o.MinHeaderDelay, o.MaxHeaderDelay)
	}
	if o.BatchSize <= 0 || o.BatchSize > MaxBatchBytes/2 {
		c.Bad("BatchSize", "%d: must be in 1..%d", o.BatchSize, MaxBatchBytes/2)
	}
	if o.MaxHeaderBatches <= 0 || o.MaxHeaderBatches > MaxPayloadRefs {
		c.Bad("MaxHeaderBatches", "%d: must be in 1..%d", o.MaxHeaderBatches, MaxPayloadRefs)
	}
	if o.MaxTxSize <= 0 || o.MaxTxSize > MaxTxSize {
		c.Bad("MaxTxSize", "%d: must be in 1..%d", o.MaxTxSize, MaxTxSize)
	}
	if o.SyncLimit == 0 || o.SyncLimit > MaxResponseCerts {
		c.Bad("SyncLimit", "%d: must be in 1..%d", o.SyncLimit, MaxResponseCerts)
	}
	c.Positive("MaxPendingBatches", int64(o.MaxPendingBatches))
	c.Positive("MaxPendingCerts", int64(o.MaxPendingCerts))
	c.Positive("MaxUnreferencedBatches", int64(o.MaxUnreferencedBatches))
	c.Positive("MaxUnreferencedBytes", int64(o.MaxUnreferencedBytes))
	if err := errors.Join(c.Errs...); err != nil {
		return fmt.Errorf("dag: invalid options: %w", err)
	}
	return nil
}

// OptionChecker collects the *OptionErrors of one options struct, each
// field's name prefixed with Prefix ("Content." for the fields of
// engine.Options.Content). Options structs of every layer validate with
// it, so that every bad setting reads the same.
type OptionChecker struct {
	// Prefix is put before every field's name.
	Prefix string
	// Errs holds the errors found, in order.
	Errs []error
}

// Bad records that field's value cannot work, for the reason format
// gives.
func (c *OptionChecker) Bad(field, format string, args ...any) {
	c.Errs = append(c.Errs, &OptionError{Field: c.Prefix + field, Err: fmt.Errorf(format, args...)})
}

// Positive records field when v is not positive.
func (c *OptionChecker) Positive(field string, v int64) {
	if v <= 0 {
		c.Bad(field, "%d: must be positive", v)
	}
}

// AtLeast records field when v is below least.
func (c *OptionChecker) AtLeast(field string, v, least uint64) {
	if v < least {
		c.Bad(field, "%d: must be at least %d", v, least)
	}
}

// OptionError is a bad value of one field of an options struct. Field is
// the field's name, with the names of the structs holding it ("DAG.GCDepth"
// in engine.Options), so that a configuration file can name its key.
type OptionError struct {
	// Field names the field: "GCDepth", "Content.ChunkSize".
	Field string
	// Err says what is wrong with the value.
	Err error
}

// Error returns "Field: what is wrong".
func (e *OptionError) Error() string { return e.Field + ": " + e.Err.Error() }

// Unwrap returns e.Err.
func (e *OptionError) Unwrap() error { return e.Err }

// OptionErrors returns every *OptionError in err's tree (errors.Join and
// %w wrapping), in order.
func OptionErrors(err error) []*OptionError {
	var out []*OptionError
	var walk func(error)
	walk = func(e error) {
		switch x := e.(type) {
		case nil:
		case *OptionError:
			out = append(out, x)
		case interface{ Unwrap() []error }:
			for _, c := range x.Unwrap() {
				walk(c)
			}
		case interface{ Unwrap() error }:
			walk(x.Unwrap())
		}
	}
	walk(err)
	return out
}
