// Package zk implements dagd's anonymous membership credentials and their
// batched verification: Groth16 proofs over BN254, made and checked with
// gnark v0.14.0 and gnark-crypto v0.19.0.
//
// # The credential
//
// In the manner of Semaphore, a member holds a secret s and publishes its
// commitment MiMC(1, s); a group is a fixed-depth Merkle tree of such
// commitments (depth DefaultDepth = 20 by default, configurable up to
// MaxDepth). A proof of MembershipCircuit says "one member of the group with
// this root signals this, once per scope" without saying which member. Its
// public inputs, in order, are the group root, the nullifier
// MiMC(2, s, scope), the hash of the external signal and the scope. The
// scope is public so that a verifier knows which scope a nullifier belongs
// to; a verifier that accepts each nullifier once accepts one signal per
// member and scope. The hash is MiMC-BN254 from gnark's standard library
// in the circuit and from gnark-crypto outside it (Group, HashPair,
// IdentityCommitment, NullifierHash); signals and scope names are mapped to
// the field with BLAKE3 (SignalHash, ScopeHash). The circuit does not use
// api.Commit, so proofs carry no Pedersen commitments, and proofs that do
// are refused.
//
// # Keys and trusted setup
//
// A ProvingKey and a VerifyingKey are written to files in canonical binary
// encodings; VerifyingKey.Digest, BLAKE3 of the encoding, pins the key:
// nodes configure the digest, and every proof Envelope names the digest of
// the key it was made for.
//
// DeterministicSetup derives the toxic waste from a public seed. It is for
// tests and devnets only: whoever knows the seed can forge proofs. A
// production network needs a multi-party ceremony instead, and its keys
// are only as sound as the ceremony:
//
//   - Phase 1 (powers of tau, circuit-independent) and phase 2 (specific to
//     this circuit and depth) with several independent contributors, run
//     with gnark's backend/groth16/bn254/mpcsetup (Phase1.Contribute,
//     Phase2.Contribute), each contribution checked by the coordinator and
//     by anyone else (VerifyPhase1, VerifyPhase2). The keys are sound if at
//     least one contributor destroyed their randomness.
//   - Both phases sealed with a public random beacon chosen after the last
//     contribution (for example a future drand round), so that the last
//     contributor cannot bias the result.
//   - The whole transcript published, so that anyone can re-verify it; the
//     keys imported with KeysFromCeremony; the verifying-key digest fixed in
//     the network's genesis configuration. A new depth or a change of the
//     circuit needs a new phase 2 and a new digest.
//
// # Batch verification
//
// Verifier checks N proofs under one verifying key with one random linear
// combination: for scalars rᵢ,
//
//	∏ e([rᵢ]Aᵢ, Bᵢ) · e(−[Σrᵢ]α, β) · e(−Σ[rᵢ]Lᵢ, γ) · e(−Σ[rᵢ]Cᵢ, δ) = 1,
//
// where Lᵢ = K₀ + Σⱼ xᵢⱼKⱼ, so the public-input sums fold into one
// multi-scalar multiplication over the five K points. That is one
// multi-Miller loop over N+3 pairs and one final exponentiation. The
// negations are on the G1 side (gnark keeps −[γ]₂, −[δ]₂ and e(α, β)
// unexported). The Miller loop is split across Options.Workers goroutines:
// each computes the lines of its B points in affine coordinates with one
// shared inversion per step and evaluates them with
// bn254.MillerLoopFixedQ; the lines of β, γ and δ are precomputed once and
// copied before every call, because MillerLoopFixedQ overwrites its lines
// argument in gnark-crypto v0.19.0.
//
// The scalars are rᵢ = aᵢ + λbᵢ with aᵢ, bᵢ 64-bit and λ the GLV eigenvalue
// of G1: 2^128 possible values each, derived by hashing a domain separator,
// the key digest and all the proofs and public inputs of the batch, so
// every validator reaches the same verdict and a prover cannot predict
// them; [rᵢ]Aᵢ = [aᵢ]Aᵢ + [bᵢ]φ(Aᵢ) costs 64 doublings. A batch containing
// an invalid proof passes with probability at most 2^-128.
//
// Every point is checked: A and C on the curve (G1 of BN254 has cofactor
// one), B on the twist and in G2 (a test fused into the line computation
// at no extra cost, with gnark-crypto's own test as a fallback). When the
// batch equation fails, bisection names exactly the invalid proofs, each
// confirmed by a check of its own. VerifyBatch adds the application rules:
// a Policy for accepted roots and already spent nullifiers, and the
// nullifier rule within the batch (the first valid proof of a nullifier
// wins, later ones are VerdictNullifierReused).
//
// # Logging
//
// gnark logs every compilation, setup, proof and verification to standard
// output through a process-wide logger. The package never touches it
// itself; programs call SilenceGnarkLogs or RouteGnarkLogs once.
package zk
