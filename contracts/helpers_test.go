package contracts

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"sort"
	"testing"

	"github.com/dagd/dagd/crypto"
)

// memStore is a map-backed Store for tests.
type memStore struct{ m map[string][]byte }

func newMemStore() *memStore { return &memStore{m: map[string][]byte{}} }

func (s *memStore) Get(key []byte) ([]byte, error) {
	v, ok := s.m[string(key)]
	if !ok {
		return nil, nil
	}
	return bytes.Clone(v), nil
}

func (s *memStore) Set(key, value []byte) error {
	if len(value) == 0 {
		return fmt.Errorf("memStore: empty value for %x", key)
	}
	s.m[string(key)] = bytes.Clone(value)
	return nil
}

func (s *memStore) Delete(key []byte) error {
	delete(s.m, string(key))
	return nil
}

// snapshot copies the contents.
func (s *memStore) snapshot() map[string]string {
	out := make(map[string]string, len(s.m))
	for k, v := range s.m {
		out[k] = string(v)
	}
	return out
}

// clone returns an independent copy.
func (s *memStore) clone() *memStore {
	c := newMemStore()
	for k, v := range s.m {
		c.m[k] = bytes.Clone(v)
	}
	return c
}

// diff returns the keys whose value differs between two snapshots, sorted.
func diff(a, b map[string]string) []string {
	var out []string
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			out = append(out, k)
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// checkStore fails the test on any access to a key outside allowed.
type checkStore struct {
	t       testing.TB
	inner   Store
	allowed map[string]bool
	what    string
}

func newCheckStore(t testing.TB, inner Store, keys [][]byte, what string) *checkStore {
	allowed := make(map[string]bool, len(keys))
	for _, k := range keys {
		allowed[string(k)] = true
	}
	return &checkStore{t: t, inner: inner, allowed: allowed, what: what}
}

func (c *checkStore) check(op string, key []byte) {
	if !c.allowed[string(key)] {
		c.t.Helper()
		c.t.Errorf("%s: %s of undeclared key %q/%x", c.what, op, key[:min(1, len(key))], key[min(1, len(key)):])
	}
}

func (c *checkStore) Get(key []byte) ([]byte, error) { c.check("Get", key); return c.inner.Get(key) }
func (c *checkStore) Set(key, v []byte) error        { c.check("Set", key); return c.inner.Set(key, v) }
func (c *checkStore) Delete(key []byte) error        { c.check("Delete", key); return c.inner.Delete(key) }

// Fixture: a genesis with accounts and validators.

const testChain = "dagd-test"

func accountKey(i int) *crypto.AccountPrivateKey {
	var seed [32]byte
	seed[0], seed[1] = byte(i), byte(i>>8)
	seed[31] = 0xac
	return crypto.AccountKeyFromSeed(seed)
}

func blsKey(t testing.TB, i int) *crypto.BLSPrivateKey {
	t.Helper()
	seed := bytes.Repeat([]byte{byte(i + 1)}, 32)
	k, err := crypto.BLSKeyFromSeed(seed)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

const (
	genesisBalance = 1_000_000_000
	genesisStake   = 1_000
)

// testGenesis has nAccounts accounts (keys accountKey(0..)) and nValidators
// validators operated by accounts 0, 1, ...
func testGenesis(t testing.TB, nAccounts, nValidators int) (*Genesis, []*crypto.BLSPrivateKey) {
	t.Helper()
	g := &Genesis{ChainID: testChain}
	for i := range nAccounts {
		g.Accounts = append(g.Accounts, GenesisAccount{PublicKey: accountKey(i).Public(), Balance: genesisBalance})
	}
	var bls []*crypto.BLSPrivateKey
	for i := range nValidators {
		k := blsKey(t, i)
		bls = append(bls, k)
		v := GenesisValidator{Stake: genesisStake, Operator: accountKey(i % max(1, nAccounts)).Public()}
		copy(v.BLSPublicKey[:], k.PublicKey().Bytes())
		copy(v.ProofOfPossession[:], k.ProofOfPossession())
		g.Validators = append(g.Validators, v)
	}
	return g, bls
}

type fixture struct {
	t     testing.TB
	m     *Module
	st    *memStore
	env   Env
	keys  []*crypto.AccountPrivateKey
	bls   []*crypto.BLSPrivateKey
	g     *Genesis
	burnt uint64 // fees charged
}

func newFixture(t testing.TB, p Params) *fixture {
	t.Helper()
	g, bls := testGenesis(t, 6, 4)
	f := &fixture{t: t, m: NewModule(p), st: newMemStore(), env: Env{ChainID: testChain, Seq: 1, Time: 1_000_000}, bls: bls, g: g}
	for i := range 6 {
		f.keys = append(f.keys, accountKey(i))
	}
	if err := f.m.Genesis(f.st, g); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) pk(i int) crypto.AccountPublicKey { return f.keys[i].Public() }

func (f *fixture) account(pk crypto.AccountPublicKey) Account {
	f.t.Helper()
	v, _ := f.st.Get(AccountKey(pk))
	if v == nil {
		return Account{}
	}
	a, err := DecodeAccount(v)
	if err != nil {
		f.t.Fatal(err)
	}
	return *a
}

func (f *fixture) amount(key []byte) uint64 {
	f.t.Helper()
	v, _ := f.st.Get(key)
	if v == nil {
		return 0
	}
	a, err := DecodeAmount(v)
	if err != nil {
		f.t.Fatal(err)
	}
	return a
}

// tx builds a signed transaction of op by key i with the account's next
// nonce and the minimum fee.
func (f *fixture) tx(i int, op Op) *Tx {
	k := f.keys[i]
	tx := NewTx(testChain, f.account(k.Public()).Nonce, 0, f.env.Time+60_000, op)
	tx.Fee = f.m.MinFee(tx)
	tx.Sign(k)
	return tx
}

// send applies op by key i and checks the receipt's invariants.
func (f *fixture) send(i int, op Op) *Receipt {
	f.t.Helper()
	return f.apply(f.tx(i, op))
}

// mustOK sends op and fails unless it is executed.
func (f *fixture) mustOK(i int, op Op) *Receipt {
	f.t.Helper()
	rc := f.send(i, op)
	if !rc.OK() {
		f.t.Fatalf("%s by %d: %s: %s", op.Type(), i, rc.Code, rc.Reason)
	}
	return rc
}

// mustReject sends op and fails unless it is rejected with code and a
// reason containing reason.
func (f *fixture) mustReject(i int, op Op, code Code, reason string) *Receipt {
	f.t.Helper()
	rc := f.send(i, op)
	f.checkRejected(rc, code, reason)
	return rc
}

func (f *fixture) checkRejected(rc *Receipt, code Code, reason string) {
	f.t.Helper()
	if rc.Code != code {
		f.t.Fatalf("code %s (%q), want %s", rc.Code, rc.Reason, code)
	}
	if !bytes.Contains([]byte(rc.Reason), []byte(reason)) {
		f.t.Fatalf("reason %q does not contain %q", rc.Reason, reason)
	}
}

// apply runs tx through a key-checking store and checks that a rejection
// changed nothing but the fee, that the receipt encodes canonically, and
// that only declared keys changed.
func (f *fixture) apply(tx *Tx) *Receipt {
	f.t.Helper()
	keys := f.m.Keys(tx)
	if !slices.IsSortedFunc(keys, bytes.Compare) || len(slices.CompactFunc(slices.Clone(keys), bytes.Equal)) != len(keys) {
		f.t.Fatalf("Keys not sorted and unique")
	}
	before := f.st.snapshot()
	senderBefore := f.account(tx.Sender)
	rc, err := f.m.Apply(f.env, newCheckStore(f.t, f.st, keys, tx.Op.Type().String()), tx)
	if err != nil {
		f.t.Fatalf("Apply: %v", err)
	}
	after := f.st.snapshot()
	changed := diff(before, after)
	checkReceipt(f.t, rc)
	if rc.Tx != tx.Digest() {
		f.t.Fatal("receipt names another transaction")
	}
	f.burnt += rc.Fee
	switch {
	case rc.OK():
		if rc.Fee != tx.Fee {
			f.t.Fatalf("executed with fee %d, tx fee %d", rc.Fee, tx.Fee)
		}
	case rc.Fee == 0:
		if rc.Code.Charged() {
			f.t.Fatalf("code %s with no fee", rc.Code)
		}
		if len(changed) != 0 {
			f.t.Fatalf("rejected (%s: %s) without fee but changed %d keys", rc.Code, rc.Reason, len(changed))
		}
	default:
		if !rc.Code.Charged() || rc.Fee != tx.Fee {
			f.t.Fatalf("code %s with fee %d (tx fee %d)", rc.Code, rc.Fee, tx.Fee)
		}
		if len(changed) != 1 || changed[0] != string(AccountKey(tx.Sender)) {
			f.t.Fatalf("rejected (%s: %s) but changed %d keys", rc.Code, rc.Reason, len(changed))
		}
		a := f.account(tx.Sender)
		if a.Nonce != senderBefore.Nonce+1 || a.Balance != senderBefore.Balance-tx.Fee {
			f.t.Fatalf("rejected: account %+v -> %+v with fee %d", senderBefore, a, tx.Fee)
		}
	}
	allowed := map[string]bool{}
	for _, k := range keys {
		allowed[string(k)] = true
	}
	for _, k := range changed {
		if !allowed[k] {
			f.t.Fatalf("changed undeclared key %x", k)
		}
	}
	return rc
}

// checkReceipt checks that rc round-trips through its encoding.
func checkReceipt(t testing.TB, rc *Receipt) {
	t.Helper()
	b := rc.Encode()
	back, err := DecodeReceipt(b)
	if err != nil {
		t.Fatalf("receipt does not decode: %v (%+v)", err, rc)
	}
	if !bytes.Equal(back.Encode(), b) {
		t.Fatal("receipt does not re-encode")
	}
	if rc.OK() != (rc.Reason == "") {
		t.Fatalf("code %s with reason %q", rc.Code, rc.Reason)
	}
	if !rc.OK() && len(rc.Events) > 0 {
		t.Fatal("rejection with events")
	}
}

// sortedKeys returns the keys of a snapshot in order.
func sortedKeys(m map[string]string) []string { return slices.Sorted(maps.Keys(m)) }
