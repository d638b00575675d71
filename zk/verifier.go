package zk

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"runtime"
	"time"

	"github.com/consensys/gnark-crypto/ecc/bn254"
	"github.com/consensys/gnark-crypto/ecc/bn254/fp"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
)

// Options configures a Verifier. The zero value is valid: EnsureDefaults
// fills in the defaults documented on each field.
type Options struct {
	// Workers is the number of goroutines a batch is split across: the
	// Miller loop, the line computations, the subgroup checks and the
	// multi-scalar multiplications. Default: runtime.GOMAXPROCS(0).
	Workers int
	// MaxBatch is the largest number of envelopes one call accepts; larger
	// calls fail with an error, which bounds the memory of a call. Default:
	// 4096.
	MaxBatch int
	// ChunkSize is the largest number of proofs a worker processes at once
	// (its memory is about 17 KiB per proof for the line tables). Default:
	// 64.
	ChunkSize int
	// Logger receives debug records of batch sizes, bisections and timings.
	// Default: a logger that discards everything.
	Logger *slog.Logger
}

// EnsureDefaults fills in zero fields with their defaults and returns o.
func (o *Options) EnsureDefaults() *Options {
	if o.Workers == 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	if o.MaxBatch == 0 {
		o.MaxBatch = 4096
	}
	if o.ChunkSize == 0 {
		o.ChunkSize = 64
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Validate reports an out-of-range option.
func (o *Options) Validate() error {
	switch {
	case o.Workers < 1 || o.Workers > 1024:
		return fmt.Errorf("zk: Options.Workers %d outside [1, 1024]", o.Workers)
	case o.MaxBatch < 1 || o.MaxBatch > 1<<20:
		return fmt.Errorf("zk: Options.MaxBatch %d outside [1, %d]", o.MaxBatch, 1<<20)
	case o.ChunkSize < 1 || o.ChunkSize > 4096:
		return fmt.Errorf("zk: Options.ChunkSize %d outside [1, 4096]", o.ChunkSize)
	case o.Logger == nil:
		return errors.New("zk: Options.Logger is nil")
	}
	return nil
}

// Verdict is the outcome for one envelope of a batch.
type Verdict uint8

// Verdicts. Only VerdictValid accepts the envelope.
const (
	// VerdictValid: the proof is valid and the policy accepts it.
	VerdictValid Verdict = iota
	// VerdictWrongKey: the envelope names another verifying key.
	VerdictWrongKey
	// VerdictMalformed: a proof point is not on its curve or not in its
	// subgroup.
	VerdictMalformed
	// VerdictInvalidProof: the Groth16 pairing equation does not hold.
	VerdictInvalidProof
	// VerdictUnknownRoot: the policy does not accept the group root.
	VerdictUnknownRoot
	// VerdictNullifierSpent: the policy reports the nullifier as used
	// before this batch.
	VerdictNullifierSpent
	// VerdictNullifierReused: a valid proof earlier in the same batch has
	// the same nullifier; the first one wins.
	VerdictNullifierReused
)

var verdictNames = [...]string{
	VerdictValid:           "valid",
	VerdictWrongKey:        "wrong-verifying-key",
	VerdictMalformed:       "malformed-point",
	VerdictInvalidProof:    "invalid-proof",
	VerdictUnknownRoot:     "unknown-root",
	VerdictNullifierSpent:  "nullifier-spent",
	VerdictNullifierReused: "nullifier-reused",
}

// String returns the verdict's name, as printed by the CLI.
func (v Verdict) String() string {
	if int(v) < len(verdictNames) {
		return verdictNames[v]
	}
	return fmt.Sprintf("verdict(%d)", uint8(v))
}

// ProofValid reports whether the verdict implies a valid Groth16 proof: it
// is VerdictValid or a rejection by the nullifier rule, which is applied to
// valid proofs only.
func (v Verdict) ProofValid() bool { return v == VerdictValid || v == VerdictNullifierReused }

// Policy holds the application rules checked besides the proofs.
type Policy struct {
	// KnownRoot reports whether a group root is accepted (typically the
	// current root and a few recent ones). Nil accepts every root.
	KnownRoot func(root fr.Element) bool
	// Spent reports whether a nullifier was used before this batch. Nil
	// means none was.
	Spent func(nullifier fr.Element) bool
}

// BatchResult reports the verdict of every envelope of a batch, in order.
type BatchResult struct {
	Verdicts []Verdict
	// PairingChecks counts the batch equations evaluated: one for a valid
	// batch, more when bisection looked for invalid proofs.
	PairingChecks int
}

// AllValid reports whether every envelope was accepted.
func (r *BatchResult) AllValid() bool {
	for _, v := range r.Verdicts {
		if v != VerdictValid {
			return false
		}
	}
	return true
}

// Rejected returns the indices of the envelopes not accepted.
func (r *BatchResult) Rejected() []int {
	var out []int
	for i, v := range r.Verdicts {
		if v != VerdictValid {
			out = append(out, i)
		}
	}
	return out
}

// Verifier checks membership proofs under one verifying key, one at a time
// or in batches. It is safe for concurrent use.
type Verifier struct {
	vk         *VerifyingKey
	opts       Options
	fixedLines [3]lineTable // β, γ, δ: copied before every MillerLoopFixedQ
	omega      fp.Element   // cube root of unity with φ(x, y) = (ωx, y) = [λ](x, y) on G1
	lambda     fr.Element
}

// GLV endomorphism of BN254's G1: φ(x, y) = (ωx, y) = [λ](x, y).
const (
	glvOmega  = "2203960485148121921418603742825762020974279258880205651966"
	glvLambda = "4407920970296243842393367215006156084916469457145843978461"
)

// NewVerifier prepares a verifier for vk: it precomputes the Miller-loop
// lines of the key's fixed G2 points.
func NewVerifier(vk *VerifyingKey, opts Options) (*Verifier, error) {
	if vk == nil {
		return nil, errors.New("zk: NewVerifier needs a verifying key")
	}
	opts.EnsureDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	v := &Verifier{vk: vk, opts: opts}
	v.fixedLines[0] = bn254.PrecomputeLines(vk.beta)
	v.fixedLines[1] = bn254.PrecomputeLines(vk.gamma)
	v.fixedLines[2] = bn254.PrecomputeLines(vk.delta)
	if _, err := v.omega.SetString(glvOmega); err != nil {
		return nil, fmt.Errorf("zk: GLV constant: %w", err)
	}
	if _, err := v.lambda.SetString(glvLambda); err != nil {
		return nil, fmt.Errorf("zk: GLV constant: %w", err)
	}
	if err := v.checkGLV(); err != nil {
		return nil, err
	}
	return v, nil
}

// checkGLV confirms φ(G) = [λ]G for the generator, so that the scalar
// multiplications by a + λb are right.
func (v *Verifier) checkGLV() error {
	_, _, g, _ := bn254.Generators()
	var lam bn254.G1Affine
	var l big.Int
	v.lambda.BigInt(&l)
	lam.ScalarMultiplication(&g, &l)
	phi := g
	phi.X.Mul(&phi.X, &v.omega)
	if !phi.Equal(&lam) {
		return errors.New("zk: GLV constants of BN254 G1 do not match")
	}
	return nil
}

// VerifyingKey returns the key the verifier checks against.
func (v *Verifier) VerifyingKey() *VerifyingKey { return v.vk }

// item is an envelope prepared for the batch equation.
type item struct {
	idx    int
	proof  Proof
	public [NumPublicInputs]fr.Element
}

// VerifyProofs checks the Groth16 validity of every envelope, with no
// policy and no nullifier rule: each verdict is VerdictValid,
// VerdictWrongKey, VerdictMalformed or VerdictInvalidProof, exactly as
// gnark's groth16.Verify would decide (bar a 2^-128 chance, for a batch of
// more than one proof, of accepting an invalid one).
//
// All well-formed proofs are checked with one random linear combination:
// one multi-Miller loop over N+3 pairs, split across the workers, and one
// final exponentiation. If the batch fails, bisection finds exactly the
// invalid proofs.
func (v *Verifier) VerifyProofs(ctx context.Context, envs []Envelope) (*BatchResult, error) {
	if len(envs) > v.opts.MaxBatch {
		return nil, fmt.Errorf("zk: batch of %d proofs exceeds Options.MaxBatch %d", len(envs), v.opts.MaxBatch)
	}
	res := &BatchResult{Verdicts: make([]Verdict, len(envs))}
	items := make([]item, 0, len(envs))
	for i := range envs {
		e := &envs[i]
		switch {
		case e.VerifyingKey != v.vk.digest:
			res.Verdicts[i] = VerdictWrongKey
		case !e.Proof.A.IsOnCurve() || !e.Proof.B.IsOnCurve() || !e.Proof.C.IsOnCurve():
			res.Verdicts[i] = VerdictMalformed
		default:
			items = append(items, item{idx: i, proof: e.Proof, public: e.Public.vector()})
		}
	}
	if err := v.verifyItems(ctx, items, res); err != nil {
		return nil, err
	}
	return res, nil
}

// VerifyBatch checks every envelope and applies the policy and the
// nullifier rule: an envelope is accepted when its proof is valid, the
// policy accepts its root and nullifier, and no valid envelope earlier in
// the batch has the same nullifier. Every validator that verifies the same
// batch in the same order reaches the same verdicts: the random scalars
// are derived from the batch itself.
func (v *Verifier) VerifyBatch(ctx context.Context, envs []Envelope, pol Policy) (*BatchResult, error) {
	if len(envs) > v.opts.MaxBatch {
		return nil, fmt.Errorf("zk: batch of %d proofs exceeds Options.MaxBatch %d", len(envs), v.opts.MaxBatch)
	}
	res := &BatchResult{Verdicts: make([]Verdict, len(envs))}
	items := make([]item, 0, len(envs))
	for i := range envs {
		e := &envs[i]
		switch {
		case e.VerifyingKey != v.vk.digest:
			res.Verdicts[i] = VerdictWrongKey
		case !e.Proof.A.IsOnCurve() || !e.Proof.B.IsOnCurve() || !e.Proof.C.IsOnCurve():
			res.Verdicts[i] = VerdictMalformed
		case pol.KnownRoot != nil && !pol.KnownRoot(e.Public.Root):
			res.Verdicts[i] = VerdictUnknownRoot
		case pol.Spent != nil && pol.Spent(e.Public.Nullifier):
			res.Verdicts[i] = VerdictNullifierSpent
		default:
			items = append(items, item{idx: i, proof: e.Proof, public: e.Public.vector()})
		}
	}
	if err := v.verifyItems(ctx, items, res); err != nil {
		return nil, err
	}
	seen := make(map[fr.Element]struct{}, len(envs))
	for i := range envs {
		if res.Verdicts[i] != VerdictValid {
			continue
		}
		n := envs[i].Public.Nullifier
		if _, dup := seen[n]; dup {
			res.Verdicts[i] = VerdictNullifierReused
			continue
		}
		seen[n] = struct{}{}
	}
	return res, nil
}

// Verify checks one envelope under the policy.
func (v *Verifier) Verify(ctx context.Context, env Envelope, pol Policy) (Verdict, error) {
	res, err := v.VerifyBatch(ctx, []Envelope{env}, pol)
	if err != nil {
		return 0, err
	}
	return res.Verdicts[0], nil
}

// verifyItems runs the batch equation on items and bisects on failure,
// writing VerdictValid, VerdictMalformed or VerdictInvalidProof for each.
func (v *Verifier) verifyItems(ctx context.Context, items []item, res *BatchResult) error {
	if len(items) == 0 {
		return nil
	}
	start := time.Now()
	ok, outside, err := v.batchCheck(ctx, items)
	if err != nil {
		return err
	}
	res.PairingChecks++
	if len(outside) > 0 {
		// Points outside G2 were left out of the equation.
		kept := items[:0:0]
		bad := make(map[int]bool, len(outside))
		for _, o := range outside {
			bad[o] = true
		}
		for _, it := range items {
			if bad[it.idx] {
				res.Verdicts[it.idx] = VerdictMalformed
			} else {
				kept = append(kept, it)
			}
		}
		items = kept
	}
	if ok {
		for _, it := range items {
			res.Verdicts[it.idx] = VerdictValid
		}
	} else if err := v.bisect(ctx, items, true, res); err != nil {
		return err
	}
	v.opts.Logger.Debug("zk batch verified", "proofs", len(items)+len(outside), "pairing_checks", res.PairingChecks, "elapsed", time.Since(start))
	return nil
}

// bisect finds the invalid proofs among items. failed says that the batch
// equation over items is already known to fail. Singletons are always
// checked on their own, so every verdict of an invalid proof is exact.
func (v *Verifier) bisect(ctx context.Context, items []item, failed bool, res *BatchResult) error {
	if len(items) == 0 {
		return nil
	}
	if !failed || len(items) == 1 {
		ok, outside, err := v.batchCheck(ctx, items)
		if err != nil {
			return err
		}
		res.PairingChecks++
		if len(outside) > 0 {
			// Cannot happen: points were checked at the top. Be exact anyway.
			return v.splitOutside(ctx, items, outside, res)
		}
		if ok {
			for _, it := range items {
				res.Verdicts[it.idx] = VerdictValid
			}
			return nil
		}
		if len(items) == 1 {
			res.Verdicts[items[0].idx] = VerdictInvalidProof
			return nil
		}
	}
	half := len(items) / 2
	left, right := items[:half], items[half:]
	okLeft, outside, err := v.batchCheck(ctx, left)
	if err != nil {
		return err
	}
	res.PairingChecks++
	if len(outside) > 0 {
		return v.splitOutside(ctx, items, outside, res)
	}
	if okLeft {
		for _, it := range left {
			res.Verdicts[it.idx] = VerdictValid
		}
		// The whole failed and the left half holds: the right half fails.
		return v.bisect(ctx, right, true, res)
	}
	if err := v.bisect(ctx, left, true, res); err != nil {
		return err
	}
	return v.bisect(ctx, right, false, res)
}

// splitOutside marks the listed items malformed and bisects the rest anew.
func (v *Verifier) splitOutside(ctx context.Context, items []item, outside []int, res *BatchResult) error {
	bad := make(map[int]bool, len(outside))
	for _, o := range outside {
		bad[o] = true
		res.Verdicts[o] = VerdictMalformed
	}
	kept := make([]item, 0, len(items))
	for _, it := range items {
		if !bad[it.idx] {
			kept = append(kept, it)
		}
	}
	return v.bisect(ctx, kept, false, res)
}
