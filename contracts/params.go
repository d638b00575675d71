package contracts

import (
	"errors"
	"fmt"
)

// Defaults of Params, applied by EnsureDefaults to zero fields.
const (
	// DefaultMinFee is the default Params.MinFee.
	DefaultMinFee = 1_000
	// DefaultContentFee is the default Params.ContentFee: a content
	// registration costs a BLS aggregate verification, about a hundred
	// times an account signature.
	DefaultContentFee = 100_000
	// DefaultContentBytePrice is the default Params.ContentBytePrice: one
	// unit per stored byte and retention unit (day), so storing 1 GiB at
	// n/k = 2 for 30 days costs 30 x 2^31 units.
	DefaultContentBytePrice = 1
	// DefaultContentRetentionUnit is the default
	// Params.ContentRetentionUnit: one day in milliseconds.
	DefaultContentRetentionUnit = 24 * 3600 * 1000
	// DefaultMaxContentRetention is the default Params.MaxContentRetention:
	// 366 days in milliseconds.
	DefaultMaxContentRetention = 366 * DefaultContentRetentionUnit
	// DefaultContentRetention is the retention NewRegisterContent sets: 30
	// days in milliseconds.
	DefaultContentRetention = 30 * DefaultContentRetentionUnit
	// DefaultUnbondingPeriod is the default Params.UnbondingPeriod: 7 days
	// in milliseconds.
	DefaultUnbondingPeriod = 7 * 24 * 3600 * 1000
	// DefaultSlashFraction is the default Params.SlashFraction: 5 %.
	DefaultSlashFraction = 50_000
	// DefaultMaxBatchSize is the default Params.MaxBatchSize.
	DefaultMaxBatchSize = 64
	// DefaultMaxNestingDepth is the default Params.MaxNestingDepth.
	DefaultMaxNestingDepth = 8
)

// PartsPerMillion is the denominator of Params.SlashFraction.
const PartsPerMillion = 1_000_000

// Params are the rules of the token module. They decide outcomes, so every
// validator of a chain must run with the same Params. The zero value is
// valid: EnsureDefaults fills in the defaults documented on each field.
type Params struct {
	// MinFee is the smallest fee of a transaction. A transaction with a
	// lower fee is rejected and nothing is charged. Default DefaultMinFee.
	MinFee uint64

	// FeePerByte adds this much per byte of the encoded transaction to the
	// minimum fee. Default 0 (no size-based fee).
	FeePerByte uint64

	// ContentFee is the smallest fee of a RegisterContent transaction (it
	// replaces MinFee when larger), which costs a BLS aggregate
	// verification. Default DefaultContentFee.
	ContentFee uint64

	// ContentBytePrice is the price of one stored byte of registered
	// content for one ContentRetentionUnit: a RegisterContent's or
	// RenewContent's fee must be at least ContentFee plus ContentBytePrice
	// times its stored bytes, Size*N/K, times the retention units begun
	// (ContentMinFee). Default DefaultContentBytePrice.
	ContentBytePrice uint64

	// ContentRetentionUnit is the retention, in consensus milliseconds,
	// that ContentBytePrice pays for. Default DefaultContentRetentionUnit
	// (a day).
	ContentRetentionUnit uint64

	// MaxContentRetention bounds how far ahead of its commit content may
	// be paid for, in consensus milliseconds. Default
	// DefaultMaxContentRetention (366 days).
	MaxContentRetention uint64

	// CommitteeEpoch is the epoch of the ledger's committee (the genesis
	// committee): availability certificates signed for another epoch are
	// refused. Every validator must use the node's committee epoch.
	// Default 0.
	CommitteeEpoch uint64

	// UnbondingPeriod is how long, in consensus milliseconds, unbonded
	// stake stays locked before Withdraw may release it. Default
	// DefaultUnbondingPeriod (7 days).
	UnbondingPeriod uint64

	// SlashFraction is the part of a validator's bonded stake a Slash
	// removes, in parts per million (PartsPerMillion): 1 to 1,000,000.
	// Default DefaultSlashFraction (5 %).
	SlashFraction uint64

	// MaxBatchSize bounds the items of an SFTBatchTransfer: 1 to
	// MaxBatchItems. Default DefaultMaxBatchSize.
	MaxBatchSize int

	// MaxNestingDepth bounds how deep a non-fungible token may sit below
	// the root of its composition (attach/detach), and so the length of
	// the ancestor paths transactions carry: 1 to MaxPathLen. Default
	// DefaultMaxNestingDepth.
	MaxNestingDepth int
}

// EnsureDefaults sets every zero field of p to its documented default.
func (p *Params) EnsureDefaults() {
	if p.MinFee == 0 {
		p.MinFee = DefaultMinFee
	}
	if p.ContentFee == 0 {
		p.ContentFee = DefaultContentFee
	}
	if p.ContentBytePrice == 0 {
		p.ContentBytePrice = DefaultContentBytePrice
	}
	if p.ContentRetentionUnit == 0 {
		p.ContentRetentionUnit = DefaultContentRetentionUnit
	}
	if p.MaxContentRetention == 0 {
		p.MaxContentRetention = DefaultMaxContentRetention
	}
	if p.UnbondingPeriod == 0 {
		p.UnbondingPeriod = DefaultUnbondingPeriod
	}
	if p.SlashFraction == 0 {
		p.SlashFraction = DefaultSlashFraction
	}
	if p.MaxBatchSize == 0 {
		p.MaxBatchSize = DefaultMaxBatchSize
	}
	if p.MaxNestingDepth == 0 {
		p.MaxNestingDepth = DefaultMaxNestingDepth
	}
}

// Validate reports every setting of p outside its range. Call it after
// EnsureDefaults: zero values are invalid for most fields.
func (p *Params) Validate() error {
	var errs []error
	if p.MinFee == 0 {
		errs = append(errs, errors.New("MinFee must be positive"))
	}
	if p.SlashFraction == 0 || p.SlashFraction > PartsPerMillion {
		errs = append(errs, fmt.Errorf("SlashFraction %d: must be in 1..%d parts per million", p.SlashFraction, PartsPerMillion))
	}
	if p.UnbondingPeriod == 0 {
		errs = append(errs, errors.New("UnbondingPeriod must be positive"))
	}
	if p.MaxBatchSize < 1 || p.MaxBatchSize > MaxBatchItems {
		errs = append(errs, fmt.Errorf("MaxBatchSize %d: must be in 1..%d", p.MaxBatchSize, MaxBatchItems))
	}
	if p.MaxNestingDepth < 1 || p.MaxNestingDepth > MaxPathLen {
		errs = append(errs, fmt.Errorf("MaxNestingDepth %d: must be in 1..%d", p.MaxNestingDepth, MaxPathLen))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("contracts: invalid params: %w", err)
	}
	return nil
}
