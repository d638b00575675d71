package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/dagd/dagd/dag"
	"github.com/dagd/dagd/engine"
)

// Well-known names inside a home directory.
const (
	// ConfigFile is the name of the configuration file in a home.
	ConfigFile = "config.toml"
	// ValidatorFile is the name of the validator's public committee entry
	// in a home (see Member).
	ValidatorFile = "validator.json"
	// DefaultPasswordEnv is the environment variable read for the keystore
	// password unless keys.password_env names another.
	DefaultPasswordEnv = "DAGD_PASSWORD"
	// DefaultChainID is the chain id of Default.
	DefaultChainID = "dagd-local"
)

// Config is a node's configuration as config.toml holds it. The TOML key
// of each field is in its tag; Settings documents every key. Default
// returns the defaults; Load reads a file over them.
type Config struct {
	// ChainID separates networks; it must equal the committee file's.
	ChainID string `toml:"chain_id"`
	// Epoch of the committee; it must equal the committee file's.
	Epoch uint64 `toml:"epoch"`
	// Validator names this node in the committee file: a validator's name,
	// or its index in decimal; "" finds it by its BLS key.
	Validator string `toml:"validator"`
	// CommitteeFile is the committee (genesis) file.
	CommitteeFile string `toml:"committee_file"`
	// GenesisFile, when set, is the chain's genesis state
	// (contracts.Genesis in its JSON form): funded accounts and the
	// validators' bonded stakes. "" starts from an empty state.
	GenesisFile string `toml:"genesis_file"`

	// Network is the validator-to-validator transport.
	Network NetworkConfig `toml:"network"`
	// API is the node's HTTP listener.
	API APIConfig `toml:"api"`
	// Log is where and how the node logs.
	Log LogConfig `toml:"log"`
	// Keys locates the keystores and their password.
	Keys KeysConfig `toml:"keys"`
	// Storage is the node's store on disk.
	Storage StorageConfig `toml:"storage"`
	// Engine tunes the node's event loop and queues.
	Engine EngineConfig `toml:"engine"`
	// DAG tunes the consensus core.
	DAG DAGConfig `toml:"dag"`
	// Content tunes the content-addressed storage.
	Content ContentConfig `toml:"content"`
	// RPC tunes the Connect API.
	RPC RPCConfig `toml:"rpc"`

	// dir is the directory relative paths resolve against: the directory
	// of the file Load read ("" means the working directory).
	dir string
}

// NetworkConfig is the [network] section.
type NetworkConfig struct {
	// QUICAddr is the UDP address the QUIC transport listens on; ""
	// means the validator's address in the committee file.
	QUICAddr string `toml:"quic_addr"`
}

// APIConfig is the [api] section.
type APIConfig struct {
	// Addr is the HTTP API's listen address; "" serves no API.
	Addr string `toml:"addr"`
	// Metrics serves Prometheus metrics on /metrics.
	Metrics bool `toml:"metrics"`
	// Pprof serves net/http/pprof on /debug/pprof/.
	Pprof bool `toml:"pprof"`
	// MaxConns is engine.APIOptions.MaxConns.
	MaxConns int `toml:"max_conns"`
	// MaxConnsPerIP is engine.APIOptions.MaxConnsPerIP.
	MaxConnsPerIP int `toml:"max_conns_per_ip"`
	// ReadHeaderTimeout is engine.APIOptions.ReadHeaderTimeout.
	ReadHeaderTimeout time.Duration `toml:"read_header_timeout"`
	// IdleTimeout is engine.APIOptions.IdleTimeout.
	IdleTimeout time.Duration `toml:"idle_timeout"`
	// RequestReadTimeout is engine.APIOptions.RequestReadTimeout.
	RequestReadTimeout time.Duration `toml:"request_read_timeout"`
	// BodyIdleTimeout is engine.APIOptions.BodyIdleTimeout.
	BodyIdleTimeout time.Duration `toml:"body_idle_timeout"`
	// WriteTimeout is engine.APIOptions.WriteTimeout.
	WriteTimeout time.Duration `toml:"write_timeout"`
	// MaxSubmitBytes is engine.APIOptions.MaxSubmitBytes.
	MaxSubmitBytes ByteSize `toml:"max_submit_bytes"`
	// MaxSubmitBytesPerIP is engine.APIOptions.MaxSubmitBytesPerIP.
	MaxSubmitBytesPerIP ByteSize `toml:"max_submit_bytes_per_ip"`
	// MaxResponseBytes is engine.APIOptions.MaxResponseBytes.
	MaxResponseBytes ByteSize `toml:"max_response_bytes"`
	// MaxReadBytes is engine.APIOptions.MaxReadBytes.
	MaxReadBytes ByteSize `toml:"max_read_bytes"`
	// MaxStreamsPerIP is engine.APIOptions.MaxStreamsPerIP.
	MaxStreamsPerIP int `toml:"max_streams_per_ip"`
	// MaxContentLookups is engine.APIOptions.MaxContentLookups.
	MaxContentLookups int `toml:"max_content_lookups"`
}

// APIOptions returns the engine's API limits of c.
func (c *Config) APIOptions() engine.APIOptions {
	a := &c.API
	return engine.APIOptions{MaxConns: a.MaxConns, MaxConnsPerIP: a.MaxConnsPerIP, ReadHeaderTimeout: a.ReadHeaderTimeout,
		IdleTimeout: a.IdleTimeout, RequestReadTimeout: a.RequestReadTimeout, BodyIdleTimeout: a.BodyIdleTimeout,
		WriteTimeout: a.WriteTimeout, MaxSubmitBytes: int64(a.MaxSubmitBytes), MaxSubmitBytesPerIP: int64(a.MaxSubmitBytesPerIP),
		MaxResponseBytes: int(a.MaxResponseBytes), MaxReadBytes: int64(a.MaxReadBytes), MaxStreamsPerIP: a.MaxStreamsPerIP,
		MaxContentLookups: a.MaxContentLookups}
}

// LogConfig is the [log] section.
type LogConfig struct {
	// Level is debug, info, warn, error or off.
	Level string `toml:"level"`
	// Format is text or json.
	Format string `toml:"format"`
}

// KeysConfig is the [keys] section.
type KeysConfig struct {
	// BLSKeystore is the EIP-2335 keystore of the BLS key.
	BLSKeystore string `toml:"bls_keystore"`
	// NetworkKeystore is the EIP-2335 keystore of the Ed25519 network key.
	NetworkKeystore string `toml:"network_keystore"`
	// AccountKeystore is the EIP-2335 keystore of the node's Ed25519
	// ledger account (engine.Options.AccountKey); optional: a missing
	// file, or "", means the node has no account.
	AccountKeystore string `toml:"account_keystore"`
	// PasswordFile, when set, holds the keystore password.
	PasswordFile string `toml:"password_file"`
	// PasswordEnv is the environment variable holding the password when
	// PasswordFile is empty.
	PasswordEnv string `toml:"password_env"`
}

// StorageConfig is the [storage] section.
type StorageConfig struct {
	// DataDir holds pebble and the batch log.
	DataDir string `toml:"data_dir"`
	// NoSync skips fsync (benchmarks only).
	NoSync bool `toml:"no_sync"`
	// CacheSize is pebble's block cache.
	CacheSize ByteSize `toml:"cache_size"`
	// MemTableSize is pebble's memtable size.
	MemTableSize ByteSize `toml:"memtable_size"`
	// BatchSegmentSize is the batch log's segment size.
	BatchSegmentSize ByteSize `toml:"batch_segment_size"`
}

// EngineConfig is the [engine] section (engine.Options).
type EngineConfig struct {
	// TickInterval is engine.Options.TickInterval.
	TickInterval time.Duration `toml:"tick_interval"`
	// SubmitQueue is engine.Options.SubmitQueue.
	SubmitQueue int `toml:"submit_queue"`
	// MaxRequestTxs is engine.Options.MaxRequestTxs.
	MaxRequestTxs int `toml:"max_request_txs"`
	// MaxRequestBytes is engine.Options.MaxRequestBytes.
	MaxRequestBytes ByteSize `toml:"max_request_bytes"`
	// MaxInflightRequests is engine.Options.MaxInflightRequests.
	MaxInflightRequests int `toml:"max_inflight_requests"`
	// InboxSize is engine.Options.InboxSize.
	InboxSize int `toml:"inbox_size"`
	// InboxBytes is engine.Options.InboxBytes.
	InboxBytes ByteSize `toml:"inbox_bytes"`
	// PeerBatchBytes is engine.Options.PeerBatchBytes.
	PeerBatchBytes ByteSize `toml:"peer_batch_bytes"`
	// MaxEventsPerFlush is engine.Options.MaxEventsPerFlush.
	MaxEventsPerFlush int `toml:"max_events_per_flush"`
	// CommitBuffer is engine.Options.CommitBuffer.
	CommitBuffer int `toml:"commit_buffer"`
	// ReadyWindow is engine.Options.ReadyWindow.
	ReadyWindow time.Duration `toml:"ready_window"`
	// AdmissionNonceWindow is engine.ExecutionOptions.AdmissionNonceWindow.
	AdmissionNonceWindow uint64 `toml:"admission_nonce_window"`
	// AdmitOpaque is engine.ExecutionOptions.AdmitOpaque.
	AdmitOpaque bool `toml:"admit_opaque"`
}

// DAGConfig is the [dag] section (dag.Options; times in TOML are
// durations, rounded down to milliseconds).
type DAGConfig struct {
	// BatchSize is dag.Options.BatchSize.
	BatchSize ByteSize `toml:"batch_size"`
	// MaxBatchDelay is dag.Options.MaxBatchDelay.
	MaxBatchDelay time.Duration `toml:"max_batch_delay"`
	// MinHeaderDelay is dag.Options.MinHeaderDelay.
	MinHeaderDelay time.Duration `toml:"min_header_delay"`
	// MaxHeaderDelay is dag.Options.MaxHeaderDelay.
	MaxHeaderDelay time.Duration `toml:"max_header_delay"`
	// LeaderTimeout is dag.Options.LeaderTimeout.
	LeaderTimeout time.Duration `toml:"leader_timeout"`
	// MaxPendingBatches is dag.Options.MaxPendingBatches.
	MaxPendingBatches int `toml:"max_pending_batches"`
	// MaxHeaderBatches is dag.Options.MaxHeaderBatches.
	MaxHeaderBatches int `toml:"max_header_batches"`
	// MaxTxSize is dag.Options.MaxTxSize.
	MaxTxSize ByteSize `toml:"max_tx_size"`
	// GCDepth is dag.Options.GCDepth.
	GCDepth uint64 `toml:"gc_depth"`
	// RetainRounds is dag.Options.RetainRounds.
	RetainRounds uint64 `toml:"retain_rounds"`
	// MaxRoundsAhead is dag.Options.MaxRoundsAhead.
	MaxRoundsAhead uint64 `toml:"max_rounds_ahead"`
	// ResendInterval is dag.Options.ResendInterval.
	ResendInterval time.Duration `toml:"resend_interval"`
	// SyncInterval is dag.Options.SyncInterval.
	SyncInterval time.Duration `toml:"sync_interval"`
	// SyncLimit is dag.Options.SyncLimit.
	SyncLimit uint32 `toml:"sync_limit"`
	// MaxPendingCerts is dag.Options.MaxPendingCerts.
	MaxPendingCerts int `toml:"max_pending_certs"`
	// MaxUnreferencedBatches is dag.Options.MaxUnreferencedBatches.
	MaxUnreferencedBatches int `toml:"max_unreferenced_batches"`
	// MaxClockDrift is dag.Options.MaxClockDrift.
	MaxClockDrift time.Duration `toml:"max_clock_drift"`
}

// ContentConfig is the [content] section (engine.ContentOptions).
type ContentConfig struct {
	// Dir is engine.ContentOptions.Dir ("": storage.data_dir/content).
	Dir string `toml:"dir"`
	// DataShards is engine.ContentOptions.DataShards (0: f+1).
	DataShards int `toml:"data_shards"`
	// TotalShards is engine.ContentOptions.TotalShards (0: committee size).
	TotalShards int `toml:"total_shards"`
	// ChunkSize is engine.ContentOptions.ChunkSize.
	ChunkSize ByteSize `toml:"chunk_size"`
	// MaxContentSize is engine.ContentOptions.MaxContentSize.
	MaxContentSize ByteSize `toml:"max_content_size"`
	// Concurrency is engine.ContentOptions.Concurrency (0: GOMAXPROCS).
	Concurrency int `toml:"concurrency"`
	// MaxConcurrentPuts is engine.ContentOptions.MaxConcurrentPuts.
	MaxConcurrentPuts int `toml:"max_concurrent_puts"`
	// MaxConcurrentGets is engine.ContentOptions.MaxConcurrentGets.
	MaxConcurrentGets int `toml:"max_concurrent_gets"`
	// AuditInterval is engine.ContentOptions.AuditInterval.
	AuditInterval time.Duration `toml:"audit_interval"`
	// RepairConcurrency is engine.ContentOptions.RepairConcurrency.
	RepairConcurrency int `toml:"repair_concurrency"`
	// UncertifiedTTL is engine.ContentOptions.UncertifiedTTL.
	UncertifiedTTL time.Duration `toml:"uncertified_ttl"`
	// UploadWindow is engine.ContentOptions.UploadWindow.
	UploadWindow ByteSize `toml:"upload_window"`
	// FetchWindow is engine.ContentOptions.FetchWindow.
	FetchWindow ByteSize `toml:"fetch_window"`
	// FetchTimeout is engine.ContentOptions.FetchTimeout.
	FetchTimeout time.Duration `toml:"fetch_timeout"`
	// MaxUploadsPerPeer is engine.ContentOptions.MaxUploadsPerPeer.
	MaxUploadsPerPeer int `toml:"max_uploads_per_peer"`
	// OperatorPaysPuts is engine.ContentOptions.OperatorPaysPuts.
	OperatorPaysPuts bool `toml:"operator_pays_puts"`
	// Retention is engine.ContentOptions.Retention.
	Retention time.Duration `toml:"retention"`
	// MaxAccountUploadBytes is engine.ContentOptions.MaxAccountUploadBytes.
	MaxAccountUploadBytes ByteSize `toml:"max_account_upload_bytes"`
	// MinUploadRate is engine.ContentOptions.MinUploadRate (bytes/s).
	MinUploadRate ByteSize `toml:"min_upload_rate"`
	// UploadBodyGrace is engine.ContentOptions.UploadBodyGrace.
	UploadBodyGrace time.Duration `toml:"upload_body_grace"`
}

// RPCConfig is the [rpc] section (engine.RPCOptions).
type RPCConfig struct {
	// MaxCommitStreams is engine.RPCOptions.MaxCommitStreams.
	MaxCommitStreams int `toml:"max_commit_streams"`
	// StreamChunkBytes is engine.RPCOptions.StreamChunkBytes.
	StreamChunkBytes ByteSize `toml:"stream_chunk_bytes"`
}

// Default returns the default configuration: the engine's and the
// consensus core's defaults, the home layout of Init, and loopback
// addresses.
func Default() *Config {
	var eo engine.Options
	eo.EnsureDefaults()
	ms := func(t dag.Time) time.Duration { return time.Duration(t) * time.Millisecond }
	d := eo.DAG
	return &Config{
		ChainID:       DefaultChainID,
		CommitteeFile: "committee.json",
		Network:       NetworkConfig{QUICAddr: "127.0.0.1:7000"},
		API: APIConfig{Addr: "127.0.0.1:8080", Metrics: true, MaxConns: eo.API.MaxConns, MaxConnsPerIP: eo.API.MaxConnsPerIP,
			ReadHeaderTimeout: eo.API.ReadHeaderTimeout, IdleTimeout: eo.API.IdleTimeout, RequestReadTimeout: eo.API.RequestReadTimeout,
			BodyIdleTimeout: eo.API.BodyIdleTimeout, WriteTimeout: eo.API.WriteTimeout, MaxSubmitBytes: ByteSize(eo.API.MaxSubmitBytes),
			MaxSubmitBytesPerIP: ByteSize(eo.API.MaxSubmitBytesPerIP), MaxResponseBytes: ByteSize(eo.API.MaxResponseBytes),
			MaxReadBytes: ByteSize(eo.API.MaxReadBytes), MaxStreamsPerIP: eo.API.MaxStreamsPerIP, MaxContentLookups: eo.API.MaxContentLookups},
		Log: LogConfig{Level: "info", Format: "text"},
		Keys: KeysConfig{
			BLSKeystore:     filepath.Join("keys", "bls.keystore.json"),
			NetworkKeystore: filepath.Join("keys", "network.keystore.json"),
			AccountKeystore: filepath.Join("keys", "account.keystore.json"),
			PasswordEnv:     DefaultPasswordEnv,
		},
		Storage: StorageConfig{
			DataDir: "data", CacheSize: ByteSize(eo.CacheSize), MemTableSize: ByteSize(eo.MemTableSize),
			BatchSegmentSize: ByteSize(eo.BatchSegmentSize),
		},
		Engine: EngineConfig{
			TickInterval: eo.TickInterval, SubmitQueue: eo.SubmitQueue, MaxRequestTxs: eo.MaxRequestTxs,
			MaxRequestBytes: ByteSize(eo.MaxRequestBytes), MaxInflightRequests: eo.MaxInflightRequests,
			InboxSize: eo.InboxSize, InboxBytes: ByteSize(eo.InboxBytes), PeerBatchBytes: ByteSize(eo.PeerBatchBytes),
			MaxEventsPerFlush: eo.MaxEventsPerFlush, CommitBuffer: eo.CommitBuffer, ReadyWindow: eo.ReadyWindow,
			AdmissionNonceWindow: eo.Execution.AdmissionNonceWindow,
		},
		DAG: DAGConfig{
			BatchSize: ByteSize(d.BatchSize), MaxBatchDelay: ms(d.MaxBatchDelay), MinHeaderDelay: ms(d.MinHeaderDelay),
			MaxHeaderDelay: ms(d.MaxHeaderDelay), LeaderTimeout: ms(d.LeaderTimeout), MaxPendingBatches: d.MaxPendingBatches,
			MaxHeaderBatches: d.MaxHeaderBatches, MaxTxSize: ByteSize(d.MaxTxSize), GCDepth: d.GCDepth,
			RetainRounds: d.RetainRounds, MaxRoundsAhead: d.MaxRoundsAhead, ResendInterval: ms(d.ResendInterval),
			SyncInterval: ms(d.SyncInterval), SyncLimit: d.SyncLimit, MaxPendingCerts: d.MaxPendingCerts,
			MaxUnreferencedBatches: d.MaxUnreferencedBatches, MaxClockDrift: ms(d.MaxClockDrift),
		},
		Content: ContentConfig{
			// 0 for k, n and concurrency: they follow the committee and the
			// machine.
			ChunkSize: ByteSize(eo.Content.ChunkSize), MaxContentSize: ByteSize(eo.Content.MaxContentSize),
			MaxConcurrentPuts: eo.Content.MaxConcurrentPuts, MaxConcurrentGets: eo.Content.MaxConcurrentGets,
			AuditInterval: eo.Content.AuditInterval, RepairConcurrency: eo.Content.RepairConcurrency,
			UncertifiedTTL: eo.Content.UncertifiedTTL, UploadWindow: ByteSize(eo.Content.UploadWindow),
			FetchWindow: ByteSize(eo.Content.FetchWindow), FetchTimeout: eo.Content.FetchTimeout,
			MaxUploadsPerPeer: eo.Content.MaxUploadsPerPeer, Retention: eo.Content.Retention,
			MaxAccountUploadBytes: ByteSize(eo.Content.MaxAccountUploadBytes),
			MinUploadRate:         ByteSize(eo.Content.MinUploadRate), UploadBodyGrace: eo.Content.UploadBodyGrace,
		},
		RPC: RPCConfig{MaxCommitStreams: eo.RPC.MaxCommitStreams, StreamChunkBytes: ByteSize(eo.RPC.StreamChunkBytes)},
	}
}

// EnsureDefaults fills the zero fields of c with Default's values and
// returns c. Load does not call it: a file that sets a value to zero
// gets that value, and Validate refuses it where zero cannot work.
// Booleans have no zero to fill (api.metrics defaults to true in Default
// only).
func (c *Config) EnsureDefaults() *Config {
	fillZero(c, Default())
	return c
}

// Dir returns the directory relative paths resolve against.
func (c *Config) Dir() string { return c.dir }

// SetDir sets the directory relative paths resolve against (Load sets it
// to the directory of the file it read).
func (c *Config) SetDir(dir string) { c.dir = dir }

// Path resolves p, a path from the configuration, against Dir.
func (c *Config) Path(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(c.dir, p)
}

// Validate reports every setting that cannot work, each error naming its
// setting (its TOML key).
func (c *Config) Validate() error {
	if err := c.validate(); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	return nil
}

func (c *Config) validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, &SettingError{Key: key, Err: fmt.Errorf(format, args...)})
	}
	if c.ChainID == "" {
		bad("chain_id", "must not be empty")
	} else if len(c.ChainID) > 64 || !printableASCII(c.ChainID) {
		bad("chain_id", "%q: want at most 64 printable ASCII characters", c.ChainID)
	}
	if c.Validator != "" {
		if err := checkName(c.Validator, true); err != nil {
			bad("validator", "%v", err)
		}
	}
	if c.CommitteeFile == "" {
		bad("committee_file", "must not be empty")
	}
	if c.Network.QUICAddr != "" {
		if err := checkHostPort(c.Network.QUICAddr, false); err != nil {
			bad("network.quic_addr", "%v", err)
		}
	}
	if c.API.Addr != "" {
		if err := checkHostPort(c.API.Addr, true); err != nil {
			bad("api.addr", "%v", err)
		}
	} else if c.API.Pprof {
		bad("api.pprof", "needs api.addr")
	}
	if _, err := ParseLogLevel(c.Log.Level); err != nil {
		bad("log.level", "%v", err)
	}
	if c.Log.Format != "text" && c.Log.Format != "json" {
		bad("log.format", "%q: want text or json", c.Log.Format)
	}
	if c.Keys.BLSKeystore == "" {
		bad("keys.bls_keystore", "must not be empty")
	}
	if c.Keys.NetworkKeystore == "" {
		bad("keys.network_keystore", "must not be empty")
	}
	if c.Keys.BLSKeystore != "" && c.Path(c.Keys.BLSKeystore) == c.Path(c.Keys.NetworkKeystore) {
		bad("keys.network_keystore", "is the same file as keys.bls_keystore")
	}
	if a := c.Keys.AccountKeystore; a != "" && (c.Path(a) == c.Path(c.Keys.BLSKeystore) || c.Path(a) == c.Path(c.Keys.NetworkKeystore)) {
		bad("keys.account_keystore", "is the same file as another keystore")
	}
	if c.Keys.PasswordEnv != "" && !validEnvName(c.Keys.PasswordEnv) {
		bad("keys.password_env", "%q is not an environment variable name", c.Keys.PasswordEnv)
	}
	if c.Storage.DataDir == "" {
		bad("storage.data_dir", "must not be empty")
	}

	positive := func(key string, v int64) {
		if v <= 0 {
			bad(key, "%d: must be positive", v)
		}
	}
	nonNegative := func(key string, v int64) {
		if v < 0 {
			bad(key, "%d: must not be negative", v)
		}
	}
	positiveDur := func(key string, d time.Duration, least time.Duration) {
		if d < least {
			bad(key, "%s: must be at least %s", d, least)
		}
	}
	atMost := func(key string, v, limit int64) {
		if v > limit {
			bad(key, "%d exceeds %d", v, limit)
		}
	}

	s := &c.Storage
	positive("storage.cache_size", int64(s.CacheSize))
	positive("storage.memtable_size", int64(s.MemTableSize))
	atMost("storage.memtable_size", int64(s.MemTableSize), 4<<30) // pebble's limit
	positive("storage.batch_segment_size", int64(s.BatchSegmentSize))

	e := &c.Engine
	positiveDur("engine.tick_interval", e.TickInterval, time.Millisecond)
	positive("engine.submit_queue", int64(e.SubmitQueue))
	positive("engine.max_request_txs", int64(e.MaxRequestTxs))
	positive("engine.max_request_bytes", int64(e.MaxRequestBytes))
	if e.MaxRequestBytes > 0 && int64(e.MaxRequestBytes) < int64(c.DAG.MaxTxSize) {
		bad("engine.max_request_bytes", "%s is below dag.max_tx_size (%s)", e.MaxRequestBytes, c.DAG.MaxTxSize)
	}
	positive("engine.max_inflight_requests", int64(e.MaxInflightRequests))
	positive("engine.inbox_size", int64(e.InboxSize))
	positive("engine.inbox_bytes", int64(e.InboxBytes))
	if minInbox := int64(dag.MaxBatchBytes + 4*dag.MaxBatchTxs + 1024); e.InboxBytes > 0 && int64(e.InboxBytes) < minInbox {
		bad("engine.inbox_bytes", "%s is below the largest frame (%d bytes)", e.InboxBytes, minInbox)
	}
	positive("engine.peer_batch_bytes", int64(e.PeerBatchBytes))
	positive("engine.max_events_per_flush", int64(e.MaxEventsPerFlush))
	positive("engine.commit_buffer", int64(e.CommitBuffer))
	positiveDur("engine.ready_window", e.ReadyWindow, time.Millisecond)
	positive("engine.admission_nonce_window", int64(min(e.AdmissionNonceWindow, 1<<62)))

	d := &c.DAG
	positive("dag.batch_size", int64(d.BatchSize))
	atMost("dag.batch_size", int64(d.BatchSize), dag.MaxBatchBytes/2)
	positiveDur("dag.max_batch_delay", d.MaxBatchDelay, time.Millisecond)
	if d.MinHeaderDelay < 0 {
		bad("dag.min_header_delay", "%s: must not be negative", d.MinHeaderDelay)
	}
	positiveDur("dag.max_header_delay", d.MaxHeaderDelay, time.Millisecond)
	if d.MinHeaderDelay > d.MaxHeaderDelay && d.MaxHeaderDelay > 0 {
		bad("dag.min_header_delay", "%s exceeds dag.max_header_delay (%s)", d.MinHeaderDelay, d.MaxHeaderDelay)
	}
	positiveDur("dag.leader_timeout", d.LeaderTimeout, time.Millisecond)
	positive("dag.max_pending_batches", int64(d.MaxPendingBatches))
	positive("dag.max_header_batches", int64(d.MaxHeaderBatches))
	atMost("dag.max_header_batches", int64(d.MaxHeaderBatches), dag.MaxPayloadRefs)
	positive("dag.max_tx_size", int64(d.MaxTxSize))
	atMost("dag.max_tx_size", int64(d.MaxTxSize), dag.MaxTxSize)
	if d.GCDepth < 4 {
		bad("dag.gc_depth", "%d: must be at least 4", d.GCDepth)
	}
	if d.RetainRounds == 0 {
		bad("dag.retain_rounds", "0: must be positive")
	}
	if d.MaxRoundsAhead < 4 {
		bad("dag.max_rounds_ahead", "%d: must be at least 4", d.MaxRoundsAhead)
	}
	positiveDur("dag.resend_interval", d.ResendInterval, time.Millisecond)
	positiveDur("dag.sync_interval", d.SyncInterval, time.Millisecond)
	if d.SyncLimit == 0 || d.SyncLimit > dag.MaxResponseCerts {
		bad("dag.sync_limit", "%d: want 1..%d", d.SyncLimit, dag.MaxResponseCerts)
	}
	positive("dag.max_pending_certs", int64(d.MaxPendingCerts))
	positive("dag.max_unreferenced_batches", int64(d.MaxUnreferencedBatches))
	positiveDur("dag.max_clock_drift", d.MaxClockDrift, time.Millisecond)

	ct := &c.Content
	nonNegative("content.data_shards", int64(ct.DataShards))
	nonNegative("content.total_shards", int64(ct.TotalShards))
	if ct.DataShards > 0 && ct.TotalShards > 0 && ct.DataShards >= ct.TotalShards {
		bad("content.data_shards", "%d: must be below content.total_shards (%d)", ct.DataShards, ct.TotalShards)
	}
	positive("content.chunk_size", int64(ct.ChunkSize))
	positive("content.max_content_size", int64(ct.MaxContentSize))
	nonNegative("content.concurrency", int64(ct.Concurrency))
	positive("content.max_concurrent_puts", int64(ct.MaxConcurrentPuts))
	positive("content.max_concurrent_gets", int64(ct.MaxConcurrentGets))
	positiveDur("content.audit_interval", ct.AuditInterval, engine.MinAuditInterval)
	if ct.AuditInterval > engine.MaxAuditInterval {
		bad("content.audit_interval", "%s exceeds %s", ct.AuditInterval, engine.MaxAuditInterval)
	}
	positive("content.repair_concurrency", int64(ct.RepairConcurrency))
	positiveDur("content.uncertified_ttl", ct.UncertifiedTTL, time.Second)
	if ct.ChunkSize > 0 {
		frame := int64(ct.ChunkSize) + 64<<10 // a shard frame at most
		if ct.UploadWindow < ByteSize(frame) {
			bad("content.upload_window", "%s is below one shard frame (%s)", ct.UploadWindow, ByteSize(frame))
		}
		if ct.FetchWindow < ByteSize(frame) {
			bad("content.fetch_window", "%s is below one shard frame (%s)", ct.FetchWindow, ByteSize(frame))
		}
	}
	positiveDur("content.fetch_timeout", ct.FetchTimeout, time.Millisecond)
	positive("content.max_uploads_per_peer", int64(ct.MaxUploadsPerPeer))
	positive("content.retention", int64(ct.Retention))
	positive("content.max_account_upload_bytes", int64(ct.MaxAccountUploadBytes))
	positive("content.min_upload_rate", int64(ct.MinUploadRate))
	positive("content.upload_body_grace", int64(ct.UploadBodyGrace))

	a := &c.API
	positive("api.max_conns", int64(a.MaxConns))
	positive("api.max_conns_per_ip", int64(a.MaxConnsPerIP))
	if a.MaxConnsPerIP > a.MaxConns {
		bad("api.max_conns_per_ip", "%d exceeds api.max_conns (%d)", a.MaxConnsPerIP, a.MaxConns)
	}
	positiveDur("api.read_header_timeout", a.ReadHeaderTimeout, time.Millisecond)
	positiveDur("api.idle_timeout", a.IdleTimeout, time.Millisecond)
	positiveDur("api.request_read_timeout", a.RequestReadTimeout, time.Millisecond)
	positiveDur("api.body_idle_timeout", a.BodyIdleTimeout, time.Millisecond)
	positiveDur("api.write_timeout", a.WriteTimeout, time.Millisecond)
	positive("api.max_submit_bytes", int64(a.MaxSubmitBytes))
	positive("api.max_submit_bytes_per_ip", int64(a.MaxSubmitBytesPerIP))
	if need := 2*int64(e.MaxRequestBytes) + 24*int64(e.MaxRequestTxs); a.MaxSubmitBytesPerIP > 0 && int64(a.MaxSubmitBytesPerIP) < need {
		bad("api.max_submit_bytes_per_ip", "%s is below one compressed submission (2*engine.max_request_bytes + 24*engine.max_request_txs = %s)", a.MaxSubmitBytesPerIP, ByteSize(need))
	}
	if a.MaxSubmitBytes < a.MaxSubmitBytesPerIP {
		bad("api.max_submit_bytes", "%s is below api.max_submit_bytes_per_ip (%s)", a.MaxSubmitBytes, a.MaxSubmitBytesPerIP)
	}
	positive("api.max_response_bytes", int64(a.MaxResponseBytes))
	positive("api.max_read_bytes", int64(a.MaxReadBytes))
	if a.MaxReadBytes < 3*a.MaxResponseBytes {
		bad("api.max_read_bytes", "%s is below three answers of api.max_response_bytes (%s)", a.MaxReadBytes, 3*a.MaxResponseBytes)
	}
	positive("api.max_streams_per_ip", int64(a.MaxStreamsPerIP))
	positive("api.max_content_lookups", int64(a.MaxContentLookups))

	positive("rpc.max_commit_streams", int64(c.RPC.MaxCommitStreams))
	positive("rpc.stream_chunk_bytes", int64(c.RPC.StreamChunkBytes))

	return errors.Join(errs...)
}

// SettingError is a bad value of one setting.
type SettingError struct {
	// Key is the setting's TOML key, such as "dag.batch_size".
	Key string
	// Err says what is wrong with the value.
	Err error
}

// Error returns "key: what is wrong".
func (e *SettingError) Error() string { return e.Key + ": " + e.Err.Error() }

// Unwrap returns e.Err.
func (e *SettingError) Unwrap() error { return e.Err }

// ParseLogLevel parses a log level: debug, info, warn, error (slog's
// names, case-insensitive, with offsets such as "info+2") or off.
// Off is returned as a level above every record's.
func ParseLogLevel(s string) (slog.Level, error) {
	if strings.EqualFold(s, "off") {
		return slog.Level(1 << 20), nil
	}
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("%q: want debug, info, warn, error or off", s)
	}
	return l, nil
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

func validEnvName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return s != ""
}

// checkName checks a validator name: 1 to 64 letters, digits, '.', '_'
// or '-', not all digits (a decimal string is an index). With
// allowIndex, a decimal index is accepted too.
func checkName(s string, allowIndex bool) error {
	if s == "" || len(s) > 64 {
		return fmt.Errorf("%q: want 1 to 64 characters", s)
	}
	digits := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '.', c == '_', c == '-':
			digits = false
		default:
			return fmt.Errorf("%q: a name has only letters, digits, '.', '_' and '-'", s)
		}
	}
	if digits && !allowIndex {
		return fmt.Errorf("%q: a name must not be a number (numbers are indexes)", s)
	}
	if digits {
		if _, err := strconv.ParseUint(s, 10, 16); err != nil {
			return fmt.Errorf("%q: index out of range", s)
		}
	}
	return nil
}

// checkHostPort checks a host:port listen or dial address. Port 0 (any
// free port) is allowed only when allowZero.
func checkHostPort(addr string, allowZero bool) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q: want host:port: %w", addr, err)
	}
	if strings.ContainsAny(host, " \t/") {
		return fmt.Errorf("%q: bad host %q", addr, host)
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return fmt.Errorf("%q: port %q: want 0..65535", addr, port)
	}
	if p == 0 && !allowZero {
		return fmt.Errorf("%q: port 0: a fixed port is needed (peers dial it)", addr)
	}
	return nil
}
