package contracts

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"slices"
	"strconv"

	"github.com/dagd/dagd/crypto"
)

// Genesis limits.
const (
	// MaxGenesisSize bounds a genesis file LoadGenesis reads.
	MaxGenesisSize = 64 << 20
	// MaxGenesisAccounts bounds the accounts of a genesis.
	MaxGenesisAccounts = 1 << 18
)

// Genesis is the initial state of a chain: accounts with native balances,
// and the validators of the first committee with their BLS keys, proofs of
// possession and stakes. Validator i of the list is committee index i.
// Each validator's stake is bonded, as shares of the validator, by its
// operator account; it is native supply besides the accounts' balances.
//
// Its file form is canonical JSON (MarshalJSON): two-space indentation,
// the fields in the order below, keys and signatures in lower-case hex,
// amounts as decimal strings (they exceed what JSON numbers carry
// exactly), accounts sorted by public key:
//
//	{
//	  "chain_id": "dagd-devnet",
//	  "accounts": [
//	    {"public_key": "<64 hex>", "balance": "1000000"}
//	  ],
//	  "validators": [
//	    {"bls_public_key": "<192 hex>", "proof_of_possession": "<96 hex>",
//	     "stake": "1000", "operator": "<64 hex>"}
//	  ]
//	}
//
// Hash is BLAKE3 of that form, so every node can check that it starts from
// the same genesis.
type Genesis struct {
	// ChainID is 1..MaxChainIDLen characters of A-Z a-z 0-9 . - _.
	ChainID string
	// Accounts are the initial native balances.
	Accounts []GenesisAccount
	// Validators are the first committee, in committee order.
	Validators []GenesisValidator
}

// GenesisAccount is an account of the genesis.
type GenesisAccount struct {
	// PublicKey is the account's Ed25519 key.
	PublicKey crypto.AccountPublicKey
	// Balance is its native balance, positive.
	Balance uint64
}

// GenesisValidator is a validator of the genesis committee.
type GenesisValidator struct {
	// BLSPublicKey is the compressed BLS12-381 G2 public key.
	BLSPublicKey [crypto.BLSPublicKeySize]byte
	// ProofOfPossession is the key's proof of possession.
	ProofOfPossession [crypto.BLSSignatureSize]byte
	// Stake is the validator's bonded stake and voting weight, positive.
	Stake uint64
	// Operator is the account that owns the bonded stake.
	Operator crypto.AccountPublicKey
}

// checkChainID accepts 1..MaxChainIDLen of A-Z a-z 0-9 . - _.
func checkChainID(s string) error {
	if s == "" || len(s) > MaxChainIDLen {
		return fmt.Errorf("chain id must be 1 to %d characters, got %d", MaxChainIDLen, len(s))
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '.' || c == '-' || c == '_') {
			return fmt.Errorf("chain id contains %q; allowed: A-Z a-z 0-9 . - _", c)
		}
	}
	return nil
}

// Validate checks g: a valid chain id; at most MaxGenesisAccounts
// accounts, each once, each with a positive balance; 1 to MaxValidators
// validators with positive stakes, valid and distinct BLS keys and valid
// proofs of possession; and a total supply (balances and stakes) that fits
// in a uint64.
func (g *Genesis) Validate() error {
	_, err := g.validate()
	return err
}

// validate is Validate; it also returns the committee.
func (g *Genesis) validate() (*crypto.BLSCommittee, error) {
	var errs []error
	if err := checkChainID(g.ChainID); err != nil {
		errs = append(errs, err)
	}
	if len(g.Accounts) > MaxGenesisAccounts {
		errs = append(errs, fmt.Errorf("%d accounts, limit %d", len(g.Accounts), MaxGenesisAccounts))
	}
	var total, carry uint64
	keys := make([]crypto.AccountPublicKey, len(g.Accounts))
	for i, a := range g.Accounts {
		if a.Balance == 0 {
			errs = append(errs, fmt.Errorf("account %s: zero balance", a.PublicKey))
		}
		if err := crypto.CheckAccountPublicKey(a.PublicKey); err != nil {
			errs = append(errs, fmt.Errorf("account %s: %w", a.PublicKey, err))
		}
		keys[i] = a.PublicKey
		var c uint64
		total, c = bits.Add64(total, a.Balance, 0)
		carry |= c
	}
	slices.SortFunc(keys, func(a, b crypto.AccountPublicKey) int { return bytes.Compare(a[:], b[:]) })
	for i := 1; i < len(keys); i++ {
		if keys[i] == keys[i-1] {
			errs = append(errs, fmt.Errorf("account %s appears twice", keys[i]))
		}
	}
	if len(g.Validators) == 0 || len(g.Validators) > MaxValidators {
		errs = append(errs, fmt.Errorf("%d validators; must be 1 to %d", len(g.Validators), MaxValidators))
	}
	for _, v := range g.Validators {
		var c uint64
		total, c = bits.Add64(total, v.Stake, 0)
		carry |= c
	}
	if carry != 0 {
		errs = append(errs, errors.New("total supply exceeds the uint64 range"))
	}
	var committee *crypto.BLSCommittee
	if len(g.Validators) > 0 && len(g.Validators) <= MaxValidators {
		var err error
		if committee, err = g.committee().BLSCommittee(); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("contracts: invalid genesis: %w", err)
	}
	return committee, nil
}

// committee returns the Committee record of g's validators.
func (g *Genesis) committee() *Committee {
	c := &Committee{Members: make([]CommitteeMember, len(g.Validators))}
	for i, v := range g.Validators {
		c.Members[i] = CommitteeMember{BLSPublicKey: v.BLSPublicKey, ProofOfPossession: v.ProofOfPossession, Stake: v.Stake}
	}
	return c
}

// TotalSupply returns the native supply g creates: balances and stakes.
// It saturates at the largest uint64 (Validate refuses such a genesis).
func (g *Genesis) TotalSupply() uint64 {
	var total uint64
	for _, a := range g.Accounts {
		total = satAdd(total, a.Balance)
	}
	for _, v := range g.Validators {
		total = satAdd(total, v.Stake)
	}
	return total
}

// satAdd returns a+b, or the largest uint64 when it overflows.
func satAdd(a, b uint64) uint64 {
	if s, ok := add(a, b); ok {
		return s
	}
	return ^uint64(0)
}

// Genesis writes g into st, which must hold no genesis yet: the
// GenesisRecord, the Committee, each validator's record and its operator's
// delegation, and the accounts. It validates g first (which checks every
// proof of possession) and changes nothing when g is invalid.
func (m *Module) Genesis(st Store, g *Genesis) error {
	if _, err := g.validate(); err != nil {
		return err
	}
	prev, err := st.Get(GenesisKey())
	if err != nil {
		return fmt.Errorf("contracts: genesis: read %s: %w", describe(GenesisKey()), err)
	}
	if len(prev) != 0 {
		return errors.New("contracts: genesis: the state already holds a genesis")
	}
	set := func(k, v []byte) error {
		if err := st.Set(k, v); err != nil {
			return fmt.Errorf("contracts: genesis: write %s: %w", describe(k), err)
		}
		return nil
	}
	rec := &GenesisRecord{ChainID: g.ChainID, Hash: g.Hash()}
	if err := set(GenesisKey(), rec.Encode()); err != nil {
		return err
	}
	if err := set(CommitteeKey(), g.committee().Encode()); err != nil {
		return err
	}
	for i, v := range g.Validators {
		idx := uint32(i)
		val := &Validator{Operator: v.Operator, Tokens: v.Stake, Shares: v.Stake}
		if err := set(ValidatorKey(idx), val.Encode()); err != nil {
			return err
		}
		if err := set(DelegationKey(idx, v.Operator), EncodeAmount(v.Stake)); err != nil {
			return err
		}
	}
	for _, a := range g.sortedAccounts() {
		acct := &Account{Balance: a.Balance}
		if err := set(AccountKey(a.PublicKey), acct.Encode()); err != nil {
			return err
		}
	}
	return nil
}

// sortedAccounts returns g's accounts sorted by public key.
func (g *Genesis) sortedAccounts() []GenesisAccount {
	as := slices.Clone(g.Accounts)
	slices.SortFunc(as, func(a, b GenesisAccount) int { return bytes.Compare(a.PublicKey[:], b.PublicKey[:]) })
	return as
}

// JSON forms.
type genesisJSON struct {
	ChainID    string                 `json:"chain_id"`
	Accounts   []genesisAccountJSON   `json:"accounts"`
	Validators []genesisValidatorJSON `json:"validators"`
}

type genesisAccountJSON struct {
	PublicKey string `json:"public_key"`
	Balance   string `json:"balance"`
}

type genesisValidatorJSON struct {
	BLSPublicKey      string `json:"bls_public_key"`
	ProofOfPossession string `json:"proof_of_possession"`
	Stake             string `json:"stake"`
	Operator          string `json:"operator"`
}

// MarshalJSON returns g's canonical JSON form (see Genesis).
func (g *Genesis) MarshalJSON() ([]byte, error) {
	j := genesisJSON{ChainID: g.ChainID, Accounts: []genesisAccountJSON{}, Validators: []genesisValidatorJSON{}}
	for _, a := range g.sortedAccounts() {
		j.Accounts = append(j.Accounts, genesisAccountJSON{PublicKey: hex.EncodeToString(a.PublicKey[:]), Balance: dec(a.Balance)})
	}
	for _, v := range g.Validators {
		j.Validators = append(j.Validators, genesisValidatorJSON{
			BLSPublicKey:      hex.EncodeToString(v.BLSPublicKey[:]),
			ProofOfPossession: hex.EncodeToString(v.ProofOfPossession[:]),
			Stake:             dec(v.Stake),
			Operator:          hex.EncodeToString(v.Operator[:]),
		})
	}
	return json.MarshalIndent(&j, "", "  ")
}

// UnmarshalJSON decodes the JSON form strictly: no unknown or missing
// fields, lower-case hex of the exact lengths, decimal amounts without
// leading zeros or signs. It does not Validate.
func (g *Genesis) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var j genesisJSON
	if err := dec.Decode(&j); err != nil {
		return fmt.Errorf("contracts: genesis JSON: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("contracts: genesis JSON: data after the object")
	}
	if j.Accounts == nil || j.Validators == nil {
		return errors.New("contracts: genesis JSON: missing accounts or validators")
	}
	if len(j.Accounts) > MaxGenesisAccounts || len(j.Validators) > MaxValidators {
		return fmt.Errorf("contracts: genesis JSON: %d accounts and %d validators, limits %d and %d",
			len(j.Accounts), len(j.Validators), MaxGenesisAccounts, MaxValidators)
	}
	out := Genesis{ChainID: j.ChainID, Accounts: make([]GenesisAccount, len(j.Accounts)), Validators: make([]GenesisValidator, len(j.Validators))}
	for i, a := range j.Accounts {
		acc := &out.Accounts[i]
		if err := parseHex(acc.PublicKey[:], a.PublicKey); err != nil {
			return fmt.Errorf("contracts: genesis JSON: account %d public_key: %w", i, err)
		}
		var err error
		if acc.Balance, err = parseDec(a.Balance); err != nil {
			return fmt.Errorf("contracts: genesis JSON: account %d balance: %w", i, err)
		}
	}
	for i, v := range j.Validators {
		val := &out.Validators[i]
		if err := parseHex(val.BLSPublicKey[:], v.BLSPublicKey); err != nil {
			return fmt.Errorf("contracts: genesis JSON: validator %d bls_public_key: %w", i, err)
		}
		if err := parseHex(val.ProofOfPossession[:], v.ProofOfPossession); err != nil {
			return fmt.Errorf("contracts: genesis JSON: validator %d proof_of_possession: %w", i, err)
		}
		if err := parseHex(val.Operator[:], v.Operator); err != nil {
			return fmt.Errorf("contracts: genesis JSON: validator %d operator: %w", i, err)
		}
		var err error
		if val.Stake, err = parseDec(v.Stake); err != nil {
			return fmt.Errorf("contracts: genesis JSON: validator %d stake: %w", i, err)
		}
	}
	*g = out
	return nil
}

// LoadGenesis decodes a genesis file (at most MaxGenesisSize bytes) and
// validates it.
func LoadGenesis(b []byte) (*Genesis, error) {
	if len(b) > MaxGenesisSize {
		return nil, fmt.Errorf("contracts: genesis of %d bytes, limit %d", len(b), MaxGenesisSize)
	}
	g := &Genesis{}
	if err := g.UnmarshalJSON(b); err != nil {
		return nil, err
	}
	if err := g.Validate(); err != nil {
		return nil, err
	}
	return g, nil
}

// Hash returns BLAKE3-256 of g's canonical JSON form.
func (g *Genesis) Hash() crypto.Digest {
	b, _ := g.MarshalJSON() // cannot fail: strings only
	return crypto.Hash(b)
}

// parseHex decodes exactly len(dst) bytes of lower-case hex.
func parseHex(dst []byte, s string) error {
	if len(s) != 2*len(dst) {
		return fmt.Errorf("want %d hex characters, got %d", 2*len(dst), len(s))
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return fmt.Errorf("character %q is not lower-case hex", c)
		}
	}
	_, err := hex.Decode(dst, []byte(s))
	return err
}

// parseDec decodes a canonical decimal uint64.
func parseDec(s string) (uint64, error) {
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("not a decimal uint64: %q", s)
	}
	if strconv.FormatUint(v, 10) != s {
		return 0, fmt.Errorf("non-canonical decimal %q", s)
	}
	return v, nil
}
