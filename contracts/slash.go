package contracts

import (
	"bytes"
	"fmt"
	"math"
	"slices"

	"github.com/dagd/dagd/crypto"
)

// SlashKeys returns the keys Slash reads and writes for validator, sorted:
// the validator's evidence log and its record.
func SlashKeys(validator uint32) [][]byte {
	return [][]byte{EvidenceKey(validator), ValidatorKey(validator)}
}

// Slash applies consensus equivocation evidence (named by its digest)
// against validator (its committee index): it removes Params.SlashFraction
// of the validator's bonded stake (from every delegation at once, through
// the share price) and jails the validator. It is idempotent per evidence:
// evidence already applied gets a CodeDuplicateEvidence receipt and changes
// nothing. An unknown validator gets CodeNotFound, and a validator with
// MaxEvidence pieces of evidence recorded CodeEvidenceFull, changing
// nothing. The receipt's Tx is the evidence digest and its Fee is 0. It
// touches only SlashKeys(validator); the error is for Store failures.
func (m *Module) Slash(env Env, st Store, validator uint32, evidence crypto.Digest) (*Receipt, error) {
	rc := &Receipt{Tx: evidence}
	x := &execCtx{m: m, env: env, st: st}
	ek, vk := EvidenceKey(validator), ValidatorKey(validator)
	log := load(x, ek, DecodeEvidenceLog)
	v := load(x, vk, DecodeValidator)
	if x.err != nil {
		return nil, x.err
	}
	if log == nil {
		log = &EvidenceLog{}
	}
	at, dup := slices.BinarySearchFunc(log.Digests, evidence, func(a, b crypto.Digest) int { return bytes.Compare(a[:], b[:]) })
	switch {
	case dup:
		rc.Code, rc.Reason = CodeDuplicateEvidence, fmt.Sprintf("duplicate evidence: %s already applied to validator %d", evidence, validator)
		return rc, nil
	case v == nil:
		rc.Code, rc.Reason = CodeNotFound, fmt.Sprintf("validator %d not found", validator)
		return rc, nil
	case len(log.Digests) >= MaxEvidence:
		rc.Code, rc.Reason = CodeEvidenceFull, fmt.Sprintf("evidence full: validator %d has %d pieces of evidence recorded", validator, len(log.Digests))
		return rc, nil
	}
	amount := mulDiv(v.Tokens, m.p.SlashFraction, PartsPerMillion)
	v.Tokens -= amount
	if s, ok := add(v.Slashed, amount); ok {
		v.Slashed = s
	} else {
		v.Slashed = math.MaxUint64
	}
	v.Jailed, v.JailedAt = true, env.Time
	log.Digests = slices.Insert(log.Digests, at, evidence)
	x.put(ek, log.Encode())
	x.put(vk, v.Encode())
	if err := x.flush(); err != nil {
		return nil, err
	}
	rc.Events = []Event{{Type: "slash", Attrs: []Attr{
		{Key: "validator", Value: dec(uint64(validator))},
		{Key: "evidence", Value: hexDigest(evidence)},
		{Key: "amount", Value: dec(amount)},
		{Key: "jailed_at", Value: dec(env.Time)},
	}}}
	return rc, nil
}
