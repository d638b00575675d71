package contracts

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"math"
	"math/bits"
	"strconv"
	"sync"
	"unicode/utf8"

	"github.com/dagd/dagd/crypto"
)

// Store is the flat key/value state the module reads and writes. Get
// returns (nil, nil) for an absent key. The module never stores an empty
// value, so an empty value reads as absent too.
type Store interface {
	// Get returns the value of key, or nil when key is absent.
	Get(key []byte) ([]byte, error)
	// Set makes key hold value. The module does not keep or modify the
	// slices it passes.
	Set(key, value []byte) error
	// Delete removes key; deleting an absent key is not an error.
	Delete(key []byte) error
}

// Env is what execution may know about the commit a transaction belongs
// to: nothing else (no wall clock).
type Env struct {
	// ChainID is the chain's identifier; transactions for another chain
	// are rejected.
	ChainID string
	// Seq is the commit's sequence number.
	Seq uint64
	// Time is the commit's consensus time in milliseconds; it never goes
	// back from one commit to the next.
	Time uint64
}

// Module executes transactions: the token module. It holds only its Params
// and a cache of the parsed committee, so one Module may serve many
// goroutines at once (the shard executor's), each with its own Store.
type Module struct {
	p Params

	mu        sync.Mutex
	committee struct {
		raw crypto.Digest // BLAKE3 of the encoded Committee it was built from
		c   *crypto.BLSCommittee
	}
}

// NewModule returns a module with Params p. Zero fields take their
// defaults (EnsureDefaults); a field that Validate would refuse also takes
// its default, so that NewModule never fails: a node validates its
// configuration with Params.Validate before calling it.
func NewModule(p Params) *Module {
	p.EnsureDefaults()
	var d Params
	d.EnsureDefaults()
	if p.SlashFraction > PartsPerMillion {
		p.SlashFraction = d.SlashFraction
	}
	if p.MaxBatchSize < 1 || p.MaxBatchSize > MaxBatchItems {
		p.MaxBatchSize = d.MaxBatchSize
	}
	if p.MaxNestingDepth < 1 || p.MaxNestingDepth > MaxPathLen {
		p.MaxNestingDepth = d.MaxNestingDepth
	}
	return &Module{p: p}
}

// Params returns the module's rules.
func (m *Module) Params() Params { return m.p }

// MinFee returns the smallest fee tx may carry: Params.MinFee (or
// ContentMinFee for RegisterContent, when larger) plus
// Params.FeePerByte for each byte of its encoding, saturating at the
// largest uint64.
func (m *Module) MinFee(tx *Tx) uint64 {
	if m.p.FeePerByte == 0 {
		return m.MinFeeEncoded(tx, 0)
	}
	return m.MinFeeEncoded(tx, len(tx.Encode()))
}

// MinFeeEncoded is MinFee for a transaction whose encoding is known to be
// size bytes long (as DecodeTx's input is), without encoding it again.
func (m *Module) MinFeeEncoded(tx *Tx, size int) uint64 {
	fee := m.p.MinFee
	fee = max(fee, ContentMinFee(&m.p, tx.Op)) // 0 but for content ops
	if m.p.FeePerByte > 0 {
		hi, lo := bits.Mul64(m.p.FeePerByte, uint64(size))
		if sum, carry := bits.Add64(fee, lo, 0); hi != 0 || carry != 0 {
			fee = math.MaxUint64
		} else {
			fee = sum
		}
	}
	return fee
}

// Keys returns every state key Apply may read or write for tx, sorted and
// without duplicates: the sender's account and the keys its operation
// declares (listed on each Op type). The set depends on tx alone, so the
// executor can schedule by it before executing anything.
func (m *Module) Keys(tx *Tx) [][]byte {
	ks := keySet{AccountKey(tx.Sender)}
	if tx.Op != nil {
		tx.Op.declare(tx, &m.p, &ks)
	}
	return ks.sorted()
}

// Apply executes tx, whose signature the caller has verified, on st at the
// commit env, and returns its receipt. It touches only keys of Keys(tx).
//
// A transaction for another chain, expired, with a fee below MinFee, with
// a nonce other than the sender's, or whose sender cannot pay the fee
// changes nothing and gets a receipt that says why (Fee 0, not Charged:
// the executor drops it without storing it). Otherwise the
// nonce is consumed and the fee charged (and removed from circulation;
// Receipt.Fee lets the node account for it), and the operation either
// runs (CodeOK, with its events) or is rejected, changing nothing else,
// with a code and a reason.
//
// The error is only for a Store that fails or holds a value that does not
// decode: the node must stop, and st may hold part of the transaction's
// writes.
func (m *Module) Apply(env Env, st Store, tx *Tx) (*Receipt, error) {
	rc := &Receipt{Tx: tx.Digest()}
	reject := func(c Code, format string, args ...any) (*Receipt, error) {
		rc.Code, rc.Reason = c, clip(fmt.Sprintf(format, args...))
		return rc, nil
	}
	if tx.ChainID != env.ChainID {
		return reject(CodeWrongChain, "wrong chain: transaction for %q, this chain is %q", tx.ChainID, env.ChainID)
	}
	if env.Time > tx.Expiry {
		return reject(CodeExpired, "expired: expiry %d, consensus time %d", tx.Expiry, env.Time)
	}
	if min := m.MinFee(tx); tx.Fee < min {
		return reject(CodeFeeTooLow, "fee too low: %d, minimum %d", tx.Fee, min)
	}
	x := &execCtx{m: m, env: env, tx: tx, st: st, ov: make([]entry, 0, 6)}
	x.senderKey = AccountKey(tx.Sender)
	acct := x.account(tx.Sender)
	if x.err != nil {
		return nil, x.err
	}
	if tx.Nonce != acct.Nonce {
		return reject(CodeBadNonce, "bad nonce: %d, expected %d", tx.Nonce, acct.Nonce)
	}
	if acct.Nonce == math.MaxUint64 {
		return reject(CodeBadNonce, "bad nonce: the account's nonces are exhausted")
	}
	if acct.Balance < tx.Fee {
		return reject(CodeCannotPayFee, "cannot pay fee: balance %d, fee %d", acct.Balance, tx.Fee)
	}
	if w, ok := tx.Op.(witnessed); ok && tx.Op.check(&m.p) == nil {
		rej := w.checkWitness(x)
		if x.err != nil {
			return nil, x.err
		}
		if rej != nil {
			// Not the sender's fault: nothing charged (Fee 0), so the
			// executor stores no receipt and the nonce stays the sender's.
			return reject(rej.code, "%s", rej.reason)
		}
	}
	acct.Nonce++
	acct.Balance -= tx.Fee
	rc.Fee = tx.Fee
	x.putAccount(tx.Sender, acct)
	charged := x.ov[0] // the sender's account, charged: all a rejection writes

	if tx.Op == nil {
		x.reject(CodeInvalid, "invalid operation: none")
	} else if err := tx.Op.check(&m.p); err != nil {
		x.reject(CodeInvalid, "%v", err)
	} else {
		tx.Op.exec(x)
	}
	if x.err != nil {
		return nil, x.err
	}
	if x.rej != nil {
		x.ov = append(x.ov[:0], charged)
		rc.Code, rc.Reason = x.rej.code, clip(x.rej.reason)
	} else {
		rc.Events = x.events
	}
	if err := x.flush(); err != nil {
		return nil, err
	}
	return rc, nil
}

// clip cuts a reason to MaxReasonLen bytes at a character boundary.
func clip(s string) string {
	if len(s) <= MaxReasonLen {
		return s
	}
	s = s[:MaxReasonLen]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}

// rejection is why an operation was refused.
type rejection struct {
	code   Code
	reason string
}

// entry is a key read or written by a transaction: val nil means absent.
type entry struct {
	key   []byte
	val   []byte
	dirty bool
}

// execCtx runs one operation over a write buffer: reads go through it to
// the store, writes stay in it until flush, so that a rejected operation
// leaves no trace. The first store error and the first rejection stick.
type execCtx struct {
	m      *Module
	env    Env
	tx     *Tx
	st     Store
	ov     []entry // few keys per transaction: a slice beats a map
	events []Event

	senderKey []byte // AccountKey(tx.Sender), built once
	rej       *rejection
	err       error

	// witnessStake is the stake behind a witness that checkWitness
	// verified, 0 when none was.
	witnessStake uint64
}

// failed reports whether the operation must stop.
func (x *execCtx) failed() bool { return x.rej != nil || x.err != nil }

// reject records the operation's rejection.
func (x *execCtx) reject(c Code, format string, args ...any) {
	if x.rej == nil {
		x.rej = &rejection{code: c, reason: fmt.Sprintf(format, args...)}
	}
}

// find returns the buffer entry of key, or nil.
func (x *execCtx) find(key []byte) *entry {
	for i := range x.ov {
		if bytes.Equal(x.ov[i].key, key) {
			return &x.ov[i]
		}
	}
	return nil
}

// get returns the current value of key, or nil when absent.
func (x *execCtx) get(key []byte) []byte {
	if e := x.find(key); e != nil {
		return e.val
	}
	if x.err != nil {
		return nil
	}
	v, err := x.st.Get(key)
	if err != nil {
		x.err = fmt.Errorf("contracts: read %s: %w", describe(key), err)
		return nil
	}
	if len(v) == 0 {
		v = nil
	}
	x.ov = append(x.ov, entry{key: key, val: v})
	return v
}

// put sets key to val (nil deletes it) in the buffer.
func (x *execCtx) put(key, val []byte) {
	if e := x.find(key); e != nil {
		e.val, e.dirty = val, true
		return
	}
	x.ov = append(x.ov, entry{key: key, val: val, dirty: true})
}

// flush writes the buffer's changes to the store, in the order they were
// first touched.
func (x *execCtx) flush() error {
	for _, e := range x.ov {
		if !e.dirty {
			continue
		}
		var err error
		if e.val == nil {
			err = x.st.Delete(e.key)
		} else {
			err = x.st.Set(e.key, e.val)
		}
		if err != nil {
			return fmt.Errorf("contracts: write %s: %w", describe(e.key), err)
		}
	}
	return nil
}

// corrupt records a value that does not decode.
func (x *execCtx) corrupt(key []byte, err error) {
	if x.err == nil {
		x.err = fmt.Errorf("contracts: corrupt state at %s: %w", describe(key), err)
	}
}

// load decodes the value of key, or returns nil when it is absent.
func load[T any](x *execCtx, key []byte, decode func([]byte) (*T, error)) *T {
	v := x.get(key)
	if v == nil {
		return nil
	}
	t, err := decode(v)
	if err != nil {
		x.corrupt(key, err)
		return nil
	}
	return t
}

// accountKey returns AccountKey(pk), reusing the sender's.
func (x *execCtx) accountKey(pk crypto.AccountPublicKey) []byte {
	if x.senderKey != nil && x.tx != nil && pk == x.tx.Sender {
		return x.senderKey
	}
	return AccountKey(pk)
}

// account returns pk's account (zero when absent).
func (x *execCtx) account(pk crypto.AccountPublicKey) Account {
	return x.accountAt(x.accountKey(pk))
}

// accountAt returns the account under key (zero when absent).
func (x *execCtx) accountAt(key []byte) Account {
	v := x.get(key)
	if v == nil {
		return Account{}
	}
	a, err := DecodeAccount(v)
	if err != nil {
		x.corrupt(key, err)
		return Account{}
	}
	return *a
}

// putAccount stores pk's account.
func (x *execCtx) putAccount(pk crypto.AccountPublicKey, a Account) {
	x.putAccountAt(x.accountKey(pk), a)
}

// putAccountAt stores the account under key.
func (x *execCtx) putAccountAt(key []byte, a Account) {
	if a == (Account{}) {
		x.put(key, nil)
		return
	}
	x.put(key, a.Encode())
}

// amount returns the amount under key (0 when absent).
func (x *execCtx) amount(key []byte) uint64 {
	v := x.get(key)
	if v == nil {
		return 0
	}
	a, err := DecodeAmount(v)
	if err != nil {
		x.corrupt(key, err)
	}
	return a
}

// putAmount stores an amount; 0 deletes the key.
func (x *execCtx) putAmount(key []byte, v uint64) {
	if v == 0 {
		x.put(key, nil)
		return
	}
	x.put(key, EncodeAmount(v))
}

// debitAccount takes amount from pk's native balance.
func (x *execCtx) debitAccount(pk crypto.AccountPublicKey, amount uint64) bool {
	key := x.accountKey(pk)
	a := x.accountAt(key)
	if x.failed() {
		return false
	}
	if a.Balance < amount {
		x.reject(CodeInsufficientBalance, "insufficient balance: %d, need %d", a.Balance, amount)
		return false
	}
	a.Balance -= amount
	x.putAccountAt(key, a)
	return true
}

// creditAccount adds amount to pk's native balance.
func (x *execCtx) creditAccount(pk crypto.AccountPublicKey, amount uint64) bool {
	key := x.accountKey(pk)
	a := x.accountAt(key)
	if x.failed() {
		return false
	}
	sum, ok := add(a.Balance, amount)
	if !ok {
		x.reject(CodeOverflow, "overflow: balance of %s would exceed the uint64 range", pk)
		return false
	}
	a.Balance = sum
	x.putAccountAt(key, a)
	return true
}

// debit takes amount from the balance under key; what names it in the
// rejection.
func (x *execCtx) debit(key []byte, amount uint64, what string) bool {
	b := x.amount(key)
	if x.failed() {
		return false
	}
	if b < amount {
		x.reject(CodeInsufficientBalance, "insufficient balance of %s: %d, need %d", what, b, amount)
		return false
	}
	x.putAmount(key, b-amount)
	return true
}

// credit adds amount to the balance under key.
func (x *execCtx) credit(key []byte, amount uint64, what string) bool {
	b := x.amount(key)
	if x.failed() {
		return false
	}
	sum, ok := add(b, amount)
	if !ok {
		x.reject(CodeOverflow, "overflow: balance of %s would exceed the uint64 range", what)
		return false
	}
	x.putAmount(key, sum)
	return true
}

// event records an event; kv alternates attribute keys and values.
func (x *execCtx) event(typ string, kv ...string) {
	e := Event{Type: typ, Attrs: make([]Attr, 0, len(kv)/2)}
	for i := 0; i+1 < len(kv); i += 2 {
		e.Attrs = append(e.Attrs, Attr{Key: kv[i], Value: kv[i+1]})
	}
	x.events = append(x.events, e)
}

// add returns a+b and whether it did not overflow.
func add(a, b uint64) (uint64, bool) {
	s, c := bits.Add64(a, b, 0)
	return s, c == 0
}

// mulDiv returns floor(a·b/d) for a result that fits (the callers
// guarantee b <= d, or check with mulDivOK).
func mulDiv(a, b, d uint64) uint64 {
	q, _ := mulDivOK(a, b, d)
	return q
}

// mulDivOK returns floor(a·b/d) with 128-bit intermediate precision, and
// false when d is 0 or the result does not fit in a uint64.
func mulDivOK(a, b, d uint64) (uint64, bool) {
	if d == 0 {
		return 0, false
	}
	hi, lo := bits.Mul64(a, b)
	if hi >= d {
		return 0, false
	}
	q, _ := bits.Div64(hi, lo, d)
	return q, true
}

// mulDivCeil returns ceil(a·b/d), and false when d is 0 or it does not
// fit.
func mulDivCeil(a, b, d uint64) (uint64, bool) {
	if d == 0 {
		return 0, false
	}
	hi, lo := bits.Mul64(a, b)
	if hi >= d {
		return 0, false
	}
	q, r := bits.Div64(hi, lo, d)
	if r != 0 {
		if q == math.MaxUint64 {
			return 0, false
		}
		q++
	}
	return q, true
}

// Text forms of event attributes.
func hexKey(pk crypto.AccountPublicKey) string { return hex.EncodeToString(pk[:]) }
func hexDigest(d crypto.Digest) string         { return hex.EncodeToString(d[:]) }
func dec(v uint64) string                      { return strconv.FormatUint(v, 10) }
