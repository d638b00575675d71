package contracts

import (
	"fmt"

	"github.com/dagd/dagd/crypto"
)

// Code is the outcome of a transaction: CodeOK or why it was rejected.
type Code uint16

// Receipt codes. After a rejection with a code below CodeInvalid nothing
// changed at all (Receipt.Fee is 0); from CodeInvalid on the sender's
// nonce was consumed and the fee charged, and nothing else changed.
const (
	// CodeOK: the operation was executed.
	CodeOK Code = 0

	// CodeWrongChain: the transaction is for another chain.
	CodeWrongChain Code = 1
	// CodeExpired: the consensus time is past the transaction's Expiry.
	CodeExpired Code = 2
	// CodeFeeTooLow: the fee is below the minimum.
	CodeFeeTooLow Code = 3
	// CodeBadNonce: the nonce is not the account's next nonce.
	CodeBadNonce Code = 4
	// CodeCannotPayFee: the sender's balance is below the fee.
	CodeCannotPayFee Code = 5
	// CodeBadSignature: the signature does not verify. The executor
	// stores no receipt for it (nothing was charged); admission names it.
	CodeBadSignature Code = 6
	// CodeDuplicateEvidence: a Slash with evidence already applied.
	CodeDuplicateEvidence Code = 7
	// CodeEvidenceFull: a Slash beyond MaxEvidence for one validator.
	CodeEvidenceFull Code = 8
	// CodeBadWitness: the witness attached to the transaction after its
	// sender signed (RegisterContent's availability certificate) does not
	// verify or lacks a quorum. Whoever attached it is at fault, not the
	// sender: nothing is charged, and the executor stores no receipt.
	CodeBadWitness Code = 9

	// CodeInvalid: the operation breaks a rule that needs no state (zero
	// amount, bad name, batch too large, ...).
	CodeInvalid Code = 32
	// CodeInsufficientBalance: the balance does not cover the amount.
	CodeInsufficientBalance Code = 33
	// CodeNotFound: a token, collection, class, validator, entry or
	// schedule does not exist.
	CodeNotFound Code = 34
	// CodeUnauthorized: the sender may not do this (not the issuer, not
	// the owner, not the beneficiary).
	CodeUnauthorized Code = 35
	// CodeExists: what would be created exists already.
	CodeExists Code = 36
	// CodeCapExceeded: a mint would take the supply above its cap.
	CodeCapExceeded Code = 37
	// CodeAllowanceExceeded: a TokenTransferFrom beyond the allowance.
	CodeAllowanceExceeded Code = 38
	// CodeSoulbound: a soulbound token may not be transferred or attached.
	CodeSoulbound Code = 39
	// CodeCycle: an attach would make a token its own ancestor.
	CodeCycle Code = 40
	// CodeAttached: the token is attached to a parent, or has children.
	CodeAttached Code = 41
	// CodeStalePath: an ancestor path does not match the state.
	CodeStalePath Code = 42
	// CodeTooDeep: an attach would nest tokens deeper than allowed.
	CodeTooDeep Code = 43
	// CodeLocked: the unbonding entry or schedule has not matured.
	CodeLocked Code = 44
	// CodeJailed: the validator is jailed.
	CodeJailed Code = 45
	// CodeBadCertificate: an availability certificate does not verify or
	// lacks a quorum.
	CodeBadCertificate Code = 46
	// CodeOverflow: an amount would exceed the uint64 range.
	CodeOverflow Code = 47
)

// String returns the code's name ("ok", "bad_nonce", ...), or "code(N)".
func (c Code) String() string {
	switch c {
	case CodeOK:
		return "ok"
	case CodeWrongChain:
		return "wrong_chain"
	case CodeExpired:
		return "expired"
	case CodeFeeTooLow:
		return "fee_too_low"
	case CodeBadNonce:
		return "bad_nonce"
	case CodeCannotPayFee:
		return "cannot_pay_fee"
	case CodeBadSignature:
		return "bad_signature"
	case CodeDuplicateEvidence:
		return "duplicate_evidence"
	case CodeEvidenceFull:
		return "evidence_full"
	case CodeBadWitness:
		return "bad_witness"
	case CodeInvalid:
		return "invalid"
	case CodeInsufficientBalance:
		return "insufficient_balance"
	case CodeNotFound:
		return "not_found"
	case CodeUnauthorized:
		return "unauthorized"
	case CodeExists:
		return "exists"
	case CodeCapExceeded:
		return "cap_exceeded"
	case CodeAllowanceExceeded:
		return "allowance_exceeded"
	case CodeSoulbound:
		return "soulbound"
	case CodeCycle:
		return "cycle"
	case CodeAttached:
		return "attached"
	case CodeStalePath:
		return "stale_path"
	case CodeTooDeep:
		return "too_deep"
	case CodeLocked:
		return "locked"
	case CodeJailed:
		return "jailed"
	case CodeBadCertificate:
		return "bad_certificate"
	case CodeOverflow:
		return "overflow"
	}
	return fmt.Sprintf("code(%d)", uint16(c))
}

// Charged reports whether a receipt with this code consumed the nonce and
// charged the fee: CodeOK and the rejections from CodeInvalid on.
func (c Code) Charged() bool { return c == CodeOK || c >= CodeInvalid }

// Receipt limits, enforced by DecodeReceipt.
const (
	// MaxReasonLen bounds Receipt.Reason.
	MaxReasonLen = 1024
	// MaxEvents bounds the events of a receipt.
	MaxEvents = 64
	// MaxEventTypeLen bounds Event.Type.
	MaxEventTypeLen = 32
	// MaxAttrs bounds the attributes of an event.
	MaxAttrs = 16
	// MaxAttrKeyLen bounds Attr.Key.
	MaxAttrKeyLen = 32
	// MaxAttrValueLen bounds Attr.Value.
	MaxAttrValueLen = 256
	// ReceiptVersion is the first byte of an encoded receipt.
	ReceiptVersion = 1
)

// Attr is one attribute of an event. Values are text: lower-case hex for
// keys and digests, decimal for amounts and indices, "collection/index" for
// non-fungible tokens.
type Attr struct {
	// Key names the attribute.
	Key string
	// Value is its value.
	Value string
}

// Event says what an executed operation did, for indexers and streaming
// clients: Type names it ("transfer", "token_mint", ...) and Attrs, in a
// fixed order per type, give the details.
type Event struct {
	// Type is the event's name.
	Type string
	// Attrs are the event's attributes.
	Attrs []Attr
}

// Receipt is the outcome of one transaction (or slash). Its encoding is
// canonical (the node hashes receipts into a per-commit root):
//
//	u8      ReceiptVersion (1)
//	digest  Tx
//	u16     Code
//	u64     Fee
//	bytes16 Reason (at most MaxReasonLen)
//	list    Events (at most MaxEvents): bytes8 Type, then a u8 count
//	        (at most MaxAttrs) of attributes, each bytes8 Key, bytes16 Value
type Receipt struct {
	// Tx is the transaction's digest (for a slash, the evidence digest).
	Tx crypto.Digest
	// Code is CodeOK or the reason of the rejection.
	Code Code
	// Reason explains a rejection in words; empty for CodeOK.
	Reason string
	// Fee is the native amount charged: the transaction's fee when
	// Code.Charged, else 0.
	Fee uint64
	// Events say what an executed operation did; none on a rejection.
	Events []Event
}

// OK reports whether the operation was executed.
func (r *Receipt) OK() bool { return r.Code == CodeOK }

// Charged reports whether the transaction consumed its nonce and was
// charged its fee (Code.Charged): only such a transaction gets a stored
// receipt from the executor.
func (r *Receipt) Charged() bool { return r.Code.Charged() }

// Encode returns the canonical encoding of r.
func (r *Receipt) Encode() []byte {
	b := append(make([]byte, 0, 64+len(r.Reason)+64*len(r.Events)), ReceiptVersion)
	b = append(b, r.Tx[:]...)
	b = appendU64(appendU16(b, uint16(r.Code)), r.Fee)
	b = appendString16(b, r.Reason)
	b = appendU16(b, uint16(len(r.Events)))
	for _, e := range r.Events {
		b = appendString8(b, e.Type)
		b = append(b, byte(len(e.Attrs)))
		for _, a := range e.Attrs {
			b = appendString16(appendString8(b, a.Key), a.Value)
		}
	}
	return b
}

// Digest returns BLAKE3-256 of the receipt's encoding.
func (r *Receipt) Digest() crypto.Digest { return crypto.Hash(r.Encode()) }

// DecodeReceipt decodes a receipt and checks that b is its canonical
// encoding. Errors wrap ErrMalformed.
func DecodeReceipt(b []byte) (*Receipt, error) {
	r := &reader{b: b}
	if v := r.u8("version"); r.err == nil && v != ReceiptVersion {
		r.fail("receipt version %d, want %d", v, ReceiptVersion)
	}
	rc := &Receipt{Tx: r.digest("tx"), Code: Code(r.u16("code")), Fee: r.u64("fee")}
	rc.Reason = r.string16("reason", 0, MaxReasonLen)
	n := r.count("events", 0, MaxEvents, 2)
	if n > 0 {
		rc.Events = make([]Event, n)
		for i := range rc.Events {
			e := &rc.Events[i]
			e.Type = r.string8("event type", 1, MaxEventTypeLen)
			na := int(r.u8("attribute count"))
			if r.err != nil {
				break
			}
			if na > MaxAttrs || na*3 > len(r.b)-r.off {
				r.fail("event with %d attributes", na)
				break
			}
			if na > 0 {
				e.Attrs = make([]Attr, na)
				for j := range e.Attrs {
					e.Attrs[j] = Attr{Key: r.string8("attribute key", 1, MaxAttrKeyLen), Value: r.string16("attribute value", 0, MaxAttrValueLen)}
				}
			}
		}
	}
	if r.err == nil && !rc.Code.Charged() && rc.Fee != 0 {
		r.fail("fee %d charged with code %s", rc.Fee, rc.Code)
	}
	if err := r.done("receipt"); err != nil {
		return nil, err
	}
	return rc, nil
}
