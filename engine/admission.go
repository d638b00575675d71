package engine

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/dagd/dagd/contracts"
	"github.com/dagd/dagd/crypto"
	"github.com/dagd/dagd/engine/client"
	"github.com/dagd/dagd/engine/execution"
	"github.com/dagd/dagd/state"
)

// ReasonInvalidTx: admission refused some of the request's transactions
// (SubmitError.Rejected says which and why); the others were submitted.
const ReasonInvalidTx = client.ReasonInvalidTx

// Reasons of TxRejection: why admission refused one transaction.
const (
	// TxMalformed: the bytes do not decode as a canonical transaction.
	TxMalformed = "malformed"
	// TxWrongChain: the transaction is for another chain.
	TxWrongChain = "wrong_chain"
	// TxFeeTooLow: the fee is below the module's minimum for it.
	TxFeeTooLow = "fee_too_low"
	// TxSmallOrderSender: the sender is a small-order key, for which
	// anyone can sign.
	TxSmallOrderSender = "small_order_sender"
	// TxNonceUsed: the nonce is below the sender's next nonce in the last
	// executed state: it can never execute.
	TxNonceUsed = "nonce_used"
	// TxNonceTooFar: the nonce is AdmissionNonceWindow or more beyond the
	// sender's next nonce in the last executed state.
	TxNonceTooFar = "nonce_too_far"
	// TxCannotPayFee: the sender's balance in the last executed state is
	// below the fee.
	TxCannotPayFee = "cannot_pay_fee"
	// TxBadSignature: the signature does not verify for the sender.
	TxBadSignature = "bad_signature"
)

// maxListedRejections bounds the rejections SubmitError.Error spells out.
const maxListedRejections = 8

// TxRejection is one transaction refused at admission.
type TxRejection struct {
	// Index is the transaction's position in the request.
	Index int
	// Reason is one of the Tx... reason constants.
	Reason string
	// Detail says exactly what is wrong, with the numbers.
	Detail string
}

// accountSource reads accounts in the last executed state.
type accountSource interface {
	// Get returns the value of key at the latest version.
	Get(key []byte) ([]byte, bool, error)
	// Version returns the latest version: the last executed commit, 0
	// before the first (whose execution applies the genesis).
	Version() uint64
}

// admission checks client transactions before they are ordered, so that
// what cannot pay for its place never costs the committee an ordering
// slot, an execution and a record. Checks run cheapest first over the
// whole request: decode, chain id and fee floor; then each sender's
// account in the last executed state, read once per sender (nonce within
// the window, balance for the fee); then one batch verification of the
// signatures of what is left (crypto.VerifyAccountBatch, the executor's
// rules, small-order senders refused).
//
// A node without execution (execution.Options.Disabled) has no state to
// read: its admission does only the stateless checks (decoding, chain id,
// fee floor, small-order sender, signature), and a transaction with a
// wrong nonce or an unfunded sender is ordered; the executing validators
// drop it without a receipt. So does a node before its first commit
// executes (the genesis is applied by that execution).
//
// Admission is a filter against waste, not a rule of the ledger: a
// Byzantine validator may still order anything, and execution refuses
// the same transactions deterministically (see package shard). The
// balance check is per transaction: several transactions of one sender
// may together spend more than it has, and the later ones are dropped at
// execution.
type admission struct {
	chainID  string
	module   *contracts.Module
	accounts accountSource          // nil: the node does not execute
	window   uint64                 // nonces admitted beyond the next one
	workers  int                    // signature verification goroutines
	opaque   bool                   // let bytes that do not decode through (execution.Options.AdmitOpaque)
	verified *execution.VerifiedSet // where verified digests go for the executor; nil without execution
}

// newAdmission returns the admission of node n (its executor is set up).
func newAdmission(n *Node) *admission {
	o := n.opts.Execution
	a := &admission{chainID: n.opts.ChainID, module: contracts.NewModule(o.Params), window: o.AdmissionNonceWindow, workers: o.VerifyWorkers,
		opaque: o.AdmitOpaque}
	if n.exec != nil {
		a.accounts, a.verified = n.exec.State(), n.exec.Verified()
	}
	return a
}

// check returns the rejections of txs, in order of index. The error is
// for a state that cannot be read.
func (a *admission) check(txs [][]byte) ([]TxRejection, error) {
	var rej []TxRejection
	refuse := func(i int, reason, format string, args ...any) {
		rej = append(rej, TxRejection{Index: i, Reason: reason, Detail: fmt.Sprintf(format, args...)})
	}
	// Stateless and cheap: decode, chain, fee floor, sender key.
	decoded := make([]*contracts.Tx, len(txs))
	for i, raw := range txs {
		tx, err := contracts.DecodeTx(raw)
		switch {
		case err != nil && a.opaque: // ordered, then dropped at execution
		case err != nil:
			refuse(i, TxMalformed, "%v", err)
		case tx.ChainID != a.chainID:
			refuse(i, TxWrongChain, "transaction for chain %q, this chain is %q", tx.ChainID, a.chainID)
		case tx.Fee < a.module.MinFeeEncoded(tx, len(raw)):
			refuse(i, TxFeeTooLow, "fee %d, minimum %d", tx.Fee, a.module.MinFeeEncoded(tx, len(raw)))
		case tx.Sender.SmallOrder():
			refuse(i, TxSmallOrderSender, "sender %s is a small-order key: anyone can sign for it", tx.Sender)
		default:
			decoded[i] = tx
		}
	}
	// The senders' accounts in the last executed state, once per sender.
	// Before the first commit executes, the genesis is not applied yet:
	// only the stateless checks apply.
	if a.accounts != nil && a.accounts.Version() > 0 {
		accts := make(map[crypto.AccountPublicKey]contracts.Account)
		for i, tx := range decoded {
			if tx == nil {
				continue
			}
			acct, ok := accts[tx.Sender]
			if !ok {
				v, _, err := a.accounts.Get(contracts.AccountKey(tx.Sender))
				if err != nil {
					return nil, fmt.Errorf("engine: admission: read account %s: %w", tx.Sender, err)
				}
				if len(v) > 0 {
					d, err := contracts.DecodeAccount(v)
					if err != nil {
						return nil, fmt.Errorf("engine: admission: account %s: %w", tx.Sender, err)
					}
					acct = *d
				}
				accts[tx.Sender] = acct
			}
			switch {
			case tx.Nonce < acct.Nonce:
				refuse(i, TxNonceUsed, "nonce %d already used: the account's next nonce is %d", tx.Nonce, acct.Nonce)
			case tx.Nonce-acct.Nonce >= a.window:
				refuse(i, TxNonceTooFar, "nonce %d is too far ahead: the account's next nonce is %d, at most %d ahead admitted", tx.Nonce, acct.Nonce, a.window)
			case acct.Balance < tx.Fee:
				refuse(i, TxCannotPayFee, "cannot pay fee: balance %d, fee %d", acct.Balance, tx.Fee)
			default:
				continue
			}
			decoded[i] = nil
		}
	}
	// The expensive part last: one batch for the signatures left.
	var items []crypto.AccountSig
	var at []int
	for i, tx := range decoded {
		if tx != nil {
			items, at = append(items, tx.AccountSig()), append(at, i)
		}
	}
	if len(items) > 0 {
		valid, _ := crypto.VerifyAccountBatch(items, a.workers)
		var ok []crypto.Digest
		for j, v := range valid {
			switch {
			case !v:
				refuse(at[j], TxBadSignature, "the signature does not verify for the sender's key")
			case a.verified != nil:
				ok = append(ok, crypto.Hash(txs[at[j]]))
			}
		}
		a.verified.Add(ok)
	}
	slices.SortFunc(rej, func(x, y TxRejection) int { return cmp.Compare(x.Index, y.Index) })
	return rej, nil
}

// admit returns the transactions of txs that admission lets through, in
// order, and the rejections of the others. When none is let through, the
// error is a *SubmitError listing them; it is also one when the state
// cannot be read.
func (n *Node) admit(txs [][]byte) ([][]byte, []TxRejection, error) {
	rej, err := n.admission.check(txs)
	if err != nil {
		if errors.Is(err, state.ErrClosed) {
			return nil, nil, &SubmitError{Reason: ReasonStopped, Index: -1, Detail: "node stopped"}
		}
		n.log.Error("admission cannot read the state", "err", err)
		return nil, nil, &SubmitError{Reason: ReasonStopped, Index: -1, Detail: fmt.Sprintf("the node cannot read its state: %v", err)}
	}
	if len(rej) == 0 {
		return txs, nil, nil
	}
	for _, r := range rej {
		n.m.admissionRefused.WithLabelValues(r.Reason).Inc()
	}
	n.m.submitted.WithLabelValues("invalid").Add(float64(len(rej)))
	if len(rej) == len(txs) {
		return nil, rej, withRejections(0, nil, rej)
	}
	keep := make([][]byte, 0, len(txs)-len(rej))
	j := 0
	for i, tx := range txs {
		if j < len(rej) && rej[j].Index == i {
			j++
			continue
		}
		keep = append(keep, tx)
	}
	return keep, rej, nil
}

// withRejections adds admission's rejections to the outcome of submitting
// the transactions it let through (accepted of them, err): the error of
// a refusal gets the list; a success becomes a ReasonInvalidTx error that
// lists them.
func withRejections(accepted int, err error, rej []TxRejection) error {
	if len(rej) == 0 {
		return err
	}
	var se *SubmitError
	if errors.As(err, &se) {
		se.Rejected = rej
		return se
	}
	if err != nil {
		return err
	}
	return &SubmitError{Reason: ReasonInvalidTx, Accepted: accepted, Index: rej[0].Index, Rejected: rej,
		Detail: fmt.Sprintf("%d transactions refused, %d accepted", len(rej), accepted)}
}

// describeRejections spells out the first rejections for an error message.
func describeRejections(rej []TxRejection) string {
	var b strings.Builder
	for k, r := range rej {
		if k == maxListedRejections {
			fmt.Fprintf(&b, "; and %d more", len(rej)-k)
			break
		}
		if k > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "transaction %d: %s: %s", r.Index, r.Reason, r.Detail)
	}
	return b.String()
}
