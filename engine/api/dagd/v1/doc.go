// Package dagdv1 holds the messages of dagd's public API, version 1
// (protobuf package dagd.v1): TransactionService, NodeService and
// CommitService, served by every node over Connect, gRPC and gRPC-Web on
// HTTP/1.1 and cleartext HTTP/2 (see package engine and README.md).
//
// The *.pb.go files are generated from the .proto files next to them by
// scripts/genproto, which pins the tools; dagdv1connect holds the
// generated Connect handlers and clients. Do not edit generated files: edit
// the .proto and run scripts/genproto. A test checks that the generated
// code matches its sources (generated.sha256).
package dagdv1
