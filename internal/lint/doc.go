// Package lint holds tests that keep the shape of the repository true: imports
// point only down the layers of DESIGN §1, the consensus core stays pure (no
// clock, network, disk, randomness or goroutines), and no util/common/helpers
// packages appear outside internal/.
package lint
