package dag

import (
	"errors"
	"fmt"
)

// Options tunes the consensus core. The zero value of a field means its
// default; call EnsureDefaults, then Validate.
type Options struct {
	// GCDepth is how many rounds below the last committed leader are kept.
	// Default 50.
	GCDepth uint64
	// RetainRounds is how many rounds below the GC round the records of
	// certificates and batches stay on disk, so that a validator that fell
	// further behind than GCDepth can still fetch the history it must
	// order. Default 1000.
	RetainRounds uint64
	// MaxRoundsAhead bounds how far beyond the local round a header or
	// certificate may be before it is refused (the node then syncs instead
	// of buffering). Default 60.
	MaxRoundsAhead uint64
	// MinHeaderDelay is the least time between two own headers. Default 0.
	MinHeaderDelay Time
	// MaxHeaderDelay is how long a primary waits for batches before
	// proposing a header without any. Default 200 ms.
	MaxHeaderDelay Time
	// LeaderTimeout bounds the wait for the leader's certificate (even
	// rounds) or for support for it (odd rounds) before advancing anyway.
	// Default 1000 ms.
	LeaderTimeout Time
	// BatchSize seals a batch once its transactions reach this many bytes.
	// Default 512 KiB.
	BatchSize int
	// MaxBatchDelay seals a non-empty batch after this long. Default 50 ms.
	MaxBatchDelay Time
	// MaxHeaderBatches bounds the batch references in one header. Default 1000.
	MaxHeaderBatches int
	// MaxPendingBatches bounds own batches sealed but not yet stored by a
	// quorum, plus those waiting for a header; Submit answers ErrBusy beyond
	// it. Default 1000.
	MaxPendingBatches int
	// MaxTxSize is the largest transaction Submit accepts. Default 64 KiB.
	MaxTxSize int
	// ResendInterval is how long to wait for votes, acknowledgements or
	// requested data before asking again. Default 500 ms.
	ResendInterval Time
	// SyncInterval: without progress for this long, ask a peer for the
	// certificates from the local round on. Default 1000 ms.
	SyncInterval Time
	// SyncLimit bounds the certificates sent in answer to one sync request.
	// Default 500.
	SyncLimit uint32
	// MaxPendingCerts bounds certificates waiting for their parents.
	// Default 4096.
	MaxPendingCerts int
	// MaxUnreferencedBatches bounds, per author, stored batches that no
	// certificate references yet; the oldest are dropped first. Default 2000.
	MaxUnreferencedBatches int
	// MaxUnreferencedBytes bounds, per author, the bytes of stored batches
	// that no certificate references yet; the oldest are dropped first.
	// Default 256 MiB.
	MaxUnreferencedBytes int
	// MaxClockDrift is how far ahead of the local clock a header's
	// timestamp may be for this node to vote for it. Default 5000 ms.
	MaxClockDrift Time
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

// Validate reports settings that cannot work.
func (o *Options) Validate() error {
	var errs []error
	if o.GCDepth < 4 {
		errs = append(errs, fmt.Errorf("GCDepth %d: must be at least 4", o.GCDepth))
	}
	if o.MaxRoundsAhead < 4 {
		errs = append(errs, fmt.Errorf("MaxRoundsAhead %d: must be at least 4", o.MaxRoundsAhead))
	}
	if o.MaxHeaderBatches > MaxPayloadRefs {
		errs = append(errs, fmt.Errorf("MaxHeaderBatches %d exceeds %d", o.MaxHeaderBatches, MaxPayloadRefs))
	}
	if o.MaxTxSize > MaxTxSize || o.MaxTxSize < 0 {
		errs = append(errs, fmt.Errorf("MaxTxSize %d: must be in 1..%d", o.MaxTxSize, MaxTxSize))
	}
	if o.BatchSize > MaxBatchBytes/2 || o.BatchSize < 0 {
		errs = append(errs, fmt.Errorf("BatchSize %d: must be in 1..%d", o.BatchSize, MaxBatchBytes/2))
	}
	if o.SyncLimit > MaxResponseCerts {
		errs = append(errs, fmt.Errorf("SyncLimit %d exceeds %d", o.SyncLimit, MaxResponseCerts))
	}
	if o.MinHeaderDelay > o.MaxHeaderDelay {
		errs = append(errs, errors.New("MinHeaderDelay exceeds MaxHeaderDelay"))
	}
	if o.MaxPendingBatches <= 0 || o.MaxPendingCerts <= 0 || o.MaxUnreferencedBatches <= 0 || o.MaxUnreferencedBytes <= 0 {
		errs = append(errs, errors.New("queue bounds must be positive"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("dag: invalid options: %w", err)
	}
	return nil
}
