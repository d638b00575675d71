package config

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/dagd/dagd/crypto"
	"github.com/dagd/dagd/engine"
	"github.com/dagd/dagd/engine/content"
)

func writeString(t *testing.T, c *Config) string {
	t.Helper()
	var b bytes.Buffer
	if err := c.Write(&b); err != nil {
		t.Fatalf("Write: %v", err)
	}
	return b.String()
}

func TestDefaultsRoundTrip(t *testing.T) {
	def := Default()
	if err := def.Validate(); err != nil {
		t.Fatalf("Default does not validate: %v", err)
	}
	text := writeString(t, def)
	got, err := Parse([]byte(text), "/home/x")
	if err != nil {
		t.Fatalf("Parse(Write(Default())): %v\n%s", err, text)
	}
	got.dir = ""
	if !reflect.DeepEqual(got, def) {
		t.Errorf("round trip changed the defaults:\n got %+v\nwant %+v", got, def)
	}
	// An empty file is the defaults too.
	empty, err := Parse(nil, "")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(empty, def) {
		t.Errorf("empty file: got %+v, want the defaults", empty)
	}
	// Every setting appears once with its default and its flag.
	for _, s := range Settings() {
		_, leaf, ok := strings.Cut(s.Key, ".")
		if !ok {
			leaf = s.Key
		}
		if !strings.Contains(text, "\n"+leaf+" = ") {
			t.Errorf("setting %s missing from the written file", s.Key)
		}
		if !strings.Contains(text, "Flag: --"+s.Flag+".") {
			t.Errorf("setting %s: flag --%s not documented in the file", s.Key, s.Flag)
		}
	}
}

func TestNonDefaultRoundTrip(t *testing.T) {
	c := Default()
	c.ChainID = "chain-9"
	c.Epoch = 7
	c.Validator = "alice"
	c.Network.QUICAddr = "[::1]:9000"
	c.API.Addr = ""
	c.API.Metrics = false
	c.Log = LogConfig{Level: "debug", Format: "json"}
	c.Keys.PasswordFile = `/etc/dagd/pass "word" \ file`
	c.Keys.BLSKeystore = "kéys/bls\tone.json"
	c.Node.CacheSize = 12345
	c.Node.NoSync = true
	c.Node.DAG.MaxBatchDelay = 35 // ms
	c.Node.DAG.SyncLimit = 17
	c.Node.Content.DataShards, c.Node.Content.TotalShards = 2, 5
	text := writeString(t, c)
	got, err := Parse([]byte(text), "")
	if err != nil {
		t.Fatalf("Parse: %v\n%s", err, text)
	}
	if !reflect.DeepEqual(got, c) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, c)
	}
	if !strings.Contains(text, `# Default: "127.0.0.1:7000". Flag: --quic-addr.`) {
		t.Errorf("a changed setting should still show its default:\n%s", text)
	}
}

func TestEverySettingDocumented(t *testing.T) {
	flags := map[string]string{}
	keys := map[string]bool{}
	for _, s := range Settings() {
		keys[s.Key] = true
		if strings.TrimSpace(s.Doc) == "" {
			t.Errorf("setting %s has no documentation", s.Key)
		}
		if other, dup := flags[s.Flag]; dup {
			t.Errorf("flag --%s names both %s and %s", s.Flag, other, s.Key)
		}
		flags[s.Flag] = s.Key
		if sec, _, ok := strings.Cut(s.Key, "."); ok && sectionDocs[sec] == "" {
			t.Errorf("table [%s] has no documentation", sec)
		}
	}
	for k := range settingDocs {
		if !keys[k] {
			t.Errorf("documentation for %s, which is no setting", k)
		}
	}
	for _, f := range []string{"log-level", "log-format", "api-addr", "quic-addr", "data-dir", "password-file", "chain-id"} {
		if _, ok := flags[f]; !ok {
			t.Errorf("no flag --%s", f)
		}
	}
}

func TestUnknownKeysAreErrors(t *testing.T) {
	for _, tc := range []struct{ toml, key string }{
		{`chain_idd = "x"`, "chain_idd"},
		{`CHAIN_ID = "x"`, "CHAIN_ID"},
		{"[dag]\nbatch_sise = 5", "dag.batch_sise"},
		{"[dagg]\nbatch_size = 5", "dagg"},
		{"[log]\nlevel = \"info\"\ncolour = true", "log.colour"},
		{"[storage.extra]\nx = 1", "storage.extra"},
	} {
		_, err := Parse([]byte(tc.toml), "")
		if err == nil {
			t.Errorf("%q: no error", tc.toml)
			continue
		}
		var se *SettingError
		if !errors.As(err, &se) || !strings.Contains(err.Error(), tc.key) || !strings.Contains(err.Error(), "unknown setting") {
			t.Errorf("%q: error %q does not name unknown setting %s", tc.toml, err, tc.key)
		}
	}
}

func TestBadValuesNameTheSetting(t *testing.T) {
	for _, tc := range []struct{ toml, key string }{
		{`chain_id = ""`, "chain_id"},
		{`chain_id = "has space"`, "chain_id"},
		{`epoch = -1`, "epoch"},
		{`epoch = "one"`, "epoch"},
		{`validator = "bad name!"`, "validator"},
		{"[network]\nquic_addr = \"127.0.0.1\"", "network.quic_addr"},
		{"[network]\nquic_addr = \"127.0.0.1:0\"", "network.quic_addr"},
		{"[api]\naddr = \"localhost:99999\"", "api.addr"},
		{"[api]\naddr = \"\"\npprof = true", "api.pprof"},
		{"[api]\nmetrics = \"yes\"", "api.metrics"},
		{"[log]\nlevel = \"loud\"", "log.level"},
		{"[log]\nformat = \"xml\"", "log.format"},
		{"[keys]\nbls_keystore = \"\"", "keys.bls_keystore"},
		{"[keys]\npassword_env = \"NOT-A-NAME\"", "keys.password_env"},
		{"[storage]\ndata_dir = \"\"", "storage.data_dir"},
		{"[storage]\ncache_size = \"12 parsecs\"", "storage.cache_size"},
		{"[storage]\ncache_size = -5", "storage.cache_size"},
		{"[storage]\ncache_size = true", "storage.cache_size"},
		{"[engine]\ntick_interval = \"soon\"", "engine.tick_interval"},
		{"[engine]\ntick_interval = \"0s\"", "engine.tick_interval"},
		{"[engine]\nsubmit_queue = 0", "engine.submit_queue"},
		{"[engine]\ninbox_bytes = \"1MiB\"", "engine.inbox_bytes"},
		{"[engine]\nmax_request_bytes = \"1KiB\"", "engine.max_request_bytes"},
		{"[dag]\nbatch_size = -1", "dag.batch_size"},
		{"[dag]\nbatch_size = \"1GiB\"", "dag.batch_size"},
		{"[dag]\nmax_batch_delay = 5", "dag.max_batch_delay"}, // 5 ns
		{"[dag]\nmin_header_delay = \"2s\"\nmax_header_delay = \"1s\"", "dag.min_header_delay"},
		{"[dag]\ngc_depth = 2", "dag.gc_depth"},
		{"[dag]\ngc_depth = \"x\"", "dag.gc_depth"},
		{"[dag]\nsync_limit = 99999", "dag.sync_limit"},
		{"[dag]\nsync_limit = 99999999999", "dag.sync_limit"},
		{"[dag]\nmax_tx_size = \"2MiB\"", "dag.max_tx_size"},
		{"[content]\ndata_shards = 4\ntotal_shards = 4", "content.data_shards"},
		{"[content]\naudit_interval = \"1ms\"", "content.audit_interval"},
		{"[rpc]\nmax_commit_streams = 0", "rpc.max_commit_streams"},
		{"dag = 5", "dag"},
	} {
		_, err := Parse([]byte(tc.toml), "")
		if err == nil {
			t.Errorf("%q: no error", tc.toml)
			continue
		}
		if !strings.Contains(err.Error(), tc.key+":") && !strings.Contains(err.Error(), tc.key+" ") {
			t.Errorf("%q: error %q does not name %s", tc.toml, err, tc.key)
		}
	}
	// Not TOML at all.
	if _, err := Parse([]byte("chain_id = \"x"), ""); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("unterminated string: %v", err)
	}
}

func TestSetFromFlags(t *testing.T) {
	c := Default()
	for key, val := range map[string]string{
		"log.level": "debug", "api.pprof": "true", "dag.batch_size": "64KiB", "dag.max_batch_delay": "15ms",
		"storage.memtable_size": "8388608", "epoch": "3", "dag.sync_limit": "100",
	} {
		if err := c.Set(key, val); err != nil {
			t.Fatalf("Set(%s, %s): %v", key, val, err)
		}
	}
	if c.Log.Level != "debug" || !c.API.Pprof || c.Node.DAG.BatchSize != 64<<10 || c.Node.DAG.MaxBatchDelay != 15 ||
		c.Node.MemTableSize != 8<<20 || c.Epoch != 3 || c.Node.DAG.SyncLimit != 100 {
		t.Errorf("Set did not apply: %+v", c)
	}
	for key, val := range map[string]string{"dag.batch_size": "lots", "api.pprof": "maybe", "epoch": "-1", "dag.max_batch_delay": "5"} {
		err := c.Set(key, val)
		if err == nil || !strings.HasPrefix(err.Error(), key+":") {
			t.Errorf("Set(%s, %q): error %v does not name the setting", key, val, err)
		}
	}
	if err := c.Set("dag.nope", "1"); err == nil || !strings.Contains(err.Error(), "dag.nope") {
		t.Errorf("Set of an unknown setting: %v", err)
	}
}

func TestEnsureDefaults(t *testing.T) {
	c := &Config{ChainID: "x"}
	c.EnsureDefaults()
	want := Default()
	want.ChainID = "x"
	want.API.Metrics = false // booleans have no zero to fill
	if !reflect.DeepEqual(c, want) {
		t.Errorf("EnsureDefaults:\n got %+v\nwant %+v", c, want)
	}
}

func TestByteSize(t *testing.T) {
	for in, want := range map[string]ByteSize{
		"0": 0, "17": 17, "17B": 17, "64KiB": 64 << 10, "32 MiB": 32 << 20, "1g": 1 << 30, "2TiB": 2 << 40, "3kb": 3 << 10,
	} {
		got, err := ParseByteSize(in)
		if err != nil || got != want {
			t.Errorf("ParseByteSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "MiB", "1.5MiB", "12 parsecs", "99999999999TiB", "0x10"} {
		if _, err := ParseByteSize(in); err == nil {
			t.Errorf("ParseByteSize(%q): no error", in)
		}
	}
	for n, want := range map[ByteSize]string{0: "0B", 100000: "100000B", 64 << 10: "64KiB", 3 << 20: "3MiB", 1536: "1536B"} {
		if got := n.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", int64(n), got, want)
		}
	}
}

func TestPathsResolveAgainstTheFile(t *testing.T) {
	c := Default()
	c.SetDir("/srv/dagd")
	if got := c.Path(c.Storage.DataDir); got != filepath.Join("/srv/dagd", "data") {
		t.Errorf("data dir resolves to %s", got)
	}
	c.Storage.DataDir = "/var/lib/dagd"
	if got := c.Path(c.Storage.DataDir); got != "/var/lib/dagd" {
		t.Errorf("absolute data dir resolves to %s", got)
	}
}

// TestContentSettings: the [content] table maps onto content.Options
// field by field; its defaults are the engine's, so that a node started
// from a default config.toml runs with the engine's defaults; content.dir
// resolves against the file's directory; and a committee of one validator
// works with the defaults (k and n follow the committee).
func TestContentSettings(t *testing.T) {
	text := `[content]
dir = "blobs"
data_shards = 3
total_shards = 7
chunk_size = "2MiB"
max_content_size = "1GiB"
concurrency = 3
max_concurrent_puts = 5
max_concurrent_gets = 6
audit_interval = "90s"
repair_concurrency = 4
uncertified_ttl = "30m"
upload_window = "16MiB"
fetch_window = "48MiB"
fetch_timeout = "3s"
max_uploads_per_peer = 9
operator_pays_puts = true
retention = "48h"
max_account_upload_bytes = "2GiB"
min_upload_rate = "1MiB"
upload_body_grace = "10s"
`
	c, err := Parse([]byte(text), "/srv/dagd")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	got := c.Node.Content
	got.Dir = c.Path(got.Dir)
	want := content.Options{Dir: "/srv/dagd/blobs", DataShards: 3, TotalShards: 7, ChunkSize: 2 << 20, MaxContentSize: 1 << 30,
		Concurrency: 3, MaxConcurrentPuts: 5, MaxConcurrentGets: 6, AuditInterval: 90 * time.Second, RepairConcurrency: 4,
		UncertifiedTTL: 30 * time.Minute, UploadWindow: 16 << 20, FetchWindow: 48 << 20, FetchTimeout: 3 * time.Second,
		MaxUploadsPerPeer: 9, OperatorPaysPuts: true, Retention: 48 * time.Hour, MaxAccountUploadBytes: 2 << 30,
		MinUploadRate: 1 << 20, UploadBodyGrace: 10 * time.Second}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("content options\n got %+v\nwant %+v", got, want)
	}
	// Every field of ContentConfig is mapped: none left at its zero value.
	v := reflect.ValueOf(got)
	for i := range v.NumField() {
		name := v.Type().Field(i).Name
		if v.Field(i).IsZero() && !map[string]bool{"StallTimeout": true, "CommitTimeout": true, "UploadIdleTimeout": true,
			"RepairBackoffMin": true, "RepairBackoffMax": true}[name] {
			t.Errorf("ContentOptions.%s is not set by any [content] setting", name)
		}
	}

	// The defaults are the engine's (0 for k, n, concurrency and dir: they
	// follow the committee, the machine and the data directory).
	def := Default().Node.Content
	var eng engine.Options
	eng.EnsureDefaults()
	e := eng.Content
	e.Concurrency = 0
	// Not settings: the engine's defaults apply.
	e.StallTimeout, e.CommitTimeout, e.UploadIdleTimeout, e.RepairBackoffMin, e.RepairBackoffMax = 0, 0, 0, 0, 0
	if !reflect.DeepEqual(def, e) {
		t.Fatalf("defaults\n got %+v\nwant %+v", def, e)
	}
	text = writeString(t, Default())
	for _, s := range []string{"[content]", "\ndir = \"\"", "\nupload_window = \"8MiB\"", "\naudit_interval = \"10m0s\"", "\nrepair_concurrency = 2"} {
		if !strings.Contains(text, s) {
			t.Errorf("config.toml lacks %q", s)
		}
	}

	// Bad values name their setting.
	for key, bad := range map[string]string{
		"content.upload_window":        "[content]\nupload_window = \"64KiB\"",
		"content.fetch_timeout":        "[content]\nfetch_timeout = \"0s\"",
		"content.repair_concurrency":   "[content]\nrepair_concurrency = 0",
		"content.max_uploads_per_peer": "[content]\nmax_uploads_per_peer = 0",
	} {
		c, err := Parse([]byte(bad), "")
		if err == nil {
			err = c.Validate()
		}
		if err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("%s: %v", key, err)
		}
	}
}

// TestSingleValidatorContent: a committee of one validator with the
// default [content] settings makes valid node options, and the node puts
// and gets content (both shards on itself, k=1 of n=2).
func TestSingleValidatorContent(t *testing.T) {
	home := filepath.Join(t.TempDir(), "solo")
	h, err := Init(InitOptions{Home: home, Password: []byte("pw"), Keystore: crypto.KeystoreOptions{ScryptN: 1 << 4}})
	if err != nil {
		t.Fatal(err)
	}
	com, err := AssembleCommittee(DefaultChainID, 0, []Member{*h.Member})
	if err != nil {
		t.Fatal(err)
	}
	if err := com.WriteFile(filepath.Join(home, "committee.json")); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(h.ConfigFile)
	if err != nil {
		t.Fatal(err)
	}
	cfg.API.Addr = ""
	cfg.Network.QUICAddr = "127.0.0.1:0"
	o, err := cfg.NodeOptions([]byte("pw"), nil)
	if err != nil {
		t.Fatalf("NodeOptions: %v", err)
	}
	o.ListenAddr = "127.0.0.1:0"
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n, err := engine.New(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	data := bytes.Repeat([]byte("solo "), 700_000)
	res, err := n.PutContent(ctx, bytes.NewReader(data), int64(len(data)), content.PutOptions{})
	if err != nil {
		t.Fatalf("put: %v", err)
	}
	if res.K != 1 || res.N != 2 {
		t.Fatalf("k=%d n=%d, want 1 of 2", res.K, res.N)
	}
	var out bytes.Buffer
	if _, err := n.GetContent(ctx, res.CID, &out); err != nil || !bytes.Equal(out.Bytes(), data) {
		t.Fatalf("get: %v (%d bytes)", err, out.Len())
	}
}

// TestOldConfigFileLoads: a config.toml written by `dagd init` before the
// settings moved onto engine.Options (its [dag] keys in another order,
// without dag.max_unreferenced_bytes) loads to the same settings.
func TestOldConfigFileLoads(t *testing.T) {
	c, err := Load(filepath.Join("testdata", "config-before-schema.toml"))
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	want.ChainID, want.Validator, want.Keys.PasswordFile = "c1", "alice", "password"
	// The file states the GC depth nodes ran with then (dag's 50; the
	// engine's default of 20 was not applied until later): an explicit
	// setting is kept.
	want.Node.DAG.GCDepth = 50
	want.dir = c.dir
	if !reflect.DeepEqual(c, want) {
		t.Errorf("old file:\n got %+v\nwant %+v", c, want)
	}
}

// TestSettingsAreTheEngineOptions: the settings of [engine], [dag],
// [content], [rpc] and the limits of [api] and [storage] are the fields of
// engine.Options with a toml tag, and a file's values reach the node's
// options unchanged.
func TestSettingsAreTheEngineOptions(t *testing.T) {
	c, err := Parse([]byte("[engine]\nsubmit_queue = 77\nadmit_opaque = true\n[dag]\ngc_depth = 9\nmax_batch_delay = \"35ms\"\n"+
		"[storage]\nmemtable_size = \"8MiB\"\n[api]\nmax_streams_per_ip = 5\n[rpc]\nstream_chunk_bytes = \"1MiB\"\n"), "")
	if err != nil {
		t.Fatal(err)
	}
	n := c.Node
	if n.SubmitQueue != 77 || !n.Execution.AdmitOpaque || n.DAG.GCDepth != 9 || n.DAG.MaxBatchDelay != 35 ||
		n.MemTableSize != 8<<20 || n.API.MaxStreamsPerIP != 5 || n.RPC.StreamChunkBytes != 1<<20 {
		t.Errorf("settings did not reach engine.Options: %+v", n)
	}
	// Every key maps to exactly one field, and no two keys to the same.
	seen := map[string]bool{}
	for _, f := range fields(Default()) {
		if seen[f.key] {
			t.Errorf("key %s twice", f.key)
		}
		seen[f.key] = true
	}
}

// TestNodeSettingErrorsNameKeys: the engine validates its settings once
// (engine.Options.ValidateSettings) and the configuration names the keys,
// of the setting at fault and of the others its message mentions.
func TestNodeSettingErrorsNameKeys(t *testing.T) {
	for _, tc := range []struct{ toml, want string }{
		{"[content]\nmax_concurrent_puts = 0", "content.max_concurrent_puts: 0: must be positive"},
		{"[content]\ndata_shards = 4\ntotal_shards = 4", "content.data_shards: 4: must be below content.total_shards (4)"},
		{"[engine]\nmax_request_bytes = \"1KiB\"", "engine.max_request_bytes: 1024 is below the largest transaction, dag.max_tx_size (65536)"},
		{"[api]\nmax_conns = 10\nmax_conns_per_ip = 20", "api.max_conns_per_ip: 20 exceeds api.max_conns (10)"},
		{"[dag]\nmax_unreferenced_bytes = 0", "dag.max_unreferenced_bytes: 0: must be positive"},
	} {
		_, err := Parse([]byte(tc.toml), "")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want %q", tc.toml, err, tc.want)
		}
		var se *SettingError
		if !errors.As(err, &se) {
			t.Errorf("%q: %v is no SettingError", tc.toml, err)
		}
	}
}
