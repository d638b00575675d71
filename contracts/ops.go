package contracts

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"unicode"
	"unicode/utf8"

	"github.com/dagd/dagd/crypto"
	"github.com/ipfs/go-cid"
	"github.com/multiformats/go-multihash"
)

// OpType is the code of an operation, the u16 after a transaction's
// header. Codes are grouped by family, with room in each family and for
// families to come.
type OpType uint16

// Operation codes. 0 is never valid.
const (
	// OpTransfer moves native tokens: Transfer.
	OpTransfer OpType = 1

	// OpTokenCreate creates a fungible token: TokenCreate.
	OpTokenCreate OpType = 16
	// OpTokenMint mints a fungible token: TokenMint.
	OpTokenMint OpType = 17
	// OpTokenTransfer moves a fungible token: TokenTransfer.
	OpTokenTransfer OpType = 18
	// OpTokenBurn burns a fungible token: TokenBurn.
	OpTokenBurn OpType = 19
	// OpTokenApprove sets an allowance: TokenApprove.
	OpTokenApprove OpType = 20
	// OpTokenTransferFrom spends an allowance: TokenTransferFrom.
	OpTokenTransferFrom OpType = 21

	// OpCollectionCreate creates a non-fungible (or soulbound) collection:
	// CollectionCreate.
	OpCollectionCreate OpType = 32
	// OpNFTMint mints (for a soulbound collection: issues) a token: NFTMint.
	OpNFTMint OpType = 33
	// OpNFTTransfer moves a token with its children: NFTTransfer.
	OpNFTTransfer OpType = 34
	// OpNFTBurn burns a token: NFTBurn.
	OpNFTBurn OpType = 35
	// OpNFTRevoke revokes a soulbound token: NFTRevoke.
	OpNFTRevoke OpType = 36
	// OpNFTAttach makes a token the child of another: NFTAttach.
	OpNFTAttach OpType = 37
	// OpNFTDetach frees a child token: NFTDetach.
	OpNFTDetach OpType = 38

	// OpSFTCreate creates a semi-fungible class: SFTCreate.
	OpSFTCreate OpType = 48
	// OpSFTMint mints semi-fungible tokens: SFTMint.
	OpSFTMint OpType = 49
	// OpSFTTransfer moves semi-fungible tokens of one id: SFTTransfer.
	OpSFTTransfer OpType = 50
	// OpSFTBatchTransfer moves several ids at once: SFTBatchTransfer.
	OpSFTBatchTransfer OpType = 51
	// OpSFTBurn burns semi-fungible tokens: SFTBurn.
	OpSFTBurn OpType = 52

	// OpBond bonds native tokens to a validator: Bond.
	OpBond OpType = 64
	// OpUnbond starts unbonding: Unbond.
	OpUnbond OpType = 65
	// OpWithdraw releases matured unbonded stake: Withdraw.
	OpWithdraw OpType = 66

	// OpVestingTransfer locks native tokens in a vesting schedule:
	// VestingTransfer.
	OpVestingTransfer OpType = 80
	// OpVestingClaim claims the vested part: VestingClaim.
	OpVestingClaim OpType = 81

	// OpRegisterContent records stored content: RegisterContent.
	OpRegisterContent OpType = 96
	// OpRenewContent extends registered content's paid retention:
	// RenewContent.
	OpRenewContent OpType = 97

	// Codes from 112 on are reserved: rewards (112–127), governance
	// (128–159), user contracts (160–255).
)

// opName is an operation's code and name.
type opName struct {
	t    OpType
	name string
}

// opNames returns the names of the operations, for String and CLIs, in
// increasing code order.
func opNames() []opName {
	return []opName{
		{OpTransfer, "transfer"},
		{OpTokenCreate, "token-create"},
		{OpTokenMint, "token-mint"},
		{OpTokenTransfer, "token-transfer"},
		{OpTokenBurn, "token-burn"},
		{OpTokenApprove, "token-approve"},
		{OpTokenTransferFrom, "token-transfer-from"},
		{OpCollectionCreate, "collection-create"},
		{OpNFTMint, "nft-mint"},
		{OpNFTTransfer, "nft-transfer"},
		{OpNFTBurn, "nft-burn"},
		{OpNFTRevoke, "nft-revoke"},
		{OpNFTAttach, "nft-attach"},
		{OpNFTDetach, "nft-detach"},
		{OpSFTCreate, "sft-create"},
		{OpSFTMint, "sft-mint"},
		{OpSFTTransfer, "sft-transfer"},
		{OpSFTBatchTransfer, "sft-batch-transfer"},
		{OpSFTBurn, "sft-burn"},
		{OpBond, "bond"},
		{OpUnbond, "unbond"},
		{OpWithdraw, "withdraw"},
		{OpVestingTransfer, "vesting-transfer"},
		{OpVestingClaim, "vesting-claim"},
		{OpRegisterContent, "register-content"},
		{OpRenewContent, "renew-content"},
	}
}

// String returns the operation's name ("transfer", "nft-attach", ...), or
// "op(N)" for an unknown code.
func (t OpType) String() string {
	for _, n := range opNames() {
		if n.t == t {
			return n.name
		}
	}
	return fmt.Sprintf("op(%d)", uint16(t))
}

// ParseOpType returns the operation named name, as String spells it.
func ParseOpType(name string) (OpType, error) {
	for _, n := range opNames() {
		if n.name == name {
			return n.t, nil
		}
	}
	return 0, fmt.Errorf("contracts: unknown operation %q", name)
}

// OpTypes returns every operation code, in increasing order.
func OpTypes() []OpType {
	names := opNames()
	ts := make([]OpType, len(names))
	for i, n := range names {
		ts[i] = n.t
	}
	return ts
}

// Codec bounds of operations. Decoders refuse anything longer.
const (
	// MaxNameLen bounds a token, collection or class name (bytes).
	MaxNameLen = 64
	// MaxSymbolLen bounds a symbol (bytes).
	MaxSymbolLen = 16
	// MaxDecimals bounds a fungible token's decimals.
	MaxDecimals = 18
	// MaxCIDSize bounds the binary form of a CID (NFT metadata, content).
	MaxCIDSize = 128
	// MaxBatchItems bounds an SFTBatchTransfer in the codec; the policy
	// limit is Params.MaxBatchSize.
	MaxBatchItems = 256
	// MaxPathLen bounds the ancestor path of NFTAttach and NFTDetach in
	// the codec; the policy limit is Params.MaxNestingDepth.
	MaxPathLen = 16
	// MaxValidators bounds the committee, and so a signer bitmap
	// (MaxValidators/8 bytes).
	MaxValidators = 1024
	// MaxShards bounds a content registration's N (GF(2^8) Reed-Solomon).
	MaxShards = 256
	// MaxContentExpansion bounds a content registration's N/K, the bytes
	// stored per content byte: N <= MaxContentExpansion*K.
	MaxContentExpansion = 8
	// MaxShardsPerValidator bounds a content registration's N by the
	// committee: N <= MaxShardsPerValidator*committee size, so that no
	// validator holds more than that many shards of a chunk.
	MaxShardsPerValidator = 4
	// ContentManifestCodec is the multicodec of a registered CID:
	// erasure.ManifestCodec (0x30dad0, private use). The CID's BLAKE3
	// digest is the manifest digest, so it commits to K, N and every
	// shard hash, and nobody can register known content under garbage
	// shards first.
	ContentManifestCodec = 0x30dad0
)

// Op is a transaction's operation. The set of operations is closed: the
// types of this package implement it, one per OpType.
type Op interface {
	// Type returns the operation's code.
	Type() OpType
	// appendBody appends the operation's fields.
	appendBody(b []byte) []byte
	// check enforces the rules that need no state.
	check(p *Params) error
	// declare adds the keys the operation may touch besides the sender's
	// account.
	declare(tx *Tx, p *Params, ks *keySet)
	// exec runs the operation; it records a rejection or a store error in
	// x.
	exec(x *execCtx)
}

// NFTID names a non-fungible token: its collection and its index there,
// chosen by the minter. Encoded as the collection (32 bytes) then the index
// (u64).
type NFTID struct {
	// Collection is the collection's identifier (CollectionID).
	Collection crypto.Digest
	// Index is the token's number in its collection.
	Index uint64
}

// String returns "collection-hex/index".
func (id NFTID) String() string { return fmt.Sprintf("%s/%d", id.Collection, id.Index) }

// nftIDSize is the encoded size of an NFTID.
const nftIDSize = crypto.DigestSize + 8

func appendNFTID(b []byte, id NFTID) []byte {
	return appendU64(append(b, id.Collection[:]...), id.Index)
}

func (r *reader) nftID(what string) NFTID {
	return NFTID{Collection: r.digest(what + " collection"), Index: r.u64(what + " index")}
}

// decodeOp decodes the fields of an operation of type t.
func decodeOp(r *reader, t OpType) Op {
	switch t {
	case OpTransfer:
		return &Transfer{To: r.key("to"), Amount: r.u64("amount")}
	case OpTokenCreate:
		return &TokenCreate{
			Name:     r.string8("name", 0, MaxNameLen),
			Symbol:   r.string8("symbol", 0, MaxSymbolLen),
			Decimals: r.u8("decimals"),
			Cap:      r.u64("cap"),
		}
	case OpTokenMint:
		return &TokenMint{Token: r.digest("token"), To: r.key("to"), Amount: r.u64("amount")}
	case OpTokenTransfer:
		return &TokenTransfer{Token: r.digest("token"), To: r.key("to"), Amount: r.u64("amount")}
	case OpTokenBurn:
		return &TokenBurn{Token: r.digest("token"), Amount: r.u64("amount")}
	case OpTokenApprove:
		return &TokenApprove{Token: r.digest("token"), Spender: r.key("spender"), Amount: r.u64("amount")}
	case OpTokenTransferFrom:
		return &TokenTransferFrom{Token: r.digest("token"), From: r.key("from"), To: r.key("to"), Amount: r.u64("amount")}
	case OpCollectionCreate:
		return &CollectionCreate{
			Name:      r.string8("name", 0, MaxNameLen),
			Symbol:    r.string8("symbol", 0, MaxSymbolLen),
			Soulbound: r.boolean("soulbound"),
		}
	case OpNFTMint:
		return &NFTMint{ID: r.nftID("token"), To: r.key("to"), Metadata: r.bytes8("metadata", 0, MaxCIDSize)}
	case OpNFTTransfer:
		return &NFTTransfer{ID: r.nftID("token"), To: r.key("to")}
	case OpNFTBurn:
		return &NFTBurn{ID: r.nftID("token")}
	case OpNFTRevoke:
		return &NFTRevoke{ID: r.nftID("token")}
	case OpNFTAttach:
		return &NFTAttach{Child: r.nftID("child"), Path: decodePath(r)}
	case OpNFTDetach:
		return &NFTDetach{Child: r.nftID("child"), Path: decodePath(r)}
	case OpSFTCreate:
		return &SFTCreate{Name: r.string8("name", 0, MaxNameLen), Symbol: r.string8("symbol", 0, MaxSymbolLen)}
	case OpSFTMint:
		return &SFTMint{Class: r.digest("class"), ID: r.u64("id"), To: r.key("to"), Amount: r.u64("amount")}
	case OpSFTTransfer:
		return &SFTTransfer{Class: r.digest("class"), ID: r.u64("id"), To: r.key("to"), Amount: r.u64("amount")}
	case OpSFTBatchTransfer:
		op := &SFTBatchTransfer{Class: r.digest("class"), To: r.key("to")}
		n := r.count("items", 0, MaxBatchItems, 16)
		if n > 0 {
			op.Items = make([]SFTAmount, n)
			for i := range op.Items {
				op.Items[i] = SFTAmount{ID: r.u64("item id"), Amount: r.u64("item amount")}
			}
		}
		return op
	case OpSFTBurn:
		return &SFTBurn{Class: r.digest("class"), ID: r.u64("id"), Amount: r.u64("amount")}
	case OpBond:
		return &Bond{Validator: r.u32("validator"), Amount: r.u64("amount")}
	case OpUnbond:
		return &Unbond{Validator: r.u32("validator"), Amount: r.u64("amount")}
	case OpWithdraw:
		return &Withdraw{Unbonding: r.u64("unbonding")}
	case OpVestingTransfer:
		return &VestingTransfer{To: r.key("to"), Amount: r.u64("amount"), Start: r.u64("start"), Duration: r.u64("duration"), Cliff: r.u64("cliff")}
	case OpVestingClaim:
		return &VestingClaim{Schedule: r.digest("schedule")}
	case OpRegisterContent:
		op := &RegisterContent{
			CID:            r.bytes8("cid", 0, MaxCIDSize),
			Size:           r.u64("size"),
			K:              r.u16("k"),
			N:              r.u16("n"),
			ManifestDigest: r.digest("manifest digest"),
			Epoch:          r.u64("epoch"),
			Retention:      r.u64("retention"),
			Signers:        r.bytes8("signers", 0, MaxValidators/8),
		}
		copy(op.Signature[:], r.take(crypto.BLSSignatureSize, "signature"))
		return op
	case OpRenewContent:
		return &RenewContent{CID: r.bytes8("cid", 0, MaxCIDSize), Size: r.u64("size"), K: r.u16("k"), N: r.u16("n"),
			Retention: r.u64("retention")}
	}
	r.fail("unknown operation type %d", uint16(t))
	return nil
}

func decodePath(r *reader) []NFTID {
	n := r.count("path", 0, MaxPathLen, nftIDSize)
	if n == 0 {
		return nil
	}
	p := make([]NFTID, n)
	for i := range p {
		p[i] = r.nftID("path")
	}
	return p
}

func appendPath(b []byte, p []NFTID) []byte {
	b = appendU16(b, uint16(len(p)))
	for _, id := range p {
		b = appendNFTID(b, id)
	}
	return b
}

// ---- stateless rules

// errInvalid is wrapped by the errors of check.
var errInvalid = errors.New("invalid operation")

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errInvalid, fmt.Sprintf(format, args...))
}

// checkRecipient refuses a small-order key as the account that receives
// (or may spend) something: anyone can sign for such a key
// (crypto.AccountPublicKey.SmallOrder), so what it holds could be taken
// by anyone. what names the field.
func checkRecipient(pk crypto.AccountPublicKey, what string) error {
	if pk.SmallOrder() {
		return invalid("%s %s is a small-order key, for which anyone can sign: it may not receive", what, pk)
	}
	return nil
}

// firstErr returns the first non-nil error of errs.
func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func checkAmount(a uint64) error {
	if a == 0 {
		return invalid("zero amount")
	}
	return nil
}

// checkName accepts 1..MaxNameLen bytes of UTF-8 made of graphic characters
// and spaces, not starting or ending with a space.
func checkName(s string) error {
	if s == "" || len(s) > MaxNameLen {
		return invalid("name must be 1 to %d bytes, got %d", MaxNameLen, len(s))
	}
	if !utf8.ValidString(s) {
		return invalid("name is not UTF-8")
	}
	for _, c := range s {
		if !unicode.IsGraphic(c) || (unicode.IsSpace(c) && c != ' ') {
			return invalid("name contains character %U", c)
		}
	}
	if s[0] == ' ' || s[len(s)-1] == ' ' {
		return invalid("name starts or ends with a space")
	}
	return nil
}

// checkSymbol accepts 1..MaxSymbolLen of A-Z, a-z, 0-9, '.', '-' and '_'.
func checkSymbol(s string) error {
	if s == "" || len(s) > MaxSymbolLen {
		return invalid("symbol must be 1 to %d characters, got %d", MaxSymbolLen, len(s))
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '.' || c == '-' || c == '_') {
			return invalid("symbol contains %q; allowed: A-Z a-z 0-9 . - _", c)
		}
	}
	return nil
}

// CheckCID reports whether b is the canonical binary form of a CID (version
// 0 or 1) of at most MaxCIDSize bytes. It is the rule for NFT metadata.
func CheckCID(b []byte) error {
	_, err := parseCID(b)
	return err
}

func parseCID(b []byte) (cid.Cid, error) {
	if len(b) == 0 || len(b) > MaxCIDSize {
		return cid.Undef, invalid("CID must be 1 to %d bytes, got %d", MaxCIDSize, len(b))
	}
	c, err := cid.Cast(b)
	if err != nil {
		return cid.Undef, invalid("not a CID: %v", err)
	}
	if !bytes.Equal(c.Bytes(), b) {
		return cid.Undef, invalid("CID is not in canonical form")
	}
	return c, nil
}

// CheckContentCID reports whether b is a CID dagd's content store makes:
// the canonical binary form of a version-1 CID with a BLAKE3-256
// multihash (any codec).
func CheckContentCID(b []byte) error {
	c, err := parseCID(b)
	if err != nil {
		return err
	}
	if c.Version() != 1 {
		return invalid("content CID must be version 1, got %d", c.Version())
	}
	p := c.Prefix()
	if p.MhType != multihash.BLAKE3 || p.MhLength != crypto.DigestSize {
		return invalid("content CID must have a BLAKE3-256 multihash, got code %#x length %d", p.MhType, p.MhLength)
	}
	return nil
}

// ---- native

// Transfer moves Amount native tokens from the sender to To.
// Fields: key To, u64 Amount. Keys: the sender's and To's accounts.
type Transfer struct {
	// To receives the tokens; its account is created if absent.
	To crypto.AccountPublicKey
	// Amount is moved, besides the fee; it must be positive.
	Amount uint64
}

// NewTransfer returns a native Transfer.
func NewTransfer(to crypto.AccountPublicKey, amount uint64) *Transfer {
	return &Transfer{To: to, Amount: amount}
}

// Type implements Op.
func (*Transfer) Type() OpType { return OpTransfer }
func (o *Transfer) appendBody(b []byte) []byte {
	return appendU64(append(b, o.To[:]...), o.Amount)
}
func (o *Transfer) check(*Params) error {
	return firstErr(checkRecipient(o.To, "recipient"), checkAmount(o.Amount))
}
func (o *Transfer) declare(_ *Tx, _ *Params, ks *keySet) {
	ks.add(AccountKey(o.To))
}

// ---- fungible

// TokenCreate creates a fungible token whose issuer is the sender, with a
// zero supply that the issuer may mint up to Cap. Its identifier is
// TokenID(sender, nonce). Fields: bytes8 Name, bytes8 Symbol, u8 Decimals,
// u64 Cap. Keys: the token.
type TokenCreate struct {
	// Name is 1..MaxNameLen bytes of printable UTF-8.
	Name string
	// Symbol is 1..MaxSymbolLen of A-Z a-z 0-9 . - _.
	Symbol string
	// Decimals is how many decimal places a display shows, at most
	// MaxDecimals.
	Decimals uint8
	// Cap bounds the supply; it must be positive (math.MaxUint64 for no
	// practical cap).
	Cap uint64
}

// NewTokenCreate returns a TokenCreate.
func NewTokenCreate(name, symbol string, decimals uint8, supplyCap uint64) *TokenCreate {
	return &TokenCreate{Name: name, Symbol: symbol, Decimals: decimals, Cap: supplyCap}
}

// Type implements Op.
func (*TokenCreate) Type() OpType { return OpTokenCreate }
func (o *TokenCreate) appendBody(b []byte) []byte {
	b = appendString8(b, o.Name)
	b = appendString8(b, o.Symbol)
	return appendU64(append(b, o.Decimals), o.Cap)
}
func (o *TokenCreate) check(*Params) error {
	if err := checkName(o.Name); err != nil {
		return err
	}
	if err := checkSymbol(o.Symbol); err != nil {
		return err
	}
	if o.Decimals > MaxDecimals {
		return invalid("decimals %d above %d", o.Decimals, MaxDecimals)
	}
	if o.Cap == 0 {
		return invalid("zero supply cap")
	}
	return nil
}
func (o *TokenCreate) declare(tx *Tx, _ *Params, ks *keySet) {
	ks.add(TokenKey(TokenID(tx.Sender, tx.Nonce)))
}

// TokenMint mints Amount of Token to To; only the token's issuer may, and
// the supply may not exceed the cap. Fields: digest Token, key To, u64
// Amount. Keys: the token, To's balance.
type TokenMint struct {
	// Token is the token's identifier.
	Token crypto.Digest
	// To receives the new tokens.
	To crypto.AccountPublicKey
	// Amount is minted; it must be positive.
	Amount uint64
}

// NewTokenMint returns a TokenMint.
func NewTokenMint(token crypto.Digest, to crypto.AccountPublicKey, amount uint64) *TokenMint {
	return &TokenMint{Token: token, To: to, Amount: amount}
}

// Type implements Op.
func (*TokenMint) Type() OpType { return OpTokenMint }
func (o *TokenMint) appendBody(b []byte) []byte {
	return appendU64(append(append(b, o.Token[:]...), o.To[:]...), o.Amount)
}
func (o *TokenMint) check(*Params) error {
	return firstErr(checkRecipient(o.To, "recipient"), checkAmount(o.Amount))
}
func (o *TokenMint) declare(_ *Tx, _ *Params, ks *keySet) {
	ks.add(TokenKey(o.Token))
	ks.add(BalanceKey(o.Token, o.To))
}

// TokenTransfer moves Amount of Token from the sender to To. Fields:
// digest Token, key To, u64 Amount. Keys: the sender's and To's balances
// (not the token: transfers never touch the supply).
type TokenTransfer struct {
	// Token is the token's identifier.
	Token crypto.Digest
	// To receives the tokens.
	To crypto.AccountPublicKey
	// Amount is moved; it must be positive.
	Amount uint64
}

// NewTokenTransfer returns a TokenTransfer.
func NewTokenTransfer(token crypto.Digest, to crypto.AccountPublicKey, amount uint64) *TokenTransfer {
	return &TokenTransfer{Token: token, To: to, Amount: amount}
}

// Type implements Op.
func (*TokenTransfer) Type() OpType { return OpTokenTransfer }
func (o *TokenTransfer) appendBody(b []byte) []byte {
	return appendU64(append(append(b, o.Token[:]...), o.To[:]...), o.Amount)
}
func (o *TokenTransfer) check(*Params) error {
	return firstErr(checkRecipient(o.To, "recipient"), checkAmount(o.Amount))
}
func (o *TokenTransfer) declare(tx *Tx, _ *Params, ks *keySet) {
	ks.add(BalanceKey(o.Token, tx.Sender))
	ks.add(BalanceKey(o.Token, o.To))
}

// TokenBurn destroys Amount of the sender's Token, lowering the supply.
// Fields: digest Token, u64 Amount. Keys: the token, the sender's balance.
type TokenBurn struct {
	// Token is the token's identifier.
	Token crypto.Digest
	// Amount is burnt; it must be positive.
	Amount uint64
}

// NewTokenBurn returns a TokenBurn.
func NewTokenBurn(token crypto.Digest, amount uint64) *TokenBurn {
	return &TokenBurn{Token: token, Amount: amount}
}

// Type implements Op.
func (*TokenBurn) Type() OpType { return OpTokenBurn }
func (o *TokenBurn) appendBody(b []byte) []byte {
	return appendU64(append(b, o.Token[:]...), o.Amount)
}
func (o *TokenBurn) check(*Params) error { return checkAmount(o.Amount) }
func (o *TokenBurn) declare(tx *Tx, _ *Params, ks *keySet) {
	ks.add(TokenKey(o.Token))
	ks.add(BalanceKey(o.Token, tx.Sender))
}

// TokenApprove sets how much of the sender's Token Spender may move with
// TokenTransferFrom (replacing any earlier allowance; 0 revokes it). Fields:
// digest Token, key Spender, u64 Amount. Keys: the token, the allowance.
type TokenApprove struct {
	// Token is the token's identifier; it must exist.
	Token crypto.Digest
	// Spender may spend the allowance.
	Spender crypto.AccountPublicKey
	// Amount is the new allowance.
	Amount uint64
}

// NewTokenApprove returns a TokenApprove.
func NewTokenApprove(token crypto.Digest, spender crypto.AccountPublicKey, amount uint64) *TokenApprove {
	return &TokenApprove{Token: token, Spender: spender, Amount: amount}
}

// Type implements Op.
func (*TokenApprove) Type() OpType { return OpTokenApprove }
func (o *TokenApprove) appendBody(b []byte) []byte {
	return appendU64(append(append(b, o.Token[:]...), o.Spender[:]...), o.Amount)
}
func (o *TokenApprove) check(*Params) error { return checkRecipient(o.Spender, "spender") }
func (o *TokenApprove) declare(tx *Tx, _ *Params, ks *keySet) {
	ks.add(TokenKey(o.Token))
	ks.add(AllowanceKey(o.Token, tx.Sender, o.Spender))
}

// TokenTransferFrom moves Amount of From's Token to To, spending the
// allowance From gave the sender. Fields: digest Token, key From, key To,
// u64 Amount. Keys: the allowance, From's and To's balances.
type TokenTransferFrom struct {
	// Token is the token's identifier.
	Token crypto.Digest
	// From owns the tokens and gave the allowance.
	From crypto.AccountPublicKey
	// To receives the tokens.
	To crypto.AccountPublicKey
	// Amount is moved; it must be positive and within the allowance.
	Amount uint64
}

// NewTokenTransferFrom returns a TokenTransferFrom.
func NewTokenTransferFrom(token crypto.Digest, from, to crypto.AccountPublicKey, amount uint64) *TokenTransferFrom {
	return &TokenTransferFrom{Token: token, From: from, To: to, Amount: amount}
}

// Type implements Op.
func (*TokenTransferFrom) Type() OpType { return OpTokenTransferFrom }
func (o *TokenTransferFrom) appendBody(b []byte) []byte {
	b = append(b, o.Token[:]...)
	b = append(b, o.From[:]...)
	b = append(b, o.To[:]...)
	return appendU64(b, o.Amount)
}
func (o *TokenTransferFrom) check(*Params) error {
	return firstErr(checkRecipient(o.To, "recipient"), checkAmount(o.Amount))
}
func (o *TokenTransferFrom) declare(tx *Tx, _ *Params, ks *keySet) {
	ks.add(AllowanceKey(o.Token, o.From, tx.Sender))
	ks.add(BalanceKey(o.Token, o.From))
	ks.add(BalanceKey(o.Token, o.To))
}

// ---- non-fungible, soulbound, composable

// CollectionCreate creates a collection of non-fungible tokens whose creator
// (the only minter) is the sender. Its identifier is CollectionID(sender,
// nonce). The tokens of a Soulbound collection are issued by the creator
// to their holders and can never be transferred or attached: the holder may
// burn one, the creator may revoke it (NFTRevoke). Fields: bytes8 Name,
// bytes8 Symbol, bool Soulbound. Keys: the collection.
type CollectionCreate struct {
	// Name is 1..MaxNameLen bytes of printable UTF-8.
	Name string
	// Symbol is 1..MaxSymbolLen of A-Z a-z 0-9 . - _.
	Symbol string
	// Soulbound makes every token of the collection non-transferable.
	Soulbound bool
}

// NewCollectionCreate returns a CollectionCreate of transferable tokens.
func NewCollectionCreate(name, symbol string) *CollectionCreate {
	return &CollectionCreate{Name: name, Symbol: symbol}
}

// NewSoulboundCollectionCreate returns a CollectionCreate of soulbound
// tokens.
func NewSoulboundCollectionCreate(name, symbol string) *CollectionCreate {
	return &CollectionCreate{Name: name, Symbol: symbol, Soulbound: true}
}

// Type implements Op.
func (*CollectionCreate) Type() OpType { return OpCollectionCreate }
func (o *CollectionCreate) appendBody(b []byte) []byte {
	return appendBool(appendString8(appendString8(b, o.Name), o.Symbol), o.Soulbound)
}
func (o *CollectionCreate) check(*Params) error {
	if err := checkName(o.Name); err != nil {
		return err
	}
	return checkSymbol(o.Symbol)
}
func (o *CollectionCreate) declare(tx *Tx, _ *Params, ks *keySet) {
	ks.add(CollectionKey(CollectionID(tx.Sender, tx.Nonce)))
}

// NFTMint mints token ID (the index is the minter's choice and must be
// unused) to To with Metadata, the binary CID of its metadata. Only the
// collection's creator may mint; in a soulbound collection this is how a
// token is issued. Fields: NFTID ID, key To, bytes8 Metadata. Keys: the
// collection, the token.
type NFTMint struct {
	// ID is the new token; ID.Collection must exist.
	ID NFTID
	// To owns the new token.
	To crypto.AccountPublicKey
	// Metadata is the canonical binary form of a CID (CheckCID).
	Metadata []byte
}

// NewNFTMint returns an NFTMint.
func NewNFTMint(id NFTID, to crypto.AccountPublicKey, metadata []byte) *NFTMint {
	return &NFTMint{ID: id, To: to, Metadata: metadata}
}

// NewSoulboundIssue returns the NFTMint that issues soulbound token id of a
// soulbound collection to holder.
func NewSoulboundIssue(id NFTID, holder crypto.AccountPublicKey, metadata []byte) *NFTMint {
	return NewNFTMint(id, holder, metadata)
}

// Type implements Op.
func (*NFTMint) Type() OpType { return OpNFTMint }
func (o *NFTMint) appendBody(b []byte) []byte {
	return appendBytes8(append(appendNFTID(b, o.ID), o.To[:]...), o.Metadata)
}
func (o *NFTMint) check(*Params) error {
	return firstErr(checkRecipient(o.To, "recipient"), CheckCID(o.Metadata))
}
func (o *NFTMint) declare(_ *Tx, _ *Params, ks *keySet) {
	ks.add(CollectionKey(o.ID.Collection))
	ks.add(NFTKey(o.ID))
}

// NFTTransfer gives token ID, with every token attached below it, to To.
// The token must be owned by the sender and not attached to a parent.
// Fields: NFTID ID, key To. Keys: the token (its children record their
// parent, not their owner, and are not rewritten).
type NFTTransfer struct {
	// ID is the token.
	ID NFTID
	// To becomes its owner.
	To crypto.AccountPublicKey
}

// NewNFTTransfer returns an NFTTransfer.
func NewNFTTransfer(id NFTID, to crypto.AccountPublicKey) *NFTTransfer {
	return &NFTTransfer{ID: id, To: to}
}

// Type implements Op.
func (*NFTTransfer) Type() OpType { return OpNFTTransfer }
func (o *NFTTransfer) appendBody(b []byte) []byte {
	return append(appendNFTID(b, o.ID), o.To[:]...)
}
func (o *NFTTransfer) check(*Params) error                  { return checkRecipient(o.To, "recipient") }
func (o *NFTTransfer) declare(_ *Tx, _ *Params, ks *keySet) { ks.add(NFTKey(o.ID)) }

// NFTBurn destroys token ID, which the sender owns; it must have no
// children and no parent. The holder of a soulbound token may burn it.
// Fields: NFTID ID. Keys: the token.
type NFTBurn struct {
	// ID is the token.
	ID NFTID
}

// NewNFTBurn returns an NFTBurn.
func NewNFTBurn(id NFTID) *NFTBurn { return &NFTBurn{ID: id} }

// Type implements Op.
func (*NFTBurn) Type() OpType                           { return OpNFTBurn }
func (o *NFTBurn) appendBody(b []byte) []byte           { return appendNFTID(b, o.ID) }
func (o *NFTBurn) check(*Params) error                  { return nil }
func (o *NFTBurn) declare(_ *Tx, _ *Params, ks *keySet) { ks.add(NFTKey(o.ID)) }

// NFTRevoke destroys soulbound token ID; only its collection's creator
// (the issuer) may. Fields: NFTID ID. Keys: the collection, the token.
type NFTRevoke struct {
	// ID is the token.
	ID NFTID
}

// NewNFTRevoke returns an NFTRevoke.
func NewNFTRevoke(id NFTID) *NFTRevoke { return &NFTRevoke{ID: id} }

// Type implements Op.
func (*NFTRevoke) Type() OpType                 { return OpNFTRevoke }
func (o *NFTRevoke) appendBody(b []byte) []byte { return appendNFTID(b, o.ID) }
func (o *NFTRevoke) check(*Params) error        { return nil }
func (o *NFTRevoke) declare(_ *Tx, _ *Params, ks *keySet) {
	ks.add(CollectionKey(o.ID.Collection))
	ks.add(NFTKey(o.ID))
}

// NFTAttach makes Child (a token the sender owns, not attached, not
// soulbound) a child of Path[0]. Path is Path[0] followed by its
// ancestors up to its root, in order (AncestorPath computes it), so that
// the keys are known before execution; a Path that does not match the
// state is rejected ("stale path"). The sender must own the root of the
// parent. Attaching a token to itself or to a descendant is rejected
// ("cycle"), and so is a composition deeper than Params.MaxNestingDepth.
// Fields: NFTID Child, list of NFTID Path. Keys: Child and every token of
// Path.
type NFTAttach struct {
	// Child is the token to attach.
	Child NFTID
	// Path is the new parent, then its parent, and so on up to the root.
	Path []NFTID
}

// NewNFTAttach returns an NFTAttach of child below path[0].
func NewNFTAttach(child NFTID, path []NFTID) *NFTAttach {
	return &NFTAttach{Child: child, Path: path}
}

// Type implements Op.
func (*NFTAttach) Type() OpType { return OpNFTAttach }
func (o *NFTAttach) appendBody(b []byte) []byte {
	return appendPath(appendNFTID(b, o.Child), o.Path)
}
func (o *NFTAttach) check(p *Params) error { return checkPath(o.Path, p) }
func (o *NFTAttach) declare(_ *Tx, _ *Params, ks *keySet) {
	ks.add(NFTKey(o.Child))
	for _, id := range o.Path {
		ks.add(NFTKey(id))
	}
}

// NFTDetach frees Child from its parent; it becomes a root owned by the
// sender, who must own the composition's root. Path is Child's parent
// followed by its ancestors up to the root (AncestorPath). Fields: NFTID
// Child, list of NFTID Path. Keys: Child and every token of Path.
type NFTDetach struct {
	// Child is the attached token.
	Child NFTID
	// Path is Child's parent, then its parent, and so on up to the root.
	Path []NFTID
}

// NewNFTDetach returns an NFTDetach.
func NewNFTDetach(child NFTID, path []NFTID) *NFTDetach {
	return &NFTDetach{Child: child, Path: path}
}

// Type implements Op.
func (*NFTDetach) Type() OpType { return OpNFTDetach }
func (o *NFTDetach) appendBody(b []byte) []byte {
	return appendPath(appendNFTID(b, o.Child), o.Path)
}
func (o *NFTDetach) check(p *Params) error { return checkPath(o.Path, p) }
func (o *NFTDetach) declare(_ *Tx, _ *Params, ks *keySet) {
	ks.add(NFTKey(o.Child))
	for _, id := range o.Path {
		ks.add(NFTKey(id))
	}
}

func checkPath(path []NFTID, p *Params) error {
	if len(path) == 0 {
		return invalid("empty ancestor path")
	}
	if len(path) > p.MaxNestingDepth {
		return invalid("ancestor path of %d tokens, deeper than the nesting limit %d", len(path), p.MaxNestingDepth)
	}
	return nil
}

// ---- semi-fungible

// SFTCreate creates a class of semi-fungible tokens: balances per (id,
// account) that only the creator (the sender) mints. Its identifier is
// ClassID(sender, nonce). Fields: bytes8 Name, bytes8 Symbol. Keys: the
// class.
type SFTCreate struct {
	// Name is 1..MaxNameLen bytes of printable UTF-8.
	Name string
	// Symbol is 1..MaxSymbolLen of A-Z a-z 0-9 . - _.
	Symbol string
}

// NewSFTCreate returns an SFTCreate.
func NewSFTCreate(name, symbol string) *SFTCreate { return &SFTCreate{Name: name, Symbol: symbol} }

// Type implements Op.
func (*SFTCreate) Type() OpType { return OpSFTCreate }
func (o *SFTCreate) appendBody(b []byte) []byte {
	return appendString8(appendString8(b, o.Name), o.Symbol)
}
func (o *SFTCreate) check(*Params) error {
	if err := checkName(o.Name); err != nil {
		return err
	}
	return checkSymbol(o.Symbol)
}
func (o *SFTCreate) declare(tx *Tx, _ *Params, ks *keySet) {
	ks.add(ClassKey(ClassID(tx.Sender, tx.Nonce)))
}

// SFTMint mints Amount of id ID of Class to To; only the class's creator
// may. Fields: digest Class, u64 ID, key To, u64 Amount. Keys: the class,
// To's balance of ID.
type SFTMint struct {
	// Class is the class's identifier.
	Class crypto.Digest
	// ID is the token id within the class.
	ID uint64
	// To receives the tokens.
	To crypto.AccountPublicKey
	// Amount is minted; it must be positive.
	Amount uint64
}

// NewSFTMint returns an SFTMint.
func NewSFTMint(class crypto.Digest, id uint64, to crypto.AccountPublicKey, amount uint64) *SFTMint {
	return &SFTMint{Class: class, ID: id, To: to, Amount: amount}
}

// Type implements Op.
func (*SFTMint) Type() OpType { return OpSFTMint }
func (o *SFTMint) appendBody(b []byte) []byte {
	b = appendU64(append(b, o.Class[:]...), o.ID)
	return appendU64(append(b, o.To[:]...), o.Amount)
}
func (o *SFTMint) check(*Params) error {
	return firstErr(checkRecipient(o.To, "recipient"), checkAmount(o.Amount))
}
func (o *SFTMint) declare(_ *Tx, _ *Params, ks *keySet) {
	ks.add(ClassKey(o.Class))
	ks.add(ClassBalanceKey(o.Class, o.ID, o.To))
}

// SFTTransfer moves Amount of id ID of Class from the sender to To. Fields:
// digest Class, u64 ID, key To, u64 Amount. Keys: the sender's and To's
// balances of ID.
type SFTTransfer struct {
	// Class is the class's identifier.
	Class crypto.Digest
	// ID is the token id within the class.
	ID uint64
	// To receives the tokens.
	To crypto.AccountPublicKey
	// Amount is moved; it must be positive.
	Amount uint64
}

// NewSFTTransfer returns an SFTTransfer.
func NewSFTTransfer(class crypto.Digest, id uint64, to crypto.AccountPublicKey, amount uint64) *SFTTransfer {
	return &SFTTransfer{Class: class, ID: id, To: to, Amount: amount}
}

// Type implements Op.
func (*SFTTransfer) Type() OpType { return OpSFTTransfer }
func (o *SFTTransfer) appendBody(b []byte) []byte {
	b = appendU64(append(b, o.Class[:]...), o.ID)
	return appendU64(append(b, o.To[:]...), o.Amount)
}
func (o *SFTTransfer) check(*Params) error {
	return firstErr(checkRecipient(o.To, "recipient"), checkAmount(o.Amount))
}
func (o *SFTTransfer) declare(tx *Tx, _ *Params, ks *keySet) {
	ks.add(ClassBalanceKey(o.Class, o.ID, tx.Sender))
	ks.add(ClassBalanceKey(o.Class, o.ID, o.To))
}

// SFTAmount is one item of an SFTBatchTransfer. Encoded as u64 ID, u64
// Amount.
type SFTAmount struct {
	// ID is the token id within the class.
	ID uint64
	// Amount is moved; it must be positive.
	Amount uint64
}

// SFTBatchTransfer moves several ids of Class from the sender to To, all
// or nothing. Items are in strictly increasing ID order (so one batch has
// one encoding) and number 1 to Params.MaxBatchSize. Fields: digest Class,
// key To, list of SFTAmount Items. Keys: the sender's and To's balances of
// every ID.
type SFTBatchTransfer struct {
	// Class is the class's identifier.
	Class crypto.Digest
	// To receives the tokens.
	To crypto.AccountPublicKey
	// Items are the ids and amounts, by increasing ID.
	Items []SFTAmount
}

// NewSFTBatchTransfer returns an SFTBatchTransfer.
func NewSFTBatchTransfer(class crypto.Digest, to crypto.AccountPublicKey, items []SFTAmount) *SFTBatchTransfer {
	return &SFTBatchTransfer{Class: class, To: to, Items: items}
}

// Type implements Op.
func (*SFTBatchTransfer) Type() OpType { return OpSFTBatchTransfer }
func (o *SFTBatchTransfer) appendBody(b []byte) []byte {
	b = append(append(b, o.Class[:]...), o.To[:]...)
	b = appendU16(b, uint16(len(o.Items)))
	for _, it := range o.Items {
		b = appendU64(appendU64(b, it.ID), it.Amount)
	}
	return b
}
func (o *SFTBatchTransfer) check(p *Params) error {
	if err := checkRecipient(o.To, "recipient"); err != nil {
		return err
	}
	if len(o.Items) == 0 || len(o.Items) > p.MaxBatchSize {
		return invalid("batch of %d items; must be 1 to %d", len(o.Items), p.MaxBatchSize)
	}
	for i, it := range o.Items {
		if it.Amount == 0 {
			return invalid("zero amount for id %d", it.ID)
		}
		if i > 0 && it.ID <= o.Items[i-1].ID {
			return invalid("batch ids must be strictly increasing: %d after %d", it.ID, o.Items[i-1].ID)
		}
	}
	return nil
}
func (o *SFTBatchTransfer) declare(tx *Tx, _ *Params, ks *keySet) {
	for _, it := range o.Items {
		ks.add(ClassBalanceKey(o.Class, it.ID, tx.Sender))
		ks.add(ClassBalanceKey(o.Class, it.ID, o.To))
	}
}

// SFTBurn destroys Amount of the sender's id ID of Class. Fields: digest
// Class, u64 ID, u64 Amount. Keys: the sender's balance of ID.
type SFTBurn struct {
	// Class is the class's identifier.
	Class crypto.Digest
	// ID is the token id within the class.
	ID uint64
	// Amount is burnt; it must be positive.
	Amount uint64
}

// NewSFTBurn returns an SFTBurn.
func NewSFTBurn(class crypto.Digest, id uint64, amount uint64) *SFTBurn {
	return &SFTBurn{Class: class, ID: id, Amount: amount}
}

// Type implements Op.
func (*SFTBurn) Type() OpType { return OpSFTBurn }
func (o *SFTBurn) appendBody(b []byte) []byte {
	return appendU64(appendU64(append(b, o.Class[:]...), o.ID), o.Amount)
}
func (o *SFTBurn) check(*Params) error { return checkAmount(o.Amount) }
func (o *SFTBurn) declare(tx *Tx, _ *Params, ks *keySet) {
	ks.add(ClassBalanceKey(o.Class, o.ID, tx.Sender))
}

// ---- staking

// Bond moves Amount native tokens of the sender into the bonded stake of
// validator Validator (its committee index) in exchange for shares of it.
// A jailed validator accepts no bonds. Fields: u32 Validator, u64 Amount.
// Keys: the validator, the sender's delegation.
type Bond struct {
	// Validator is the committee index.
	Validator uint32
	// Amount is bonded; it must be positive.
	Amount uint64
}

// NewBond returns a Bond.
func NewBond(validator uint32, amount uint64) *Bond {
	return &Bond{Validator: validator, Amount: amount}
}

// Type implements Op.
func (*Bond) Type() OpType { return OpBond }
func (o *Bond) appendBody(b []byte) []byte {
	return appendU64(appendU32(b, o.Validator), o.Amount)
}
func (o *Bond) check(*Params) error { return checkAmount(o.Amount) }
func (o *Bond) declare(tx *Tx, _ *Params, ks *keySet) {
	ks.add(ValidatorKey(o.Validator))
	ks.add(DelegationKey(o.Validator, tx.Sender))
}

// Unbond takes Amount native tokens' worth of the sender's shares of
// validator Validator out of the bonded stake into an unbonding entry,
// locked for Params.UnbondingPeriod of consensus time; Withdraw with the
// Unbond transaction's nonce releases it afterwards. Fields: u32 Validator,
// u64 Amount. Keys: the validator, the sender's delegation, the entry
// (UnbondingKey(sender, nonce)).
type Unbond struct {
	// Validator is the committee index.
	Validator uint32
	// Amount is unbonded; it must be positive and at most the value of
	// the sender's shares.
	Amount uint64
}

// NewUnbond returns an Unbond.
func NewUnbond(validator uint32, amount uint64) *Unbond {
	return &Unbond{Validator: validator, Amount: amount}
}

// Type implements Op.
func (*Unbond) Type() OpType { return OpUnbond }
func (o *Unbond) appendBody(b []byte) []byte {
	return appendU64(appendU32(b, o.Validator), o.Amount)
}
func (o *Unbond) check(*Params) error { return checkAmount(o.Amount) }
func (o *Unbond) declare(tx *Tx, _ *Params, ks *keySet) {
	ks.add(ValidatorKey(o.Validator))
	ks.add(DelegationKey(o.Validator, tx.Sender))
	ks.add(UnbondingKey(tx.Sender, tx.Nonce))
}

// Withdraw credits the sender with a matured unbonding entry: the one its
// Unbond transaction of nonce Unbonding made. Before the entry's release
// time it is rejected ("locked until T"). Fields: u64 Unbonding. Keys: the
// entry.
type Withdraw struct {
	// Unbonding is the nonce of the Unbond transaction.
	Unbonding uint64
}

// NewWithdraw returns a Withdraw.
func NewWithdraw(unbonding uint64) *Withdraw { return &Withdraw{Unbonding: unbonding} }

// Type implements Op.
func (*Withdraw) Type() OpType                 { return OpWithdraw }
func (o *Withdraw) appendBody(b []byte) []byte { return appendU64(b, o.Unbonding) }
func (o *Withdraw) check(*Params) error        { return nil }
func (o *Withdraw) declare(tx *Tx, _ *Params, ks *keySet) {
	ks.add(UnbondingKey(tx.Sender, o.Unbonding))
}

// ---- time locks

// VestingTransfer locks Amount native tokens of the sender in a schedule
// for To, identified by VestingID(sender, nonce). Nothing vests before
// Start+Cliff; from then the vested part is Amount·(t−Start)/Duration
// at consensus time t, all of it from Start+Duration on. Duration 0 is a
// plain time-lock that releases everything at Start. Fields: key To, u64
// Amount, u64 Start, u64 Duration, u64 Cliff (times in consensus
// milliseconds). Keys: the schedule.
type VestingTransfer struct {
	// To is the beneficiary, who claims with VestingClaim.
	To crypto.AccountPublicKey
	// Amount is locked; it must be positive.
	Amount uint64
	// Start is when vesting starts (consensus ms).
	Start uint64
	// Duration is how long vesting lasts (ms); Start+Duration must not
	// overflow.
	Duration uint64
	// Cliff is how long after Start nothing is claimable (ms); at most
	// Duration.
	Cliff uint64
}

// NewVestingTransfer returns a VestingTransfer.
func NewVestingTransfer(to crypto.AccountPublicKey, amount, start, duration, cliff uint64) *VestingTransfer {
	return &VestingTransfer{To: to, Amount: amount, Start: start, Duration: duration, Cliff: cliff}
}

// NewTimeLock returns a VestingTransfer that releases all of amount to to
// at consensus time until.
func NewTimeLock(to crypto.AccountPublicKey, amount, until uint64) *VestingTransfer {
	return &VestingTransfer{To: to, Amount: amount, Start: until}
}

// Type implements Op.
func (*VestingTransfer) Type() OpType { return OpVestingTransfer }
func (o *VestingTransfer) appendBody(b []byte) []byte {
	b = appendU64(append(b, o.To[:]...), o.Amount)
	return appendU64(appendU64(appendU64(b, o.Start), o.Duration), o.Cliff)
}
func (o *VestingTransfer) check(*Params) error {
	if err := checkRecipient(o.To, "recipient"); err != nil {
		return err
	}
	if err := checkAmount(o.Amount); err != nil {
		return err
	}
	if o.Cliff > o.Duration {
		return invalid("cliff %d longer than duration %d", o.Cliff, o.Duration)
	}
	if o.Start+o.Duration < o.Start {
		return invalid("start %d + duration %d overflows", o.Start, o.Duration)
	}
	return nil
}
func (o *VestingTransfer) declare(tx *Tx, _ *Params, ks *keySet) {
	ks.add(VestingKey(VestingID(tx.Sender, tx.Nonce)))
}

// VestingClaim credits the sender, the beneficiary of Schedule, with its
// vested and unclaimed part. Fields: digest Schedule. Keys: the schedule.
type VestingClaim struct {
	// Schedule is the schedule's identifier (VestingID).
	Schedule crypto.Digest
}

// NewVestingClaim returns a VestingClaim.
func NewVestingClaim(schedule crypto.Digest) *VestingClaim { return &VestingClaim{Schedule: schedule} }

// Type implements Op.
func (*VestingClaim) Type() OpType { return OpVestingClaim }
func (o *VestingClaim) appendBody(b []byte) []byte {
	return append(b, o.Schedule[:]...)
}
func (o *VestingClaim) check(*Params) error                  { return nil }
func (o *VestingClaim) declare(_ *Tx, _ *Params, ks *keySet) { ks.add(VestingKey(o.Schedule)) }

// ---- content

// RegisterContent records that content CID (Size bytes, erasure-coded
// into N shards any K of which rebuild it, described by the manifest of
// digest ManifestDigest) is stored, and paid for Retention consensus
// milliseconds from its commit. Signers (a canonical crypto.Bitmap of the
// genesis committee) and Signature (their 48-byte aggregate BLS signature
// of AvailabilityStatement for the chain and Epoch) must carry a quorum of
// the committee's stake; they are a witness the sender's signature does
// not cover (the certificate proves itself), so a client signs the
// registration before the node that stores the content has the
// certificate. The CID has ContentManifestCodec and digest ManifestDigest;
// 1 <= K <= N, N <= MaxContentExpansion*K and N <= MaxShardsPerValidator
// times the committee size; Retention is 1 ms to Params.MaxContentRetention.
// The fee covers the stored bytes for the retention (ContentMinFee).
// Content is registered once, until it expires. Fields: bytes8 CID, u64
// Size, u16 K, u16 N, digest ManifestDigest, u64 Epoch, u64 Retention, then
// the witness: bytes8 Signers, [48] Signature. Keys: the committee, the
// content (ContentKey(CID)).
type RegisterContent struct {
	// CID is the binary form of a version-1 CID with ContentManifestCodec
	// and a BLAKE3-256 multihash of ManifestDigest.
	CID []byte
	// Size is the content's length in bytes.
	Size uint64
	// K is the number of shards that rebuild the content, 1 to N.
	K uint16
	// N is the number of shards, K to MaxShards.
	N uint16
	// ManifestDigest is the digest of the content's manifest.
	ManifestDigest crypto.Digest
	// Epoch is the committee epoch the signers signed for; it must be
	// Params.CommitteeEpoch, the epoch of the ledger's committee.
	Epoch uint64
	// Retention is how long, in consensus milliseconds from the commit
	// that registers it, the content is paid for; after that it expires
	// and holders delete it (RenewContent extends it).
	Retention uint64
	// Signers marks the validators whose signatures were aggregated
	// (witness: not signed by the sender).
	Signers []byte
	// Signature is the aggregate BLS signature of AvailabilityStatement
	// (witness: not signed by the sender).
	Signature [crypto.BLSSignatureSize]byte
}

// NewRegisterContent returns a RegisterContent of epoch 0 and retention
// DefaultContentRetention (set Epoch and Retention for others); signature
// must be 48 bytes (a longer one is cut, a shorter one padded with zeros,
// and then it does not verify).
func NewRegisterContent(cid []byte, size uint64, k, n uint16, manifest crypto.Digest, signers crypto.Bitmap, signature []byte) *RegisterContent {
	op := &RegisterContent{CID: cid, Size: size, K: k, N: n, ManifestDigest: manifest, Retention: DefaultContentRetention, Signers: signers}
	copy(op.Signature[:], signature)
	return op
}

// Type implements Op.
func (*RegisterContent) Type() OpType { return OpRegisterContent }
func (o *RegisterContent) appendSignedBody(b []byte) []byte {
	b = appendBytes8(b, o.CID)
	b = appendU64(b, o.Size)
	b = appendU16(appendU16(b, o.K), o.N)
	b = append(b, o.ManifestDigest[:]...)
	return appendU64(appendU64(b, o.Epoch), o.Retention)
}
func (o *RegisterContent) appendBody(b []byte) []byte {
	b = o.appendSignedBody(b)
	b = appendBytes8(b, o.Signers)
	return append(b, o.Signature[:]...)
}
func (o *RegisterContent) check(p *Params) error {
	if err := o.CheckClaim(p); err != nil {
		return err
	}
	if len(o.Signers) == 0 {
		return invalid("no signers")
	}
	return nil
}

// CheckClaim checks o's stateless rules under p but the witness: what a
// node checks of a payer's registration before the certificate exists.
// The error names the rule broken.
func (o *RegisterContent) CheckClaim(p *Params) error {
	if err := checkContentCoding(o.CID, o.K, o.N, o.Retention, p); err != nil {
		return err
	}
	// The CID must name the manifest: a raw CID names the bytes only, and
	// would let whoever knows them register garbage shards first.
	c, _ := parseCID(o.CID)
	if c.Type() != ContentManifestCodec {
		return invalid("content CID codec %#x: want the manifest codec %#x (the CID must commit to the shards)", c.Type(), ContentManifestCodec)
	}
	if dm, err := multihash.Decode(c.Hash()); err != nil || !bytes.Equal(dm.Digest, o.ManifestDigest[:]) {
		return invalid("content CID does not name manifest %x", o.ManifestDigest[:])
	}
	return nil
}
func (o *RegisterContent) declare(_ *Tx, _ *Params, ks *keySet) {
	ks.add(CommitteeKey())
	ks.add(ContentKey(o.CID))
}

// checkContentCoding checks what RegisterContent and RenewContent share:
// the CID's form, the shard counts and the retention.
func checkContentCoding(cid []byte, k, n uint16, retention uint64, p *Params) error {
	if err := CheckContentCID(cid); err != nil {
		return err
	}
	if k == 0 || k > n || n > MaxShards {
		return invalid("shards k=%d n=%d: need 1 <= k <= n <= %d", k, n, MaxShards)
	}
	if uint64(n) > MaxContentExpansion*uint64(k) {
		return invalid("shards k=%d n=%d: n/k above the limit of %d stored bytes per content byte", k, n, MaxContentExpansion)
	}
	if retention == 0 || retention > p.MaxContentRetention {
		return invalid("retention %d ms: need 1 to %d (Params.MaxContentRetention)", retention, p.MaxContentRetention)
	}
	return nil
}

// RenewContent extends the paid retention of registered content by
// Retention consensus milliseconds (from its expiry, or from the commit if
// it expired already; at most Params.MaxContentRetention ahead of the
// commit). Anyone may pay. Size, K and N must be the record's: they price
// the renewal (ContentMinFee) without reading the state. Fields: bytes8
// CID, u64 Size, u16 K, u16 N, u64 Retention. Keys: the content.
type RenewContent struct {
	// CID names registered content.
	CID []byte
	// Size, K and N are the record's.
	Size uint64
	K, N uint16
	// Retention is the extension, in consensus milliseconds.
	Retention uint64
}

// NewRenewContent returns a RenewContent.
func NewRenewContent(cid []byte, size uint64, k, n uint16, retention uint64) *RenewContent {
	return &RenewContent{CID: cid, Size: size, K: k, N: n, Retention: retention}
}

// Type implements Op.
func (*RenewContent) Type() OpType { return OpRenewContent }
func (o *RenewContent) appendBody(b []byte) []byte {
	b = appendBytes8(b, o.CID)
	b = appendU64(b, o.Size)
	b = appendU16(appendU16(b, o.K), o.N)
	return appendU64(b, o.Retention)
}
func (o *RenewContent) check(p *Params) error {
	return checkContentCoding(o.CID, o.K, o.N, o.Retention, p)
}
func (o *RenewContent) declare(_ *Tx, _ *Params, ks *keySet) { ks.add(ContentKey(o.CID)) }

// storedBytes returns Size*N/K rounded up, saturating at the largest
// uint64 (0 for K = 0, which check refuses).
func storedBytes(size uint64, k, n uint16) uint64 {
	if k == 0 {
		return 0
	}
	hi, lo := bits.Mul64(size, uint64(n))
	if hi >= uint64(k) {
		return math.MaxUint64
	}
	q, r := bits.Div64(hi, lo, uint64(k))
	if r != 0 {
		q++ // q < 2^64-1 here: Size*N/K < 2^64 and r > 0
	}
	return q
}

// StoredBytes returns the bytes the network stores for the content,
// Size*N/K rounded up, saturating at the largest uint64.
func (o *RegisterContent) StoredBytes() uint64 { return storedBytes(o.Size, o.K, o.N) }

// ContentMinFee returns the smallest fee of a RegisterContent or
// RenewContent op under p: Params.ContentFee plus Params.ContentBytePrice
// for each stored byte (Size*N/K) and each retention unit begun
// (Params.ContentRetentionUnit), saturating at the largest uint64. Other
// ops: 0.
func ContentMinFee(p *Params, op Op) uint64 {
	var stored, retention uint64
	switch o := op.(type) {
	case *RegisterContent:
		stored, retention = o.StoredBytes(), o.Retention
	case *RenewContent:
		stored, retention = storedBytes(o.Size, o.K, o.N), o.Retention
	default:
		return 0
	}
	unit := max(p.ContentRetentionUnit, 1)
	units := retention / unit
	if retention%unit != 0 {
		units++
	}
	hi, price := bits.Mul64(p.ContentBytePrice, stored)
	hi2, lo := bits.Mul64(price, units)
	sum, carry := bits.Add64(p.ContentFee, lo, 0)
	if hi != 0 || hi2 != 0 || carry != 0 {
		return math.MaxUint64
	}
	return sum
}

// AvailabilityDomain prefixes every availability statement, so that no
// other message a validator signs can be replayed as one.
const AvailabilityDomain = "dagd/contracts/v2/availability"

// AvailabilityStatement returns the canonical bytes validators sign (BLS,
// crypto.BLSSignatureDST) to attest that they store their shards of the
// content on chain chainID in committee epoch epoch: AvailabilityDomain,
// then bytes8 chain id, u64 epoch, bytes8 cid, u64 size, u16 k, u16 n and
// the 32-byte manifest digest. The chain id and epoch make a signature of
// one chain or epoch worthless on another.
func AvailabilityStatement(chainID string, epoch uint64, cid []byte, size uint64, k, n uint16, manifestDigest crypto.Digest) []byte {
	b := append(make([]byte, 0, 160), AvailabilityDomain...)
	b = appendBytes8(b, []byte(chainID))
	b = appendU64(b, epoch)
	b = appendBytes8(b, cid)
	b = appendU64(b, size)
	b = appendU16(appendU16(b, k), n)
	return append(b, manifestDigest[:]...)
}
