// Package storage measures dagd's content-addressed storage end to end: it
// starts a local devnet (engine.StartDevnet, QUIC on loopback or the
// in-memory network), puts content through one validator's Go API and gets
// it back through another, and reports MB/s of content for each, with the
// machine's core count and load so that figures from a shared machine can
// be judged. `dagd bench storage` runs it; bench/storage.md records its
// figures.
package storage
