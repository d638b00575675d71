// Package lint holds tests that keep the shape of the repository true:
// imports point only down the layers (the table in lint_test.go, explained
// in ARCHITECTURE.md), the consensus core stays pure (no clock, network,
// disk, randomness or goroutines), no util/common/helpers packages appear
// outside internal/, every package and exported name is documented, the
// light-client packages need no cgo, and every repository path and test
// that ARCHITECTURE.md names exists, as every package is named there.
package lint
