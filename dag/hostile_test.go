package dag_test

import (
	"crypto/rand"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/dagd/dagd/crypto"
	"github.com/dagd/dagd/dag"
	"github.com/dagd/dagd/dag/dagbls"
)

// Regression tests for issue 13: what a hostile committee member, with
// its own valid key, can make a validator pay.

type noBatchStore struct{}

func (noBatchStore) ReadBatch(crypto.Digest) (*dag.Batch, bool) { return nil, false }

// countingVerifier counts the checks the core asks for.
type countingVerifier struct {
	dag.Verifier
	single, agg, batch atomic.Int64
}

func (c *countingVerifier) VerifySignature(s dag.ValidatorID, m, sig []byte) error {
	c.single.Add(1)
	return c.Verifier.VerifySignature(s, m, sig)
}
func (c *countingVerifier) VerifyAggregate(m []byte, s []dag.ValidatorID, sig []byte) error {
	c.agg.Add(1)
	return c.Verifier.VerifyAggregate(m, s, sig)
}
func (c *countingVerifier) VerifyAggregates(items []dag.AggregateItem) error {
	c.batch.Add(int64(len(items)))
	return c.Verifier.VerifyAggregates(items)
}
func (c *countingVerifier) total() int64 { return c.single.Load() + c.agg.Load() + c.batch.Load() }

// countingSigner counts signatures made.
type countingSigner struct {
	dag.Signer
	n atomic.Int64
}

func (c *countingSigner) Sign(m []byte) []byte { c.n.Add(1); return c.Signer.Sign(m) }

const testChain = "test-chain"

type hostileEnv struct {
	t      *testing.T
	n      *dag.Node
	cv     *countingVerifier
	signer *countingSigner
	keys   []*crypto.BLSPrivateKey
	c      *dag.Committee
	chain  string
	own    *dag.Header // the node's header of round 1
}

// testCommittee returns the committee of four of the dag_test tests
// (equal stake, epoch 0) with BLS keys from a fixed seed.
func testCommittee(t *testing.T) ([]*crypto.BLSPrivateKey, *crypto.BLSCommittee, *dag.Committee) {
	t.Helper()
	keys, bc, err := dagbls.DevKeys(7, 4)
	if err != nil {
		t.Fatal(err)
	}
	c, err := dag.EqualStakeCommittee(0, 4)
	if err != nil {
		t.Fatal(err)
	}
	return keys, bc, c
}

func newHostileEnv(t *testing.T) *hostileEnv {
	t.Helper()
	keys, bc, c := testCommittee(t)
	cv := &countingVerifier{Verifier: dagbls.NewVerifier(bc, rand.Reader)}
	cs := &countingSigner{Signer: dagbls.NewSigner(keys[0])}
	n, err := dag.NewNode(dag.Config{ChainID: testChain, Self: 0, Committee: c, Signer: cs, Verifier: cv, Batches: noBatchStore{}})
	if err != nil {
		t.Fatal(err)
	}
	n.Tick(1)
	e := &hostileEnv{t: t, n: n, cv: cv, signer: cs, keys: keys, c: c, chain: testChain}
	for _, o := range dag.Drain(n).Messages {
		if h, ok := o.Msg.(*dag.Header); ok && h.Author == 0 {
			e.own = h
		}
	}
	return e
}

// header returns a header of author signed for chain.
func (e *hostileEnv) header(chain string, round uint64, author dag.ValidatorID, ts dag.Time, parents []crypto.Digest) *dag.Header {
	h := dag.NewHeader(0, round, author, ts, nil, parents)
	h.Signature = e.keys[author].Sign(dag.SigningMessage(chain, 0, h.Digest()))
	return h
}

// cert certifies h with the signatures of signers made for chain.
func (e *hostileEnv) cert(chain string, h *dag.Header, signers ...dag.ValidatorID) *dag.Certificate {
	var sigs [][]byte
	for _, s := range signers {
		sigs = append(sigs, e.keys[s].Sign(dag.SigningMessage(chain, 0, h.Digest())))
	}
	agg, err := crypto.AggregateBLSSignatures(sigs)
	if err != nil {
		e.t.Fatal(err)
	}
	return &dag.Certificate{Header: h, Signers: signers, CommitteeSize: 4, Signature: agg}
}

func (e *hostileEnv) genesisParents() []crypto.Digest {
	g := dag.GenesisCertificates(e.c)
	return []crypto.Digest{g[0].Digest(), g[1].Digest(), g[2].Digest(), g[3].Digest()}
}

func misbehaving(rd dag.Ready, peer dag.ValidatorID) bool {
	for _, m := range rd.Misbehaving {
		if m.Peer == peer {
			return true
		}
	}
	return false
}

// TestForgedCertResponseRefused: a certificate response nobody asked for
// costs no signature check at all; a response to a request whose
// certificates are forged costs one small batch and one single check, is
// dropped at the first failure, and its sender is reported; the genuine
// answer is then taken.
func TestForgedCertResponseRefused(t *testing.T) {
	e := newHostileEnv(t)
	junk := e.keys[3].Sign([]byte("anything")) // a valid point, the wrong message
	forged := func(count int, base dag.Time) []*dag.Certificate {
		var certs []*dag.Certificate
		for i := range count {
			h := dag.NewHeader(0, 1, dag.ValidatorID(1+i%3), base+dag.Time(i), nil, e.genesisParents())
			h.Signature = junk
			certs = append(certs, &dag.Certificate{Header: h, Signers: []dag.ValidatorID{0, 1, 2}, CommitteeSize: 4, Signature: junk})
		}
		return certs
	}
	// Unrequested: 128 forged certificates in one frame.
	m, err := dag.DecodeMessage(dag.EncodeMessage(&dag.CertResponse{Certificates: forged(128, 1000)}))
	if err != nil {
		t.Fatal(err)
	}
	err = e.n.Step(3, m)
	if err == nil || !strings.Contains(err.Error(), "128 certificates nobody asked for") {
		t.Fatalf("unrequested response: %v", err)
	}
	if got := e.cv.total(); got != 0 {
		t.Fatalf("unrequested response cost %d signature checks, want 0", got)
	}
	dag.Drain(e.n)

	// Make the node ask: a genuine certificate of round 2 whose round-1
	// parents it lacks.
	var r1 []*dag.Certificate
	var parents []crypto.Digest
	for a := dag.ValidatorID(1); a <= 3; a++ {
		c := e.cert(e.chain, e.header(e.chain, 1, a, 10, e.genesisParents()), 1, 2, 3)
		r1 = append(r1, c)
		parents = append(parents, c.Digest())
	}
	c2 := e.cert(e.chain, e.header(e.chain, 2, 1, 20, parents), 1, 2, 3)
	if err := e.n.Step(1, c2); err != nil {
		t.Fatalf("genuine certificate: %v", err)
	}
	asked := false
	for _, o := range dag.Drain(e.n).Messages {
		if _, ok := o.Msg.(*dag.CertRequest); ok && o.To == 1 {
			asked = true
		}
	}
	if !asked || e.n.Status().PendingCerts != 1 {
		t.Fatalf("the parents were not requested (pending %d)", e.n.Status().PendingCerts)
	}
	// Validator 1 answers with the requested headers under forged
	// signatures, and 128 forged certificates besides.
	var bad []*dag.Certificate
	for _, c := range r1 {
		bad = append(bad, &dag.Certificate{Header: c.Header, Signers: c.Signers, CommitteeSize: 4, Signature: junk})
	}
	before := e.cv.total()
	err = e.n.Step(1, &dag.CertResponse{Certificates: append(bad, forged(128, 5000)...)})
	rd := dag.Drain(e.n)
	cost := e.cv.total() - before
	if err == nil || !strings.Contains(err.Error(), "aggregate signature") {
		t.Fatalf("forged answer: %v", err)
	}
	if cost > int64(len(bad))+1 {
		t.Fatalf("forged answer cost %d checks, want at most %d (one batch, one single)", cost, len(bad)+1)
	}
	if !misbehaving(rd, 1) {
		t.Fatal("the sender of forged certificates was not reported")
	}
	// The same forged certificates again cost nothing: the failure is
	// remembered.
	before = e.cv.total()
	_ = e.n.Step(2, &dag.CertResponse{Certificates: bad[:1]})
	if got := e.cv.total() - before; got != 0 {
		t.Fatalf("a certificate that failed before cost %d checks again", got)
	}
	dag.Drain(e.n)
	// The genuine answer is taken.
	if err := e.n.Step(2, &dag.CertResponse{Certificates: r1}); err != nil {
		t.Fatalf("genuine answer: %v", err)
	}
	if st := e.n.Status(); st.PendingCerts != 0 || st.Round < 2 {
		t.Fatalf("after the genuine answer: pending %d, round %d", st.PendingCerts, st.Round)
	}
}

// TestHeaderReplayAndConflictCost: a header replayed 50 times costs one
// signature check and one vote signature; 50 conflicting headers for that
// slot cost one check more in all, make one piece of evidence and report
// the author.
func TestHeaderReplayAndConflictCost(t *testing.T) {
	e := newHostileEnv(t)
	h := e.header(e.chain, 1, 3, 1, e.genesisParents())
	votes := 0
	for range 50 {
		if err := e.n.Step(3, h); err != nil {
			t.Fatalf("replay: %v", err)
		}
		for _, o := range dag.Drain(e.n).Messages {
			if v, ok := o.Msg.(*dag.Vote); ok && v.Origin == 3 {
				votes++
			}
		}
	}
	if got := e.cv.single.Load(); got != 1 {
		t.Fatalf("50 replays cost %d signature checks, want 1", got)
	}
	// One signature for the own header of round 1, one for the vote.
	if got := e.signer.n.Load(); got != 2 || votes != 1 {
		t.Fatalf("50 replays: %d signatures made, %d votes sent; want 2 and 1", got, votes)
	}
	// Once the author's resend interval has passed, the vote is sent
	// again, from the record.
	e.n.Tick(1000)
	dag.Drain(e.n)
	_ = e.n.Step(3, h)
	votes = 0
	for _, o := range dag.Drain(e.n).Messages {
		if _, ok := o.Msg.(*dag.Vote); ok {
			votes++
		}
	}
	if votes != 1 || e.signer.n.Load() != 2 {
		t.Fatalf("replay after the interval: %d votes sent, %d signatures in all; want 1 and 2", votes, e.signer.n.Load())
	}

	before := e.cv.single.Load()
	evidence := 0
	reported := false
	for i := range 50 {
		err := e.n.Step(3, e.header(e.chain, 1, 3, dag.Time(2+i), e.genesisParents()))
		if err == nil || !strings.Contains(err.Error(), "equivocating") {
			t.Fatalf("conflicting header %d: %v", i, err)
		}
		rd := dag.Drain(e.n)
		evidence += len(rd.Evidence)
		reported = reported || misbehaving(rd, 3)
		for _, o := range rd.Messages {
			if _, ok := o.Msg.(*dag.Vote); ok {
				t.Fatal("voted for a conflicting header")
			}
		}
	}
	if got := e.cv.single.Load() - before; got > 1 {
		t.Fatalf("50 conflicting headers cost %d signature checks, want at most 1", got)
	}
	if evidence != 1 || !reported {
		t.Fatalf("evidence %d (want 1), author reported %v", evidence, reported)
	}
}

// TestOtherChainRefused: headers, votes and certificates signed for
// another chain id (same keys, same epoch) are refused.
func TestOtherChainRefused(t *testing.T) {
	e := newHostileEnv(t)
	const other = "other-chain"
	err := e.n.Step(3, e.header(other, 1, 3, 1, e.genesisParents()))
	if err == nil || !strings.Contains(err.Error(), "header signature") {
		t.Fatalf("header signed for another chain: %v", err)
	}
	c := e.cert(other, e.header(other, 1, 2, 1, e.genesisParents()), 0, 1, 2)
	err = e.n.Step(2, c)
	if err == nil || !strings.Contains(err.Error(), "aggregate signature") {
		t.Fatalf("certificate signed for another chain: %v", err)
	}
	// Votes on the own header: two signed for another chain do not make
	// a certificate; the same two signed for this chain do.
	own := e.own
	if own == nil {
		t.Fatal("no own header")
	}
	vote := func(chain string, voter dag.ValidatorID) *dag.Vote {
		sig := e.keys[voter].Sign(dag.SigningMessage(chain, 0, own.Digest()))
		return &dag.Vote{Epoch: 0, Round: own.Round, Origin: 0, Header: own.Digest(), Voter: voter, Signature: sig}
	}
	certified := func(rd dag.Ready) bool {
		for _, o := range rd.Messages {
			if _, ok := o.Msg.(*dag.Certificate); ok {
				return true
			}
		}
		return false
	}
	_ = e.n.Step(1, vote(other, 1))
	_ = e.n.Step(2, vote(other, 2))
	rd := dag.Drain(e.n)
	if certified(rd) {
		t.Fatal("votes signed for another chain made a certificate")
	}
	if !misbehaving(rd, 1) || !misbehaving(rd, 2) {
		t.Fatal("voters of another chain not reported")
	}
	// Validators 1 and 2 are not heard again for this header: a good
	// vote of 3 with the own one is short of a quorum (3 of 4).
	_ = e.n.Step(3, vote(e.chain, 3))
	if certified(dag.Drain(e.n)) {
		t.Fatal("certified without a quorum of good votes")
	}
}
