package engine

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/dagd/dagd/engine/apiserver"
	"github.com/dagd/dagd/engine/content"
	"github.com/dagd/dagd/engine/execution"
	"github.com/dagd/dagd/engine/store"

	"github.com/dagd/dagd/contracts"
	"github.com/dagd/dagd/crypto"
	"github.com/dagd/dagd/dag"
)

// Validator is one member of the committee as every node knows it.
type Validator struct {
	// BLSPublicKey is the 96-byte compressed BLS12-381 (min-sig) key that
	// signs headers and votes.
	BLSPublicKey []byte
	// ProofOfPossession is the validator's 48-byte proof for BLSPublicKey.
	ProofOfPossession []byte
	// Stake weighs the validator in quorums. It must be positive.
	Stake uint64
	// NetworkKey is the Ed25519 key that identifies the validator on the
	// transport (mutual TLS).
	NetworkKey ed25519.PublicKey
	// Address is the validator's transport address, host:port (UDP).
	Address string
}

// Options configures a Node. Zero values mean defaults; New calls
// EnsureDefaults and Validate on a copy.
//
// The fields with a toml tag are the settings of a node's configuration
// file (engine/config): the tag is the key ("engine.tick_interval"), or,
// on a struct of options (DAG, Content, API, RPC, Execution), the table
// of its fields' keys; ",size" marks a number of bytes. ValidateSettings
// checks them; their documentation for operators is engine/config's.
type Options struct {
	// Self is this validator's index in Committee. Required.
	Self dag.ValidatorID
	// Committee lists every validator, indexed by ValidatorID. Required.
	Committee []Validator
	// Epoch is the committee's epoch. Default 0.
	Epoch uint64
	// ChainID separates networks; peers of another chain are refused.
	// Required.
	ChainID string
	// BLSKey is this validator's BLS private key; its public key must be
	// Committee[Self].BLSPublicKey. Required.
	BLSKey *crypto.BLSPrivateKey
	// NetworkKey is this validator's Ed25519 transport key; its public
	// key must be Committee[Self].NetworkKey. Required.
	NetworkKey ed25519.PrivateKey
	// DataDir holds the node's pebble database. Required.
	DataDir string
	// AccountKey is the node's own ledger account: it signs the
	// transactions the node submits on its own behalf (the RegisterContent
	// of content put through it, see content.Options) and pays their fees,
	// so it must be funded in the ledger. Default nil: the node submits
	// none, and content put through it stays in its local registry.
	AccountKey *crypto.AccountPrivateKey
	// ListenAddr is the transport's listen address. Default
	// Committee[Self].Address.
	ListenAddr string
	// PacketConn, when set, is the UDP socket the transport uses instead
	// of binding ListenAddr (a devnet binds its ports before it knows the
	// committee). The node takes it over and closes it. Default nil.
	PacketConn net.PacketConn
	// APIListenAddr is the HTTP API's listen address (host:port, port 0
	// picks a free one; see Node.APIAddr). Default "": no HTTP server.
	APIListenAddr string
	// EnablePprof serves net/http/pprof under /debug/pprof/ on the API
	// listener. Default false.
	EnablePprof bool
	// DisableMetrics leaves /metrics off the API listener (the metrics are
	// still collected). Default false: /metrics is served.
	DisableMetrics bool
	// DAG tunes the consensus core; zero fields take dag's defaults after
	// the engine's own (see DefaultDAGOptions).
	DAG dag.Options `toml:"dag"`
	// TickInterval is how often the core's clock advances. Default 10 ms.
	TickInterval time.Duration `toml:"engine.tick_interval"`
	// SubmitQueue bounds client submission requests waiting for the event
	// loop; beyond it a submission is refused as busy. Default 256.
	SubmitQueue int `toml:"engine.submit_queue"`
	// MaxRequestTxs bounds the transactions of one submission. Default
	// 20000.
	MaxRequestTxs int `toml:"engine.max_request_txs"`
	// MaxRequestBytes bounds the body of one submission, and its
	// decompressed size when compressed. Default 32 MiB. Memory held by
	// all submissions in flight is bounded by API.MaxSubmitBytes.
	MaxRequestBytes int64 `toml:"engine.max_request_bytes,size"`
	// MaxInflightRequests bounds concurrent submissions (HTTP and Connect)
	// whose body is read and that wait for the event loop; beyond it the
	// API answers 429. Bodies being read hold no slot: their memory is
	// bounded by API.MaxSubmitBytes and their time by
	// API.RequestReadTimeout. Default 64.
	MaxInflightRequests int `toml:"engine.max_inflight_requests"`
	// InboxSize bounds decoded peer messages waiting for the event loop.
	// Default 1024.
	InboxSize int `toml:"engine.inbox_size"`
	// InboxBytes bounds the encoded size of the decoded peer messages
	// waiting for the event loop (the transport bounds its own queues).
	// Default 64 MiB; at least the largest frame (about 17 MiB).
	InboxBytes int64 `toml:"engine.inbox_bytes,size"`
	// PeerBatchBytes bounds the bytes of own batches sent to one peer and
	// not yet acknowledged by it; beyond it new batches wait (the core
	// re-sends them later). It keeps batch data from queueing ahead of
	// headers and votes. Default 8 MiB. A batch always goes to a peer
	// with nothing outstanding, whatever its size.
	PeerBatchBytes int64 `toml:"engine.peer_batch_bytes,size"`
	// MaxEventsPerFlush bounds the events (messages, submissions) the loop
	// takes before it flushes the core's output (one synced write, then
	// sends). Default 512.
	MaxEventsPerFlush int `toml:"engine.max_events_per_flush"`
	// CommitBuffer is the default buffer of a commit subscription.
	// Default 1024 commits.
	CommitBuffer int `toml:"engine.commit_buffer"`
	// ReadyWindow: /readyz answers ready while the node is connected to a
	// quorum and its last commit is at most this old. Default 10 s.
	ReadyWindow time.Duration `toml:"engine.ready_window"`
	// NoSync commits pebble batches without fsync. Only for benchmarks on
	// throwaway data: a crash may then lose votes and make the node vote
	// twice. Default false.
	NoSync bool `toml:"storage.no_sync"`
	// CacheSize is pebble's block cache in bytes. Default 32 MiB.
	CacheSize int64 `toml:"storage.cache_size,size"`
	// MemTableSize is pebble's memtable size in bytes. Default 32 MiB
	// (batch bodies do not go through pebble).
	MemTableSize uint64 `toml:"storage.memtable_size,size"`
	// BatchSegmentSize is the size at which the batch log starts a new
	// segment file. Default 64 MiB.
	BatchSegmentSize int64 `toml:"storage.batch_segment_size,size"`
	// MaxEvidence caps the equivocation evidence records the node keeps
	// (one per author, round and epoch): a Byzantine validator can
	// equivocate every round, so beyond it the oldest are dropped first
	// and counted (dagd_evidence_dropped_total). Default 10,000
	// (store.DefaultMaxEvidence).
	MaxEvidence int `toml:"storage.max_evidence"`
	// Logger receives the node's logs. Default: discard.
	Logger *slog.Logger
	// Clock is the time the node's time-dependent decisions read (content
	// audits and retention, registrar retries, health); see Clock.
	// Default SystemClock{}.
	Clock Clock
	// NewTransport builds the transport. Default: QUIC (netquic).
	NewTransport TransportFactory
	// WrapTransport, when set, wraps the transport the node uses (fault
	// injection and inspection in tests). Default nil.
	WrapTransport func(Transport) Transport
	// Content configures the node's content-addressed storage (put, get,
	// audit and repair of erasure-coded shards); see content.Options.
	Content content.Options `toml:"content"`
	// RPC configures the Connect API (dagd.v1) served on the API
	// listener; see apiserver.RPCOptions.
	RPC apiserver.RPCOptions `toml:"rpc"`
	// API bounds the connections, time and memory that clients of the
	// HTTP API may take; see apiserver.APIOptions.
	API apiserver.APIOptions `toml:"api"`
	// Genesis is the chain's initial state (accounts and balances, the
	// first committee), applied by the executor before the transactions
	// of commit 1, in state version 1. Every validator must start from
	// the same. Default nil: the state starts empty.
	Genesis *contracts.Genesis
	// Execution configures the executor that runs committed transactions
	// (see execution.Options).
	Execution execution.Options `toml:"engine"`
	// testExecHold, when set, is the executor's execution.Config.Hold
	// (tests of an executor that falls behind).
	testExecHold func(ctx context.Context, seq uint64) error
	// PeerBanDuration is how long a peer's frames are dropped unread once
	// it proved itself faulty (a signature that does not verify, an
	// equivocation; see dag.Ready.Misbehaving). Default 30 s; negative:
	// never (every frame is then read and refused with its reason).
	PeerBanDuration time.Duration
}

// DefaultDAGOptions returns the dag options the engine runs with unless
// told otherwise: dag's defaults, tuned for throughput with low latency on
// a small committee (see bench/consensus.md for the measurements).
func DefaultDAGOptions() dag.Options {
	o := dag.Options{
		BatchSize:         100_000,
		MaxBatchDelay:     20,
		MaxHeaderDelay:    100,
		MaxPendingBatches: 64,
		// A certificate that misses every commit gives its batches back
		// to its author only when GC drops it: 20 rounds is under a
		// second under load and 2 s idle (100 ms headers), where dag's
		// default of 50 kept those transactions waiting 5 s once the load
		// stopped. Validators further behind fetch from disk
		// (RetainRounds).
		GCDepth: 20,
	}
	o.EnsureDefaults()
	return o
}

// EnsureDefaults fills zero fields with their defaults and returns o.
func (o *Options) EnsureDefaults() *Options {
	if o.ListenAddr == "" && int(o.Self) < len(o.Committee) {
		o.ListenAddr = o.Committee[o.Self].Address
	}
	def := DefaultDAGOptions()
	if o.DAG.BatchSize == 0 {
		o.DAG.BatchSize = def.BatchSize
	}
	if o.DAG.MaxBatchDelay == 0 {
		o.DAG.MaxBatchDelay = def.MaxBatchDelay
	}
	if o.DAG.MaxHeaderDelay == 0 {
		o.DAG.MaxHeaderDelay = def.MaxHeaderDelay
	}
	if o.DAG.MaxPendingBatches == 0 {
		o.DAG.MaxPendingBatches = def.MaxPendingBatches
	}
	if o.DAG.GCDepth == 0 {
		o.DAG.GCDepth = def.GCDepth
	}
	o.DAG.EnsureDefaults()
	if o.TickInterval <= 0 {
		o.TickInterval = 10 * time.Millisecond
	}
	if o.SubmitQueue <= 0 {
		o.SubmitQueue = 256
	}
	if o.MaxRequestTxs <= 0 {
		o.MaxRequestTxs = 20000
	}
	if o.MaxRequestBytes <= 0 {
		o.MaxRequestBytes = 32 << 20
	}
	if o.MaxInflightRequests <= 0 {
		o.MaxInflightRequests = 64
	}
	if o.InboxSize <= 0 {
		o.InboxSize = 1024
	}
	if o.InboxBytes <= 0 {
		o.InboxBytes = 64 << 20
	}
	if o.PeerBatchBytes <= 0 {
		o.PeerBatchBytes = 8 << 20
	}
	if o.MaxEventsPerFlush <= 0 {
		o.MaxEventsPerFlush = 512
	}
	if o.CommitBuffer <= 0 {
		o.CommitBuffer = 1024
	}
	if o.ReadyWindow <= 0 {
		o.ReadyWindow = 10 * time.Second
	}
	if o.PeerBanDuration == 0 {
		o.PeerBanDuration = 30 * time.Second
	}
	so := o.storeOptions()
	so.EnsureDefaults()
	o.CacheSize, o.MemTableSize, o.BatchSegmentSize, o.MaxEvidence, o.Logger = so.CacheSize, so.MemTableSize, so.BatchSegmentSize, so.MaxEvidence, so.Logger
	if o.NewTransport == nil {
		o.NewTransport = NewQUICTransport
	}
	if o.Clock == nil {
		o.Clock = SystemClock{}
	}
	o.Content.EnsureDefaults()
	o.RPC.EnsureDefaults()
	o.API.EnsureDefaults()
	o.Execution.EnsureDefaults()
	return o
}

// Validate reports settings that cannot work: the committee, the keys and
// the addresses, then every setting (ValidateSettings). Call
// EnsureDefaults first.
func (o *Options) Validate() error {
	var errs []error
	n := len(o.Committee)
	if n == 0 {
		errs = append(errs, errors.New("committee is empty"))
	}
	if n > dag.MaxCommitteeSize {
		errs = append(errs, fmt.Errorf("committee of %d exceeds %d", n, dag.MaxCommitteeSize))
	}
	if int(o.Self) >= n {
		errs = append(errs, fmt.Errorf("self %d not in a committee of %d", o.Self, n))
	}
	for i, v := range o.Committee {
		if len(v.BLSPublicKey) != crypto.BLSPublicKeySize {
			errs = append(errs, fmt.Errorf("validator %d: BLS public key of %d bytes, want %d", i, len(v.BLSPublicKey), crypto.BLSPublicKeySize))
		}
		if len(v.ProofOfPossession) != crypto.BLSSignatureSize {
			errs = append(errs, fmt.Errorf("validator %d: proof of possession of %d bytes, want %d", i, len(v.ProofOfPossession), crypto.BLSSignatureSize))
		}
		if v.Stake == 0 {
			errs = append(errs, fmt.Errorf("validator %d: zero stake", i))
		}
		if len(v.NetworkKey) != ed25519.PublicKeySize {
			errs = append(errs, fmt.Errorf("validator %d: network key of %d bytes, want %d", i, len(v.NetworkKey), ed25519.PublicKeySize))
		}
		if v.Address == "" {
			errs = append(errs, fmt.Errorf("validator %d: no address", i))
		}
	}
	if o.ChainID == "" {
		errs = append(errs, errors.New("ChainID is required"))
	}
	if o.DataDir == "" {
		errs = append(errs, errors.New("DataDir is required"))
	}
	if o.BLSKey == nil {
		errs = append(errs, errors.New("BLSKey is required"))
	} else if int(o.Self) < n && len(o.Committee[o.Self].BLSPublicKey) == crypto.BLSPublicKeySize {
		pk, err := crypto.ParseBLSPublicKey(o.Committee[o.Self].BLSPublicKey)
		if err != nil || !pk.Equal(o.BLSKey.PublicKey()) {
			errs = append(errs, fmt.Errorf("BLSKey does not match the committee's key of validator %d", o.Self))
		}
	}
	if len(o.NetworkKey) != ed25519.PrivateKeySize {
		errs = append(errs, errors.New("NetworkKey is required"))
	} else if int(o.Self) < n {
		pub, _ := o.NetworkKey.Public().(ed25519.PublicKey)
		if !pub.Equal(o.Committee[o.Self].NetworkKey) {
			errs = append(errs, fmt.Errorf("NetworkKey does not match the committee's key of validator %d", o.Self))
		}
	}
	if o.ListenAddr == "" {
		errs = append(errs, errors.New("ListenAddr is required"))
	}
	if err := o.ValidateSettings(); err != nil {
		errs = append(errs, err)
	}
	if o.NewTransport == nil || o.Logger == nil {
		errs = append(errs, errors.New("call EnsureDefaults before Validate"))
	}
	if err := o.Content.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := o.Execution.Validate(o.ChainID, o.Genesis); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("engine: invalid options: %w", err)
	}
	return nil
}

// ValidateSettings reports the settings that cannot work. The settings
// are the fields with a toml tag, here and in DAG, Content, API, RPC and
// Execution: a node's configuration file (engine/config) is made of them,
// the tag giving the key. Every error is a *dag.OptionError whose Field is
// the field's path ("Content.ChunkSize"; dag.OptionErrors lists them). It
// fills no default: a zero is refused wherever zero cannot work, so that a
// configuration file that sets one hears why (Validate calls it after
// EnsureDefaults).
func (o *Options) ValidateSettings() error {
	c := &dag.OptionChecker{}
	atLeastMillisecond(c, "TickInterval", o.TickInterval)
	c.Positive("SubmitQueue", int64(o.SubmitQueue))
	c.Positive("MaxRequestTxs", int64(o.MaxRequestTxs))
	c.Positive("MaxRequestBytes", o.MaxRequestBytes)
	if o.MaxRequestBytes > 0 && o.MaxRequestBytes < int64(o.DAG.MaxTxSize) {
		c.Bad("MaxRequestBytes", "%d is below the largest transaction, DAG.MaxTxSize (%d)", o.MaxRequestBytes, o.DAG.MaxTxSize)
	}
	c.Positive("MaxInflightRequests", int64(o.MaxInflightRequests))
	c.Positive("InboxSize", int64(o.InboxSize))
	if o.InboxBytes < maxFrameSize {
		c.Bad("InboxBytes", "%d is below the largest frame (%d bytes)", o.InboxBytes, maxFrameSize)
	}
	c.Positive("PeerBatchBytes", o.PeerBatchBytes)
	c.Positive("MaxEventsPerFlush", int64(o.MaxEventsPerFlush))
	c.Positive("CommitBuffer", int64(o.CommitBuffer))
	atLeastMillisecond(c, "ReadyWindow", o.ReadyWindow)
	c.Positive("CacheSize", o.CacheSize)
	if o.MemTableSize == 0 || o.MemTableSize > maxMemTableSize {
		c.Bad("MemTableSize", "%d: must be in 1..%d (pebble's limit)", o.MemTableSize, uint64(maxMemTableSize))
	}
	c.Positive("BatchSegmentSize", o.BatchSegmentSize)
	c.Positive("MaxEvidence", int64(o.MaxEvidence))
	for _, e := range dag.OptionErrors(o.DAG.Validate()) {
		c.Errs = append(c.Errs, &dag.OptionError{Field: "DAG." + e.Field, Err: e.Err})
	}
	c.Errs = append(c.Errs, o.Content.ValidateSettings("Content.")...)
	c.Errs = append(c.Errs, o.API.Validate("API.", o.MaxRequestBytes, o.MaxRequestTxs)...)
	c.Positive("RPC.MaxCommitStreams", int64(o.RPC.MaxCommitStreams))
	c.Positive("RPC.StreamChunkBytes", int64(o.RPC.StreamChunkBytes))
	if o.Execution.AdmissionNonceWindow == 0 {
		c.Bad("Execution.AdmissionNonceWindow", "0: must be positive")
	}
	return errors.Join(c.Errs...)
}

// atLeastMillisecond records field when d is below a millisecond.
func atLeastMillisecond(c *dag.OptionChecker, field string, d time.Duration) {
	if d < time.Millisecond {
		c.Bad(field, "%s: must be at least %s", d, time.Millisecond)
	}
}

// maxMemTableSize is pebble's limit on its memtable.
const maxMemTableSize = 4 << 30

// storeOptions returns the options of the node's store.
func (o *Options) storeOptions() store.Options {
	return store.Options{CacheSize: o.CacheSize, MemTableSize: o.MemTableSize, BatchSegmentSize: o.BatchSegmentSize,
		MaxEvidence: o.MaxEvidence, NoSync: o.NoSync, Logger: o.Logger}
}
