package loadtest

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dagd/dagd/contracts"
	"github.com/dagd/dagd/crypto"
	"github.com/dagd/dagd/erasure"
)

// MixedUnbondingPeriod is the unbonding period (contracts.Params) of a
// chain on which the mixed workload's withdrawals are meant to succeed:
// the devnet uses it with --workload mixed. A withdrawal comes 6
// transactions of its account after the unbond, each sent only once the
// one before is committed, so at least 6 commits later, at a consensus
// time later by more than this.
const MixedUnbondingPeriod = time.Millisecond

// MixedOptions configures the mixed workload.
type MixedOptions struct {
	// Keys are the funded accounts, at least 2, each at nonce 0 (a fresh
	// genesis): each runs the script from its first step.
	Keys []*crypto.AccountPrivateKey
	// ChainID of the transactions. Required.
	ChainID string
	// Validators is the committee size of the chain's genesis: account a
	// bonds with validator a mod Validators. Default 1.
	Validators int
	// UnbondingPeriod is the chain's (contracts.Params.UnbondingPeriod).
	// Up to MixedUnbondingPeriod, withdrawals are meant to succeed;
	// beyond, to fail with "locked". Default
	// contracts.DefaultUnbondingPeriod.
	UnbondingPeriod time.Duration
	// Fee, Lifetime, MaxLifetime, ResendAfter and MaxPresign are those of
	// TransferOptions, with the same defaults.
	Fee         uint64
	Lifetime    time.Duration
	MaxLifetime time.Duration
	ResendAfter time.Duration
	MaxPresign  uint64
}

// MixedStep is one step of the mixed workload's script.
type MixedStep struct {
	// Label names the step in the report's receipts_by_op: the operation
	// ("token-mint"), or what the step does with it when an operation
	// appears in several roles ("soulbound-issue", "nft-attach-cycle").
	Label string
	// Op is the operation type.
	Op contracts.OpType
	// Expect is the receipt code the step is meant to get: CodeOK, or the
	// code of a deliberate failure.
	Expect contracts.Code
}

// mixedStep is a step and how to build its operation.
type mixedStep struct {
	MixedStep
	build func(c *mixedCtx) contracts.Op
}

// mixedCtx is what a step's operation is built from: account a's
// transaction of nonce, in the instance of the step's chapter that
// started at nonce base.
type mixedCtx struct {
	w         *Mixed
	a         int
	nonce     uint64
	base      uint64
	expiry    uint64
	self      crypto.AccountPublicKey
	peer      crypto.AccountPublicKey
	validator uint32
}

// Amounts of the mixed workload.
const (
	mixedAmount        = 1000
	mixedAllowance     = 20
	mixedVestingWindow = 4 * time.Hour
)

// at returns the nonce of op step j of the current chapter instance: op
// steps take every other nonce, native transfers the ones between.
func (c *mixedCtx) at(j int) uint64 { return c.base + 2*uint64(j) }

func (c *mixedCtx) token() crypto.Digest { return contracts.TokenID(c.self, c.at(0)) }
func (c *mixedCtx) nft(i uint64) contracts.NFTID {
	return contracts.NFTID{Collection: contracts.CollectionID(c.self, c.at(0)), Index: i}
}
func (c *mixedCtx) class() crypto.Digest { return contracts.ClassID(c.self, c.at(0)) }

// metadata is the CID every minted token carries.
var metadata = erasure.RawCID([]byte("dagd loadtest mixed workload")).Bytes()

// mixedChapterCount is len(mixedChapters) (a constant, so that the steps
// can name partners without an initialization cycle).
const mixedChapterCount = 6

// Indices, within the fungible chapter, of the approval and of the
// transfer-from that spends the partner's.
const (
	stepTokenApprove = 4
	stepTransferFrom = 5
)

// mixedChapters is the script, in chapters that each make and use their
// own objects: the objects a step uses were made by earlier steps of the
// same chapter instance, by the same account, except the transfer-from,
// which spends the allowance the account's partner granted in its own
// instance of the fungible chapter (it waits for that approval to be
// committed). Every op step is followed by a native transfer.
var mixedChapters = [][]mixedStep{
	{ // fungible tokens
		{MixedStep{"token-create", contracts.OpTokenCreate, contracts.CodeOK}, func(c *mixedCtx) contracts.Op {
			return contracts.NewTokenCreate("Load Token", "LOAD", 6, 1_000_000_000)
		}},
		{MixedStep{"token-mint", contracts.OpTokenMint, contracts.CodeOK}, func(c *mixedCtx) contracts.Op {
			return contracts.NewTokenMint(c.token(), c.self, mixedAmount)
		}},
		{MixedStep{"token-transfer", contracts.OpTokenTransfer, contracts.CodeOK}, func(c *mixedCtx) contracts.Op {
			return contracts.NewTokenTransfer(c.token(), c.peer, 10)
		}},
		{MixedStep{"token-burn", contracts.OpTokenBurn, contracts.CodeOK}, func(c *mixedCtx) contracts.Op {
			return contracts.NewTokenBurn(c.token(), 5)
		}},
		{MixedStep{"token-approve", contracts.OpTokenApprove, contracts.CodeOK}, func(c *mixedCtx) contracts.Op {
			return contracts.NewTokenApprove(c.token(), c.w.pubs[c.w.spender(c.a)], mixedAllowance)
		}},
		{MixedStep{"token-transfer-from", contracts.OpTokenTransferFrom, contracts.CodeOK}, func(c *mixedCtx) contracts.Op {
			partner := c.w.pubs[c.w.partner(c.a)]
			return contracts.NewTokenTransferFrom(contracts.TokenID(partner, c.at(0)), partner, c.self, mixedAllowance)
		}},
	},
	{ // staking and vesting
		{MixedStep{"bond", contracts.OpBond, contracts.CodeOK}, func(c *mixedCtx) contracts.Op {
			return contracts.NewBond(c.validator, mixedAmount)
		}},
		{MixedStep{"unbond", contracts.OpUnbond, contracts.CodeOK}, func(c *mixedCtx) contracts.Op {
			return contracts.NewUnbond(c.validator, mixedAmount/2)
		}},
		// Vesting to the sender itself, so that the claim is its own
		// next step: linear over 4 hours from 2 hours before the
		// transaction's expiry, so that about half has vested when it
		// executes.
		{MixedStep{"vesting-transfer", contracts.OpVestingTransfer, contracts.CodeOK}, func(c *mixedCtx) contracts.Op {
			window := uint64(mixedVestingWindow / time.Millisecond)
			return contracts.NewVestingTransfer(c.self, mixedAmount, c.expiry-min(c.expiry, window/2), window, window/4)
		}},
		{MixedStep{"vesting-claim", contracts.OpVestingClaim, contracts.CodeOK}, func(c *mixedCtx) contracts.Op {
			return contracts.NewVestingClaim(contracts.VestingID(c.self, c.at(2)))
		}},
		{MixedStep{"withdraw", contracts.OpWithdraw, contracts.CodeOK}, func(c *mixedCtx) contracts.Op {
			return contracts.NewWithdraw(c.at(1))
		}},
	},
	{ // non-fungible tokens
		{MixedStep{"collection-create", contracts.OpCollectionCreate, contracts.CodeOK}, func(c *mixedCtx) contracts.Op {
			return contracts.NewCollectionCreate("Load Collection", "LNFT")
		}},
		{MixedStep{"nft-mint", contracts.OpNFTMint, contracts.CodeOK}, func(c *mixedCtx) contracts.Op {
			return contracts.NewNFTMint(c.nft(1), c.self, metadata)
		}},
		{MixedStep{"nft-transfer", contracts.OpNFTTransfer, contracts.CodeOK}, func(c *mixedCtx) contracts.Op {
			return contracts.NewNFTTransfer(c.nft(1), c.peer)
		}},
		{MixedStep{"nft-mint", contracts.OpNFTMint, contracts.CodeOK}, func(c *mixedCtx) contracts.Op {
			return contracts.NewNFTMint(c.nft(2), c.self, metadata)
		}},
		{MixedStep{"nft-burn", contracts.OpNFTBurn, contracts.CodeOK}, func(c *mixedCtx) contracts.Op {
			return contracts.NewNFTBurn(c.nft(2))
		}},
	},
	{ // composable tokens
		{MixedStep{"collection-create", contracts.OpCollectionCreate, contracts.CodeOK}, func(c *mixedCtx) contracts.Op {
			return contracts.NewCollectionCreate("Load Bundles", "LCMP")
		}},
		{MixedStep{"nft-mint", contracts.OpNFTMint, contracts.CodeOK}, func(c *mixedCtx) contracts.Op {
			return contracts.NewNFTMint(c.nft(1), c.self, metadata)
		}},
		{MixedStep{"nft-mint", contracts.OpNFTMint, contracts.CodeOK}, func(c *mixedCtx) contracts.Op {
			return contracts.NewNFTMint(c.nft(2), c.self, metadata)
		}},
		// Token 2 goes below token 1; then token 1 below its own child is
		// refused ("cycle").
		{MixedStep{"nft-attach", contracts.OpNFTAttach, contracts.CodeOK}, func(c *mixedCtx) contracts.Op {
			return contracts.NewNFTAttach(c.nft(2), []contracts.NFTID{c.nft(1)})
		}},
		{MixedStep{"nft-attach-cycle", contracts.OpNFTAttach, contracts.CodeCycle}, func(c *mixedCtx) contracts.Op {
			return contracts.NewNFTAttach(c.nft(1), []contracts.NFTID{c.nft(2), c.nft(1)})
		}},
		{MixedStep{"nft-detach", contracts.OpNFTDetach, contracts.CodeOK}, func(c *mixedCtx) contracts.Op {
			return contracts.NewNFTDetach(c.nft(2), []contracts.NFTID{c.nft(1)})
		}},
	},
	{ // soulbound tokens
		{MixedStep{"soulbound-collection-create", contracts.OpCollectionCreate, contracts.CodeOK}, func(c *mixedCtx) contracts.Op {
			return contracts.NewSoulboundCollectionCreate("Load Badges", "LSBT")
		}},
		{MixedStep{"soulbound-issue", contracts.OpNFTMint, contracts.CodeOK}, func(c *mixedCtx) contracts.Op {
			return contracts.NewNFTMint(c.nft(1), c.peer, metadata)
		}},
		{MixedStep{"soulbound-issue", contracts.OpNFTMint, contracts.CodeOK}, func(c *mixedCtx) contracts.Op {
			return contracts.NewNFTMint(c.nft(2), c.self, metadata)
		}},
		{MixedStep{"soulbound-transfer", contracts.OpNFTTransfer, contracts.CodeSoulbound}, func(c *mixedCtx) contracts.Op {
			return contracts.NewNFTTransfer(c.nft(2), c.peer)
		}},
		{MixedStep{"soulbound-revoke", contracts.OpNFTRevoke, contracts.CodeOK}, func(c *mixedCtx) contracts.Op {
			return contracts.NewNFTRevoke(c.nft(1))
		}},
		{MixedStep{"soulbound-burn", contracts.OpNFTBurn, contracts.CodeOK}, func(c *mixedCtx) contracts.Op {
			return contracts.NewNFTBurn(c.nft(2))
		}},
	},
	{ // semi-fungible tokens
		{MixedStep{"sft-create", contracts.OpSFTCreate, contracts.CodeOK}, func(c *mixedCtx) contracts.Op {
			return contracts.NewSFTCreate("Load Items", "LSFT")
		}},
		{MixedStep{"sft-mint", contracts.OpSFTMint, contracts.CodeOK}, func(c *mixedCtx) contracts.Op {
			return contracts.NewSFTMint(c.class(), 1, c.self, 100)
		}},
		{MixedStep{"sft-mint", contracts.OpSFTMint, contracts.CodeOK}, func(c *mixedCtx) contracts.Op {
			return contracts.NewSFTMint(c.class(), 2, c.self, 100)
		}},
		{MixedStep{"sft-transfer", contracts.OpSFTTransfer, contracts.CodeOK}, func(c *mixedCtx) contracts.Op {
			return contracts.NewSFTTransfer(c.class(), 1, c.peer, 10)
		}},
		{MixedStep{"sft-batch-transfer", contracts.OpSFTBatchTransfer, contracts.CodeOK}, func(c *mixedCtx) contracts.Op {
			return contracts.NewSFTBatchTransfer(c.class(), c.peer, []contracts.SFTAmount{{ID: 1, Amount: 5}, {ID: 2, Amount: 5}})
		}},
		{MixedStep{"sft-burn", contracts.OpSFTBurn, contracts.CodeOK}, func(c *mixedCtx) contracts.Op {
			return contracts.NewSFTBurn(c.class(), 2, 10)
		}},
	},
}

// mixedSteps is the script flattened, and chapterStart the index in it of
// each chapter's first step.
var mixedSteps, chapterStart = func() ([]mixedStep, []int) {
	var steps []mixedStep
	var starts []int
	for _, ch := range mixedChapters {
		starts = append(starts, len(steps))
		steps = append(steps, ch...)
	}
	return steps, starts
}()

// chapterOf returns the chapter of op step k.
func chapterOf(k int) int {
	c := 0
	for c+1 < len(chapterStart) && chapterStart[c+1] <= k {
		c++
	}
	return c
}

// mixedCycle is the length of the script in transactions: every op step
// followed by a native transfer.
var mixedCycle = uint64(2 * len(mixedSteps))

// transferStep is the native transfer between two op steps.
var transferStep = MixedStep{Label: "transfer", Op: contracts.OpTransfer, Expect: contracts.CodeOK}

// MixedSteps returns the steps of the mixed workload's script, chapter
// after chapter (native transfers, every other transaction, are not
// listed), with the code each is meant to get on a chain whose unbonding
// period is at most MixedUnbondingPeriod.
func MixedSteps() []MixedStep {
	out := make([]MixedStep, len(mixedSteps))
	for i, s := range mixedSteps {
		out[i] = s.MixedStep
	}
	return out
}

// Mixed is the mixed workload: besides native transfers (half of the
// transactions), every operation of the token module but content
// registration (which needs a quorum's availability certificate):
// fungible tokens (create, mint, transfer, burn, approve, transfer-from),
// collections and non-fungible tokens (mint, transfer, burn), soulbound
// tokens (issue, revoke, burn), composition (attach, detach),
// semi-fungible tokens (create, mint, transfer, batch transfer, burn),
// staking (bond, unbond, withdraw) and vesting (transfer, claim). Two
// steps of every cycle (2 of 68 transactions) are meant to fail: a soulbound transfer
// ("soulbound") and an attach of a token below its own child ("cycle");
// Classify tells them from unexpected failures.
//
// Each account runs the script (MixedSteps: six chapters of at most six
// operations, fungible, staking and vesting, non-fungible, composable,
// soulbound, semi-fungible, each making and using its own objects) on
// its own, cycle after cycle, starting with chapter a mod 6 so that a few
// accounts cover every operation quickly. It has one transaction in flight at a time as
// Transfers does (same pacing, resending and pre-signing): its nonces
// are consecutive and every object a step uses was made by an earlier
// step, committed before it, so executed before it whatever node each
// transaction goes to. The identifiers of created objects derive from
// the sender and the creating nonce (contracts.TokenID...), so every
// transaction can be signed in Prepare. The one dependency between
// accounts, a transfer-from spending the allowance of a partner account
// (one that starts with the same chapter), waits for the partner's
// approval to be committed.
type Mixed struct {
	t    *Transfers
	o    MixedOptions
	pubs []crypto.AccountPublicKey

	done []uint64 // per account: nonces committed (w.t.mu)
}

// NewMixed returns the workload.
func NewMixed(o MixedOptions) (*Mixed, error) {
	if len(o.Keys) < 2 {
		return nil, fmt.Errorf("loadtest: the mixed workload needs at least 2 accounts, have %d", len(o.Keys))
	}
	if o.ChainID == "" {
		return nil, errors.New("loadtest: the mixed workload needs a chain id")
	}
	if o.Validators <= 0 {
		o.Validators = 1
	}
	if o.UnbondingPeriod <= 0 {
		o.UnbondingPeriod = contracts.DefaultUnbondingPeriod * time.Millisecond
	}
	t, err := NewTransfers(TransferOptions{Keys: o.Keys, ChainID: o.ChainID, Fee: o.Fee, Lifetime: o.Lifetime,
		MaxLifetime: o.MaxLifetime, ResendAfter: o.ResendAfter, MaxPresign: o.MaxPresign})
	if err != nil {
		return nil, fmt.Errorf("loadtest: mixed: %w", err)
	}
	w := &Mixed{t: t, o: o, pubs: t.pubs, done: make([]uint64, len(o.Keys))}
	t.op = w.op
	t.gate = w.gate
	t.committed = func(a int, nonce uint64) { w.done[a] = max(w.done[a], nonce+1) }
	return w, nil
}

// position returns where account a's transaction of nonce is in the
// script: its op step (-1 for a native transfer) and the nonce at which
// that step's chapter instance started. Account a starts with chapter a
// mod the number of chapters, so that a few accounts cover them all.
func (w *Mixed) position(a int, nonce uint64) (step int, base uint64) {
	off := 2 * uint64(chapterStart[a%len(chapterStart)])
	pos := (nonce + off) % mixedCycle
	if pos%2 == 1 {
		return -1, 0
	}
	k := int(pos / 2)
	return k, nonce - (pos - 2*uint64(chapterStart[chapterOf(k)]))
}

// step returns the script step of account a's transaction of nonce
// (native transfers included), with the code it is meant to get on this
// chain.
func (w *Mixed) step(a int, nonce uint64) MixedStep {
	k, _ := w.position(a, nonce)
	if k < 0 {
		return transferStep
	}
	ms := mixedSteps[k].MixedStep
	if ms.Op == contracts.OpWithdraw && w.o.UnbondingPeriod > MixedUnbondingPeriod {
		ms.Expect = contracts.CodeLocked
	}
	return ms
}

// partner returns the account whose allowance account a spends: one
// that starts with the same chapter, so that their fungible chapters
// line up nonce for nonce (itself when no other does).
func (w *Mixed) partner(a int) int {
	c := mixedChapterCount
	m := len(w.pubs) / c * c
	if a >= m {
		return a
	}
	return (a + c) % m
}

// spender returns the account whose partner a is: the one a's approval
// is for.
func (w *Mixed) spender(a int) int {
	c := mixedChapterCount
	m := len(w.pubs) / c * c
	if a >= m {
		return a
	}
	return (a + m - c) % m
}

// peer returns the account that account a's transaction of nonce gives
// to: another account, spread by a multiplicative hash.
func (w *Mixed) peer(a int, nonce uint64) int {
	n := uint64(len(w.pubs))
	x := (uint64(a)*n + nonce) * 0x9E3779B97F4A7C15
	return int((uint64(a) + 1 + (x>>33)%(n-1)) % n)
}

// op builds account a's operation of nonce for a transaction expiring
// at expiry (unix ms).
func (w *Mixed) op(a int, nonce, expiry uint64) contracts.Op {
	k, base := w.position(a, nonce)
	peer := w.pubs[w.peer(a, nonce)]
	if k < 0 {
		return contracts.NewTransfer(peer, 1)
	}
	c := &mixedCtx{w: w, a: a, nonce: nonce, base: base, expiry: expiry, self: w.pubs[a], peer: peer,
		validator: uint32(a % w.o.Validators)}
	return mixedSteps[k].build(c)
}

// gate holds an account back while its next step is the transfer-from
// and its partner's approval of the same chapter instance is not
// committed yet (a retired partner holds nobody back); w.t.mu is held.
func (w *Mixed) gate(a int) bool {
	nonce := w.t.accts[a].nonce
	k, base := w.position(a, nonce)
	if k != chapterStart[0]+stepTransferFrom {
		return true
	}
	p := w.partner(a)
	return w.t.accts[p].dead || w.done[p] > base+2*stepTokenApprove
}

// Prepare implements Workload (see Transfers.Prepare).
func (w *Mixed) Prepare(ctx context.Context, n uint64, rate float64) error {
	return w.t.Prepare(ctx, n, rate)
}

// Tx implements Workload.
func (w *Mixed) Tx(seq uint64, due time.Time, nodes int) ([]byte, int) {
	return w.t.Tx(seq, due, nodes)
}

// Identify implements Workload.
func (w *Mixed) Identify(tx []byte) (uint64, bool) { return w.t.Identify(tx) }

// IdentifyDigest implements Workload.
func (w *Mixed) IdentifyDigest(d [32]byte) (uint64, bool) { return w.t.IdentifyDigest(d) }

// Committed implements Workload.
func (w *Mixed) Committed(seq uint64) { w.t.Committed(seq) }

// Executed implements Workload.
func (w *Mixed) Executed(seq uint64, ok bool, code string) { w.t.Executed(seq, ok, code) }

// Returned implements Workload.
func (w *Mixed) Returned(txs [][]byte) { w.t.Returned(txs) }

// Executes implements Workload: the run waits for the receipts.
func (w *Mixed) Executes() bool { return true }

// Classify implements Classifier: the step's label, and whether code is
// the one the step is meant to get.
func (w *Mixed) Classify(seq uint64, code string) (string, bool) {
	w.t.mu.Lock()
	defer w.t.mu.Unlock()
	a, nonce, ok := w.t.sent(seq)
	if !ok {
		return "unknown", code == contracts.CodeOK.String()
	}
	s := w.step(a, nonce)
	return s.Label, code == s.Expect.String()
}

// Stats returns the accounts retired after a receipt that did not
// consume its nonce, the transactions sent again, and those signed again
// at send time.
func (w *Mixed) Stats() (dead, resent, resigned int) { return w.t.Stats() }
