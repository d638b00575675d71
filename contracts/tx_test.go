package contracts

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/dagd/dagd/crypto"
	"github.com/ipfs/go-cid"
	"github.com/multiformats/go-multihash"
)

// testCID returns a CIDv1 (raw codec, BLAKE3 multihash) of data.
func testCID(data string) []byte {
	h := crypto.Hash([]byte(data))
	mh, err := multihash.Encode(h[:], multihash.BLAKE3)
	if err != nil {
		panic(err)
	}
	return cid.NewCidV1(cid.Raw, mh).Bytes()
}

// manifestCID returns the CIDv1 (ContentManifestCodec, BLAKE3 multihash)
// of a manifest digest: the CID a RegisterContent for it must carry.
func manifestCID(m crypto.Digest) []byte {
	mh, err := multihash.Encode(m[:], multihash.BLAKE3)
	if err != nil {
		panic(err)
	}
	return cid.NewCidV1(ContentManifestCodec, mh).Bytes()
}

func digestOf(s string) crypto.Digest { return crypto.Hash([]byte(s)) }

// sampleOps returns one operation of every type, with every field set.
func sampleOps() []Op {
	a, b := accountKey(1).Public(), accountKey(2).Public()
	tok, coll := digestOf("token"), digestOf("coll")
	id := NFTID{Collection: coll, Index: 7}
	path := []NFTID{{Collection: coll, Index: 8}, {Collection: coll, Index: 9}}
	return []Op{
		NewTransfer(a, 5),
		NewTokenCreate("Test Token", "TT", 6, 1_000_000),
		NewTokenMint(tok, a, 10),
		NewTokenTransfer(tok, b, 11),
		NewTokenBurn(tok, 12),
		NewTokenApprove(tok, b, 13),
		NewTokenTransferFrom(tok, a, b, 14),
		NewSoulboundCollectionCreate("Badges", "BDG"),
		NewNFTMint(id, a, testCID("meta")),
		NewNFTTransfer(id, b),
		NewNFTBurn(id),
		NewNFTRevoke(id),
		NewNFTAttach(id, path),
		NewNFTDetach(id, path[:1]),
		NewSFTCreate("Items", "ITM"),
		NewSFTMint(coll, 3, a, 15),
		NewSFTTransfer(coll, 3, b, 16),
		NewSFTBatchTransfer(coll, b, []SFTAmount{{ID: 1, Amount: 2}, {ID: 5, Amount: 6}}),
		NewSFTBurn(coll, 3, 17),
		NewBond(2, 18),
		NewUnbond(2, 19),
		NewWithdraw(20),
		NewVestingTransfer(b, 21, 100, 1000, 10),
		NewVestingClaim(digestOf("sched")),
		NewRegisterContent(manifestCID(digestOf("manifest")), 4096, 2, 4, digestOf("manifest"), crypto.Bitmap{0x07}, bytes.Repeat([]byte{0xaa}, 48)),
		NewRenewContent(manifestCID(digestOf("manifest")), 4096, 2, 4, 3600_000),
	}
}

func TestSampleOpsCoverEveryType(t *testing.T) {
	seen := map[OpType]bool{}
	for _, op := range sampleOps() {
		seen[op.Type()] = true
	}
	for _, typ := range OpTypes() {
		if !seen[typ] {
			t.Errorf("no sample of %s", typ)
		}
		back, err := ParseOpType(typ.String())
		if err != nil || back != typ {
			t.Errorf("ParseOpType(%q) = %v, %v", typ.String(), back, err)
		}
	}
	if len(seen) != len(OpTypes()) {
		t.Errorf("%d sample types, %d op types", len(seen), len(OpTypes()))
	}
	if _, err := ParseOpType("nope"); err == nil {
		t.Error("ParseOpType accepted an unknown name")
	}
	if s := OpType(999).String(); s != "op(999)" {
		t.Errorf("unknown op String = %q", s)
	}
}

func TestTxRoundTrip(t *testing.T) {
	k := accountKey(0)
	for _, op := range sampleOps() {
		tx := NewSignedTx(k, testChain, 42, 1234, 99_999, op)
		b := tx.Encode()
		if len(b) > MaxTxSize {
			t.Fatalf("%s: %d bytes", op.Type(), len(b))
		}
		back, err := DecodeTx(b)
		if err != nil {
			t.Fatalf("%s: %v", op.Type(), err)
		}
		if !bytes.Equal(back.Encode(), b) {
			t.Fatalf("%s: re-encoding differs", op.Type())
		}
		if back.Digest() != tx.Digest() || back.Digest() != crypto.Hash(b) {
			t.Fatalf("%s: digest is not BLAKE3 of the bytes", op.Type())
		}
		if back.Sender != k.Public() || back.Nonce != 42 || back.Fee != 1234 || back.Expiry != 99_999 || back.ChainID != testChain {
			t.Fatalf("%s: header changed: %+v", op.Type(), back)
		}
		if !back.VerifySignature() {
			t.Fatalf("%s: signature does not verify after decoding", op.Type())
		}
		// Every proper prefix fails, and so does any extra byte.
		for n := range len(b) {
			if _, err := DecodeTx(b[:n]); !errors.Is(err, ErrMalformed) {
				t.Fatalf("%s: prefix of %d bytes: %v", op.Type(), n, err)
			}
		}
		if _, err := DecodeTx(append(bytes.Clone(b), 0)); !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "trailing") {
			t.Fatalf("%s: trailing byte: %v", op.Type(), err)
		}
	}
}

func TestTxSignature(t *testing.T) {
	k := accountKey(3)
	tx := NewSignedTx(k, testChain, 0, 1000, 10, NewTransfer(accountKey(4).Public(), 1))
	if tx.Sender != k.Public() {
		t.Fatal("Sign did not set the sender")
	}
	msg := tx.SigningBytes()
	if !bytes.HasPrefix(msg, []byte(SigningDomain)) {
		t.Fatal("signing bytes lack the domain")
	}
	if !bytes.Equal(msg[len(SigningDomain):], tx.Encode()[:len(tx.Encode())-crypto.AccountSignatureSize]) {
		t.Fatal("signing bytes are not the encoding without the signature")
	}
	if !crypto.VerifyAccount(tx.Sender, msg, tx.Signature[:]) || !tx.VerifySignature() {
		t.Fatal("signature does not verify")
	}
	valid, all := crypto.VerifyAccountBatch([]crypto.AccountSig{tx.AccountSig()}, 1)
	if !all || !valid[0] {
		t.Fatal("batch verification refuses the signature")
	}
	// Any change of a signed field breaks it.
	for name, mut := range map[string]func(*Tx){
		"chain":  func(x *Tx) { x.ChainID = "other" },
		"nonce":  func(x *Tx) { x.Nonce++ },
		"fee":    func(x *Tx) { x.Fee-- },
		"expiry": func(x *Tx) { x.Expiry++ },
		"op":     func(x *Tx) { x.Op = NewTransfer(accountKey(4).Public(), 2) },
		"sender": func(x *Tx) { x.Sender = accountKey(4).Public() },
		"sig":    func(x *Tx) { x.Signature[0] ^= 1 },
	} {
		c := *tx
		mut(&c)
		if c.VerifySignature() {
			t.Errorf("%s changed and the signature still verifies", name)
		}
	}
	// A signature from another key for this sender fails.
	other := *tx
	copy(other.Signature[:], accountKey(4).Sign(tx.SigningBytes()))
	if other.VerifySignature() {
		t.Error("foreign signature verifies")
	}
}

func TestDecodeTxRejects(t *testing.T) {
	k := accountKey(0)
	good := NewSignedTx(k, testChain, 1, 1000, 5, NewTransfer(k.Public(), 1)).Encode()
	mutate := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	opOff := 1 + 1 + len(testChain) + 32 + 24 // offset of the op type
	cases := map[string][]byte{
		"empty":        nil,
		"version":      mutate(func(b []byte) []byte { b[0] = 2; return b }),
		"chain length": mutate(func(b []byte) []byte { b[1] = MaxChainIDLen + 1; return b }),
		"op zero":      mutate(func(b []byte) []byte { b[opOff], b[opOff+1] = 0, 0; return b }),
		"op unknown":   mutate(func(b []byte) []byte { b[opOff], b[opOff+1] = 0, 200; return b }),
		"too large":    make([]byte, MaxTxSize+1),
	}
	// A boolean other than 0 or 1.
	cc := NewSignedTx(k, testChain, 1, 1000, 5, NewSoulboundCollectionCreate("A", "B")).Encode()
	cc[len(cc)-crypto.AccountSignatureSize-1] = 2
	cases["bool"] = cc
	// A batch count beyond the codec bound, and a count larger than the input.
	bt := NewSignedTx(k, testChain, 1, 1000, 5, NewSFTBatchTransfer(digestOf("c"), k.Public(), []SFTAmount{{1, 1}})).Encode()
	countOff := opOff + 2 + 32 + 32
	bt1 := bytes.Clone(bt)
	bt1[countOff], bt1[countOff+1] = 0x01, 0x01 // 257
	cases["batch count"] = bt1
	bt2 := bytes.Clone(bt)
	bt2[countOff], bt2[countOff+1] = 0, 200
	cases["count beyond input"] = bt2
	// A path count beyond MaxPathLen.
	at := NewSignedTx(k, testChain, 1, 1000, 5, NewNFTAttach(NFTID{}, []NFTID{{}})).Encode()
	at[opOff+2+nftIDSize+1] = MaxPathLen + 1
	cases["path count"] = at
	// A name longer than MaxNameLen.
	long := NewSignedTx(k, testChain, 1, 1000, 5, NewTokenCreate(strings.Repeat("x", MaxNameLen+1), "X", 0, 1)).Encode()
	cases["name length"] = long
	// Metadata above MaxCIDSize.
	mt := NewSignedTx(k, testChain, 1, 1000, 5, NewNFTMint(NFTID{}, k.Public(), make([]byte, MaxCIDSize+1))).Encode()
	cases["metadata length"] = mt
	for name, b := range cases {
		if tx, err := DecodeTx(b); !errors.Is(err, ErrMalformed) || tx != nil {
			t.Errorf("%s: DecodeTx = %v, %v", name, tx, err)
		}
	}
}

func TestKeysSortedAndIncludeSender(t *testing.T) {
	m := NewModule(Params{})
	k := accountKey(0)
	for _, op := range sampleOps() {
		tx := NewSignedTx(k, testChain, 3, 1000, 5, op)
		keys := m.Keys(tx)
		found := false
		for i, key := range keys {
			if bytes.Equal(key, AccountKey(k.Public())) {
				found = true
			}
			if i > 0 && bytes.Compare(keys[i-1], key) >= 0 {
				t.Fatalf("%s: keys not sorted and unique", op.Type())
			}
		}
		if !found {
			t.Fatalf("%s: sender account missing", op.Type())
		}
	}
	// A native transfer to oneself declares one key.
	if keys := m.Keys(NewSignedTx(k, testChain, 0, 1, 1, NewTransfer(k.Public(), 1))); len(keys) != 1 {
		t.Fatalf("self transfer declares %d keys", len(keys))
	}
	// A fungible transfer touches the sender account and two balances, not the token.
	keys := m.Keys(NewSignedTx(k, testChain, 0, 1, 1, NewTokenTransfer(digestOf("t"), accountKey(1).Public(), 1)))
	if len(keys) != 3 {
		t.Fatalf("token transfer declares %d keys", len(keys))
	}
	for _, key := range keys {
		if key[0] == PrefixToken {
			t.Fatal("token transfer declares the token key")
		}
	}
}

func TestNilOpIsChargedAsInvalid(t *testing.T) {
	f := newFixture(t, Params{})
	tx := NewTx(testChain, 0, 1000, f.env.Time, nil)
	tx.Sign(f.keys[0])
	rc, err := f.m.Apply(f.env, f.st, tx)
	if err != nil || rc.Code != CodeInvalid || rc.Fee != 1000 {
		t.Fatalf("nil op: %+v, %v", rc, err)
	}
	if _, err := DecodeTx(tx.Encode()); err == nil {
		t.Fatal("a transaction without operation decodes")
	}
}
