package config

// settingDoc documents one TOML key: its text in config.toml and the
// help of its flag, and the flag's name when it is not the key's last
// part with '_' turned into '-'.
type settingDoc struct {
	doc  string
	flag string
}

// pathKeys are the settings that name files or directories.
var pathKeys = map[string]bool{
	"committee_file": true, "genesis_file": true, "keys.bls_keystore": true, "keys.network_keystore": true,
	"keys.password_file": true, "storage.data_dir": true, "keys.account_keystore": true, "content.dir": true,
}

// sectionDocs introduce the tables of config.toml.
var sectionDocs = map[string]string{
	"network": "Validator-to-validator transport: QUIC over UDP, mutual TLS pinned to the\ncommittee's network keys.",
	"api":     "The node's HTTP listener: the JSON API (/v1/...), the Connect API (dagd.v1),\n/healthz, /readyz and, when enabled, /metrics and /debug/pprof/.",
	"log":     "Logs go to standard error through log/slog.",
	"keys": "The validator's keys, stored only as encrypted EIP-2335 keystores. The\n" +
		"password is never written here: it comes from password_file or, when that\n" +
		"is empty, from the environment variable password_env (or, on a terminal,\n" +
		"a prompt).",
	"storage": "The node's store: pebble for consensus records and an append-only log for\nbatch bodies.",
	"engine":  "The node's event loop and queues (engine.Options).",
	"dag":     "The consensus core (Narwhal/Bullshark, dag.Options). Durations are rounded\ndown to milliseconds. Every validator of a committee should use the same\nvalues.",
	"content": "Content-addressed storage: erasure-coded blobs spread over the committee.\n" +
		"A put cuts a blob into chunks, codes each into n shards of which any k\n" +
		"rebuild it (storage costs n/k), sends every validator its shards, and\n" +
		"registers the availability certificate a quorum signed in the ledger (with\n" +
		"the account of keys.account_keystore) and in a local registry. Every node\n" +
		"audits and repairs its shards. A single validator holds every shard.",
	"rpc": "The Connect API (dagd.v1) served on api.addr.",
}

// settingDocs documents every key of Config (TestEverySettingDocumented
// keeps it complete).
var settingDocs = map[string]settingDoc{
	"chain_id": {doc: "The chain this node belongs to; peers of another chain are refused. It must\nequal the committee file's chain_id."},
	"epoch":    {doc: "The committee's epoch. It must equal the committee file's epoch."},
	"validator": {doc: "This node in the committee file: a validator's name, or its index in\n" +
		"decimal. \"\" finds the validator whose BLS key is in keys.bls_keystore."},
	"committee_file": {doc: "The committee (genesis) file shared by every validator: each validator's\n" +
		"name, BLS public key with proof of possession, network public key, QUIC\n" +
		"address and stake."},
	"genesis_file": {doc: "The chain's genesis state shared by every validator (JSON: chain_id, funded\n" +
		"accounts, and each validator's BLS key, stake and operator account, in\n" +
		"committee order). \"\" starts from an empty state, with no funded account."},

	"network.quic_addr": {flag: "quic-addr", doc: "UDP address the QUIC transport listens on. \"\" means this validator's\n" +
		"address in the committee file. To listen on every interface while the\n" +
		"committee announces a public address, set \"0.0.0.0:PORT\"."},

	"api.addr": {flag: "api-addr", doc: "TCP address of the HTTP API (port 0 picks a free port). \"\" serves no\n" +
		"API, no health checks and no metrics. Expose it only to trusted clients or\nbehind a proxy."},
	"api.metrics":                 {flag: "metrics", doc: "Serve Prometheus metrics on /metrics."},
	"api.pprof":                   {flag: "pprof", doc: "Serve Go's profiler on /debug/pprof/ (trusted networks only)."},
	"api.max_conns":               {flag: "api-max-conns", doc: "Open API connections; beyond it a new connection gets 503 and is closed."},
	"api.max_conns_per_ip":        {flag: "api-max-conns-per-ip", doc: "Open API connections from one client address; beyond it a new one gets\n503 and is closed."},
	"api.read_header_timeout":     {flag: "api-read-header-timeout", doc: "Wait for a request's headers at most this long (also on a new connection)."},
	"api.idle_timeout":            {flag: "api-idle-timeout", doc: "Close a keep-alive connection idle this long."},
	"api.request_read_timeout":    {flag: "api-request-read-timeout", doc: "A submission's or a read request's body must arrive within this (408)."},
	"api.body_idle_timeout":       {flag: "api-body-idle-timeout", doc: "Any request body (uploads included) must make progress at least this\noften."},
	"api.write_timeout":           {flag: "api-write-timeout", doc: "Write a unary answer within this (commit streams and downloads have their\nown deadlines)."},
	"api.max_submit_bytes":        {flag: "api-max-submit-bytes", doc: "Memory of all submissions in flight (twice their body bytes, twice\nengine.max_request_bytes for a compressed one); beyond it 429."},
	"api.max_submit_bytes_per_ip": {flag: "api-max-submit-bytes-per-ip", doc: "What the submissions of one client address may hold of\napi.max_submit_bytes; at least one compressed submission."},
	"api.max_response_bytes":      {flag: "api-max-response-bytes", doc: "Transaction bytes of one commit answer; the rest continues from a cursor."},
	"api.max_read_bytes":          {flag: "api-max-read-bytes", doc: "Memory of all read answers being built (three times their transaction\nbytes); beyond it 429."},
	"api.max_streams_per_ip":      {flag: "api-max-streams-per-ip", doc: "Commit streams open from one client address."},
	"api.max_content_lookups":     {flag: "api-max-content-lookups", doc: "Content lookups asking other validators for a manifest at once; beyond it\n429."},

	"log.level":  {flag: "log-level", doc: "Least level logged: debug, info, warn, error, or off."},
	"log.format": {flag: "log-format", doc: "Log format: text (logfmt-like key=value) or json (one object per line)."},

	"keys.bls_keystore":     {doc: "EIP-2335 keystore of the validator's BLS12-381 key (signs headers and votes)."},
	"keys.network_keystore": {doc: "EIP-2335 keystore of the validator's Ed25519 network key (its TLS identity)."},
	"keys.account_keystore": {doc: "EIP-2335 keystore of the node's own Ed25519 ledger account, written by init.\n" +
		"It signs and pays the RegisterContent transactions of content put through\n" +
		"this node; fund it in the ledger. Optional: when the file is missing or the\n" +
		"setting is \"\", content stays in the local registry (dagd stat says why)."},
	"keys.password_file": {doc: "File holding the keystore password (its first line; keep it mode 0600).\n" +
		"Empty: read the variable named by password_env."},
	"keys.password_env": {doc: "Environment variable holding the keystore password when password_file is\nempty."},

	"storage.data_dir":           {doc: "Directory of the node's store, created at start."},
	"storage.no_sync":            {doc: "Do not fsync writes. Benchmarks on throwaway data only: after a crash the\nnode may vote twice, which is slashable."},
	"storage.cache_size":         {doc: "Pebble's block cache."},
	"storage.memtable_size":      {doc: "Pebble's memtable size (batch bodies do not go through pebble)."},
	"storage.batch_segment_size": {doc: "Size at which the batch log starts a new segment file."},
	"storage.max_evidence":       {doc: "Equivocation evidence records kept (one per author, round and epoch);\nbeyond it the oldest are dropped first (dagd_evidence_dropped_total)."},

	"engine.tick_interval":          {doc: "How often the consensus core's clock advances."},
	"engine.submit_queue":           {doc: "Client submissions waiting for the event loop; beyond it a submission is\nrefused as busy."},
	"engine.max_request_txs":        {doc: "Transactions in one submission."},
	"engine.max_request_bytes":      {doc: "Body of one HTTP submission. Queued submissions hold at most\nsubmit_queue times this."},
	"engine.max_inflight_requests":  {doc: "HTTP submissions parsed or waiting at once; beyond it the API answers 429."},
	"engine.inbox_size":             {doc: "Decoded peer messages waiting for the event loop."},
	"engine.inbox_bytes":            {doc: "Encoded size of the decoded peer messages waiting for the event loop; at\nleast the largest frame (about 17 MiB)."},
	"engine.peer_batch_bytes":       {doc: "Bytes of own batches sent to one peer and not yet acknowledged; beyond it\nnew batches wait, so that batch data does not queue ahead of headers and\nvotes."},
	"engine.max_events_per_flush":   {doc: "Events the loop takes before one synced write and the sends that follow."},
	"engine.commit_buffer":          {doc: "Default buffer of a commit subscription, in commits."},
	"engine.ready_window":           {doc: "/readyz answers ready while a quorum is connected and the last commit is\nat most this old."},
	"engine.admission_nonce_window": {doc: "How far beyond an account's next nonce a submitted transaction's nonce may\nbe; one further is refused at admission (nonce_too_far)."},
	"engine.admit_opaque":           {doc: "Admit submitted bytes that do not decode as a transaction (opaque load for\nconsensus benchmarks: dagd loadtest --workload opaque). They are ordered,\nthen dropped at execution without a receipt. Off on a real network."},

	"dag.batch_size":               {doc: "Seal a batch once its transactions reach this size."},
	"dag.max_batch_delay":          {flag: "batch-delay", doc: "Seal a non-empty batch after this long."},
	"dag.min_header_delay":         {doc: "Least time between two own headers."},
	"dag.max_header_delay":         {flag: "header-delay", doc: "Propose a header without batches after this long."},
	"dag.leader_timeout":           {doc: "Wait for the leader's certificate (even rounds) or for support for it (odd\nrounds) at most this long before advancing."},
	"dag.max_pending_batches":      {doc: "Own batches not yet stored by a quorum or waiting for a header; beyond it\nsubmissions are refused as busy."},
	"dag.max_header_batches":       {doc: "Batch references in one header."},
	"dag.max_tx_size":              {doc: "Largest transaction accepted."},
	"dag.gc_depth":                 {doc: "Rounds kept in memory below the last committed leader (at least 4)."},
	"dag.retain_rounds":            {doc: "Rounds below the garbage-collection round whose certificates and batches\nstay on disk, so that a validator further behind can still catch up."},
	"dag.max_rounds_ahead":         {doc: "How far beyond the local round a header or certificate may be before it is\nrefused and the node syncs instead (at least 4)."},
	"dag.resend_interval":          {doc: "Wait this long for votes, acknowledgements or requested data before asking\nagain."},
	"dag.sync_interval":            {doc: "Without progress for this long, ask a peer for the certificates from the\nlocal round on."},
	"dag.sync_limit":               {doc: "Certificates sent in answer to one sync request."},
	"dag.max_pending_certs":        {doc: "Certificates waiting for their parents."},
	"dag.max_unreferenced_batches": {doc: "Stored batches per author that no certificate references yet; the oldest\nare dropped first."},
	"dag.max_unreferenced_bytes":   {doc: "Bytes of the stored batches per author that no certificate references yet;\nthe oldest are dropped first."},
	"dag.max_clock_drift":          {doc: "How far ahead of the local clock a header's timestamp may be for this node\nto vote for it."},

	"content.dir":                  {flag: "content-dir", doc: "Directory of the shard files (one directory per object; pebble keeps what\nis held). \"\": storage.data_dir/content."},
	"content.data_shards":          {flag: "content-data-shards", doc: "k: any k of n shards rebuild a chunk. 0: f+1, where f is the largest number\nof validators holding less than a third of the stake (1 for a committee of\nup to 3 equal validators)."},
	"content.total_shards":         {flag: "content-total-shards", doc: "n: shards per chunk. 0: the committee size, one shard per validator (2 for\na single validator, which then holds both)."},
	"content.chunk_size":           {flag: "content-chunk-size", doc: "Content bytes coded together. Part of the network's format: content coded with\nanother chunk size gets another CID."},
	"content.max_content_size":     {doc: "Largest object, so the largest upload a put accepts (the API answers 413\nbeyond it)."},
	"content.concurrency":          {flag: "content-concurrency", doc: "Chunks coded at once by a put or a get. 0: the number of CPUs."},
	"content.max_concurrent_puts":  {doc: "Content puts the HTTP API serves at once; beyond it it answers 429."},
	"content.max_concurrent_gets":  {doc: "Content gets the HTTP API serves at once; beyond it it answers 429."},
	"content.audit_interval":       {doc: "How often the node checks every shard it should hold and repairs what is\nmissing or corrupt."},
	"content.repair_concurrency":   {doc: "Objects audited or repaired at once."},
	"content.uncertified_ttl":      {doc: "Shards stored for a put that got no certificate nor registration are\ndeleted after this long."},
	"content.upload_window":        {doc: "Shard bytes a put sends to one holder ahead of its acknowledgements; at\nleast one chunk."},
	"content.fetch_window":         {doc: "Shard bytes a get or a repair asks for ahead of decoding; at least one\nchunk."},
	"content.fetch_timeout":        {doc: "Wait for one shard or manifest from a holder at most this long, then ask\nthe next."},
	"content.max_uploads_per_peer": {doc: "Upload sessions one validator may have open at this node."},

	"content.operator_pays_puts":       {doc: "Let puts without a signed payment through, registered and paid by this\nnode's account (keys.account_keystore). false: the API refuses them (401)\nand each client pays for its own content (dagd put --from KEY)."},
	"content.retention":                {doc: "How long content this node pays for (operator_pays_puts) stays\nregistered, in consensus time; after it every holder deletes it."},
	"content.min_upload_rate":          {doc: "Slowest a put's body may come, in bytes per second (after\nupload_body_grace); a slower client is cut off with 408 so that it cannot\nhold an upload slot."},
	"content.upload_body_grace":        {doc: "Time a put's body may take on top of its size at min_upload_rate."},
	"content.max_account_upload_bytes": {doc: "Stored bytes (size x n/k) of one account's paid puts running at once on\nthis node; beyond it the API answers 429."},

	"rpc.max_commit_streams": {doc: "StreamCommits calls open at once; beyond it a call is refused."},
	"rpc.stream_chunk_bytes": {doc: "A commit's transactions beyond this many bytes continue in further stream\nmessages."},
}
