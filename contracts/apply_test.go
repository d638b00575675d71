package contracts

import (
	"math"
	"strings"
	"testing"

	"github.com/dagd/dagd/crypto"
)

func TestEnvelopeRejections(t *testing.T) {
	f := newFixture(t, Params{})
	to := f.pk(1)
	op := NewTransfer(to, 5)

	wrongChain := f.tx(0, op)
	wrongChain.ChainID = "other"
	wrongChain.Sign(f.keys[0])
	f.checkRejected(f.apply(wrongChain), CodeWrongChain, "wrong chain")

	expired := f.tx(0, op)
	expired.Expiry = f.env.Time - 1
	expired.Sign(f.keys[0])
	f.checkRejected(f.apply(expired), CodeExpired, "expired")

	// Expiry equal to the consensus time is still valid.
	atExpiry := f.tx(0, op)
	atExpiry.Expiry = f.env.Time
	atExpiry.Sign(f.keys[0])
	if rc := f.apply(atExpiry); !rc.OK() {
		t.Fatalf("tx at its expiry: %s", rc.Reason)
	}

	lowFee := f.tx(0, op)
	lowFee.Fee = DefaultMinFee - 1
	lowFee.Sign(f.keys[0])
	f.checkRejected(f.apply(lowFee), CodeFeeTooLow, "fee too low")

	for _, delta := range []int64{-1, 1, 100} {
		bad := f.tx(0, op)
		bad.Nonce = uint64(int64(bad.Nonce) + delta)
		bad.Sign(f.keys[0])
		f.checkRejected(f.apply(bad), CodeBadNonce, "bad nonce")
	}

	// An account that does not exist cannot pay.
	stranger := accountKey(99)
	tx := NewSignedTx(stranger, testChain, 0, DefaultMinFee, f.env.Time, op)
	f.checkRejected(f.apply(tx), CodeCannotPayFee, "cannot pay fee")

	// Fund the stranger with less than a fee.
	f.mustOK(0, NewTransfer(stranger.Public(), DefaultMinFee-1))
	tx = NewSignedTx(stranger, testChain, 0, DefaultMinFee, f.env.Time, op)
	f.checkRejected(f.apply(tx), CodeCannotPayFee, "cannot pay fee")

	// Exactly the fee: charged, and the transfer itself is rejected.
	f.mustOK(0, NewTransfer(stranger.Public(), 1))
	tx = NewSignedTx(stranger, testChain, 0, DefaultMinFee, f.env.Time, op)
	rc := f.apply(tx)
	f.checkRejected(rc, CodeInsufficientBalance, "insufficient balance")
	if a := f.account(stranger.Public()); a.Balance != 0 || a.Nonce != 1 {
		t.Fatalf("stranger after a charged rejection: %+v", a)
	}

	// The same signed transaction twice: the second has a used nonce.
	ok := f.tx(0, op)
	f.apply(ok)
	f.checkRejected(f.apply(ok), CodeBadNonce, "bad nonce")
}

func TestFeeRules(t *testing.T) {
	f := newFixture(t, Params{MinFee: 10, FeePerByte: 2, ContentFee: 500})
	tx := f.tx(0, NewTransfer(f.pk(1), 1))
	if want := uint64(10 + 2*len(tx.Encode())); f.m.MinFee(tx) != want {
		t.Fatalf("MinFee %d, want %d", f.m.MinFee(tx), want)
	}
	rc := f.apply(tx)
	if !rc.OK() || rc.Fee != tx.Fee {
		t.Fatalf("%+v", rc)
	}
	// A fee above the minimum is charged in full.
	tx = f.tx(0, NewTransfer(f.pk(1), 1))
	tx.Fee += 777
	tx.Sign(f.keys[0])
	before := f.account(f.pk(0)).Balance
	f.apply(tx)
	if got := before - f.account(f.pk(0)).Balance; got != tx.Fee+1 {
		t.Fatalf("charged %d, want %d", got, tx.Fee+1)
	}
	content := f.tx(0, NewRegisterContent(manifestCID(crypto.Digest{}), 1, 1, 1, crypto.Digest{}, crypto.Bitmap{1}, nil))
	if f.m.MinFee(content) < 500 {
		t.Fatalf("content fee %d", f.m.MinFee(content))
	}
	huge := NewModule(Params{FeePerByte: math.MaxUint64})
	if huge.MinFee(tx) != math.MaxUint64 {
		t.Fatal("MinFee does not saturate")
	}
}

func TestNativeTransfer(t *testing.T) {
	f := newFixture(t, Params{})
	a, b := f.pk(0), f.pk(1)
	rc := f.mustOK(0, NewTransfer(b, 300))
	if got := f.account(b).Balance; got != genesisBalance+300 {
		t.Fatalf("recipient %d", got)
	}
	if got := f.account(a); got.Balance != genesisBalance-300-rc.Fee || got.Nonce != 1 {
		t.Fatalf("sender %+v", got)
	}
	if len(rc.Events) != 1 || rc.Events[0].Type != "transfer" {
		t.Fatalf("events %+v", rc.Events)
	}
	// To a new account, and to oneself.
	fresh := accountKey(50).Public()
	f.mustOK(0, NewTransfer(fresh, 7))
	if got := f.account(fresh); got.Balance != 7 || got.Nonce != 0 {
		t.Fatalf("new account %+v", got)
	}
	before := f.account(a).Balance
	rc = f.mustOK(0, NewTransfer(a, 5))
	if f.account(a).Balance != before-rc.Fee {
		t.Fatal("self transfer changed more than the fee")
	}
	f.mustReject(0, NewTransfer(b, 0), CodeInvalid, "zero amount")
	f.mustReject(0, NewTransfer(b, genesisBalance), CodeInsufficientBalance, "insufficient balance")
}

func TestFungibleToken(t *testing.T) {
	f := newFixture(t, Params{})
	issuer, alice, bob, spender := f.pk(0), f.pk(1), f.pk(2), f.pk(3)
	nonce := f.account(issuer).Nonce
	f.mustOK(0, NewTokenCreate("Test Coin", "TC", 6, 1_000))
	tok := TokenID(issuer, nonce)

	f.mustReject(0, NewTokenCreate("", "TC", 6, 1), CodeInvalid, "name")
	f.mustReject(0, NewTokenCreate("Bad\nName", "TC", 6, 1), CodeInvalid, "name")
	f.mustReject(0, NewTokenCreate("Name", "T C", 6, 1), CodeInvalid, "symbol")
	f.mustReject(0, NewTokenCreate("Name", "TC", 19, 1), CodeInvalid, "decimals")
	f.mustReject(0, NewTokenCreate("Name", "TC", 2, 0), CodeInvalid, "cap")

	f.mustReject(1, NewTokenMint(tok, alice, 10), CodeUnauthorized, "only the issuer")
	// Ids appear in reasons as the hex of their bytes, as the CLI prints them.
	f.mustReject(0, NewTokenMint(digestOf("nope"), alice, 10), CodeNotFound, "token "+digestOf("nope").String()+" not found")
	f.mustOK(0, NewTokenMint(tok, alice, 600))
	f.mustReject(0, NewTokenMint(tok, alice, 401), CodeCapExceeded, "cap exceeded")
	f.mustReject(0, NewTokenMint(tok, alice, math.MaxUint64), CodeCapExceeded, "cap exceeded")
	f.mustOK(0, NewTokenMint(tok, bob, 400)) // exactly the cap

	f.mustOK(1, NewTokenTransfer(tok, bob, 100))
	if f.amount(BalanceKey(tok, alice)) != 500 || f.amount(BalanceKey(tok, bob)) != 500 {
		t.Fatal("balances after transfer")
	}
	f.mustReject(1, NewTokenTransfer(tok, bob, 501), CodeInsufficientBalance, "insufficient balance")
	f.mustReject(3, NewTokenTransfer(tok, bob, 1), CodeInsufficientBalance, "insufficient balance")
	f.mustReject(1, NewTokenTransfer(tok, bob, 0), CodeInvalid, "zero amount")

	// Burn lowers the supply; the issuer can then mint again.
	f.mustOK(2, NewTokenBurn(tok, 500))
	if _, ok := f.st.m[string(BalanceKey(tok, bob))]; ok {
		t.Fatal("a zero balance is stored")
	}
	f.mustReject(2, NewTokenBurn(tok, 1), CodeInsufficientBalance, "insufficient balance")
	f.mustOK(0, NewTokenMint(tok, bob, 500))

	// Allowances.
	f.mustReject(1, NewTokenApprove(digestOf("nope"), spender, 5), CodeNotFound, "not found")
	f.mustOK(1, NewTokenApprove(tok, spender, 50))
	f.mustReject(3, NewTokenTransferFrom(tok, alice, bob, 51), CodeAllowanceExceeded, "allowance exceeded")
	f.mustReject(2, NewTokenTransferFrom(tok, alice, bob, 1), CodeAllowanceExceeded, "allowance exceeded") // bob has no allowance
	f.mustOK(3, NewTokenTransferFrom(tok, alice, bob, 30))
	if got := f.amount(AllowanceKey(tok, alice, spender)); got != 20 {
		t.Fatalf("allowance %d", got)
	}
	f.mustReject(3, NewTokenTransferFrom(tok, alice, bob, 21), CodeAllowanceExceeded, "allowance exceeded")
	f.mustOK(3, NewTokenTransferFrom(tok, alice, spender, 20))
	if _, ok := f.st.m[string(AllowanceKey(tok, alice, spender))]; ok {
		t.Fatal("spent allowance is stored")
	}
	// An allowance above the balance: the balance decides.
	f.mustOK(1, NewTokenApprove(tok, spender, 10_000))
	f.mustReject(3, NewTokenTransferFrom(tok, alice, bob, 451), CodeInsufficientBalance, "insufficient balance")
	f.mustOK(1, NewTokenApprove(tok, spender, 0)) // revoke
	f.mustReject(3, NewTokenTransferFrom(tok, alice, bob, 1), CodeAllowanceExceeded, "allowance exceeded")

	var sum uint64
	for i := range 6 {
		sum += f.amount(BalanceKey(tok, f.pk(i)))
	}
	v, _ := f.st.Get(TokenKey(tok))
	token, err := DecodeToken(v)
	if err != nil || token.Supply != sum || token.Supply != 1_000 {
		t.Fatalf("supply %+v, balances %d, %v", token, sum, err)
	}
}

// newCollection creates a collection by account i and returns its id.
func (f *fixture) newCollection(i int, soulbound bool) crypto.Digest {
	f.t.Helper()
	nonce := f.account(f.pk(i)).Nonce
	f.mustOK(i, &CollectionCreate{Name: "Coll", Symbol: "C", Soulbound: soulbound})
	return CollectionID(f.pk(i), nonce)
}

func (f *fixture) nftOf(id NFTID) *NFT {
	f.t.Helper()
	v, _ := f.st.Get(NFTKey(id))
	if v == nil {
		return nil
	}
	n, err := DecodeNFT(v)
	if err != nil {
		f.t.Fatal(err)
	}
	return n
}

func (f *fixture) owner(id NFTID) crypto.AccountPublicKey {
	f.t.Helper()
	o, err := OwnerOf(f.st, id)
	if err != nil {
		f.t.Fatal(err)
	}
	return o
}

func TestNFT(t *testing.T) {
	f := newFixture(t, Params{})
	creator, alice, bob := f.pk(0), f.pk(1), f.pk(2)
	coll := f.newCollection(0, false)
	id := NFTID{Collection: coll, Index: 1}
	meta := testCID("meta")

	f.mustReject(1, NewNFTMint(id, alice, meta), CodeUnauthorized, "only the creator")
	f.mustReject(0, NewNFTMint(NFTID{Collection: digestOf("x")}, alice, meta), CodeNotFound, "collection "+digestOf("x").String()+" not found")
	f.mustReject(0, NewNFTMint(id, alice, []byte("not a cid")), CodeInvalid, "CID")
	f.mustReject(0, NewNFTMint(id, alice, nil), CodeInvalid, "CID")
	f.mustOK(0, NewNFTMint(id, alice, meta))
	f.mustReject(0, NewNFTMint(id, bob, meta), CodeExists, "exists")

	f.mustReject(0, NewNFTTransfer(id, bob), CodeUnauthorized, "belongs to")
	f.mustReject(1, NewNFTTransfer(NFTID{Collection: coll, Index: 2}, bob), CodeNotFound, "not found")
	f.mustOK(1, NewNFTTransfer(id, bob))
	if f.owner(id) != bob {
		t.Fatal("owner after transfer")
	}
	f.mustReject(1, NewNFTBurn(id), CodeUnauthorized, "belongs to")
	f.mustReject(0, NewNFTRevoke(id), CodeUnauthorized, "not soulbound")
	f.mustOK(2, NewNFTBurn(id))
	if f.nftOf(id) != nil {
		t.Fatal("burnt token remains")
	}
	f.mustReject(2, NewNFTBurn(id), CodeNotFound, "not found")
	_ = creator
}

func TestSoulbound(t *testing.T) {
	f := newFixture(t, Params{})
	holder, other := f.pk(1), f.pk(2)
	coll := f.newCollection(0, true)
	badge := NFTID{Collection: coll, Index: 1}
	f.mustReject(1, NewSoulboundIssue(badge, holder, testCID("b")), CodeUnauthorized, "only the creator")
	rc := f.mustOK(0, NewSoulboundIssue(badge, holder, testCID("b")))
	if rc.Events[0].Type != "soulbound_issue" {
		t.Fatalf("event %s", rc.Events[0].Type)
	}
	// Never transferable, not even by the issuer; never attachable.
	f.mustReject(1, NewNFTTransfer(badge, other), CodeSoulbound, "soulbound")
	f.mustReject(0, NewNFTTransfer(badge, other), CodeSoulbound, "soulbound")
	plain := f.newCollection(1, false)
	parent := NFTID{Collection: plain, Index: 1}
	f.mustOK(1, NewNFTMint(parent, holder, testCID("p")))
	f.mustReject(1, NewNFTAttach(badge, []NFTID{parent}), CodeSoulbound, "soulbound")
	child := NFTID{Collection: plain, Index: 2}
	f.mustOK(1, NewNFTMint(child, holder, testCID("c")))
	f.mustReject(1, NewNFTAttach(child, []NFTID{badge}), CodeSoulbound, "soulbound")
	// Revocable by the issuer only.
	f.mustReject(1, NewNFTRevoke(badge), CodeUnauthorized, "only the issuer")
	f.mustReject(2, NewNFTRevoke(badge), CodeUnauthorized, "only the issuer")
	f.mustOK(0, NewNFTRevoke(badge))
	if f.nftOf(badge) != nil {
		t.Fatal("revoked badge remains")
	}
	// Burnable by the holder, not by others.
	badge2 := NFTID{Collection: coll, Index: 2}
	f.mustOK(0, NewSoulboundIssue(badge2, holder, testCID("b2")))
	f.mustReject(2, NewNFTBurn(badge2), CodeUnauthorized, "belongs to")
	f.mustReject(0, NewNFTBurn(badge2), CodeUnauthorized, "belongs to")
	f.mustOK(1, NewNFTBurn(badge2))
}

func TestComposable(t *testing.T) {
	f := newFixture(t, Params{MaxNestingDepth: 3})
	alice, bob := f.pk(1), f.pk(2)
	coll := f.newCollection(0, false)
	tok := func(i uint64) NFTID { return NFTID{Collection: coll, Index: i} }
	for i := uint64(1); i <= 6; i++ {
		f.mustOK(0, NewNFTMint(tok(i), alice, testCID("t")))
	}
	path := func(id NFTID) []NFTID {
		p, err := AncestorPath(f.st, id)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	// 2 under 1, 3 under 2: 1 <- 2 <- 3.
	f.mustOK(1, NewNFTAttach(tok(2), []NFTID{tok(1)}))
	f.mustOK(1, NewNFTAttach(tok(3), append([]NFTID{tok(2)}, path(tok(2))...)))
	if p := path(tok(3)); len(p) != 2 || p[0] != tok(2) || p[1] != tok(1) {
		t.Fatalf("path of 3: %v", p)
	}
	// Cycles: to itself, and the root below its own descendant.
	f.mustReject(1, NewNFTAttach(tok(4), []NFTID{tok(4)}), CodeCycle, "cycle")
	f.mustReject(1, NewNFTAttach(tok(1), append([]NFTID{tok(3)}, path(tok(3))...)), CodeCycle, "cycle")
	// A child already attached cannot be attached elsewhere nor moved alone.
	f.mustReject(1, NewNFTAttach(tok(2), []NFTID{tok(4)}), CodeAttached, "detach it first")
	f.mustReject(1, NewNFTTransfer(tok(3), bob), CodeAttached, "attached")
	f.mustReject(1, NewNFTBurn(tok(3)), CodeAttached, "attached")
	f.mustReject(1, NewNFTBurn(tok(1)), CodeAttached, "children")
	// Stale paths.
	f.mustReject(1, NewNFTAttach(tok(4), []NFTID{tok(3)}), CodeStalePath, "stale path")
	f.mustReject(1, NewNFTAttach(tok(4), []NFTID{tok(3), tok(1)}), CodeStalePath, "stale path")
	f.mustReject(1, NewNFTAttach(tok(4), []NFTID{tok(3), tok(2), tok(1), tok(5)}), CodeInvalid, "nesting limit")
	f.mustReject(1, NewNFTAttach(tok(4), []NFTID{tok(3), tok(2), tok(99)}), CodeStalePath, "not found")
	f.mustReject(1, NewNFTDetach(tok(3), []NFTID{tok(1)}), CodeStalePath, "stale path")
	f.mustReject(1, NewNFTDetach(tok(4), []NFTID{tok(1)}), CodeStalePath, "not attached")
	// Depth: 1 <- 2 <- 3 <- 4 is depth 3 (the limit); a fourth level is not.
	f.mustOK(1, NewNFTAttach(tok(4), append([]NFTID{tok(3)}, path(tok(3))...)))
	f.mustOK(1, NewNFTAttach(tok(6), []NFTID{tok(5)}))
	f.mustReject(1, NewNFTAttach(tok(5), append([]NFTID{tok(3)}, path(tok(3))...)), CodeTooDeep, "too deep")
	// Only the root's owner attaches to or detaches from a tree.
	f.mustOK(0, NewNFTMint(tok(7), bob, testCID("t")))
	f.mustReject(2, NewNFTAttach(tok(7), []NFTID{tok(1)}), CodeUnauthorized, "belongs to")
	f.mustReject(1, NewNFTAttach(tok(7), []NFTID{tok(1)}), CodeUnauthorized, "belongs to")
	f.mustReject(2, NewNFTDetach(tok(2), []NFTID{tok(1)}), CodeUnauthorized, "belongs to")

	// Moving the root moves every descendant, writing one key.
	before := f.st.snapshot()
	f.mustOK(1, NewNFTTransfer(tok(1), bob))
	if changed := diff(before, f.st.snapshot()); len(changed) != 2 { // the root and alice's account
		t.Fatalf("root transfer changed %d keys", len(changed))
	}
	for i := uint64(1); i <= 4; i++ {
		if f.owner(tok(i)) != bob {
			t.Fatalf("token %d not bob's", i)
		}
	}
	f.mustReject(1, NewNFTDetach(tok(4), path(tok(4))), CodeUnauthorized, "belongs to")
	// Bob detaches 3 (with 4 below it): it becomes his root.
	f.mustOK(2, NewNFTDetach(tok(3), path(tok(3))))
	if f.nftOf(tok(3)).Attached || f.owner(tok(4)) != bob || len(path(tok(4))) != 1 {
		t.Fatal("detach")
	}
	if n := f.nftOf(tok(2)); n.Children != 0 || n.Height != 0 {
		t.Fatalf("parent after last child left: %+v", n)
	}
	if n := f.nftOf(tok(1)); n.Children != 1 {
		t.Fatalf("root after detach below: %+v", n)
	}
	f.mustOK(2, NewNFTTransfer(tok(3), alice))
	if f.owner(tok(4)) != alice || f.owner(tok(2)) != bob {
		t.Fatal("owners after moving the detached subtree")
	}
	// Detach and burn leaves.
	f.mustOK(1, NewNFTDetach(tok(4), path(tok(4))))
	f.mustOK(1, NewNFTBurn(tok(4)))
	f.mustOK(1, NewNFTBurn(tok(3)))
}

func TestSemiFungible(t *testing.T) {
	f := newFixture(t, Params{MaxBatchSize: 3})
	creator, alice, bob := f.pk(0), f.pk(1), f.pk(2)
	nonce := f.account(creator).Nonce
	f.mustOK(0, NewSFTCreate("Game Items", "GI"))
	class := ClassID(creator, nonce)
	f.mustReject(0, NewSFTCreate("Game Items", "G I"), CodeInvalid, "symbol")
	f.mustReject(1, NewSFTMint(class, 1, alice, 10), CodeUnauthorized, "only the creator")
	f.mustReject(0, NewSFTMint(digestOf("x"), 1, alice, 10), CodeNotFound, "not found")
	f.mustReject(0, NewSFTMint(class, 1, alice, 0), CodeInvalid, "zero amount")
	for id := uint64(1); id <= 4; id++ {
		f.mustOK(0, NewSFTMint(class, id, alice, 100*id))
	}
	f.mustReject(0, NewSFTMint(class, 1, alice, math.MaxUint64), CodeOverflow, "overflow")
	f.mustOK(1, NewSFTTransfer(class, 1, bob, 40))
	if f.amount(ClassBalanceKey(class, 1, alice)) != 60 || f.amount(ClassBalanceKey(class, 1, bob)) != 40 {
		t.Fatal("balances after transfer")
	}
	f.mustReject(1, NewSFTTransfer(class, 1, bob, 61), CodeInsufficientBalance, "insufficient balance")
	f.mustOK(1, NewSFTBatchTransfer(class, bob, []SFTAmount{{1, 10}, {2, 200}, {4, 1}}))
	if f.amount(ClassBalanceKey(class, 2, alice)) != 0 || f.amount(ClassBalanceKey(class, 4, bob)) != 1 {
		t.Fatal("balances after batch")
	}
	// All or nothing: the last item fails, the first must not move.
	f.mustReject(1, NewSFTBatchTransfer(class, bob, []SFTAmount{{1, 1}, {3, 301}}), CodeInsufficientBalance, "insufficient balance")
	f.mustReject(1, NewSFTBatchTransfer(class, bob, []SFTAmount{{1, 1}, {2, 1}, {3, 1}, {4, 1}}), CodeInvalid, "batch of 4")
	f.mustReject(1, NewSFTBatchTransfer(class, bob, nil), CodeInvalid, "batch of 0")
	f.mustReject(1, NewSFTBatchTransfer(class, bob, []SFTAmount{{3, 1}, {1, 1}}), CodeInvalid, "increasing")
	f.mustReject(1, NewSFTBatchTransfer(class, bob, []SFTAmount{{1, 1}, {1, 1}}), CodeInvalid, "increasing")
	f.mustReject(1, NewSFTBatchTransfer(class, bob, []SFTAmount{{1, 0}}), CodeInvalid, "zero amount")
	f.mustOK(2, NewSFTBurn(class, 1, 50))
	f.mustReject(2, NewSFTBurn(class, 1, 1), CodeInsufficientBalance, "insufficient balance")
}

func (f *fixture) validatorOf(i uint32) *Validator {
	f.t.Helper()
	v, _ := f.st.Get(ValidatorKey(i))
	val, err := DecodeValidator(v)
	if err != nil {
		f.t.Fatal(err)
	}
	return val
}

func TestStaking(t *testing.T) {
	f := newFixture(t, Params{UnbondingPeriod: 10_000})
	del := f.pk(4)
	f.mustReject(4, NewBond(9, 100), CodeNotFound, "validator 9")
	f.mustReject(4, NewBond(1, 0), CodeInvalid, "zero amount")
	f.mustReject(4, NewBond(1, genesisBalance), CodeInsufficientBalance, "insufficient balance")
	f.mustOK(4, NewBond(1, 500))
	if v := f.validatorOf(1); v.Tokens != genesisStake+500 || v.Shares != genesisStake+500 {
		t.Fatalf("validator %+v", v)
	}
	if f.amount(DelegationKey(1, del)) != 500 {
		t.Fatal("delegation")
	}
	f.mustReject(4, NewUnbond(2, 1), CodeNotFound, "no delegation")
	f.mustReject(4, NewUnbond(1, 501), CodeInsufficientBalance, "insufficient bonded stake")
	nonce := f.account(del).Nonce
	rc := f.mustOK(4, NewUnbond(1, 200))
	release := f.env.Time + 10_000
	if !strings.Contains(rc.Events[0].Attrs[len(rc.Events[0].Attrs)-1].Value, dec(release)) {
		t.Fatalf("unbond event %+v", rc.Events)
	}
	f.mustReject(4, NewWithdraw(nonce), CodeLocked, "locked until "+dec(release))
	f.mustReject(4, NewWithdraw(nonce+100), CodeNotFound, "not found")
	f.env.Time = release - 1
	f.mustReject(4, NewWithdraw(nonce), CodeLocked, "locked until")
	f.env.Time = release
	before := f.account(del).Balance
	rc = f.mustOK(4, NewWithdraw(nonce))
	if f.account(del).Balance != before-rc.Fee+200 {
		t.Fatal("withdraw did not credit")
	}
	f.mustReject(4, NewWithdraw(nonce), CodeNotFound, "not found")
	// Unbond the rest exactly: the delegation disappears.
	f.mustOK(4, NewUnbond(1, 300))
	if _, ok := f.st.m[string(DelegationKey(1, del))]; ok {
		t.Fatal("empty delegation is stored")
	}
}

func TestSlashing(t *testing.T) {
	f := newFixture(t, Params{SlashFraction: 100_000}) // 10 %
	del := f.pk(4)
	f.mustOK(4, NewBond(2, 1_000))
	ev := digestOf("equivocation-1")
	slash := func(v uint32, ev crypto.Digest) *Receipt {
		t.Helper()
		before := f.st.snapshot()
		rc, err := f.m.Slash(f.env, newCheckStore(t, f.st, SlashKeys(v), "slash"), v, ev)
		if err != nil {
			t.Fatal(err)
		}
		checkReceipt(t, rc)
		if rc.Tx != ev || rc.Fee != 0 {
			t.Fatalf("slash receipt %+v", rc)
		}
		if !rc.OK() && len(diff(before, f.st.snapshot())) != 0 {
			t.Fatal("rejected slash changed the state")
		}
		return rc
	}
	if rc := slash(2, ev); !rc.OK() {
		t.Fatalf("slash: %s", rc.Reason)
	}
	v := f.validatorOf(2)
	if v.Tokens != 1_800 || v.Slashed != 200 || !v.Jailed || v.JailedAt != f.env.Time || v.Shares != 2_000 {
		t.Fatalf("after slash %+v", v)
	}
	// Idempotent per evidence.
	if rc := slash(2, ev); rc.Code != CodeDuplicateEvidence {
		t.Fatalf("duplicate slash: %s", rc.Code)
	}
	if rc := slash(9, ev); rc.Code != CodeNotFound {
		t.Fatalf("unknown validator: %s", rc.Code)
	}
	if rc := slash(2, digestOf("equivocation-2")); !rc.OK() {
		t.Fatal("second evidence")
	}
	if v := f.validatorOf(2); v.Tokens != 1_620 {
		t.Fatalf("after second slash %+v", v)
	}
	// Jailed: no bonds; unbonding pays the slashed value.
	f.mustReject(4, NewBond(2, 10), CodeJailed, "jailed")
	f.mustReject(4, NewUnbond(2, 811), CodeInsufficientBalance, "insufficient bonded stake")
	nonce := f.account(del).Nonce
	f.mustOK(4, NewUnbond(2, 810)) // 1000 shares of 2000 over 1620 tokens
	u, _ := f.st.Get(UnbondingKey(del, nonce))
	entry, err := DecodeUnbonding(u)
	if err != nil || entry.Amount != 810 {
		t.Fatalf("entry %+v %v", entry, err)
	}
	// The operator's remaining shares are worth the rest, including dust.
	op := f.g.Validators[2].Operator
	if f.amount(DelegationKey(2, op)) != 1_000 {
		t.Fatal("operator delegation")
	}
	if v := f.validatorOf(2); v.Tokens != 810 || v.Shares != 1_000 {
		t.Fatalf("validator %+v", v)
	}
}

func TestUnbondRoundingDust(t *testing.T) {
	f := newFixture(t, Params{SlashFraction: 333_333, UnbondingPeriod: 1})
	// Validator 3 is operated by account 3 with 1000 shares; slash it to 667 tokens.
	if rc, err := f.m.Slash(f.env, f.st, 3, digestOf("e")); err != nil || !rc.OK() {
		t.Fatal(rc, err)
	}
	v := f.validatorOf(3)
	if v.Tokens != 667 {
		t.Fatalf("tokens %d", v.Tokens)
	}
	op := 3
	f.mustOK(op, NewUnbond(3, 333)) // 500 shares (ceil of 333·1000/667 = 499.25)
	f.mustOK(op, NewUnbond(3, 334)) // the rest
	if v := f.validatorOf(3); v.Tokens != 0 || v.Shares != 0 {
		t.Fatalf("validator left with %+v", v)
	}
}

func TestVesting(t *testing.T) {
	f := newFixture(t, Params{})
	ben := f.pk(5)
	start := f.env.Time + 1_000
	nonce := f.account(f.pk(0)).Nonce
	f.mustReject(0, NewVestingTransfer(ben, 0, start, 100, 0), CodeInvalid, "zero amount")
	f.mustReject(0, NewVestingTransfer(ben, 10, start, 100, 101), CodeInvalid, "cliff")
	f.mustReject(0, NewVestingTransfer(ben, 10, math.MaxUint64, 1, 0), CodeInvalid, "overflow")
	f.mustReject(0, NewVestingTransfer(ben, genesisBalance, start, 100, 0), CodeInsufficientBalance, "insufficient balance")
	nonce = f.account(f.pk(0)).Nonce
	f.mustOK(0, NewVestingTransfer(ben, 1_000, start, 10_000, 2_000))
	sched := VestingID(f.pk(0), nonce)

	f.mustReject(1, NewVestingClaim(sched), CodeUnauthorized, "vests to")
	f.mustReject(5, NewVestingClaim(digestOf("x")), CodeNotFound, "not found")
	f.mustReject(5, NewVestingClaim(sched), CodeLocked, "locked until "+dec(start+2_000))
	f.env.Time = start + 1_999
	f.mustReject(5, NewVestingClaim(sched), CodeLocked, "locked until")
	f.env.Time = start + 2_500 // 25 %
	bal := f.account(ben).Balance
	rc := f.mustOK(5, NewVestingClaim(sched))
	if got := f.account(ben).Balance - (bal - rc.Fee); got != 250 {
		t.Fatalf("claimed %d, want 250", got)
	}
	f.mustReject(5, NewVestingClaim(sched), CodeLocked, "nothing vested since")
	f.env.Time = start + 10_000
	bal = f.account(ben).Balance
	rc = f.mustOK(5, NewVestingClaim(sched))
	if got := f.account(ben).Balance - (bal - rc.Fee); got != 750 {
		t.Fatalf("claimed %d, want 750", got)
	}
	if _, ok := f.st.m[string(VestingKey(sched))]; ok {
		t.Fatal("exhausted schedule remains")
	}
	f.mustReject(5, NewVestingClaim(sched), CodeNotFound, "not found")

	// A plain time-lock.
	nonce = f.account(f.pk(0)).Nonce
	until := f.env.Time + 500
	f.mustOK(0, NewTimeLock(ben, 77, until))
	lock := VestingID(f.pk(0), nonce)
	f.mustReject(5, NewVestingClaim(lock), CodeLocked, "locked until "+dec(until))
	f.env.Time = until
	f.mustOK(5, NewVestingClaim(lock))
}

func TestVestedCurve(t *testing.T) {
	v := &Vesting{Total: 1_000, Start: 100, Duration: 1_000, Cliff: 200}
	for _, c := range []struct{ t, want uint64 }{
		{0, 0}, {99, 0}, {100, 0}, {299, 0}, {300, 200}, {600, 500}, {1_099, 999}, {1_100, 1_000}, {math.MaxUint64, 1_000},
	} {
		if got := v.Vested(c.t); got != c.want {
			t.Errorf("Vested(%d) = %d, want %d", c.t, got, c.want)
		}
	}
	big := &Vesting{Total: math.MaxUint64, Start: 0, Duration: math.MaxUint64 - 1}
	if got := big.Vested(math.MaxUint64 / 2); got < math.MaxUint64/2-1 || got > math.MaxUint64/2+1 {
		t.Errorf("large vesting: %d", got)
	}
}
