package crypto

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	mrand "math/rand/v2"
	"reflect"
	"sync"
	"testing"
	"testing/iotest"

	blst "github.com/supranational/blst/bindings/go"
)

type testCommittee struct {
	keys   []*BLSPrivateKey
	pubs   []*BLSPublicKey
	pops   [][]byte
	stakes []uint64
	c      *BLSCommittee
}

func newTestCommittee(t testing.TB, tag string, n int) *testCommittee {
	t.Helper()
	tc := &testCommittee{}
	for i := range n {
		k := mustBLSKey(t, tag, i)
		tc.keys = append(tc.keys, k)
		tc.pubs = append(tc.pubs, k.PublicKey())
		tc.pops = append(tc.pops, k.ProofOfPossession())
		tc.stakes = append(tc.stakes, uint64(10+i))
	}
	c, err := NewBLSCommittee(tc.pubs, tc.pops, tc.stakes)
	if err != nil {
		t.Fatalf("NewBLSCommittee: %v", err)
	}
	tc.c = c
	return tc
}

// certify returns the bitmap and aggregate signature of the given signers on
// msg.
func (tc *testCommittee) certify(t testing.TB, msg []byte, signers []int) (Bitmap, []byte) {
	t.Helper()
	bm := NewBitmap(len(tc.keys))
	var sigs [][]byte
	for _, i := range signers {
		bm.Set(i)
		sigs = append(sigs, tc.keys[i].Sign(msg))
	}
	agg, err := AggregateBLSSignatures(sigs)
	if err != nil {
		t.Fatal(err)
	}
	return bm, agg
}

func TestNewBLSCommitteeRejects(t *testing.T) {
	tc := newTestCommittee(t, "new", 4)
	clonePubs := func() []*BLSPublicKey { return append([]*BLSPublicKey{}, tc.pubs...) }
	clonePops := func() [][]byte { return append([][]byte{}, tc.pops...) }
	cloneStakes := func() []uint64 { return append([]uint64{}, tc.stakes...) }

	cases := []struct {
		name   string
		mutate func(p []*BLSPublicKey, pops [][]byte, s []uint64) ([]*BLSPublicKey, [][]byte, []uint64)
		want   error
		say    string
	}{
		{"empty", func(p []*BLSPublicKey, pops [][]byte, s []uint64) ([]*BLSPublicKey, [][]byte, []uint64) {
			return nil, nil, nil
		}, ErrMalformed, "no validators"},
		{"length mismatch", func(p []*BLSPublicKey, pops [][]byte, s []uint64) ([]*BLSPublicKey, [][]byte, []uint64) {
			return p, pops[:3], s
		}, ErrMalformed, "3 proofs"},
		{"zero stake", func(p []*BLSPublicKey, pops [][]byte, s []uint64) ([]*BLSPublicKey, [][]byte, []uint64) {
			s[2] = 0
			return p, pops, s
		}, ErrZeroStake, "validator 2"},
		{"overflow", func(p []*BLSPublicKey, pops [][]byte, s []uint64) ([]*BLSPublicKey, [][]byte, []uint64) {
			s[1] = math.MaxUint64 - 10
			return p, pops, s
		}, ErrStakeOverflow, "validator 2"},
		{"duplicate key", func(p []*BLSPublicKey, pops [][]byte, s []uint64) ([]*BLSPublicKey, [][]byte, []uint64) {
			p[3], pops[3] = p[1], pops[1]
			return p, pops, s
		}, ErrDuplicateKey, "validators 1 and 3"},
		{"nil key", func(p []*BLSPublicKey, pops [][]byte, s []uint64) ([]*BLSPublicKey, [][]byte, []uint64) {
			p[0] = nil
			return p, pops, s
		}, ErrInvalidKey, "validator 0"},
		{"zero-value key", func(p []*BLSPublicKey, pops [][]byte, s []uint64) ([]*BLSPublicKey, [][]byte, []uint64) {
			p[0] = new(BLSPublicKey)
			return p, pops, s
		}, ErrInvalidKey, "validator 0"},
		{"swapped proofs", func(p []*BLSPublicKey, pops [][]byte, s []uint64) ([]*BLSPublicKey, [][]byte, []uint64) {
			pops[1], pops[2] = pops[2], pops[1]
			return p, pops, s
		}, ErrBadProofOfPossession, "validator 1"},
		{"malformed proof", func(p []*BLSPublicKey, pops [][]byte, s []uint64) ([]*BLSPublicKey, [][]byte, []uint64) {
			pops[2] = pops[2][:40]
			return p, pops, s
		}, ErrMalformed, "validator 2"},
		{"message signature as proof", func(p []*BLSPublicKey, pops [][]byte, s []uint64) ([]*BLSPublicKey, [][]byte, []uint64) {
			pops[3] = tc.keys[3].Sign(p[3].Bytes())
			return p, pops, s
		}, ErrBadProofOfPossession, "validator 3"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, pops, s := c.mutate(clonePubs(), clonePops(), cloneStakes())
			_, err := NewBLSCommittee(p, pops, s)
			if !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
			if !bytes.Contains([]byte(err.Error()), []byte(c.say)) {
				t.Fatalf("error %q does not say %q", err, c.say)
			}
		})
	}
	// The stakes exactly at the limit are fine.
	s := cloneStakes()
	s[0] = math.MaxUint64 - (s[1] + s[2] + s[3])
	c, err := NewBLSCommittee(clonePubs(), clonePops(), s)
	if err != nil {
		t.Fatalf("total of MaxUint64 refused: %v", err)
	}
	if c.TotalStake() != math.MaxUint64 {
		t.Fatalf("total %d", c.TotalStake())
	}
}

// TestRogueKeyPrevented shows the rogue-key attack that fast aggregate
// verification allows without proofs of possession, and that
// NewBLSCommittee refuses the rogue key.
func TestRogueKeyPrevented(t *testing.T) {
	victim := mustBLSKey(t, "rogue", 0)
	// The attacker picks a secret a and publishes rogue = a*g2 - victim,
	// without knowing rogue's discrete logarithm.
	var aBytes [32]byte
	aBytes[31] = 77
	aBytes[5] = 3
	a := new(blst.Scalar).Deserialize(aBytes[:])
	if a == nil {
		t.Fatal("bad test scalar")
	}
	rogueP := blst.P2Generator().Mult(a)
	rogueP.SubAssign(&victim.PublicKey().p)
	rogue, err := ParseBLSPublicKey(rogueP.ToAffine().Compress())
	if err != nil {
		t.Fatalf("rogue key does not parse: %v", err)
	}
	// a*H(m) now "proves" that victim and rogue both signed m.
	msg := []byte("transfer everything")
	forged := blst.HashToG1(msg, dstSig()).Mult(a).ToAffine()
	if !forged.FastAggregateVerify(true, []*blst.P2Affine{&victim.PublicKey().p, &rogue.p}, msg, dstSig()) {
		t.Fatal("the attack itself does not work; the test proves nothing")
	}
	// The attacker cannot make a proof of possession for rogue: the best
	// attempts are signatures with a, or the victim's own proof.
	attempts := map[string][]byte{
		"signed with a":  blst.HashToG1(rogue.Bytes(), dstPoP()).Mult(a).ToAffine().Compress(),
		"victim's proof": victim.ProofOfPossession(),
		"forged message": forged.Compress(),
	}
	for name, pop := range attempts {
		if err := rogue.VerifyProofOfPossession(pop); !errors.Is(err, ErrBadProofOfPossession) {
			t.Errorf("%s: VerifyProofOfPossession = %v", name, err)
		}
		_, err := NewBLSCommittee([]*BLSPublicKey{victim.PublicKey(), rogue}, [][]byte{victim.ProofOfPossession(), pop}, []uint64{1, 1})
		if !errors.Is(err, ErrBadProofOfPossession) {
			t.Errorf("%s: NewBLSCommittee = %v, want ErrBadProofOfPossession", name, err)
		}
	}
}

func TestQuorumAndValidityStake(t *testing.T) {
	tc := newTestCommittee(t, "quorum", 1)
	big3 := big.NewInt(3)
	totals := []uint64{1, 2, 3, 4, 5, 6, 7, 9, 10, 100, 101, 3 << 40, math.MaxUint64 / 3, math.MaxUint64/3*2 + 1, math.MaxUint64 - 1, math.MaxUint64}
	rng := mrand.New(mrand.NewPCG(5, 6))
	for range 100 {
		totals = append(totals, rng.Uint64())
	}
	for _, total := range totals {
		c := *tc.c
		c.total = total
		// Smallest s with 3s > 2T, and with 3s > T, computed in big
		// integers.
		T := new(big.Int).SetUint64(total)
		wantQ := new(big.Int).Add(new(big.Int).Quo(new(big.Int).Mul(T, big.NewInt(2)), big3), big.NewInt(1))
		wantV := new(big.Int).Add(new(big.Int).Quo(T, big3), big.NewInt(1))
		if got := c.QuorumStake(); got != wantQ.Uint64() {
			t.Errorf("total %d: quorum %d, want %s", total, got, wantQ)
		}
		if got := c.ValidityStake(); got != wantV.Uint64() {
			t.Errorf("total %d: validity %d, want %s", total, got, wantV)
		}
		// The defining property: q is above 2/3 and q-1 is not.
		q := new(big.Int).SetUint64(c.QuorumStake())
		if new(big.Int).Mul(q, big3).Cmp(new(big.Int).Mul(T, big.NewInt(2))) <= 0 ||
			new(big.Int).Mul(new(big.Int).Sub(q, big.NewInt(1)), big3).Cmp(new(big.Int).Mul(T, big.NewInt(2))) > 0 {
			t.Errorf("total %d: quorum %d is not the smallest stake above 2/3", total, c.QuorumStake())
		}
	}
	// Four equal validators: quorum is three, validity two.
	four := newTestCommittee(t, "four", 4)
	for i := range 4 {
		four.c.stakes[i] = 1
	}
	four.c.total = 4
	if four.c.QuorumStake() != 3 || four.c.ValidityStake() != 2 {
		t.Fatalf("4 validators: quorum %d validity %d", four.c.QuorumStake(), four.c.ValidityStake())
	}
}

func TestCommitteeAccessors(t *testing.T) {
	tc := newTestCommittee(t, "access", 5)
	c := tc.c
	if c.Size() != 5 {
		t.Fatalf("size %d", c.Size())
	}
	var total uint64
	for i, s := range tc.stakes {
		total += s
		if c.Stake(i) != s {
			t.Errorf("stake(%d) = %d, want %d", i, c.Stake(i), s)
		}
		if !c.PublicKey(i).Equal(tc.pubs[i]) {
			t.Errorf("public key %d differs", i)
		}
		if j, ok := c.Index(tc.pubs[i]); !ok || j != i {
			t.Errorf("index of key %d = %d, %v", i, j, ok)
		}
	}
	if c.TotalStake() != total {
		t.Fatalf("total %d, want %d", c.TotalStake(), total)
	}
	if c.Stake(-1) != 0 || c.Stake(5) != 0 || c.PublicKey(5) != nil || c.PublicKey(-1) != nil {
		t.Fatal("out-of-range accessors did not return zero values")
	}
	if _, ok := c.Index(mustBLSKey(t, "access", 99).PublicKey()); ok {
		t.Fatal("foreign key found in committee")
	}
}

func TestCommitteeVerify(t *testing.T) {
	tc := newTestCommittee(t, "verify", 4)
	msg := []byte("vote")
	sig := tc.keys[2].Sign(msg)
	if err := tc.c.Verify(2, msg, sig); err != nil {
		t.Fatalf("valid vote rejected: %v", err)
	}
	if err := tc.c.Verify(1, msg, sig); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("vote attributed to another validator: %v", err)
	}
	if err := tc.c.Verify(4, msg, sig); !errors.Is(err, ErrUnknownSigner) {
		t.Fatalf("index past the committee: %v", err)
	}
	if err := tc.c.Verify(-1, msg, sig); !errors.Is(err, ErrUnknownSigner) {
		t.Fatalf("negative index: %v", err)
	}
	if err := tc.c.Verify(2, msg, sig[1:]); !errors.Is(err, ErrMalformed) {
		t.Fatalf("short signature: %v", err)
	}
}

func TestVerifyAggregate(t *testing.T) {
	const n = 10
	tc := newTestCommittee(t, "aggregate", n)
	msg := []byte("header 7")
	subsets := [][]int{
		{0}, {9}, {3, 4}, {0, 1, 2, 3, 4}, // at most half: keys summed
		{0, 1, 2, 3, 4, 5}, {1, 2, 3, 4, 5, 6, 7, 8, 9}, // above half: complement subtracted
		{0, 1, 2, 3, 4, 5, 6, 7, 8, 9},
	}
	for _, signers := range subsets {
		bm, agg := tc.certify(t, msg, signers)
		stake, err := tc.c.VerifyAggregate(msg, bm, agg)
		if err != nil {
			t.Fatalf("signers %v: %v", signers, err)
		}
		var want uint64
		for _, i := range signers {
			want += tc.stakes[i]
		}
		if stake != want {
			t.Fatalf("signers %v: stake %d, want %d", signers, stake, want)
		}
		if s, err := tc.c.SignerStake(bm); err != nil || s != want {
			t.Fatalf("SignerStake(%v) = %d, %v", signers, s, err)
		}
		if !reflect.DeepEqual(bm.Indices(), signers) {
			t.Fatalf("bitmap indices %v, want %v", bm.Indices(), signers)
		}
	}

	signers := []int{0, 2, 3, 5, 6, 8, 9}
	bm, agg := tc.certify(t, msg, signers)
	if _, err := tc.c.VerifyAggregate([]byte("header 8"), bm, agg); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("wrong message: %v", err)
	}
	extra := Bitmap(bytes.Clone(bm))
	extra.Set(1) // claims a validator that did not sign
	if _, err := tc.c.VerifyAggregate(msg, extra, agg); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("extra signer: %v", err)
	}
	missing := NewBitmap(n)
	for _, i := range signers[1:] {
		missing.Set(i)
	}
	if _, err := tc.c.VerifyAggregate(msg, missing, agg); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("missing signer: %v", err)
	}
	if _, err := tc.c.VerifyAggregate(msg, bm[:1], agg); !errors.Is(err, ErrMalformed) {
		t.Fatalf("short bitmap: %v", err)
	}
	if _, err := tc.c.VerifyAggregate(msg, append(bytes.Clone(bm), 0), agg); !errors.Is(err, ErrMalformed) {
		t.Fatalf("long bitmap: %v", err)
	}
	unknown := bytes.Clone(bm)
	unknown[1] |= 1 << 4 // validator 12 of a committee of 10
	_, err := tc.c.VerifyAggregate(msg, unknown, agg)
	if !errors.Is(err, ErrUnknownSigner) || !bytes.Contains([]byte(err.Error()), []byte("signer 12")) {
		t.Fatalf("unknown signer: %v", err)
	}
	if _, err := tc.c.VerifyAggregate(msg, NewBitmap(n), agg); !errors.Is(err, ErrNoSigners) {
		t.Fatalf("empty bitmap: %v", err)
	}
	if _, err := tc.c.VerifyAggregate(msg, bm, agg[:47]); !errors.Is(err, ErrMalformed) {
		t.Fatalf("short signature: %v", err)
	}
	if _, err := tc.c.SignerStake(unknown); !errors.Is(err, ErrUnknownSigner) {
		t.Fatalf("SignerStake unknown: %v", err)
	}
}

// TestVerifyAggregateInfiniteKey: two colluding validators that register a
// key and its negation (each with a valid proof) sum to the point at
// infinity; the committee refuses that aggregate instead of accepting any
// signature.
func TestVerifyAggregateInfiniteKey(t *testing.T) {
	k := mustBLSKey(t, "neg", 0)
	// -sk is r - sk.
	r, _ := new(big.Int).SetString("73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001", 16)
	neg := new(big.Int).Sub(r, new(big.Int).SetBytes(k.Bytes()))
	nk, err := ParseBLSPrivateKey(neg.FillBytes(make([]byte, 32)))
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewBLSCommittee([]*BLSPublicKey{k.PublicKey(), nk.PublicKey()}, [][]byte{k.ProofOfPossession(), nk.ProofOfPossession()}, []uint64{1, 1})
	if err != nil {
		t.Fatal(err)
	}
	bm := NewBitmap(2)
	bm.Set(0)
	bm.Set(1)
	// Their true aggregate signature is infinity too, which is refused as
	// malformed; any other signature must be refused for the key.
	if _, err := AggregateBLSSignatures([][]byte{k.Sign([]byte("x")), nk.Sign([]byte("x"))}); !errors.Is(err, ErrMalformed) {
		t.Fatalf("aggregating to infinity: %v", err)
	}
	infinity := make([]byte, BLSSignatureSize)
	infinity[0] = 0xc0
	if _, err := c.VerifyAggregate([]byte("x"), bm, infinity); !errors.Is(err, ErrMalformed) {
		t.Fatalf("infinite aggregate signature: %v", err)
	}
	_, err = c.VerifyAggregate([]byte("x"), bm, k.Sign([]byte("x")))
	if !errors.Is(err, ErrInvalidKey) {
		t.Fatalf("aggregate of k and -k: %v, want ErrInvalidKey", err)
	}
}

func makeChecks(t testing.TB, tc *testCommittee, count int, rng *mrand.Rand) []AggregateCheck {
	n := len(tc.keys)
	checks := make([]AggregateCheck, count)
	for k := range checks {
		msg := []byte(fmt.Sprintf("certificate %d", k))
		var signers []int
		for i := range n {
			if rng.IntN(3) > 0 || (i == k%n) {
				signers = append(signers, i)
			}
		}
		bm, agg := tc.certify(t, msg, signers)
		checks[k] = AggregateCheck{Msg: msg, Signers: bm, Signature: agg}
	}
	return checks
}

func batchIndices(t *testing.T, err error) []int {
	t.Helper()
	var be *BatchError
	if !errors.As(err, &be) {
		t.Fatalf("error %v is not a *BatchError", err)
	}
	return be.Indices
}

func TestVerifyAggregates(t *testing.T) {
	tc := newTestCommittee(t, "batch", 7)
	rng := mrand.New(mrand.NewPCG(7, 8))
	checks := makeChecks(t, tc, 20, rng)
	if err := tc.c.VerifyAggregates(checks, nil); err != nil {
		t.Fatalf("valid batch rejected: %v", err)
	}
	if err := tc.c.VerifyAggregates(checks[:1], nil); err != nil {
		t.Fatalf("batch of one rejected: %v", err)
	}
	if err := tc.c.VerifyAggregates(nil, nil); err != nil {
		t.Fatalf("empty batch: %v", err)
	}
	seeded := mrand.NewChaCha8([32]byte{9})
	if err := tc.c.VerifyAggregates(checks, seeded); err != nil {
		t.Fatalf("valid batch with seeded randomness rejected: %v", err)
	}

	clone := func() []AggregateCheck { return append([]AggregateCheck{}, checks...) }

	t.Run("one bad", func(t *testing.T) {
		for _, bad := range []int{0, 13, 19} {
			c := clone()
			c[bad].Signature = checks[(bad+1)%len(checks)].Signature
			err := tc.c.VerifyAggregates(c, nil)
			if got := batchIndices(t, err); !reflect.DeepEqual(got, []int{bad}) {
				t.Fatalf("bad check %d: reported %v (%v)", bad, got, err)
			}
			if !errors.Is(err, ErrBadSignature) {
				t.Fatalf("errors.Is(ErrBadSignature) false for %v", err)
			}
		}
	})
	t.Run("one bad of one", func(t *testing.T) {
		c := clone()[:1]
		c[0].Msg = []byte("other")
		if got := batchIndices(t, tc.c.VerifyAggregates(c, nil)); !reflect.DeepEqual(got, []int{0}) {
			t.Fatalf("reported %v", got)
		}
	})
	t.Run("mixed failures", func(t *testing.T) {
		c := clone()
		c[2].Signers = c[2].Signers[:0]                 // wrong length
		c[7].Msg = []byte("not what was signed")        // bad signature
		c[11].Signature = c[11].Signature[:20]          // malformed signature
		c[15].Signers = bytes.Clone(c[15].Signers)      // unknown signer
		c[15].Signers[0] |= 0x80                        // bit 7 of a committee of 7
		c[19].Signature = offSubgroupG1(t)              // not in the subgroup
		c[4].Signers = NewBitmap(len(tc.keys))          // nobody
		c[18].Msg = append(bytes.Clone(c[18].Msg), '!') // bad signature
		want := []int{2, 4, 7, 11, 15, 18, 19}
		err := tc.c.VerifyAggregates(c, nil)
		if got := batchIndices(t, err); !reflect.DeepEqual(got, want) {
			t.Fatalf("reported %v, want %v (%v)", got, want, err)
		}
		for _, sentinel := range []error{ErrMalformed, ErrBadSignature, ErrUnknownSigner, ErrNoSigners} {
			if !errors.Is(err, sentinel) {
				t.Errorf("errors.Is(%v) false", sentinel)
			}
		}
		if !bytes.Contains([]byte(err.Error()), []byte("7 of 20")) {
			t.Errorf("error does not count failures: %v", err)
		}
	})
	t.Run("all bad", func(t *testing.T) {
		c := clone()
		var want []int
		for k := range c {
			c[k].Msg = []byte("x")
			want = append(want, k)
		}
		if got := batchIndices(t, tc.c.VerifyAggregates(c, nil)); !reflect.DeepEqual(got, want) {
			t.Fatalf("reported %v", got)
		}
	})
	t.Run("cancelling errors", func(t *testing.T) {
		// Two checks of the same message and signers whose signatures are
		// shifted by +X and -X: each is invalid, their plain sum is
		// valid. Only random weights catch them.
		msg := []byte("same header")
		bm, agg := tc.certify(t, msg, []int{0, 1, 2, 3, 4})
		var s blst.P1Affine
		s.Uncompress(agg)
		x := blst.HashToG1([]byte("shift"), nil)
		var plus, minus blst.P1
		plus.FromAffine(&s)
		plus.AddAssign(x)
		minus.FromAffine(&s)
		minus.SubAssign(x)
		c := []AggregateCheck{
			{Msg: msg, Signers: bm, Signature: plus.Compress()},
			{Msg: msg, Signers: bm, Signature: minus.Compress()},
			checks[0],
		}
		// The unweighted sum of the two does verify, so the attack is real.
		sum, err := AggregateBLSSignatures([][]byte{c[0].Signature, c[1].Signature})
		if err != nil {
			t.Fatal(err)
		}
		want, _ := AggregateBLSSignatures([][]byte{agg, agg})
		if !bytes.Equal(sum, want) {
			t.Fatal("shifted signatures do not sum to the valid sum")
		}
		if got := batchIndices(t, tc.c.VerifyAggregates(c, nil)); !reflect.DeepEqual(got, []int{0, 1}) {
			t.Fatalf("reported %v, want [0 1]", got)
		}
	})
	t.Run("randomness failure", func(t *testing.T) {
		err := tc.c.VerifyAggregates(checks, iotest.ErrReader(errors.New("no entropy")))
		var be *BatchError
		if err == nil || errors.As(err, &be) || !bytes.Contains([]byte(err.Error()), []byte("no entropy")) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("zero randomness retried", func(t *testing.T) {
		// A reader that yields zeros first must not produce zero weights
		// (which would drop members from the check).
		r := io.MultiReader(bytes.NewReader(make([]byte, 8*20+16)), repeatReader(0x5a))
		c := clone()
		c[3].Msg = []byte("bad")
		if got := batchIndices(t, tc.c.VerifyAggregates(c, r)); !reflect.DeepEqual(got, []int{3}) {
			t.Fatalf("reported %v, want [3]", got)
		}
	})
}

// repeatReader yields its byte forever.
type repeatReader byte

func (r repeatReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r)
	}
	return len(p), nil
}

func TestCommitteeConcurrent(t *testing.T) {
	tc := newTestCommittee(t, "concurrent", 5)
	rng := mrand.New(mrand.NewPCG(9, 10))
	checks := makeChecks(t, tc, 8, rng)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := range 4 {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for k, ch := range checks {
				if (k+g)%2 == 0 {
					if _, err := tc.c.VerifyAggregate(ch.Msg, ch.Signers, ch.Signature); err != nil {
						errs <- err
					}
				}
			}
			if err := tc.c.VerifyAggregates(checks, nil); err != nil {
				errs <- err
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
