package config

import (
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/dagd/dagd/dag"
	"github.com/dagd/dagd/engine"
)

// NewLogger returns the logger the [log] section asks for, writing to w.
func (l LogConfig) NewLogger(w io.Writer) (*slog.Logger, error) {
	level, err := ParseLogLevel(l.Level)
	if err != nil {
		return nil, &SettingError{Key: "log.level", Err: err}
	}
	ho := &slog.HandlerOptions{Level: level}
	switch l.Format {
	case "text":
		return slog.New(slog.NewTextHandler(w, ho)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, ho)), nil
	default:
		return nil, &SettingError{Key: "log.format", Err: fmt.Errorf("%q: want text or json", l.Format)}
	}
}

// DAGOptions returns the [dag] section as dag.Options.
func (c *Config) DAGOptions() dag.Options {
	ms := func(d time.Duration) dag.Time { return dag.Time(d / time.Millisecond) }
	d := &c.DAG
	return dag.Options{
		GCDepth: d.GCDepth, RetainRounds: d.RetainRounds, MaxRoundsAhead: d.MaxRoundsAhead,
		MinHeaderDelay: ms(d.MinHeaderDelay), MaxHeaderDelay: ms(d.MaxHeaderDelay), LeaderTimeout: ms(d.LeaderTimeout),
		BatchSize: int(d.BatchSize), MaxBatchDelay: ms(d.MaxBatchDelay), MaxHeaderBatches: d.MaxHeaderBatches,
		MaxPendingBatches: d.MaxPendingBatches, MaxTxSize: int(d.MaxTxSize), ResendInterval: ms(d.ResendInterval),
		SyncInterval: ms(d.SyncInterval), SyncLimit: d.SyncLimit, MaxPendingCerts: d.MaxPendingCerts,
		MaxUnreferencedBatches: d.MaxUnreferencedBatches, MaxClockDrift: ms(d.MaxClockDrift),
	}
}

// EngineOptions maps the configuration, the committee and the keys to
// the node's options. It checks that the committee belongs to the
// configured chain and epoch and that it holds this validator with these
// keys; the result passes engine.Options.Validate.
func (c *Config) EngineOptions(com *Committee, keys *Keys, logger *slog.Logger) (engine.Options, error) {
	if com.ChainID != c.ChainID {
		return engine.Options{}, fmt.Errorf("config: chain_id %q differs from the committee file's %q", c.ChainID, com.ChainID)
	}
	if com.Epoch != c.Epoch {
		return engine.Options{}, fmt.Errorf("config: epoch %d differs from the committee file's %d", c.Epoch, com.Epoch)
	}
	self, err := com.Find(c.Validator, keys.BLS.PublicKey().Bytes())
	if err != nil {
		return engine.Options{}, fmt.Errorf("config: validator %q: %w", c.Validator, err)
	}
	e := &c.Engine
	o := engine.Options{
		Self: self, Committee: com.EngineValidators(), Epoch: c.Epoch, ChainID: c.ChainID,
		BLSKey: keys.BLS, NetworkKey: keys.Network.PrivateKey(),
		DataDir: c.Path(c.Storage.DataDir), ListenAddr: c.Network.QUICAddr,
		APIListenAddr: c.API.Addr, EnablePprof: c.API.Pprof, DisableMetrics: !c.API.Metrics,
		DAG:          c.DAGOptions(),
		TickInterval: e.TickInterval, SubmitQueue: e.SubmitQueue, MaxRequestTxs: e.MaxRequestTxs,
		MaxRequestBytes: int64(e.MaxRequestBytes), MaxInflightRequests: e.MaxInflightRequests,
		InboxSize: e.InboxSize, InboxBytes: int64(e.InboxBytes), PeerBatchBytes: int64(e.PeerBatchBytes),
		MaxEventsPerFlush: e.MaxEventsPerFlush, CommitBuffer: e.CommitBuffer, ReadyWindow: e.ReadyWindow,
		NoSync: c.Storage.NoSync, CacheSize: int64(c.Storage.CacheSize), MemTableSize: uint64(c.Storage.MemTableSize),
		BatchSegmentSize: int64(c.Storage.BatchSegmentSize),
		Logger:           logger,
		Content: engine.ContentOptions{
			DataShards: c.Content.DataShards, TotalShards: c.Content.TotalShards, ChunkSize: int(c.Content.ChunkSize),
			MaxContentSize: int64(c.Content.MaxContentSize), Concurrency: c.Content.Concurrency,
			MaxConcurrentPuts: c.Content.MaxConcurrentPuts, MaxConcurrentGets: c.Content.MaxConcurrentGets,
			AuditInterval: c.Content.AuditInterval,
		},
		RPC: engine.RPCOptions{MaxCommitStreams: c.RPC.MaxCommitStreams, StreamChunkBytes: int(c.RPC.StreamChunkBytes)},
	}
	check := o
	check.EnsureDefaults()
	if err := check.Validate(); err != nil {
		return engine.Options{}, fmt.Errorf("config: %w", err)
	}
	return o, nil
}

// NodeOptions loads what the configuration names, the committee file and
// the keys (decrypted with password), and returns the node's options.
func (c *Config) NodeOptions(password []byte, logger *slog.Logger) (engine.Options, error) {
	com, err := LoadCommittee(c.Path(c.CommitteeFile))
	if err != nil {
		return engine.Options{}, fmt.Errorf("config: committee_file: %w", err)
	}
	keys, err := LoadKeys(c, password)
	if err != nil {
		return engine.Options{}, err
	}
	return c.EngineOptions(com, keys, logger)
}
