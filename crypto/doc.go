// Package crypto holds dagd's keys, signatures and digests.
//
// Digests are BLAKE3-256 (Digest, Hash).
package crypto
