// Package content is the node's content room: erasure-coded,
// content-addressed storage beside consensus. A Service takes puts
// (content_put.go: code the body, send shard j of every chunk to
// validator j mod committee size, aggregate the holders' BLS signatures
// of the AvailabilityStatement into a Certificate), holds shards for its
// peers (content_recv.go: check every shard against the manifest before
// keeping it; content_store.go: files renamed into place, holdings
// recorded in the node's pebble), serves gets (content_get.go), audits
// and repairs what it holds (content_heal.go, decisions by package heal),
// keeps a local registry of certificates (content_registry.go), checks
// paid puts before their body is read (content_pay.go) and follows the
// ledger: the index of registrations executed (Executed, CatchUp) and the
// registrar that submits the node's own registrations and follows their
// receipts (content_ledger.go). Frames between services are
// content_wire.go's (kinds 0x40-0x4f).
//
// The service holds no node: it reaches the rest of it through the small
// interfaces of deps.go (Sender, Committee, Submitter, Ledger, TxReader,
// Clock), the node's *store.Store, a logger and a prometheus registerer,
// all given in Config. The engine satisfies or adapts them
// (engine/content_wiring.go), routes content frames to Deliver and calls
// Executed after each executed commit; the HTTP endpoints stay in the
// engine (engine/content_api.go).
package content
