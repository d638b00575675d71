// Package client is the Go API of a dagd node's public API, for every
// program that talks to a node from outside it: the dagd commands, the
// load generator and, later, light clients. It holds the wire types of the
// JSON endpoints, which the node's handlers (package engine) serve as they
// are defined here, and a Client for them; the Connect services of
// dagd.v1 (engine/api/dagd/v1) are reached through the same Client
// (NodeService, CommitService, TransactionService).
//
// Two surfaces, each defined once:
//
//   - The JSON endpoints (/v1/status, /v1/commits, /v1/transactions,
//     /v1/receipts, /v1/state, /v1/accounts, /v1/content, /v1/evidence)
//     are a separate, stable surface: their fields are the exported Go
//     types of this package and their JSON tags, documented here, and
//     nowhere else. A change of a field name or meaning is a change of
//     the v1 JSON API.
//   - The Connect, gRPC and gRPC-Web services serve the protobuf messages
//     of package dagd.v1, defined by the .proto files; they are not
//     mirrored here.
//
// The package imports no cgo package (no blst, pebble or quic-go), so a
// light client can build it for any GOOS/GOARCH with CGO_ENABLED=0.
// What needs the ledger's cryptography (signing transactions, decoding
// receipts, verifying state proofs) is left to the caller, with packages
// contracts, crypto and state/proof.
package client
