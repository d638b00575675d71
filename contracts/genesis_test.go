package contracts

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestGenesisJSON(t *testing.T) {
	g, _ := testGenesis(t, 3, 2)
	// Out of order accounts: the canonical form sorts them.
	g.Accounts[0], g.Accounts[2] = g.Accounts[2], g.Accounts[0]
	b, err := g.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	back, err := LoadGenesis(b)
	if err != nil {
		t.Fatal(err)
	}
	b2, _ := back.MarshalJSON()
	if !bytes.Equal(b, b2) || back.Hash() != g.Hash() {
		t.Fatal("genesis JSON does not round-trip")
	}
	// json.Marshal of a Genesis uses the same form (compacted).
	viaJSON, err := json.Marshal(g)
	if err != nil {
		t.Fatal(err)
	}
	var compact bytes.Buffer
	_ = json.Compact(&compact, b)
	if !bytes.Equal(viaJSON, compact.Bytes()) {
		t.Fatal("json.Marshal differs from MarshalJSON")
	}
	// Whitespace does not matter, the hash is of the canonical form.
	loose, err := LoadGenesis(compact.Bytes())
	if err != nil || loose.Hash() != g.Hash() {
		t.Fatalf("compact form: %v", err)
	}
	if !strings.Contains(string(b), `"balance": "1000000000"`) {
		t.Fatalf("amounts are not decimal strings:\n%s", b)
	}

	bad := map[string]string{
		"unknown field":  strings.Replace(string(b), `"chain_id"`, `"extra": 1, "chain_id"`, 1),
		"trailing":       string(b) + "{}",
		"upper hex":      strings.Replace(string(b), g.Validators[0].Operator.String(), strings.ToUpper(g.Validators[0].Operator.String()), 1),
		"leading zero":   strings.Replace(string(b), `"balance": "1000000000"`, `"balance": "01000000000"`, 1),
		"negative":       strings.Replace(string(b), `"balance": "1000000000"`, `"balance": "-1"`, 1),
		"number":         strings.Replace(string(b), `"balance": "1000000000"`, `"balance": 1000000000`, 1),
		"zero balance":   strings.Replace(string(b), `"balance": "1000000000"`, `"balance": "0"`, 1),
		"overflow":       strings.Replace(string(b), `"balance": "1000000000"`, `"balance": "18446744073709551615"`, 1),
		"zero stake":     strings.Replace(string(b), `"stake": "1000"`, `"stake": "0"`, 1),
		"bad chain":      strings.Replace(string(b), testChain, "bad chain", 1),
		"empty chain":    strings.Replace(string(b), `"`+testChain+`"`, `""`, 1),
		"short key":      strings.Replace(string(b), g.Validators[0].Operator.String(), "abcd", 1),
		"no validators":  `{"chain_id": "x", "accounts": [], "validators": []}`,
		"missing fields": `{"chain_id": "x"}`,
		"not json":       `nope`,
	}
	// A duplicate account.
	dup := *g
	dup.Accounts = append(dup.Accounts, g.Accounts[0])
	db, _ := dup.MarshalJSON()
	bad["duplicate account"] = string(db)
	// A proof of possession of another key.
	pop := *g
	pop.Validators = append([]GenesisValidator(nil), g.Validators...)
	pop.Validators[0].ProofOfPossession = g.Validators[1].ProofOfPossession
	pb, _ := pop.MarshalJSON()
	bad["wrong proof of possession"] = string(pb)
	// A duplicate BLS key.
	dk := *g
	dk.Validators = append([]GenesisValidator(nil), g.Validators...)
	dk.Validators[1] = dk.Validators[0]
	dkb, _ := dk.MarshalJSON()
	bad["duplicate bls key"] = string(dkb)
	for name, s := range bad {
		if _, err := LoadGenesis([]byte(s)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestModuleGenesis(t *testing.T) {
	g, _ := testGenesis(t, 3, 2)
	m := NewModule(Params{})
	st := newMemStore()
	if err := m.Genesis(st, g); err != nil {
		t.Fatal(err)
	}
	if err := m.Genesis(st, g); err == nil {
		t.Fatal("second genesis accepted")
	}
	rec, err := DecodeGenesisRecord(st.m[string(GenesisKey())])
	if err != nil || rec.ChainID != testChain || rec.Hash != g.Hash() {
		t.Fatalf("%+v %v", rec, err)
	}
	c, err := DecodeCommittee(st.m[string(CommitteeKey())])
	if err != nil || len(c.Members) != 2 || c.Members[1].Stake != genesisStake {
		t.Fatalf("%+v %v", c, err)
	}
	if _, err := c.BLSCommittee(); err != nil {
		t.Fatal(err)
	}
	for i, v := range g.Validators {
		val, err := DecodeValidator(st.m[string(ValidatorKey(uint32(i)))])
		if err != nil || val.Tokens != v.Stake || val.Shares != v.Stake || val.Operator != v.Operator {
			t.Fatalf("validator %d: %+v %v", i, val, err)
		}
		d, err := DecodeAmount(st.m[string(DelegationKey(uint32(i), v.Operator))])
		if err != nil || d != v.Stake {
			t.Fatalf("delegation %d: %d %v", i, d, err)
		}
	}
	for _, a := range g.Accounts {
		acct, err := DecodeAccount(st.m[string(AccountKey(a.PublicKey))])
		if err != nil || acct.Balance != a.Balance || acct.Nonce != 0 {
			t.Fatalf("account %+v %v", acct, err)
		}
	}
	if g.TotalSupply() != 3*genesisBalance+2*genesisStake {
		t.Fatalf("supply %d", g.TotalSupply())
	}
	// An invalid genesis writes nothing.
	bad := *g
	bad.ChainID = ""
	st2 := newMemStore()
	if err := m.Genesis(st2, &bad); err == nil || len(st2.m) != 0 {
		t.Fatalf("invalid genesis: %v, %d keys", err, len(st2.m))
	}
}

func TestParams(t *testing.T) {
	var p Params
	if err := p.Validate(); err == nil {
		t.Fatal("zero params validate")
	}
	p.EnsureDefaults()
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	if p.MinFee != DefaultMinFee || p.UnbondingPeriod != DefaultUnbondingPeriod || p.SlashFraction != DefaultSlashFraction ||
		p.MaxBatchSize != DefaultMaxBatchSize || p.MaxNestingDepth != DefaultMaxNestingDepth || p.ContentFee != DefaultContentFee {
		t.Fatalf("defaults %+v", p)
	}
	for _, bad := range []Params{
		{SlashFraction: PartsPerMillion + 1}, {MaxBatchSize: MaxBatchItems + 1}, {MaxBatchSize: -1},
		{MaxNestingDepth: MaxPathLen + 1}, {MaxNestingDepth: -2},
	} {
		q := bad
		q.EnsureDefaults()
		if err := q.Validate(); err == nil {
			t.Errorf("%+v validates", bad)
		}
		// NewModule replaces what Validate refuses by the default.
		got := NewModule(bad).Params()
		if err := got.Validate(); err != nil {
			t.Errorf("NewModule(%+v) kept invalid params: %v", bad, err)
		}
	}
}

func TestQueries(t *testing.T) {
	f := newFixture(t, Params{})
	a, err := ReadAccount(f.st, f.pk(0))
	if err != nil || a.Balance != genesisBalance {
		t.Fatalf("%+v %v", a, err)
	}
	if a, err := ReadAccount(f.st, accountKey(99).Public()); err != nil || a != (Account{}) {
		t.Fatalf("unknown account %+v %v", a, err)
	}
	if v, err := Read(f.st, ValidatorKey(0), DecodeValidator); err != nil || v.Tokens != genesisStake {
		t.Fatalf("%+v %v", v, err)
	}
	if v, err := Read(f.st, ValidatorKey(99), DecodeValidator); err != nil || v != nil {
		t.Fatalf("absent validator %+v %v", v, err)
	}
	if d, err := ReadAmount(f.st, DelegationKey(0, f.pk(0))); err != nil || d != genesisStake {
		t.Fatalf("%d %v", d, err)
	}
	_ = f.st.Set(TokenKey(digestOf("bad")), []byte{1, 2, 3})
	if _, err := Read(f.st, TokenKey(digestOf("bad")), DecodeToken); err == nil {
		t.Fatal("corrupt token read")
	}
	if clip(strings.Repeat("é", MaxReasonLen)) == "" || len(clip(strings.Repeat("é", MaxReasonLen))) > MaxReasonLen {
		t.Fatal("clip")
	}
}
