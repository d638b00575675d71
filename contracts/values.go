package contracts

import (
	"bytes"
	"fmt"

	"github.com/dagd/dagd/crypto"
)

// Stored values. Each has a canonical binary encoding built like the
// transaction's (see the codec comment in codec.go), and a strict decoder:
// values come back from disk and from state-sync peers. A value that would
// be all zeros (a zero balance, an account never used) is not stored: the
// key is deleted instead, and an absent key reads as zero, so no present
// value is ever empty.

// MaxEvidence bounds the evidence digests recorded against one validator
// (EvidenceLog). A Slash beyond it is rejected.
const MaxEvidence = 1024

// Account is the value under AccountKey: the next nonce and the native
// balance. Encoded as u64 Nonce, u64 Balance.
type Account struct {
	// Nonce is the nonce the account's next transaction must carry.
	Nonce uint64
	// Balance is the native balance.
	Balance uint64
}

// Encode returns the canonical encoding of a.
func (a *Account) Encode() []byte {
	return appendU64(appendU64(make([]byte, 0, 16), a.Nonce), a.Balance)
}

// DecodeAccount decodes an Account; the all-zero account is never stored
// and is refused.
func DecodeAccount(b []byte) (*Account, error) {
	r := &reader{b: b}
	a := &Account{Nonce: r.u64("nonce"), Balance: r.u64("balance")}
	if r.err == nil && a.Nonce == 0 && a.Balance == 0 {
		r.fail("empty account is stored as absent")
	}
	if err := r.done("account"); err != nil {
		return nil, err
	}
	return a, nil
}

// EncodeAmount is the encoding of the balances, allowances and delegation
// shares stored under BalanceKey, AllowanceKey, ClassBalanceKey and
// DelegationKey: a u64, never zero (zero is stored as absent).
func EncodeAmount(v uint64) []byte { return appendU64(make([]byte, 0, 8), v) }

// DecodeAmount decodes an amount; zero is refused.
func DecodeAmount(b []byte) (uint64, error) {
	r := &reader{b: b}
	v := r.u64("amount")
	if r.err == nil && v == 0 {
		r.fail("zero amount is stored as absent")
	}
	if err := r.done("amount"); err != nil {
		return 0, err
	}
	return v, nil
}

// Token is the value under TokenKey: a fungible token. Encoded as key
// Issuer, u8 Decimals, u64 Cap, u64 Supply, bytes8 Name, bytes8 Symbol.
type Token struct {
	// Issuer created the token and alone mints it.
	Issuer crypto.AccountPublicKey
	// Decimals is for display.
	Decimals uint8
	// Cap bounds Supply.
	Cap uint64
	// Supply is the amount in existence (minted minus burnt).
	Supply uint64
	// Name is the token's name.
	Name string
	// Symbol is the token's ticker.
	Symbol string
}

// Encode returns the canonical encoding of t.
func (t *Token) Encode() []byte {
	b := append(make([]byte, 0, 64+len(t.Name)+len(t.Symbol)), t.Issuer[:]...)
	b = appendU64(appendU64(append(b, t.Decimals), t.Cap), t.Supply)
	return appendString8(appendString8(b, t.Name), t.Symbol)
}

// DecodeToken decodes a Token.
func DecodeToken(b []byte) (*Token, error) {
	r := &reader{b: b}
	t := &Token{Issuer: r.key("issuer"), Decimals: r.u8("decimals"), Cap: r.u64("cap"), Supply: r.u64("supply")}
	t.Name = r.string8("name", 1, MaxNameLen)
	t.Symbol = r.string8("symbol", 1, MaxSymbolLen)
	if r.err == nil && (t.Decimals > MaxDecimals || t.Cap == 0 || t.Supply > t.Cap) {
		r.fail("token decimals %d, cap %d, supply %d out of range", t.Decimals, t.Cap, t.Supply)
	}
	if err := r.done("token"); err != nil {
		return nil, err
	}
	return t, nil
}

// Collection is the value under CollectionKey. Encoded as key Creator, bool
// Soulbound, bytes8 Name, bytes8 Symbol.
type Collection struct {
	// Creator created the collection and alone mints (issues) in it.
	Creator crypto.AccountPublicKey
	// Soulbound makes the collection's tokens non-transferable.
	Soulbound bool
	// Name is the collection's name.
	Name string
	// Symbol is the collection's ticker.
	Symbol string
}

// Encode returns the canonical encoding of c.
func (c *Collection) Encode() []byte {
	b := appendBool(append(make([]byte, 0, 40+len(c.Name)+len(c.Symbol)), c.Creator[:]...), c.Soulbound)
	return appendString8(appendString8(b, c.Name), c.Symbol)
}

// DecodeCollection decodes a Collection.
func DecodeCollection(b []byte) (*Collection, error) {
	r := &reader{b: b}
	c := &Collection{Creator: r.key("creator"), Soulbound: r.boolean("soulbound")}
	c.Name = r.string8("name", 1, MaxNameLen)
	c.Symbol = r.string8("symbol", 1, MaxSymbolLen)
	if err := r.done("collection"); err != nil {
		return nil, err
	}
	return c, nil
}

// NFT is the value under NFTKey. A root token records its Owner; a token
// attached to another records its Parent instead, and its owner is the
// owner of its root. Encoded as u8 0 and key Owner, or u8 1 and NFTID
// Parent; then bool Soulbound, u32 Children, u8 Height, bytes8 Metadata.
type NFT struct {
	// Attached says whether the token has a parent.
	Attached bool
	// Owner owns a root token (zero when Attached).
	Owner crypto.AccountPublicKey
	// Parent is the parent of an attached token (zero when not Attached).
	Parent NFTID
	// Soulbound is copied from the collection at mint.
	Soulbound bool
	// Children counts the tokens attached directly to this one.
	Children uint32
	// Height bounds from above how many levels of tokens hang below this
	// one: it grows on attach and drops to 0 when the last child leaves.
	Height uint8
	// Metadata is the binary CID of the token's metadata.
	Metadata []byte
}

// Encode returns the canonical encoding of n.
func (n *NFT) Encode() []byte {
	b := make([]byte, 0, 56+len(n.Metadata))
	if n.Attached {
		b = appendNFTID(append(b, 1), n.Parent)
	} else {
		b = append(append(b, 0), n.Owner[:]...)
	}
	b = appendU32(appendBool(b, n.Soulbound), n.Children)
	return appendBytes8(append(b, n.Height), n.Metadata)
}

// DecodeNFT decodes an NFT.
func DecodeNFT(b []byte) (*NFT, error) {
	r := &reader{b: b}
	n := &NFT{}
	switch kind := r.u8("kind"); {
	case r.err != nil:
	case kind == 0:
		n.Owner = r.key("owner")
	case kind == 1:
		n.Attached = true
		n.Parent = r.nftID("parent")
	default:
		r.fail("token kind %d, want 0 (owned) or 1 (attached)", kind)
	}
	n.Soulbound = r.boolean("soulbound")
	n.Children = r.u32("children")
	n.Height = r.u8("height")
	n.Metadata = r.bytes8("metadata", 1, MaxCIDSize)
	if r.err == nil && (int(n.Height) > MaxPathLen || (n.Children == 0) != (n.Height == 0)) {
		r.fail("token height %d with %d children", n.Height, n.Children)
	}
	if err := r.done("nft"); err != nil {
		return nil, err
	}
	return n, nil
}

// Class is the value under ClassKey: a semi-fungible class. Encoded as key
// Creator, bytes8 Name, bytes8 Symbol.
type Class struct {
	// Creator created the class and alone mints in it.
	Creator crypto.AccountPublicKey
	// Name is the class's name.
	Name string
	// Symbol is the class's ticker.
	Symbol string
}

// Encode returns the canonical encoding of c.
func (c *Class) Encode() []byte {
	b := append(make([]byte, 0, 40+len(c.Name)+len(c.Symbol)), c.Creator[:]...)
	return appendString8(appendString8(b, c.Name), c.Symbol)
}

// DecodeClass decodes a Class.
func DecodeClass(b []byte) (*Class, error) {
	r := &reader{b: b}
	c := &Class{Creator: r.key("creator")}
	c.Name = r.string8("name", 1, MaxNameLen)
	c.Symbol = r.string8("symbol", 1, MaxSymbolLen)
	if err := r.done("class"); err != nil {
		return nil, err
	}
	return c, nil
}

// Validator is the value under ValidatorKey: a validator's bonded stake
// and standing. Delegators hold Shares of Tokens: a delegation of s shares
// is worth s·Tokens/Shares, so a slash lowers every delegation at once
// without touching them. Encoded as key Operator, u64 Tokens, u64 Shares,
// bool Jailed, u64 JailedAt, u64 Slashed.
type Validator struct {
	// Operator is the account that registered the validator at genesis.
	Operator crypto.AccountPublicKey
	// Tokens is the bonded native stake.
	Tokens uint64
	// Shares is the total of the delegations' shares.
	Shares uint64
	// Jailed is set by a slash; a jailed validator accepts no bonds.
	Jailed bool
	// JailedAt is the consensus time of the last slash.
	JailedAt uint64
	// Slashed is the total stake slashed so far.
	Slashed uint64
}

// Encode returns the canonical encoding of v.
func (v *Validator) Encode() []byte {
	b := append(make([]byte, 0, 65), v.Operator[:]...)
	b = appendBool(appendU64(appendU64(b, v.Tokens), v.Shares), v.Jailed)
	return appendU64(appendU64(b, v.JailedAt), v.Slashed)
}

// DecodeValidator decodes a Validator.
func DecodeValidator(b []byte) (*Validator, error) {
	r := &reader{b: b}
	v := &Validator{Operator: r.key("operator"), Tokens: r.u64("tokens"), Shares: r.u64("shares"),
		Jailed: r.boolean("jailed"), JailedAt: r.u64("jailed at"), Slashed: r.u64("slashed")}
	if r.err == nil && v.Shares == 0 && v.Tokens != 0 {
		r.fail("validator holds %d tokens and no shares", v.Tokens)
	}
	if err := r.done("validator"); err != nil {
		return nil, err
	}
	return v, nil
}

// Unbonding is the value under UnbondingKey: stake on its way out, locked
// until Release. Encoded as u32 Validator, u64 Amount, u64 Release.
type Unbonding struct {
	// Validator is the committee index it was bonded to.
	Validator uint32
	// Amount is the native amount to release.
	Amount uint64
	// Release is the consensus time from which Withdraw may take it.
	Release uint64
}

// Encode returns the canonical encoding of u.
func (u *Unbonding) Encode() []byte {
	return appendU64(appendU64(appendU32(make([]byte, 0, 20), u.Validator), u.Amount), u.Release)
}

// DecodeUnbonding decodes an Unbonding.
func DecodeUnbonding(b []byte) (*Unbonding, error) {
	r := &reader{b: b}
	u := &Unbonding{Validator: r.u32("validator"), Amount: r.u64("amount"), Release: r.u64("release")}
	if r.err == nil && u.Amount == 0 {
		r.fail("zero unbonding amount")
	}
	if err := r.done("unbonding"); err != nil {
		return nil, err
	}
	return u, nil
}

// Vesting is the value under VestingKey: a vesting schedule. Encoded as key
// Beneficiary, u64 Total, u64 Claimed, u64 Start, u64 Duration, u64 Cliff.
type Vesting struct {
	// Beneficiary claims the vested part.
	Beneficiary crypto.AccountPublicKey
	// Total is the amount locked.
	Total uint64
	// Claimed is what has been claimed, below Total (a fully claimed
	// schedule is deleted).
	Claimed uint64
	// Start, Duration and Cliff are those of the VestingTransfer.
	Start, Duration, Cliff uint64
}

// Encode returns the canonical encoding of v.
func (v *Vesting) Encode() []byte {
	b := appendU64(appendU64(append(make([]byte, 0, 72), v.Beneficiary[:]...), v.Total), v.Claimed)
	return appendU64(appendU64(appendU64(b, v.Start), v.Duration), v.Cliff)
}

// DecodeVesting decodes a Vesting.
func DecodeVesting(b []byte) (*Vesting, error) {
	r := &reader{b: b}
	v := &Vesting{Beneficiary: r.key("beneficiary"), Total: r.u64("total"), Claimed: r.u64("claimed"),
		Start: r.u64("start"), Duration: r.u64("duration"), Cliff: r.u64("cliff")}
	if r.err == nil && (v.Claimed >= v.Total || v.Cliff > v.Duration || v.Start+v.Duration < v.Start) {
		r.fail("vesting total %d claimed %d start %d duration %d cliff %d out of range", v.Total, v.Claimed, v.Start, v.Duration, v.Cliff)
	}
	if err := r.done("vesting"); err != nil {
		return nil, err
	}
	return v, nil
}

// Vested returns how much of v has vested at consensus time t.
func (v *Vesting) Vested(t uint64) uint64 {
	switch {
	case t < v.Start || t-v.Start < v.Cliff:
		return 0
	case t-v.Start >= v.Duration:
		return v.Total
	}
	return mulDiv(v.Total, t-v.Start, v.Duration)
}

// Content is the value under ContentKey: registered content. Encoded as
// key Registrant, bytes8 CID, u64 Size, u16 K, u16 N, digest Manifest, u64
// Seq, u64 Time, u64 Expiry.
type Content struct {
	// Registrant sent the RegisterContent transaction.
	Registrant crypto.AccountPublicKey
	// CID is the content's binary CID.
	CID []byte
	// Size is the content's length.
	Size uint64
	// K and N are the erasure-coding parameters.
	K, N uint16
	// Manifest is the manifest's digest.
	Manifest crypto.Digest
	// Seq and Time are the commit's sequence number and consensus time.
	Seq, Time uint64
	// Expiry is the consensus time (milliseconds) until which the content
	// is paid for: after it, holders delete their shards and the CID may
	// be registered again (Expired).
	Expiry uint64
}

// Expired reports whether the content's paid retention is over at
// consensus time now.
func (c *Content) Expired(now uint64) bool { return now > c.Expiry }

// Encode returns the canonical encoding of c.
func (c *Content) Encode() []byte {
	b := appendBytes8(append(make([]byte, 0, 128), c.Registrant[:]...), c.CID)
	b = appendU16(appendU16(appendU64(b, c.Size), c.K), c.N)
	return appendU64(appendU64(appendU64(append(b, c.Manifest[:]...), c.Seq), c.Time), c.Expiry)
}

// DecodeContent decodes a Content.
func DecodeContent(b []byte) (*Content, error) {
	r := &reader{b: b}
	c := &Content{Registrant: r.key("registrant"), CID: r.bytes8("cid", 1, MaxCIDSize), Size: r.u64("size"),
		K: r.u16("k"), N: r.u16("n"), Manifest: r.digest("manifest"), Seq: r.u64("seq"), Time: r.u64("time"), Expiry: r.u64("expiry")}
	if r.err == nil && (c.K == 0 || c.K > c.N || c.N > MaxShards) {
		r.fail("content shards k=%d n=%d out of range", c.K, c.N)
	}
	if err := r.done("content"); err != nil {
		return nil, err
	}
	return c, nil
}

// CommitteeMember is one validator of the Committee. Encoded as [96]
// BLSPublicKey, [48] ProofOfPossession, u64 Stake.
type CommitteeMember struct {
	// BLSPublicKey is the compressed G2 key.
	BLSPublicKey [crypto.BLSPublicKeySize]byte
	// ProofOfPossession is the key's proof of possession.
	ProofOfPossession [crypto.BLSSignatureSize]byte
	// Stake is the validator's voting stake.
	Stake uint64
}

// Committee is the value under CommitteeKey: the genesis validators, in
// committee order, whose stakes weigh availability certificates. Encoded as
// a list (1..MaxValidators) of CommitteeMember.
type Committee struct {
	// Members are the validators; member i is committee index i.
	Members []CommitteeMember
}

const committeeMemberSize = crypto.BLSPublicKeySize + crypto.BLSSignatureSize + 8

// Encode returns the canonical encoding of c.
func (c *Committee) Encode() []byte {
	b := appendU16(make([]byte, 0, 2+len(c.Members)*committeeMemberSize), uint16(len(c.Members)))
	for i := range c.Members {
		m := &c.Members[i]
		b = appendU64(append(append(b, m.BLSPublicKey[:]...), m.ProofOfPossession[:]...), m.Stake)
	}
	return b
}

// DecodeCommittee decodes a Committee. It checks the format only; the
// keys and proofs are checked when a crypto.BLSCommittee is built from it.
func DecodeCommittee(b []byte) (*Committee, error) {
	r := &reader{b: b}
	n := r.count("members", 1, MaxValidators, committeeMemberSize)
	c := &Committee{}
	if r.err == nil {
		c.Members = make([]CommitteeMember, n)
		for i := range c.Members {
			m := &c.Members[i]
			copy(m.BLSPublicKey[:], r.take(crypto.BLSPublicKeySize, "bls key"))
			copy(m.ProofOfPossession[:], r.take(crypto.BLSSignatureSize, "proof of possession"))
			m.Stake = r.u64("stake")
		}
	}
	if err := r.done("committee"); err != nil {
		return nil, err
	}
	return c, nil
}

// EvidenceLog is the value under EvidenceKey: the digests of the evidence
// already applied against a validator, in increasing order. Encoded as a
// list (1..MaxEvidence) of digests.
type EvidenceLog struct {
	// Digests are strictly increasing.
	Digests []crypto.Digest
}

// Encode returns the canonical encoding of l.
func (l *EvidenceLog) Encode() []byte {
	b := appendU16(make([]byte, 0, 2+32*len(l.Digests)), uint16(len(l.Digests)))
	for _, d := range l.Digests {
		b = append(b, d[:]...)
	}
	return b
}

// DecodeEvidenceLog decodes an EvidenceLog.
func DecodeEvidenceLog(b []byte) (*EvidenceLog, error) {
	r := &reader{b: b}
	n := r.count("evidence", 1, MaxEvidence, crypto.DigestSize)
	l := &EvidenceLog{}
	if r.err == nil {
		l.Digests = make([]crypto.Digest, n)
		for i := range l.Digests {
			l.Digests[i] = r.digest("evidence")
			if r.err == nil && i > 0 && bytes.Compare(l.Digests[i-1][:], l.Digests[i][:]) >= 0 {
				r.fail("evidence digests not strictly increasing at %d", i)
			}
		}
	}
	if err := r.done("evidence log"); err != nil {
		return nil, err
	}
	return l, nil
}

// GenesisRecord is the value under GenesisKey: which genesis the state
// started from. Encoded as bytes8 ChainID, digest Hash.
type GenesisRecord struct {
	// ChainID is the genesis's chain identifier.
	ChainID string
	// Hash is Genesis.Hash of the genesis applied.
	Hash crypto.Digest
}

// Encode returns the canonical encoding of g.
func (g *GenesisRecord) Encode() []byte {
	return append(appendString8(make([]byte, 0, 40+len(g.ChainID)), g.ChainID), g.Hash[:]...)
}

// DecodeGenesisRecord decodes a GenesisRecord.
func DecodeGenesisRecord(b []byte) (*GenesisRecord, error) {
	r := &reader{b: b}
	g := &GenesisRecord{ChainID: r.string8("chain id", 1, MaxChainIDLen), Hash: r.digest("hash")}
	if err := r.done("genesis record"); err != nil {
		return nil, err
	}
	return g, nil
}

// describe names a value for errors about corrupt state.
func describe(key []byte) string {
	if len(key) == 0 {
		return "empty key"
	}
	return fmt.Sprintf("key %q/%x", key[0], key[1:])
}

// CheckValue reports whether value is a canonical value for key: the key
// has a known prefix and the right length, and the value decodes with the
// decoder of that prefix and re-encodes to the same bytes. A node can run
// it over state received from a peer.
func CheckValue(key, value []byte) error {
	if len(key) == 0 {
		return fmt.Errorf("contracts: %w: empty key", ErrMalformed)
	}
	want, enc := -1, func() ([]byte, error) { return nil, nil }
	switch key[0] {
	case PrefixAccount:
		want, enc = 33, reencode(value, DecodeAccount)
	case PrefixGenesis:
		want, enc = 1, reencode(value, DecodeGenesisRecord)
	case PrefixCommittee:
		want, enc = 1, reencode(value, DecodeCommittee)
	case PrefixValidator:
		want, enc = 5, reencode(value, DecodeValidator)
	case PrefixEvidence:
		want, enc = 5, reencode(value, DecodeEvidenceLog)
	case PrefixDelegation:
		want, enc = 37, reencodeAmount(value)
	case PrefixUnbonding:
		want, enc = 41, reencode(value, DecodeUnbonding)
	case PrefixToken:
		want, enc = 33, reencode(value, DecodeToken)
	case PrefixBalance:
		want, enc = 65, reencodeAmount(value)
	case PrefixAllowance:
		want, enc = 97, reencodeAmount(value)
	case PrefixCollection:
		want, enc = 33, reencode(value, DecodeCollection)
	case PrefixNFT:
		want, enc = 41, reencode(value, DecodeNFT)
	case PrefixClass:
		want, enc = 33, reencode(value, DecodeClass)
	case PrefixClassBalance:
		want, enc = 73, reencodeAmount(value)
	case PrefixVesting:
		want, enc = 33, reencode(value, DecodeVesting)
	case PrefixContent:
		want, enc = 33, reencode(value, DecodeContent)
	default:
		return fmt.Errorf("contracts: %w: unknown key prefix %q", ErrMalformed, key[0])
	}
	if len(key) != want {
		return fmt.Errorf("contracts: %w: key of prefix %q has %d bytes, want %d", ErrMalformed, key[0], len(key), want)
	}
	b, err := enc()
	if err != nil {
		return err
	}
	if !bytes.Equal(b, value) {
		return fmt.Errorf("contracts: %w: value at %s is not canonical", ErrMalformed, describe(key))
	}
	return nil
}

// encoder is a decoded value.
type encoder interface{ Encode() []byte }

// reencode returns a function that decodes value and encodes it again.
func reencode[T any, PT interface {
	*T
	encoder
}](value []byte, decode func([]byte) (PT, error)) func() ([]byte, error) {
	return func() ([]byte, error) {
		v, err := decode(value)
		if err != nil {
			return nil, err
		}
		return v.Encode(), nil
	}
}

// reencodeAmount is reencode for amounts.
func reencodeAmount(value []byte) func() ([]byte, error) {
	return func() ([]byte, error) {
		v, err := DecodeAmount(value)
		if err != nil {
			return nil, err
		}
		return EncodeAmount(v), nil
	}
}
