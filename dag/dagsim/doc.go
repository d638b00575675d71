// Package dagsim runs the consensus core (package dag) under a
// deterministic fault simulator: one goroutine, a seeded PRNG and a virtual
// clock drive n validators over a network that delays (with a long tail),
// drops, duplicates, reorders and partitions messages, while validators
// crash and restart from their own persisted records (the last write
// possibly torn) and up to f Byzantine validators equivocate, stay silent
// or send invalid messages.
//
// After every step the simulator checks agreement (every honest commit
// sequence is a prefix of the longest), that nothing commits twice, and
// that nothing commits before its causal history. Once faults stop, every
// honest validator must commit new leaders within a bounded virtual time.
// The same seed gives byte-identical commit logs; a failure reports its
// seed so that `dagd sim --seed-start SEED --seeds 1` replays it.
package dagsim
