package content

import (
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/dagd/dagd/contracts"
	"github.com/dagd/dagd/dag"
	"github.com/dagd/dagd/erasure"
)

// Limits of Options.
const (
	// MinAuditInterval and MaxAuditInterval bound Options.AuditInterval.
	MinAuditInterval = 10 * time.Millisecond
	MaxAuditInterval = 24 * time.Hour
	// maxContentChunkSize bounds Options.ChunkSize so that a shard
	// (ChunkSize/k, at most ChunkSize) fits in one frame.
	maxContentChunkSize = 16 << 20
)

// Options configure a node's content-addressed storage: how it codes
// the content put through it, how it moves shards, and how it audits and
// repairs what it holds. Zero values mean defaults; Options.EnsureDefaults
// fills them.
type Options struct {
	// Dir holds the shard files (content/objects, content/staging).
	// Default "": DataDir/content. What the node holds is recorded in its
	// pebble (DataDir), so Dir must stay with its DataDir.
	Dir string `toml:"dir"`
	// ChunkSize is the number of content bytes coded together. It is part
	// of the network's format: content coded with another chunk size gets
	// another CID. Default erasure.DefaultChunkSize
	// (1 MiB); range [erasure.MinChunkSize, 16 MiB].
	ChunkSize int `toml:"chunk_size,size"`
	// DataShards is k for puts that do not choose: any k of n shards
	// rebuild a chunk. Default 0: f+1, where f is the largest number of
	// validators holding less than a third of the stake, and below n.
	DataShards int `toml:"data_shards"`
	// TotalShards is n for puts that do not choose. Default 0: the
	// committee size, one shard per validator; 2 for a committee of one
	// (the validator holds both shards, and an audit rebuilds either from
	// the other).
	TotalShards int `toml:"total_shards"`
	// MaxContentSize bounds one object. Default 64 GiB. The manifest of an
	// object must fit in one frame, so the largest object also depends on
	// n: about 2^19 chunks at n=4, 2^11 at n=256.
	MaxContentSize int64 `toml:"max_content_size,size"`
	// Concurrency is the number of chunks coded at once by a put or a get.
	// Default runtime.GOMAXPROCS(0).
	Concurrency int `toml:"concurrency"`
	// UploadWindow bounds the shard bytes a put has sent to one holder and
	// that the holder has not yet acknowledged; beyond it the put waits.
	// Default 8 MiB; at least one shard frame (ChunkSize plus a header).
	UploadWindow int64 `toml:"upload_window,size"`
	// FetchWindow bounds the shard bytes one get or repair has asked for
	// and not yet used. Default 32 MiB; at least one shard frame.
	FetchWindow int64 `toml:"fetch_window,size"`
	// FetchTimeout bounds the wait for one shard or manifest from a
	// holder; the next holder is tried after it. Default 10 s.
	FetchTimeout time.Duration `toml:"fetch_timeout"`
	// StallTimeout: a holder that acknowledges nothing of a put for this
	// long is left out of it (it will be repaired later). Default 10 s.
	StallTimeout time.Duration
	// CommitTimeout bounds the wait for the holders' signatures once the
	// content is sent. Default 30 s.
	CommitTimeout time.Duration
	// MaxUploadsPerPeer bounds the upload sessions a peer may have open at
	// this node. Default 4.
	MaxUploadsPerPeer int `toml:"max_uploads_per_peer"`
	// UploadIdleTimeout drops an upload session (and its staged shards)
	// that received nothing for this long. Default 2 min; at least twice
	// StallTimeout, since a put that waits for a stalled holder sends the
	// others nothing meanwhile.
	UploadIdleTimeout time.Duration
	// MaxConcurrentPuts and MaxConcurrentGets bound the content requests
	// the HTTP API serves at once; beyond them it answers 429. Defaults 4
	// and 16.
	MaxConcurrentPuts int `toml:"max_concurrent_puts"`
	MaxConcurrentGets int `toml:"max_concurrent_gets"`
	// AuditInterval is how often the node checks every shard it should
	// hold (presence and BLAKE3 hash) and repairs what is missing or
	// corrupt. Default 10 min; range [MinAuditInterval, MaxAuditInterval].
	AuditInterval time.Duration `toml:"audit_interval"`
	// RepairConcurrency is the number of objects repaired at once.
	// Default 2.
	RepairConcurrency int `toml:"repair_concurrency"`
	// RepairBackoffMin and RepairBackoffMax bound the wait before a failed
	// repair is tried again (doubling). Defaults 1 s and 5 min.
	RepairBackoffMin time.Duration
	RepairBackoffMax time.Duration
	// OperatorPaysPuts lets puts over the HTTP API that carry no signed
	// registration (PutOptions.Payment) through, registered and paid by
	// this node's account (Options.AccountKey) for Retention. Default
	// false: they are refused with 401, and each client signs and pays for
	// its own content (dagd put --from). A local devnet sets it.
	OperatorPaysPuts bool `toml:"operator_pays_puts"`
	// Retention is how long content this node pays for (puts without a
	// payment) is registered for, in consensus time. Default 30 days.
	Retention time.Duration `toml:"retention"`
	// MaxAccountUploadBytes bounds the stored bytes (size times n/k) of
	// the paid puts of one account running at once on this node; beyond
	// it the node answers 429. Default 8 GiB.
	MaxAccountUploadBytes int64 `toml:"max_account_upload_bytes,size"`
	// MinUploadRate and UploadBodyGrace bound how slowly a client may send
	// a put's body: the read deadline of the n-th byte is UploadBodyGrace
	// plus n/MinUploadRate after the put started, so a slow body cannot
	// hold one of the MaxConcurrentPuts slots. Defaults 256 KiB/s and
	// 30 s.
	MinUploadRate   int64         `toml:"min_upload_rate,size"`
	UploadBodyGrace time.Duration `toml:"upload_body_grace"`
	// UncertifiedTTL: shards stored for an object that gets no
	// availability certificate (its put failed) are deleted after this
	// long. Default 1 h.
	UncertifiedTTL time.Duration `toml:"uncertified_ttl"`
}

// EnsureDefaults fills the zero fields of o.
func (o *Options) EnsureDefaults() {
	def := func(p *time.Duration, d time.Duration) {
		if *p <= 0 {
			*p = d
		}
	}
	if o.ChunkSize == 0 {
		o.ChunkSize = erasure.DefaultChunkSize
	}
	if o.MaxContentSize == 0 {
		o.MaxContentSize = 64 << 30
	}
	if o.Concurrency == 0 {
		o.Concurrency = runtime.GOMAXPROCS(0)
	}
	if o.UploadWindow == 0 {
		o.UploadWindow = 8 << 20
	}
	if o.FetchWindow == 0 {
		o.FetchWindow = 32 << 20
	}
	def(&o.FetchTimeout, 10*time.Second)
	def(&o.StallTimeout, 10*time.Second)
	def(&o.CommitTimeout, 30*time.Second)
	if o.MaxUploadsPerPeer == 0 {
		o.MaxUploadsPerPeer = 4
	}
	def(&o.UploadIdleTimeout, 2*time.Minute)
	if o.MaxConcurrentPuts == 0 {
		o.MaxConcurrentPuts = 4
	}
	if o.MaxConcurrentGets == 0 {
		o.MaxConcurrentGets = 16
	}
	def(&o.AuditInterval, 10*time.Minute)
	if o.RepairConcurrency == 0 {
		o.RepairConcurrency = 2
	}
	def(&o.RepairBackoffMin, time.Second)
	if o.RepairBackoffMax <= 0 {
		o.RepairBackoffMax = max(5*time.Minute, o.RepairBackoffMin)
	}
	def(&o.UncertifiedTTL, time.Hour)
	def(&o.Retention, contracts.DefaultContentRetention*time.Millisecond)
	if o.MaxAccountUploadBytes == 0 {
		o.MaxAccountUploadBytes = 8 << 30
	}
	if o.MinUploadRate == 0 {
		o.MinUploadRate = 256 << 10
	}
	def(&o.UploadBodyGrace, 30*time.Second)
}

// ValidateSettings reports the settings (the fields with a toml tag)
// that cannot work, as *dag.OptionErrors whose fields start with prefix.
// Zero is refused where it cannot work; it is allowed for DataShards,
// TotalShards (the committee's) and Concurrency (the CPUs').
func (o *Options) ValidateSettings(prefix string) []error {
	c := &dag.OptionChecker{Prefix: prefix}
	atLeast := func(field string, d, least time.Duration) {
		if d < least {
			c.Bad(field, "%s: must be at least %s", d, least)
		}
	}
	if o.ChunkSize < erasure.MinChunkSize || o.ChunkSize > maxContentChunkSize {
		c.Bad("ChunkSize", "%d: must be in %d..%d", o.ChunkSize, erasure.MinChunkSize, maxContentChunkSize)
	}
	for _, s := range []struct {
		field string
		v     int
	}{{"DataShards", o.DataShards}, {"TotalShards", o.TotalShards}} {
		if s.v < 0 || s.v > erasure.MaxShards {
			c.Bad(s.field, "%d: want 0 (the committee's) or 1..%d", s.v, erasure.MaxShards)
		}
	}
	if o.DataShards > 0 && o.TotalShards > 0 && o.DataShards >= o.TotalShards {
		c.Bad("DataShards", "%d: must be below TotalShards (%d)", o.DataShards, o.TotalShards)
	}
	c.Positive("MaxContentSize", o.MaxContentSize)
	if o.Concurrency < 0 || o.Concurrency > erasure.MaxConcurrency {
		c.Bad("Concurrency", "%d: want 0 (the CPUs) or 1..%d", o.Concurrency, erasure.MaxConcurrency)
	}
	if o.ChunkSize > 0 {
		frame := int64(o.ChunkSize + contentHeaderRoom)
		if o.UploadWindow < frame {
			c.Bad("UploadWindow", "%d is below one shard frame (%d)", o.UploadWindow, frame)
		}
		if o.FetchWindow < frame {
			c.Bad("FetchWindow", "%d is below one shard frame (%d)", o.FetchWindow, frame)
		}
	}
	atLeast("FetchTimeout", o.FetchTimeout, time.Millisecond)
	c.Positive("MaxUploadsPerPeer", int64(o.MaxUploadsPerPeer))
	c.Positive("MaxConcurrentPuts", int64(o.MaxConcurrentPuts))
	c.Positive("MaxConcurrentGets", int64(o.MaxConcurrentGets))
	if o.AuditInterval < MinAuditInterval || o.AuditInterval > MaxAuditInterval {
		c.Bad("AuditInterval", "%s: must be in %s..%s", o.AuditInterval, MinAuditInterval, MaxAuditInterval)
	}
	c.Positive("RepairConcurrency", int64(o.RepairConcurrency))
	atLeast("UncertifiedTTL", o.UncertifiedTTL, time.Second)
	atLeast("Retention", o.Retention, time.Millisecond)
	c.Positive("MaxAccountUploadBytes", o.MaxAccountUploadBytes)
	c.Positive("MinUploadRate", o.MinUploadRate)
	c.Positive("UploadBodyGrace", int64(o.UploadBodyGrace))
	return c.Errs
}

// Validate reports the options that are no settings (no toml tag) and
// cannot work; call EnsureDefaults first.
func (o *Options) Validate() error {
	var errs []error
	if o.UploadIdleTimeout < 2*o.StallTimeout {
		errs = append(errs, fmt.Errorf("upload idle timeout %v below twice the stall timeout %v", o.UploadIdleTimeout, o.StallTimeout))
	}
	if o.RepairBackoffMin < time.Millisecond || o.RepairBackoffMax < o.RepairBackoffMin {
		errs = append(errs, fmt.Errorf("repair backoff [%v, %v]: want 1ms <= min <= max", o.RepairBackoffMin, o.RepairBackoffMax))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("content: %w", err)
	}
	return nil
}
