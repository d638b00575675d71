package contracts_test

import (
	"bytes"
	"fmt"

	"github.com/dagd/dagd/contracts"
	"github.com/dagd/dagd/crypto"
)

// mapStore is the smallest Store: a map.
type mapStore map[string][]byte

func (s mapStore) Get(k []byte) ([]byte, error) { return s[string(k)], nil }
func (s mapStore) Set(k, v []byte) error        { s[string(k)] = bytes.Clone(v); return nil }
func (s mapStore) Delete(k []byte) error        { delete(s, string(k)); return nil }

func key(b byte) *crypto.AccountPrivateKey { return crypto.AccountKeyFromSeed([32]byte{b}) }

func Example() {
	alice, bob := key(1), key(2)
	bls, _ := crypto.BLSKeyFromSeed(bytes.Repeat([]byte{7}, 32))
	v := contracts.GenesisValidator{Stake: 100, Operator: alice.Public()}
	copy(v.BLSPublicKey[:], bls.PublicKey().Bytes())
	copy(v.ProofOfPossession[:], bls.ProofOfPossession())
	g := &contracts.Genesis{
		ChainID:    "dagd-example",
		Accounts:   []contracts.GenesisAccount{{PublicKey: alice.Public(), Balance: 1_000_000}},
		Validators: []contracts.GenesisValidator{v},
	}

	m := contracts.NewModule(contracts.Params{})
	st := mapStore{}
	if err := m.Genesis(st, g); err != nil {
		panic(err)
	}
	env := contracts.Env{ChainID: "dagd-example", Seq: 1, Time: 5_000}

	// Alice pays Bob; the bytes are what a client submits.
	tx := contracts.NewSignedTx(alice, "dagd-example", 0, 1_000, 60_000, contracts.NewTransfer(bob.Public(), 2_500))
	decoded, _ := contracts.DecodeTx(tx.Encode())
	fmt.Println("signature ok:", decoded.VerifySignature())
	for _, k := range m.Keys(decoded) {
		fmt.Printf("key %c...\n", k[0])
	}
	rc, _ := m.Apply(env, st, decoded)
	fmt.Println(rc.Code, rc.Fee, rc.Events[0].Type)

	// Replaying it fails on the nonce and changes nothing.
	rc, _ = m.Apply(env, st, decoded)
	fmt.Println(rc.Code, rc.Fee)

	// A soulbound badge cannot be transferred.
	create := contracts.NewSignedTx(alice, "dagd-example", 1, 1_000, 60_000, contracts.NewSoulboundCollectionCreate("Badges", "BDG"))
	rc, _ = m.Apply(env, st, create)
	badge := contracts.NFTID{Collection: contracts.CollectionID(alice.Public(), 1), Index: 1}
	cid := []byte{0x01, 0x55, 0x1e, 0x20}
	cid = append(cid, make([]byte, 32)...) // a CIDv1, raw codec, BLAKE3 multihash
	issue := contracts.NewSignedTx(alice, "dagd-example", 2, 1_000, 60_000, contracts.NewSoulboundIssue(badge, bob.Public(), cid))
	rc, _ = m.Apply(env, st, issue)
	fmt.Println(rc.Code, rc.Events[0].Type)
	move := contracts.NewSignedTx(bob, "dagd-example", 0, 1_000, 60_000, contracts.NewNFTTransfer(badge, alice.Public()))
	rc, _ = m.Apply(env, st, move)
	fmt.Println(rc.Code, rc.Reason[:10])
	// Output:
	// signature ok: true
	// key a...
	// key a...
	// ok 1000 transfer
	// bad_nonce 0
	// ok soulbound_issue
	// soulbound soulbound:
}
