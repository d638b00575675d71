package contracts

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/dagd/dagd/crypto"
)

// world drives random transactions through a fixture: every transaction
// goes through fixture.apply, which fails on a key outside Keys(tx), on a
// rejection that changes more than the fee, and on a receipt that does not
// round-trip. It remembers what was created, so that most operations hit
// existing objects.
type world struct {
	f          *fixture
	r          *rand.Rand
	tokens     []crypto.Digest
	colls      []crypto.Digest
	nfts       []NFTID
	classes    []crypto.Digest
	vestings   []crypto.Digest
	unbondings map[int][]uint64
	evidence   []crypto.Digest
	slashed    uint64
	receipts   *bytes.Buffer
	counts     map[Code]int
	executed   map[OpType]int
}

func newWorld(t testing.TB, seed uint64) *world {
	f := newFixture(t, Params{UnbondingPeriod: 2_000, MaxNestingDepth: 4, MaxBatchSize: 4})
	// Few accounts, so that random senders often own what they act on.
	f.keys = append(f.keys[:3], accountKey(77)) // the last is unfunded
	return &world{
		f: f, r: rand.New(rand.NewPCG(seed, 0x5eed)), unbondings: map[int][]uint64{},
		receipts: &bytes.Buffer{}, counts: map[Code]int{}, executed: map[OpType]int{},
	}
}

func (w *world) n(k int) int { return w.r.IntN(k) }

func (w *world) acct() int { return w.n(len(w.f.keys)) }

func (w *world) pk() crypto.AccountPublicKey {
	if w.n(10) == 0 {
		var pk crypto.AccountPublicKey
		pk[0] = byte(w.n(256))
		return pk
	}
	return w.f.keys[w.acct()].Public()
}

func (w *world) amount() uint64 {
	switch w.n(12) {
	case 0:
		return 0
	case 1:
		return math.MaxUint64
	case 2:
		return uint64(w.r.Int64N(3 * genesisBalance))
	}
	return uint64(1 + w.n(400))
}

func pick[T any](w *world, xs []T, fresh func() T) T {
	if len(xs) == 0 || w.n(8) == 0 {
		return fresh()
	}
	return xs[w.n(len(xs))]
}

func (w *world) digest() crypto.Digest { return digestOf(fmt.Sprint("random", w.n(4))) }
func (w *world) token() crypto.Digest  { return pick(w, w.tokens, w.digest) }
func (w *world) coll() crypto.Digest   { return pick(w, w.colls, w.digest) }
func (w *world) class() crypto.Digest  { return pick(w, w.classes, w.digest) }
func (w *world) nft() NFTID {
	return pick(w, w.nfts, func() NFTID { return NFTID{Collection: w.coll(), Index: uint64(w.n(6))} })
}

func (w *world) name() string {
	if w.n(15) == 0 {
		return "bad\tname"
	}
	return fmt.Sprint("Name ", w.n(100))
}

func (w *world) symbol() string {
	if w.n(15) == 0 {
		return ""
	}
	return fmt.Sprint("S", w.n(100))
}

func (w *world) path(id NFTID) []NFTID {
	p, err := AncestorPath(w.f.st, id)
	if err != nil {
		p = nil
	}
	switch w.n(10) {
	case 0:
		p = append(p, w.nft())
	case 1:
		if len(p) > 0 {
			p = p[:len(p)-1]
		}
	}
	return p
}

// op returns a random operation by account i.
func (w *world) op(i int) Op {
	t := OpTypes()[w.n(len(OpTypes()))]
	for range 3 { // creations are rarer once a few objects exist
		n := map[OpType]int{OpTokenCreate: len(w.tokens), OpCollectionCreate: len(w.colls), OpSFTCreate: len(w.classes)}[t]
		if n < 3 || w.n(4) == 0 {
			break
		}
		t = OpTypes()[w.n(len(OpTypes()))]
	}
	switch t {
	case OpTransfer:
		return NewTransfer(w.pk(), w.amount())
	case OpTokenCreate:
		caps := []uint64{1_000, math.MaxUint64, 0, 50}
		return NewTokenCreate(w.name(), w.symbol(), uint8(w.n(20)), caps[w.n(len(caps))])
	case OpTokenMint:
		return NewTokenMint(w.token(), w.pk(), w.amount())
	case OpTokenTransfer:
		return NewTokenTransfer(w.token(), w.pk(), w.amount())
	case OpTokenBurn:
		return NewTokenBurn(w.token(), w.amount())
	case OpTokenApprove:
		return NewTokenApprove(w.token(), w.pk(), w.amount())
	case OpTokenTransferFrom:
		tok, from := w.token(), w.pk()
		for _, k := range w.f.keys { // prefer an owner who gave an allowance
			for _, s := range w.f.keys {
				if v, _ := w.f.st.Get(AllowanceKey(tok, k.Public(), s.Public())); v != nil && w.n(2) == 0 {
					from = k.Public()
				}
			}
		}
		return NewTokenTransferFrom(tok, from, w.pk(), w.amount())
	case OpCollectionCreate:
		return &CollectionCreate{Name: w.name(), Symbol: w.symbol(), Soulbound: w.n(5) == 0}
	case OpNFTMint:
		meta := testCID(fmt.Sprint(w.n(5)))
		if w.n(15) == 0 {
			meta = []byte("junk")
		}
		return NewNFTMint(NFTID{Collection: w.coll(), Index: uint64(w.n(8))}, w.pk(), meta)
	case OpNFTTransfer:
		return NewNFTTransfer(w.nft(), w.pk())
	case OpNFTBurn:
		return NewNFTBurn(w.nft())
	case OpNFTRevoke:
		return NewNFTRevoke(w.nft())
	case OpNFTAttach:
		child := w.nft()
		var same []NFTID // tokens of the child's owner
		if owner, err := OwnerOf(w.f.st, child); err == nil {
			for _, id := range w.nfts {
				if o, err := OwnerOf(w.f.st, id); err == nil && o == owner {
					same = append(same, id)
				}
			}
		}
		parent := pick(w, same, w.nft)
		return NewNFTAttach(child, append([]NFTID{parent}, w.path(parent)...))
	case OpNFTDetach:
		child := w.nft()
		p := w.path(child)
		if len(p) == 0 {
			p = []NFTID{w.nft()}
		}
		return NewNFTDetach(child, p)
	case OpSFTCreate:
		return NewSFTCreate(w.name(), w.symbol())
	case OpSFTMint:
		return NewSFTMint(w.class(), uint64(w.n(5)), w.pk(), w.amount())
	case OpSFTTransfer:
		return NewSFTTransfer(w.class(), uint64(w.n(5)), w.pk(), w.amount())
	case OpSFTBatchTransfer:
		var items []SFTAmount
		id := uint64(w.n(2))
		for range w.n(6) {
			a := w.amount()
			if w.n(2) == 0 {
				a = uint64(1 + w.n(20))
			}
			items = append(items, SFTAmount{ID: id, Amount: a})
			if w.n(10) == 0 {
				id += uint64(w.n(2)) // sometimes a repeated id
			} else {
				id++
			}
		}
		return NewSFTBatchTransfer(w.class(), w.pk(), items)
	case OpSFTBurn:
		return NewSFTBurn(w.class(), uint64(w.n(5)), w.amount())
	case OpBond:
		return NewBond(uint32(w.n(5)), w.amount())
	case OpUnbond:
		return NewUnbond(uint32(w.n(5)), uint64(1+w.n(600)))
	case OpWithdraw:
		return NewWithdraw(pick(w, w.unbondings[i], func() uint64 { return uint64(w.n(50)) }))
	case OpVestingTransfer:
		start := w.f.env.Time - 2_000 + uint64(w.n(4_000))
		d := uint64(w.n(5_000))
		c := uint64(w.n(int(d) + 2))
		return NewVestingTransfer(w.pk(), w.amount(), start, d, c)
	case OpVestingClaim:
		return NewVestingClaim(pick(w, w.vestings, w.digest))
	case OpRegisterContent:
		m := digestOf(fmt.Sprint("content", w.n(3)))
		c := manifestCID(m)
		signers := []int{0, 1, 2}
		if w.n(3) == 0 {
			signers = []int{1, 3}
		}
		size := uint64(w.n(3))
		bm, sig := certify(w.f.t, w.f.bls, signers, c, size, 2, 4, m)
		return NewRegisterContent(c, size, 2, 4, m, bm, sig)
	case OpRenewContent:
		c := manifestCID(digestOf(fmt.Sprint("content", w.n(3))))
		return NewRenewContent(c, uint64(w.n(3)), 2, 4, 1+uint64(w.n(1000)))
	default:
		panic(fmt.Sprintf("no generator for %s", t))
	}
}

// index returns the fixture index of pk, or -1.
func (w *world) index(pk crypto.AccountPublicKey) int {
	for i, k := range w.f.keys {
		if k.Public() == pk {
			return i
		}
	}
	return -1
}

// actor returns the account that may perform op, when one can be found,
// else -1.
func (w *world) actor(op Op) int {
	st := w.f.st
	get := func(key []byte) []byte { v, _ := st.Get(key); return v }
	switch o := op.(type) {
	case *TokenMint:
		if t, err := DecodeToken(get(TokenKey(o.Token))); err == nil {
			return w.index(t.Issuer)
		}
	case *NFTMint:
		if c, err := DecodeCollection(get(CollectionKey(o.ID.Collection))); err == nil {
			return w.index(c.Creator)
		}
	case *NFTRevoke:
		if c, err := DecodeCollection(get(CollectionKey(o.ID.Collection))); err == nil {
			return w.index(c.Creator)
		}
	case *NFTTransfer, *NFTBurn, *NFTAttach, *NFTDetach:
		var id NFTID
		switch o := o.(type) {
		case *NFTTransfer:
			id = o.ID
		case *NFTBurn:
			id = o.ID
		case *NFTAttach:
			id = o.Child
		case *NFTDetach:
			id = o.Child
		}
		if owner, err := OwnerOf(st, id); err == nil {
			return w.index(owner)
		}
	case *SFTMint:
		if c, err := DecodeClass(get(ClassKey(o.Class))); err == nil {
			return w.index(c.Creator)
		}
	case *TokenTransfer:
		return w.holder(func(pk crypto.AccountPublicKey) []byte { return BalanceKey(o.Token, pk) })
	case *TokenBurn:
		return w.holder(func(pk crypto.AccountPublicKey) []byte { return BalanceKey(o.Token, pk) })
	case *TokenTransferFrom:
		return w.holder(func(pk crypto.AccountPublicKey) []byte { return AllowanceKey(o.Token, o.From, pk) })
	case *SFTTransfer:
		return w.holder(func(pk crypto.AccountPublicKey) []byte { return ClassBalanceKey(o.Class, o.ID, pk) })
	case *SFTBurn:
		return w.holder(func(pk crypto.AccountPublicKey) []byte { return ClassBalanceKey(o.Class, o.ID, pk) })
	case *SFTBatchTransfer:
		if len(o.Items) > 0 {
			return w.holder(func(pk crypto.AccountPublicKey) []byte { return ClassBalanceKey(o.Class, o.Items[0].ID, pk) })
		}
	case *VestingClaim:
		if v, err := DecodeVesting(get(VestingKey(o.Schedule))); err == nil {
			return w.index(v.Beneficiary)
		}
	}
	return -1
}

// holder returns an account whose key(pk) holds something, or -1.
func (w *world) holder(key func(crypto.AccountPublicKey) []byte) int {
	var hs []int
	for i, k := range w.f.keys {
		if v, _ := w.f.st.Get(key(k.Public())); v != nil {
			hs = append(hs, i)
		}
	}
	if len(hs) == 0 {
		return -1
	}
	return hs[w.n(len(hs))]
}

// step runs one random transaction or slash.
func (w *world) step() {
	f := w.f
	f.env.Seq++
	f.env.Time += uint64(w.n(400))
	if w.n(40) == 0 {
		v := uint32(w.n(5))
		ev := pick(w, w.evidence, func() crypto.Digest { return digestOf(fmt.Sprint("ev", w.r.Uint64())) })
		rc, err := f.m.Slash(f.env, newCheckStore(f.t, f.st, SlashKeys(v), "slash"), v, ev)
		if err != nil {
			f.t.Fatal(err)
		}
		checkReceipt(f.t, rc)
		if rc.OK() {
			w.evidence = append(w.evidence, ev)
		}
		w.receipts.Write(rc.Encode())
		return
	}
	i := w.acct()
	op := w.op(i)
	if op.Type() == OpRegisterContent && w.n(4) != 0 {
		op = NewTransfer(w.pk(), w.amount()) // BLS signing is slow: keep content rare
	}
	if a := w.actor(op); a >= 0 && w.n(4) != 0 {
		i = a
	}
	k := f.keys[i]
	tx := f.tx(i, op)
	switch w.n(30) {
	case 0:
		tx.Nonce += uint64(1 + w.n(2))
	case 1:
		tx.Expiry = f.env.Time - 1
	case 2:
		tx.Fee--
	case 3:
		tx.ChainID = "elsewhere"
	case 4:
		tx.Fee += uint64(w.n(1000))
	}
	tx.Sign(k)
	rc := f.apply(tx)
	w.counts[rc.Code]++
	w.receipts.Write(rc.Encode())
	if !rc.OK() {
		return
	}
	w.executed[op.Type()]++
	switch o := op.(type) {
	case *TokenCreate:
		w.tokens = append(w.tokens, TokenID(k.Public(), tx.Nonce))
	case *CollectionCreate:
		w.colls = append(w.colls, CollectionID(k.Public(), tx.Nonce))
	case *NFTMint:
		w.nfts = append(w.nfts, o.ID)
	case *SFTCreate:
		w.classes = append(w.classes, ClassID(k.Public(), tx.Nonce))
	case *VestingTransfer:
		w.vestings = append(w.vestings, VestingID(k.Public(), tx.Nonce))
	case *Unbond:
		w.unbondings[i] = append(w.unbondings[i], tx.Nonce)
	}
}

// checkInvariants checks conservation and consistency over the whole
// state.
func (w *world) checkInvariants() {
	t := w.f.t
	t.Helper()
	var native uint64
	addN := func(v uint64) {
		var ok bool
		if native, ok = add(native, v); !ok {
			t.Fatal("native supply overflows")
		}
	}
	supply := map[crypto.Digest]uint64{}
	balances := map[crypto.Digest]uint64{}
	shares := map[uint32]uint64{}
	validators := map[uint32]*Validator{}
	nfts := map[NFTID]*NFT{}
	for ks, vs := range w.f.st.m {
		key, val := []byte(ks), []byte(vs)
		if err := CheckValue(key, val); err != nil {
			t.Fatalf("stored value: %v", err)
		}
		switch key[0] {
		case PrefixAccount:
			a, _ := DecodeAccount(val)
			addN(a.Balance)
		case PrefixValidator:
			v, _ := DecodeValidator(val)
			validators[uint32(key[4])|uint32(key[3])<<8] = v
			addN(v.Tokens)
			addN(v.Slashed)
		case PrefixUnbonding:
			u, _ := DecodeUnbonding(val)
			addN(u.Amount)
		case PrefixVesting:
			v, _ := DecodeVesting(val)
			addN(v.Total - v.Claimed)
		case PrefixToken:
			tk, _ := DecodeToken(val)
			supply[crypto.Digest(key[1:33])] = tk.Supply
		case PrefixBalance:
			a, _ := DecodeAmount(val)
			balances[crypto.Digest(key[1:33])] += a
		case PrefixDelegation:
			a, _ := DecodeAmount(val)
			shares[uint32(key[4])|uint32(key[3])<<8] += a
		case PrefixNFT:
			n, _ := DecodeNFT(val)
			var id NFTID
			copy(id.Collection[:], key[1:33])
			id.Index = uint64(key[33])<<56 | uint64(key[34])<<48 | uint64(key[35])<<40 | uint64(key[36])<<32 |
				uint64(key[37])<<24 | uint64(key[38])<<16 | uint64(key[39])<<8 | uint64(key[40])
			nfts[id] = n
		}
	}
	addN(w.f.burnt)
	if native != w.f.g.TotalSupply() {
		t.Fatalf("native supply %d, genesis %d", native, w.f.g.TotalSupply())
	}
	for tok, s := range supply {
		if balances[tok] != s {
			t.Fatalf("token %x: supply %d, balances %d", tok, s, balances[tok])
		}
	}
	for tok := range balances {
		if _, ok := supply[tok]; !ok {
			t.Fatalf("balances of unknown token %x", tok)
		}
	}
	for i, v := range validators {
		if shares[i] != v.Shares {
			t.Fatalf("validator %d: shares %d, delegations %d", i, v.Shares, shares[i])
		}
	}
	children := map[NFTID]uint32{}
	for id, n := range nfts {
		if n.Attached {
			children[n.Parent]++
			if n.Soulbound {
				t.Fatalf("soulbound %s attached", id)
			}
		}
		p, err := AncestorPath(w.f.st, id)
		if err != nil {
			t.Fatalf("token %s: %v", id, err)
		}
		if len(p)+int(n.Height) > w.f.m.p.MaxNestingDepth {
			t.Fatalf("token %s at depth %d with height %d", id, len(p), n.Height)
		}
		for _, a := range p {
			if a == id {
				t.Fatalf("token %s is its own ancestor", id)
			}
		}
	}
	for id, n := range nfts {
		if children[id] != n.Children {
			t.Fatalf("token %s records %d children, has %d", id, n.Children, children[id])
		}
		if n.Soulbound && n.Children > 0 {
			t.Fatalf("soulbound %s holds children", id)
		}
	}
}

func TestRandomTransactions(t *testing.T) {
	const steps = 800
	executed := map[OpType]int{}
	for seed := range uint64(12) {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			w := newWorld(t, seed)
			for s := range steps {
				w.step()
				if s%100 == 99 {
					w.checkInvariants()
				}
			}
			w.checkInvariants()
			for typ, n := range w.executed {
				executed[typ] += n
			}
			ok := w.counts[CodeOK]
			if ok < steps/10 || len(w.counts) < 10 {
				t.Fatalf("weak run: %d executed, %d distinct codes: %v", ok, len(w.counts), w.counts)
			}
			// Determinism: the same seed gives the same receipts and state.
			w2 := newWorld(t, seed)
			for range steps {
				w2.step()
			}
			if !bytes.Equal(w.receipts.Bytes(), w2.receipts.Bytes()) {
				t.Fatal("receipts differ between identical runs")
			}
			if d := diff(w.f.st.snapshot(), w2.f.st.snapshot()); len(d) != 0 {
				t.Fatalf("states differ in %d keys", len(d))
			}
		})
	}
	// The generator must reach the success path of every operation.
	for _, typ := range OpTypes() {
		if executed[typ] == 0 {
			t.Errorf("no %s executed in any run", typ)
		}
	}
	t.Logf("executed: %v", executed)
}
