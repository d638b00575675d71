package contracts

import (
	"math"
)

// Execution of staking and vesting.
//
// A validator's bonded stake is Tokens, owned by delegations in
// proportion to their shares of Shares. Bonding buys shares at the
// current price (rounded down, in the validator's favour), unbonding
// sells them (rounded up), and a slash lowers Tokens alone, so every
// delegation loses the same fraction without being rewritten. Unbonded
// stake waits in an entry of its own until Params.UnbondingPeriod of
// consensus time has passed; it is not slashed while it waits.

// validator loads a validator record or rejects the operation.
func (x *execCtx) validator(index uint32) *Validator {
	v := load(x, ValidatorKey(index), DecodeValidator)
	if v == nil && !x.failed() {
		x.reject(CodeNotFound, "validator %d not found", index)
	}
	return v
}

func (o *Bond) exec(x *execCtx) {
	v := x.validator(o.Validator)
	if x.failed() {
		return
	}
	if v.Jailed {
		x.reject(CodeJailed, "jailed: validator %d (slashed at %d) accepts no bonds", o.Validator, v.JailedAt)
		return
	}
	if v.Shares > 0 && v.Tokens == 0 {
		x.reject(CodeInsufficientBalance, "insufficient stake: validator %d has no bonded stake left", o.Validator)
		return
	}
	shares := o.Amount
	if v.Shares > 0 {
		var ok bool
		if shares, ok = mulDivOK(o.Amount, v.Shares, v.Tokens); !ok {
			x.reject(CodeOverflow, "overflow: validator %d's shares would exceed the uint64 range", o.Validator)
			return
		}
	}
	if shares == 0 {
		x.reject(CodeInsufficientBalance, "insufficient amount: %d buys no share of validator %d", o.Amount, o.Validator)
		return
	}
	tokens, ok1 := add(v.Tokens, o.Amount)
	total, ok2 := add(v.Shares, shares)
	if !ok1 || !ok2 {
		x.reject(CodeOverflow, "overflow: validator %d's stake would exceed the uint64 range", o.Validator)
		return
	}
	dk := DelegationKey(o.Validator, x.tx.Sender)
	if !x.debitAccount(x.tx.Sender, o.Amount) || !x.credit(dk, shares, "the delegation") {
		return
	}
	v.Tokens, v.Shares = tokens, total
	x.put(ValidatorKey(o.Validator), v.Encode())
	x.event("bond", "validator", dec(uint64(o.Validator)), "delegator", hexKey(x.tx.Sender), "amount", dec(o.Amount),
		"shares", dec(shares))
}

func (o *Unbond) exec(x *execCtx) {
	v := x.validator(o.Validator)
	if x.failed() {
		return
	}
	dk := DelegationKey(o.Validator, x.tx.Sender)
	held := x.amount(dk)
	if x.failed() {
		return
	}
	if held == 0 {
		x.reject(CodeNotFound, "no delegation of %s to validator %d", x.tx.Sender, o.Validator)
		return
	}
	value, _ := mulDivOK(held, v.Tokens, v.Shares) // held <= Shares: fits
	if o.Amount > value {
		x.reject(CodeInsufficientBalance, "insufficient bonded stake: %d with validator %d, requested %d", value, o.Validator, o.Amount)
		return
	}
	shares := held
	if o.Amount < value {
		shares, _ = mulDivCeil(o.Amount, v.Shares, v.Tokens) // < held, since Amount < value
	}
	amount := o.Amount
	v.Tokens -= amount
	v.Shares -= shares
	if v.Shares == 0 { // the last delegation leaves: it takes the rounding dust
		amount += v.Tokens
		v.Tokens = 0
	}
	key := UnbondingKey(x.tx.Sender, x.tx.Nonce)
	if x.get(key) != nil {
		x.reject(CodeExists, "unbonding entry %d exists", x.tx.Nonce)
		return
	}
	release, ok := add(x.env.Time, x.m.p.UnbondingPeriod)
	if !ok {
		release = math.MaxUint64
	}
	u := &Unbonding{Validator: o.Validator, Amount: amount, Release: release}
	x.put(key, u.Encode())
	x.putAmount(dk, held-shares)
	x.put(ValidatorKey(o.Validator), v.Encode())
	x.event("unbond", "validator", dec(uint64(o.Validator)), "delegator", hexKey(x.tx.Sender), "amount", dec(amount),
		"shares", dec(shares), "entry", dec(x.tx.Nonce), "release", dec(release))
}

func (o *Withdraw) exec(x *execCtx) {
	key := UnbondingKey(x.tx.Sender, o.Unbonding)
	u := load(x, key, DecodeUnbonding)
	switch {
	case x.failed():
		return
	case u == nil:
		x.reject(CodeNotFound, "unbonding entry %d of %s not found", o.Unbonding, x.tx.Sender)
		return
	case x.env.Time < u.Release:
		x.reject(CodeLocked, "locked until %d: consensus time is %d", u.Release, x.env.Time)
		return
	}
	if !x.creditAccount(x.tx.Sender, u.Amount) {
		return
	}
	x.put(key, nil)
	x.event("withdraw", "delegator", hexKey(x.tx.Sender), "entry", dec(o.Unbonding), "amount", dec(u.Amount))
}

func (o *VestingTransfer) exec(x *execCtx) {
	id := VestingID(x.tx.Sender, x.tx.Nonce)
	key := VestingKey(id)
	if x.get(key) != nil {
		x.reject(CodeExists, "vesting schedule %s exists", id)
		return
	}
	if !x.debitAccount(x.tx.Sender, o.Amount) {
		return
	}
	v := &Vesting{Beneficiary: o.To, Total: o.Amount, Start: o.Start, Duration: o.Duration, Cliff: o.Cliff}
	x.put(key, v.Encode())
	x.event("vesting_create", "schedule", hexDigest(id), "from", hexKey(x.tx.Sender), "to", hexKey(o.To),
		"amount", dec(o.Amount), "start", dec(o.Start), "duration", dec(o.Duration), "cliff", dec(o.Cliff))
}

func (o *VestingClaim) exec(x *execCtx) {
	key := VestingKey(o.Schedule)
	v := load(x, key, DecodeVesting)
	switch {
	case x.failed():
		return
	case v == nil:
		x.reject(CodeNotFound, "vesting schedule %s not found", o.Schedule)
		return
	case v.Beneficiary != x.tx.Sender:
		x.reject(CodeUnauthorized, "unauthorized: schedule %s vests to %s", o.Schedule, v.Beneficiary)
		return
	}
	vested := v.Vested(x.env.Time)
	if vested <= v.Claimed {
		if first := v.Start + v.Cliff; x.env.Time < first {
			x.reject(CodeLocked, "locked until %d: nothing vests before, consensus time is %d", first, x.env.Time)
		} else {
			x.reject(CodeLocked, "locked: nothing vested since the last claim (%d of %d claimed)", v.Claimed, v.Total)
		}
		return
	}
	amount := vested - v.Claimed
	if !x.creditAccount(x.tx.Sender, amount) {
		return
	}
	v.Claimed = vested
	if v.Claimed == v.Total {
		x.put(key, nil)
	} else {
		x.put(key, v.Encode())
	}
	x.event("vesting_claim", "schedule", hexDigest(o.Schedule), "to", hexKey(x.tx.Sender), "amount", dec(amount),
		"remaining", dec(v.Total-v.Claimed))
}
