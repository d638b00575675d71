// Package crypto holds dagd's keys, signatures and digests.
//
// Digests are BLAKE3-256 (Digest, Hash).
//
// # Validator keys: BLS12-381, min-sig
//
// Validators sign headers, votes and availability attestations with
// BLS12-381 through blst, in the min-sig variant: signatures are points of
// G1 (48 bytes compressed), public keys points of G2 (96 bytes). Messages
// are hashed to G1 under BLSSignatureDST; proofs of possession sign the
// compressed public key under the distinct BLSProofOfPossessionDST.
//
// The tags, and a cgo-free verifier of the same signatures for light
// clients, live in crypto/blsverify (gnark-crypto);
// TestBLSVerifyDifferential holds it to blst.
//
// Every decoder checks what the network could get wrong: ParseBLSPublicKey
// and signature decoding reject non-canonical encodings, points off the
// curve or outside the prime-order subgroup, and the point at infinity.
//
// A BLSCommittee admits a key only with a valid proof of possession. That
// is what makes fast aggregate verification sound: a certificate's
// signature is checked against the sum of its signers' keys with one
// pairing equation, and no validator can register a "rogue" key that
// cancels an honest one. A signer Bitmap names the signers; its canonical
// form has exactly ceil(n/8) bytes and no bit at or above n. It lives in
// package crypto/bitmap, without cgo, so light clients share it.
// VerifyAggregates checks many certificates in one multi-pairing with
// secret random 64-bit weights and bisects only when the batch fails.
//
// Single verifications (VerifyBLS, BLSCommittee.Verify and VerifyAggregate)
// run on the calling goroutine: a node verifies many signatures at once and
// spreads them over its cores itself. Batch verification (VerifyAggregates,
// committee construction) spreads one batch over GOMAXPROCS goroutines.
// blst needs cgo; on amd64 it assumes ADX (build with
// CGO_CFLAGS="-O2 -D__BLST_PORTABLE__" for older CPUs).
//
// Why min-sig rather than min-pk. BenchmarkBLSVariant runs both on blst with
// the same work (bench/crypto.md has every run; the shared test machine
// moved absolute figures by ±25 % between runs, the comparison held). Medians
// of eight interleaved runs on one thread:
//
//	                                   min-sig    min-pk
//	sign                               323 µs     739 µs
//	verify (decompress, group check)   1.85 ms    2.18 ms
//	fast aggregate verify, 4 signers   1.85 ms    2.09 ms
//	fast aggregate verify, 10 signers  1.88 ms    2.17 ms
//	fast aggregate verify, 100 signers 2.12 ms    2.25 ms
//
// Hashing to G1 instead of G2 makes signing 2.3–3.1 times faster and
// verification 8–24 % faster across runs; aggregate verification is 6–13 %
// faster or, in one noisy run, a draw, although the key sum runs in G2. Votes
// and certificates carry 48-byte signatures instead of 96; the 96-byte keys
// are decoded and checked once per epoch. VerifyAggregate also subtracts the
// non-signers from a precomputed sum of all keys when more than half sign, so
// a quorum certificate costs no more than a small one, and VerifyAggregates
// brings a certificate's cost down to a quarter to two fifths of a lone
// verification.
//
// # Account keys: Ed25519 under ZIP-215
//
// Accounts sign transactions with Ed25519. Every verification, single or
// batched, follows ZIP-215 (curve25519-voi's VerifyOptionsZIP_215):
// non-canonical encodings of A and R and small-order points are accepted, S
// must be canonical, and the cofactored equation decides. Batch and single
// verification therefore accept exactly the same signatures, and no two
// validators can disagree on a transaction's validity.
//
// NetworkKey is the Ed25519 identity of a node in its TLS certificates.
//
// # Keystores
//
// EncryptKeystore and DecryptKeystore read and write EIP-2335 keystore files
// (scrypt, AES-128-CTR, SHA-256 checksum), with bounds on every parameter so
// that a hostile file cannot make a node allocate gigabytes.
package crypto
