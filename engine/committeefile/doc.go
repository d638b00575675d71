// Package committeefile is dagd's committee (genesis) file: its JSON
// format (Committee, Member, HexBytes), its strict reading with a size
// bound, its writing, and its validation (names, addresses, key sizes,
// distinct keys, positive stakes, every BLS proof of possession). It is
// the one definition of the format: engine/config reads and writes
// committee.json and validator.json through it and turns them into
// engine.Options, and engine/checkpoint's CommitteeFromFile turns it into
// the checkpoint.Committee a light client verifies certificates against.
//
// It builds with CGO_ENABLED=0: besides the standard library it imports
// only crypto/blsverify (pure-Go BLS12-381, for keys and proofs of
// possession), so a light client on an ARM board reads the genesis
// committee file without blst. Ed25519 network keys are checked for size
// only, as the node does before it pins them.
//
// Every error wraps its cause with %w and names the validator it is about;
// no function panics on any input and the package keeps no global mutable
// state.
package committeefile
