package contracts

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/dagd/dagd/crypto"
)

// Seed corpora live in testdata/fuzz/<FuzzName>/. TestWriteSeedCorpus
// rewrites them from the samples below when DAGD_WRITE_CORPUS=1; the f.Add
// calls add the same samples at run time.

// corpusTxs returns encoded transactions of every operation, executable by
// the fuzz fixture's accounts.
func corpusTxs() [][]byte {
	var out [][]byte
	for i, op := range sampleOps() {
		out = append(out, NewSignedTx(accountKey(i%3), testChain, 0, DefaultContentFee, 2_000_000, op).Encode())
	}
	return out
}

func corpusReceipts() [][]byte {
	rc := &Receipt{Tx: digestOf("tx"), Code: CodeOK, Fee: 1000, Events: []Event{
		{Type: "transfer", Attrs: []Attr{{Key: "from", Value: "aa"}, {Key: "amount", Value: "5"}}},
		{Type: "empty"},
	}}
	return [][]byte{
		rc.Encode(),
		(&Receipt{Tx: digestOf("tx"), Code: CodeBadNonce, Reason: "bad nonce: 1, expected 0"}).Encode(),
		(&Receipt{Tx: digestOf("tx"), Code: CodeSoulbound, Fee: 7, Reason: "soulbound"}).Encode(),
	}
}

// corpusValues returns (key, value) pairs of every stored kind.
func corpusValues(t testing.TB) [][2][]byte {
	g, _ := testGenesis(t, 2, 2)
	pk := accountKey(0).Public()
	id := NFTID{Collection: digestOf("c"), Index: 3}
	return [][2][]byte{
		{AccountKey(pk), (&Account{Nonce: 3, Balance: 9}).Encode()},
		{GenesisKey(), (&GenesisRecord{ChainID: testChain, Hash: g.Hash()}).Encode()},
		{CommitteeKey(), g.committee().Encode()},
		{ValidatorKey(1), (&Validator{Operator: pk, Tokens: 10, Shares: 12, Jailed: true, JailedAt: 5, Slashed: 1}).Encode()},
		{EvidenceKey(1), (&EvidenceLog{Digests: []crypto.Digest{{1}, {2}}}).Encode()},
		{DelegationKey(1, pk), EncodeAmount(12)},
		{UnbondingKey(pk, 4), (&Unbonding{Validator: 1, Amount: 5, Release: 99}).Encode()},
		{TokenKey(digestOf("t")), (&Token{Issuer: pk, Decimals: 6, Cap: 100, Supply: 10, Name: "T", Symbol: "T"}).Encode()},
		{BalanceKey(digestOf("t"), pk), EncodeAmount(10)},
		{AllowanceKey(digestOf("t"), pk, pk), EncodeAmount(1)},
		{CollectionKey(id.Collection), (&Collection{Creator: pk, Soulbound: true, Name: "C", Symbol: "C"}).Encode()},
		{NFTKey(id), (&NFT{Owner: pk, Children: 1, Height: 1, Metadata: testCID("m")}).Encode()},
		{NFTKey(id), (&NFT{Attached: true, Parent: id, Metadata: testCID("m")}).Encode()},
		{ClassKey(digestOf("s")), (&Class{Creator: pk, Name: "S", Symbol: "S"}).Encode()},
		{ClassBalanceKey(digestOf("s"), 2, pk), EncodeAmount(4)},
		{VestingKey(digestOf("v")), (&Vesting{Beneficiary: pk, Total: 10, Claimed: 2, Start: 1, Duration: 5, Cliff: 1}).Encode()},
		{ContentKey(testCID("x")), (&Content{Registrant: pk, CID: testCID("x"), Size: 1, K: 1, N: 2, Seq: 3, Time: 4}).Encode()},
	}
}

func corpusGenesis(t testing.TB) [][]byte {
	g, _ := testGenesis(t, 2, 2)
	b, err := g.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return [][]byte{b, []byte(`{"chain_id":"x","accounts":[],"validators":[]}`)}
}

// fuzzBase is a state after genesis, shared by the iterations of a fuzz
// target (each works on a clone).
func fuzzBase(t testing.TB) (*Module, *memStore) {
	g, _ := testGenesis(t, 6, 4)
	m := NewModule(Params{})
	st := newMemStore()
	if err := m.Genesis(st, g); err != nil {
		t.Fatal(err)
	}
	return m, st
}

func FuzzDecodeTx(f *testing.F) {
	for _, b := range corpusTxs() {
		f.Add(b)
	}
	m, base := fuzzBase(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		tx, err := DecodeTx(b)
		if err != nil {
			if tx != nil || !errors.Is(err, ErrMalformed) {
				t.Fatalf("DecodeTx: %v, %v", tx, err)
			}
			return
		}
		if !bytes.Equal(tx.Encode(), b) {
			t.Fatalf("accepted %x, encodes as %x", b, tx.Encode())
		}
		if tx.Digest() != crypto.Hash(b) {
			t.Fatal("digest is not the hash of the bytes")
		}
		// Execute it as a funded sender with a valid envelope, so that the
		// operation itself runs; every rule of fixture.apply must hold.
		fx := &fixture{t: t, m: m, st: base.clone(), env: Env{ChainID: testChain, Seq: 2, Time: 1_000_000}}
		tx.Sender = accountKey(int(b[len(b)-1]) % 6).Public()
		tx.ChainID, tx.Nonce, tx.Expiry = testChain, 0, fx.env.Time
		tx.Fee = max(tx.Fee%(genesisBalance/2), m.MinFee(tx))
		if tx.Op.Type() == OpRegisterContent {
			tx.Fee = max(tx.Fee, DefaultContentFee)
		}
		fx.apply(tx)
	})
}

func FuzzDecodeReceipt(f *testing.F) {
	for _, b := range corpusReceipts() {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		rc, err := DecodeReceipt(b)
		if err != nil {
			if rc != nil || !errors.Is(err, ErrMalformed) {
				t.Fatalf("DecodeReceipt: %v, %v", rc, err)
			}
			return
		}
		if !bytes.Equal(rc.Encode(), b) {
			t.Fatalf("accepted %x, encodes as %x", b, rc.Encode())
		}
	})
}

func FuzzCheckValue(f *testing.F) {
	for _, kv := range corpusValues(f) {
		f.Add(kv[0], kv[1])
	}
	f.Fuzz(func(t *testing.T, key, value []byte) {
		err := CheckValue(key, value)
		if err != nil && !errors.Is(err, ErrMalformed) {
			t.Fatalf("unclassified error %v", err)
		}
	})
}

func FuzzLoadGenesis(f *testing.F) {
	for _, b := range corpusGenesis(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		g, err := LoadGenesis(b)
		if err != nil {
			return
		}
		out, err := g.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		back, err := LoadGenesis(out)
		if err != nil {
			t.Fatalf("canonical form does not load: %v", err)
		}
		if back.Hash() != g.Hash() {
			t.Fatal("hash changes through the canonical form")
		}
	})
}

// TestSeedCorpusValues checks that every corpus value is valid, so the
// fuzzers start from the accepting paths.
func TestSeedCorpusValues(t *testing.T) {
	for _, kv := range corpusValues(t) {
		if err := CheckValue(kv[0], kv[1]); err != nil {
			t.Errorf("%q: %v", kv[0][:1], err)
		}
	}
	for _, b := range corpusReceipts() {
		if _, err := DecodeReceipt(b); err != nil {
			t.Error(err)
		}
	}
	for _, b := range corpusTxs() {
		if _, err := DecodeTx(b); err != nil {
			t.Error(err)
		}
	}
}

func TestCheckValueRejects(t *testing.T) {
	pk := accountKey(0).Public()
	for name, kv := range map[string][2][]byte{
		"empty key":        {nil, EncodeAmount(1)},
		"unknown prefix":   {[]byte("zz"), EncodeAmount(1)},
		"short key":        {AccountKey(pk)[:5], (&Account{Balance: 1}).Encode()},
		"zero account":     {AccountKey(pk), (&Account{}).Encode()},
		"zero amount":      {BalanceKey(digestOf("t"), pk), make([]byte, 8)},
		"trailing":         {BalanceKey(digestOf("t"), pk), append(EncodeAmount(1), 0)},
		"supply over cap":  {TokenKey(digestOf("t")), (&Token{Issuer: pk, Cap: 1, Supply: 2, Name: "T", Symbol: "T"}).Encode()},
		"nft kind":         {NFTKey(NFTID{}), append([]byte{2}, (&NFT{Metadata: testCID("m")}).Encode()[1:]...)},
		"nft height":       {NFTKey(NFTID{}), (&NFT{Height: 1, Metadata: testCID("m")}).Encode()},
		"claimed all":      {VestingKey(digestOf("v")), (&Vesting{Total: 1, Claimed: 1}).Encode()},
		"evidence order":   {EvidenceKey(0), (&EvidenceLog{Digests: []crypto.Digest{{2}, {1}}}).Encode()},
		"evidence repeat":  {EvidenceKey(0), (&EvidenceLog{Digests: []crypto.Digest{{2}, {2}}}).Encode()},
		"empty committee":  {CommitteeKey(), (&Committee{}).Encode()},
		"content shards":   {ContentKey(testCID("x")), (&Content{CID: testCID("x"), K: 3, N: 2}).Encode()},
		"shares no tokens": {ValidatorKey(0), (&Validator{Tokens: 5}).Encode()},
	} {
		if err := CheckValue(kv[0], kv[1]); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestWriteSeedCorpus writes the seed corpora when DAGD_WRITE_CORPUS=1.
func TestWriteSeedCorpus(t *testing.T) {
	if os.Getenv("DAGD_WRITE_CORPUS") != "1" {
		t.Skip("set DAGD_WRITE_CORPUS=1 to rewrite testdata/fuzz")
	}
	write := func(target, name string, args ...[]byte) {
		dir := filepath.Join("testdata", "fuzz", target)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		b.WriteString("go test fuzz v1\n")
		for _, a := range args {
			fmt.Fprintf(&b, "[]byte(%q)\n", a)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for i, b := range corpusTxs() {
		tx, _ := DecodeTx(b)
		write("FuzzDecodeTx", tx.Op.Type().String(), b)
		_ = i
	}
	// Malformed near-misses.
	good := corpusTxs()[0]
	write("FuzzDecodeTx", "trailing-byte", append(bytes.Clone(good), 0))
	write("FuzzDecodeTx", "truncated", good[:len(good)-1])
	for i, b := range corpusReceipts() {
		write("FuzzDecodeReceipt", fmt.Sprint("receipt-", i), b)
	}
	for i, kv := range corpusValues(t) {
		write("FuzzCheckValue", fmt.Sprintf("%c-%d", kv[0][0], i), kv[0], kv[1])
	}
	for i, b := range corpusGenesis(t) {
		write("FuzzLoadGenesis", fmt.Sprint("genesis-", i), b)
	}
}
