package loadtest

import (
	"bytes"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/dagd/dagd/contracts"
	"github.com/dagd/dagd/crypto"
)

// memStore is a contracts.Store in a map.
type memStore map[string][]byte

func (m memStore) Get(k []byte) ([]byte, error) { return m[string(k)], nil }
func (m memStore) Set(k, v []byte) error        { m[string(k)] = bytes.Clone(v); return nil }
func (m memStore) Delete(k []byte) error        { delete(m, string(k)); return nil }

// mixedChain returns a module with the given unbonding period over a
// state holding a genesis of n funded accounts and 4 validators, each
// bonded by its own funded operator, and the accounts' keys.
func mixedChain(t *testing.T, n int, unbonding time.Duration) (*contracts.Module, memStore, []*crypto.AccountPrivateKey) {
	t.Helper()
	const balance = 1 << 40
	g := &contracts.Genesis{ChainID: "dagd-test"}
	keys := make([]*crypto.AccountPrivateKey, n)
	for i := range keys {
		keys[i] = crypto.AccountKeyFromSeed(crypto.Hash([]byte("loadtest/mixed-test/account"), []byte(fmt.Sprint(i))))
		g.Accounts = append(g.Accounts, contracts.GenesisAccount{PublicKey: keys[i].Public(), Balance: balance})
	}
	for i := range 4 {
		seed := crypto.Hash([]byte("loadtest/mixed-test/bls"), []byte(fmt.Sprint(i)))
		bk, err := crypto.BLSKeyFromSeed(seed[:])
		if err != nil {
			t.Fatal(err)
		}
		op := crypto.AccountKeyFromSeed(crypto.Hash([]byte("loadtest/mixed-test/operator"), []byte(fmt.Sprint(i))))
		gv := contracts.GenesisValidator{Stake: 1_000_000, Operator: op.Public()}
		copy(gv.BLSPublicKey[:], bk.PublicKey().Bytes())
		copy(gv.ProofOfPossession[:], bk.ProofOfPossession())
		g.Validators = append(g.Validators, gv)
		g.Accounts = append(g.Accounts, contracts.GenesisAccount{PublicKey: gv.Operator, Balance: balance})
	}
	if err := g.Validate(); err != nil {
		t.Fatal(err)
	}
	m := contracts.NewModule(contracts.Params{UnbondingPeriod: uint64(unbonding / time.Millisecond)})
	st := memStore{}
	if err := m.Genesis(st, g); err != nil {
		t.Fatal(err)
	}
	return m, st, keys
}

// runMixedSerially drives w against m and st one transaction at a time,
// each executed and given its receipt before the next is asked for, with
// a consensus clock that advances 5 ms per transaction, until txs
// transactions got a receipt. It returns the receipts by label and code
// and the outcomes Classify did not expect.
func runMixedSerially(t *testing.T, w *Mixed, m *contracts.Module, st memStore, txs int) (map[string]map[string]int, []string) {
	t.Helper()
	byLabel := map[string]map[string]int{}
	var unexpected []string
	now := time.Now()
	for seq := uint64(0); seq < uint64(txs); seq++ {
		b, _ := w.Tx(seq, now, 4)
		if b == nil {
			t.Fatalf("tx %d: no account ready while none is in flight", seq)
		}
		tx, err := contracts.DecodeTx(b)
		if err != nil || !tx.VerifySignature() {
			t.Fatalf("tx %d does not decode or verify: %v", seq, err)
		}
		env := contracts.Env{ChainID: "dagd-test", Seq: seq + 1, Time: uint64(now.Add(time.Duration(seq) * 5 * time.Millisecond).UnixMilli())}
		rc, err := m.Apply(env, st, tx)
		if err != nil {
			t.Fatal(err)
		}
		label, ok := w.Classify(seq, rc.Code.String())
		if byLabel[label] == nil {
			byLabel[label] = map[string]int{}
		}
		byLabel[label][rc.Code.String()]++
		if !ok {
			unexpected = append(unexpected, label+": "+rc.Code.String()+": "+rc.Reason)
		}
		w.Executed(seq, rc.OK(), rc.Code.String())
	}
	return byLabel, unexpected
}

// TestMixedScript runs two cycles of the script for 14 accounts (12 with
// a partner that starts with the same chapter; the other two spend their
// own allowance) straight on the token module: every
// step gets the code it is meant to get, every label appears, and the
// deliberate failures fail with their code.
func TestMixedScript(t *testing.T) {
	if len(mixedChapters) != mixedChapterCount {
		t.Fatalf("%d chapters, mixedChapterCount %d", len(mixedChapters), mixedChapterCount)
	}
	const accounts = 14
	m, st, keys := mixedChain(t, accounts, MixedUnbondingPeriod)
	w, err := NewMixed(MixedOptions{Keys: keys, ChainID: "dagd-test", Validators: 4, UnbondingPeriod: MixedUnbondingPeriod})
	if err != nil {
		t.Fatal(err)
	}
	byLabel, unexpected := runMixedSerially(t, w, m, st, accounts*2*int(mixedCycle))
	if len(unexpected) > 0 {
		t.Errorf("%d unexpected outcomes, first: %v", len(unexpected), unexpected[:min(5, len(unexpected))])
	}
	for _, s := range append(MixedSteps(), transferStep) {
		if n := byLabel[s.Label][s.Expect.String()]; n == 0 {
			t.Errorf("%s: no %s receipt: %v", s.Label, s.Expect, byLabel[s.Label])
		}
		if s.Expect != contracts.CodeOK && byLabel[s.Label][contracts.CodeOK.String()] > 0 {
			t.Errorf("%s: meant to fail with %s, succeeded: %v", s.Label, s.Expect, byLabel[s.Label])
		}
	}
	if dead, _, _ := w.Stats(); dead != 0 {
		t.Errorf("%d accounts retired", dead)
	}
	// The two deliberate failures, and how often: 2 of 68 transactions.
	var failing []string
	for _, s := range MixedSteps() {
		if s.Expect != contracts.CodeOK {
			failing = append(failing, s.Label+"="+s.Expect.String())
		}
	}
	if !slices.Equal(failing, []string{"nft-attach-cycle=cycle", "soulbound-transfer=soulbound"}) || mixedCycle != 68 {
		t.Errorf("deliberate failures %v in a cycle of %d", failing, mixedCycle)
	}
}

// TestMixedLongUnbonding: on a chain whose unbonding period is long, the
// withdrawals are meant to fail with "locked", and do.
func TestMixedLongUnbonding(t *testing.T) {
	m, st, keys := mixedChain(t, 5, contracts.DefaultUnbondingPeriod*time.Millisecond)
	w, err := NewMixed(MixedOptions{Keys: keys, ChainID: "dagd-test", Validators: 4})
	if err != nil {
		t.Fatal(err)
	}
	byLabel, unexpected := runMixedSerially(t, w, m, st, 5*int(mixedCycle))
	if len(unexpected) > 0 {
		t.Errorf("unexpected outcomes: %v", unexpected)
	}
	if byLabel["withdraw"][contracts.CodeLocked.String()] == 0 {
		t.Errorf("withdraw: %v, want locked", byLabel["withdraw"])
	}
}
