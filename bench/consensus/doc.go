// Package consensus measures dagd's consensus layer as the Narwhal and
// Bullshark papers do: latency against throughput at rising offered load.
//
// For every offered rate, Run starts a fresh devnet in this process
// (engine.StartDevnet: QUIC on loopback or the in-memory network, one
// pebble store per validator), waits until every validator is connected
// and has committed, offers open-loop load with loadtest.Run (transactions
// fall due on schedule whatever happened to earlier ones, so latency is
// not hidden by a slowing client), and records the offered and committed
// throughput, the p50/p95/p99 latency from the moment a transaction fell
// due to the commit that holds it, and whether every validator committed
// the same sequence. The devnet is then stopped and its data removed.
// Throughput is taken in steady state (SteadyRates: from the load
// generator's per-second counts, after a warm-up of a quarter of the
// duration), so neither the pipeline's fill at the start nor the
// transactions still in flight at the end count against it.
//
// A rate is sustained when the committed throughput is at least
// Options.SustainedFraction (95 %) of the offered one, the p99 latency is
// below Options.MaxP99 (2 s) and the validators agree; Result.Sustained
// names the highest such rate. When a rate fails badly (committed below
// Options.StopFraction, 80 %, of offered) the higher rates are skipped:
// they would only fail longer.
//
// Every figure is taken on the machine the process runs on, with all
// validators sharing its cores, so a Result records the machine (CPU
// model, cores, GOMAXPROCS, Go version, OS/arch) and the load average
// before and after each rate: on a machine shared with other work the
// throughput is a lower bound and the latency an upper bound.
//
// Result.Markdown renders a table, Result.SVG a latency-throughput chart
// (p50 and p99 against committed tx/s, as the Narwhal paper's figures
// are drawn), and WriteFiles writes consensus.json, consensus.md and
// consensus.svg to a directory. `dagd bench consensus` runs it;
// bench/consensus.md records its figures.
package consensus
