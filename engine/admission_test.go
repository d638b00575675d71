package engine

import (
	"context"
	"encoding/binary"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"connectrpc.com/connect"

	"github.com/dagd/dagd/contracts"
	"github.com/dagd/dagd/crypto"
	"github.com/dagd/dagd/engine/client"
	"github.com/dagd/dagd/engine/execution"
	"github.com/dagd/dagd/state"
)

const admitChain = "admit-test"

func admitKey(i int) *crypto.AccountPrivateKey {
	var seed [32]byte
	binary.BigEndian.PutUint32(seed[:], uint32(i))
	seed[31] = 0xad
	return crypto.AccountKeyFromSeed(seed)
}

// mapAccounts is an accountSource over a map, counting reads.
type mapAccounts struct {
	m     map[string][]byte
	reads int
}

func (s *mapAccounts) Get(key []byte) ([]byte, bool, error) {
	s.reads++
	v, ok := s.m[string(key)]
	return v, ok, nil
}

func (s *mapAccounts) Version() uint64 { return 1 }

func fund(s *mapAccounts, pk crypto.AccountPublicKey, nonce, balance uint64) {
	a := contracts.Account{Nonce: nonce, Balance: balance}
	s.m[string(contracts.AccountKey(pk))] = a.Encode()
}

// worthlessBatch returns transactions each of which admission must refuse
// for the reason in want (by index), between good ones (want "").
func worthlessBatch(t testing.TB, src *mapAccounts) ([][]byte, []string) {
	t.Helper()
	fee := 10 * uint64(contracts.DefaultMinFee)
	to := admitKey(99).Public()
	rich, poor := admitKey(1), admitKey(2)
	fund(src, rich.Public(), 5, 1_000_000)
	fund(src, poor.Public(), 0, fee-1)
	var txs [][]byte
	var want []string
	add := func(reason string, tx *contracts.Tx) {
		txs, want = append(txs, tx.Encode()), append(want, reason)
	}
	signed := func(k *crypto.AccountPrivateKey, chain string, nonce, fee uint64) *contracts.Tx {
		return contracts.NewSignedTx(k, chain, nonce, fee, 1<<40, contracts.NewTransfer(to, 1))
	}
	add("", signed(rich, admitChain, 5, fee))
	add(TxWrongChain, signed(rich, "other-chain", 6, fee))
	add(TxFeeTooLow, signed(rich, admitChain, 6, 1))
	forged := &contracts.Tx{ChainID: admitChain, Fee: fee, Expiry: 1 << 40, Op: contracts.NewTransfer(to, 1)}
	forged.Signature[0] = 1 // all-zero sender, R = identity, S = 0: verifies under plain ZIP-215
	add(TxSmallOrderSender, forged)
	add(TxNonceUsed, signed(rich, admitChain, 4, fee))
	add(TxNonceTooFar, signed(rich, admitChain, 5+execution.DefaultAdmissionNonceWindow, fee))
	add("", signed(rich, admitChain, 5+execution.DefaultAdmissionNonceWindow-1, fee))
	add(TxCannotPayFee, signed(poor, admitChain, 0, fee))
	add(TxCannotPayFee, signed(admitKey(3), admitChain, 0, fee)) // no account at all
	bad := signed(rich, admitChain, 7, fee)
	bad.Signature[9] ^= 1
	add(TxBadSignature, bad)
	txs, want = append(txs, []byte("not a transaction")), append(want, TxMalformed)
	add("", signed(rich, admitChain, 8, fee))
	return txs, want
}

func testAdmission(src accountSource) *admission {
	return &admission{chainID: admitChain, module: contracts.NewModule(contracts.Params{}), accounts: src,
		window: execution.DefaultAdmissionNonceWindow, workers: 2}
}

// TestAdmissionRefusesWorthless pins issue 13, finding 8 at admission:
// transactions that could only be dropped at execution (bad signature,
// small-order sender, unfunded sender, nonce used or too far ahead, fee
// too low, another chain, bytes that do not decode) were accepted and
// ordered; now each is refused with its own reason, the others pass, and
// each sender's account is read once.
func TestAdmissionRefusesWorthless(t *testing.T) {
	src := &mapAccounts{m: map[string][]byte{}}
	txs, want := worthlessBatch(t, src)
	a := testAdmission(src)
	src.reads = 0
	rej, err := a.check(txs)
	if err != nil {
		t.Fatal(err)
	}
	got := make([]string, len(txs))
	for k, r := range rej {
		if k > 0 && rej[k-1].Index >= r.Index {
			t.Fatalf("rejections out of order: %+v", rej)
		}
		if r.Detail == "" {
			t.Errorf("transaction %d refused (%s) without a detail", r.Index, r.Reason)
		}
		got[r.Index] = r.Reason
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("reasons by transaction:\n got %q\nwant %q", got, want)
	}
	if src.reads != 3 {
		t.Errorf("%d account reads for 3 senders that reach the state checks", src.reads)
	}
	// What verified is remembered for the executor, nothing else.
	vs := execution.NewVerifiedSet(4)
	a = testAdmission(src)
	a.verified = vs
	if _, err := a.check(txs); err != nil {
		t.Fatal(err)
	}
	for i, w := range want {
		if got := vs.Take(crypto.Hash(txs[i])); got != (w == "") {
			t.Errorf("transaction %d (%q): remembered as verified: %v", i, w, got)
		}
	}

	// Without execution, only what needs no state: an unfunded sender or a
	// wrong nonce passes.
	a = testAdmission(nil)
	rej, err = a.check(txs)
	if err != nil {
		t.Fatal(err)
	}
	got = make([]string, len(txs))
	for _, r := range rej {
		got[r.Index] = r.Reason
	}
	for i, w := range want {
		switch w {
		case TxNonceUsed, TxNonceTooFar, TxCannotPayFee:
			w = ""
		}
		if got[i] != w {
			t.Errorf("no execution: transaction %d: %q, want %q", i, got[i], w)
		}
	}

	// Opaque admission lets bytes that do not decode through, not the rest.
	a = testAdmission(src)
	a.opaque = true
	rej, _ = a.check(txs)
	if len(rej) != len(want)-4 {
		t.Errorf("opaque admission: %d rejections, want %d", len(rej), len(want)-4)
	}
	for _, r := range rej {
		if r.Reason == TxMalformed {
			t.Errorf("opaque admission refused transaction %d as malformed", r.Index)
		}
	}
}

// TestAdmissionRefusalsInAPI: the JSON and the Connect answers to the same
// request name the same refused transactions with the same reasons, and
// nothing reaches the node.
func TestAdmissionRefusalsInAPI(t *testing.T) {
	o := testOptions(t, 4, 0, NewMemNetwork(0))
	o.ChainID = admitChain
	o.Execution.AdmitOpaque = false
	n, err := New(context.Background(), o) // admission needs no running loop
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	// The node has executed nothing yet: admission does the stateless
	// checks; keep the transactions that fail them.
	all, allWant := worthlessBatch(t, &mapAccounts{m: map[string][]byte{}})
	var txs [][]byte
	var want []string
	for i, w := range allWant {
		switch w {
		case TxWrongChain, TxFeeTooLow, TxSmallOrderSender, TxBadSignature, TxMalformed:
			for range 2 { // twice: more than maxListedRejections in all
				txs, want = append(txs, all[i]), append(want, w)
			}
		}
	}
	_, err = n.Submit(context.Background(), txs)
	se, ok := err.(*SubmitError)
	if !ok || se.Reason != ReasonInvalidTx || se.Accepted != 0 || se.Index != 0 || len(se.Rejected) != len(txs) {
		t.Fatalf("Submit: %v", err)
	}
	for _, r := range se.Rejected {
		if r.Reason != want[r.Index] {
			t.Errorf("transaction %d: %s, want %s", r.Index, r.Reason, want[r.Index])
		}
	}
	msg := se.Error()
	for k := range maxListedRejections {
		r := se.Rejected[k]
		if !strings.Contains(msg, fmt.Sprintf("transaction %d: %s: %s", r.Index, r.Reason, r.Detail)) {
			t.Errorf("message %q does not name transaction %d", msg, r.Index)
		}
	}
	if !strings.Contains(msg, fmt.Sprintf("and %d more", len(txs)-maxListedRejections)) {
		t.Errorf("message %q does not say how many more", msg)
	}

	r := post(t, n.Handler(), client.ContentTypeJSON, jsonBody(txs...))
	if r.status != 400 || r.body.Reason != ReasonInvalidTx || r.body.Accepted != 0 || r.body.Error != msg {
		t.Fatalf("JSON: %d %+v, want 400 %s with the message %q", r.status, r.body, ReasonInvalidTx, msg)
	}
	base := serveNode(t, n)
	c := newRPCClient(t, "connect/http1", base, false)
	_, err = submitRPC(context.Background(), c, txs...)
	if connect.CodeOf(err) != connect.CodeInvalidArgument {
		t.Fatalf("Connect: %v, want InvalidArgument", err)
	}
	var ce *connect.Error
	if !asConnectError(err, &ce) || ce.Message() != msg {
		t.Fatalf("Connect message %q, want %q", err, msg)
	}
	if rj := rejection(t, err); rj == nil || rj.Accepted != 0 || rj.GetTxIndex() != 0 {
		t.Fatalf("Connect rejection %v", rj)
	}
	if got := len(n.submitCh); got != 0 {
		t.Errorf("%d refused requests reached the node", got)
	}
}

func asConnectError(err error, ce **connect.Error) bool {
	e, ok := err.(*connect.Error)
	if ok {
		*ce = e
	}
	return ok
}

// BenchmarkAdmission measures admission of signed transfers from funded
// accounts read from a pebble state: a request of one transaction, and a
// request of 1,024 from 1,024 accounts (ns/op is per request, ns/tx per
// transaction).
func BenchmarkAdmission(b *testing.B) {
	st, err := state.Open(b.TempDir(), state.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	const n = 1024
	upd := state.NewUpdate()
	txs := make([][]byte, n)
	for i := range n {
		k := admitKey(i)
		acct := contracts.Account{Nonce: 3, Balance: 1 << 40}
		upd.Set(contracts.AccountKey(k.Public()), acct.Encode())
		txs[i] = contracts.NewSignedTx(k, admitChain, 3, 10*contracts.DefaultMinFee, 1<<40, contracts.NewTransfer(admitKey(i+1).Public(), 1)).Encode()
	}
	if _, err := st.Commit(1, upd); err != nil {
		b.Fatal(err)
	}
	b.Run("batch=1", func(b *testing.B) { // a request of one transaction: no batch to share the cost
		a := testAdmission(st)
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			if rej, err := a.check(txs[i%n : i%n+1]); err != nil || len(rej) != 0 {
				b.Fatalf("%v %v", rej, err)
			}
		}
	})
	for _, workers := range []int{1, 2} {
		b.Run(fmt.Sprintf("batch=%d/workers=%d", n, workers), func(b *testing.B) {
			a := testAdmission(st)
			a.workers = workers
			b.ReportAllocs()
			for b.Loop() {
				rej, err := a.check(txs)
				if err != nil || len(rej) != 0 {
					b.Fatalf("%v %v", rej, err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/tx")
		})
	}
}

// FuzzAdmission: any bytes, as one transaction or split in several, get
// an answer without a panic: rejections sorted by index, one at most per
// transaction, each with a reason and a detail.
func FuzzAdmission(f *testing.F) {
	src := &mapAccounts{m: map[string][]byte{}}
	txs, _ := worthlessBatch(f, src)
	for _, tx := range txs {
		f.Add(tx, uint8(0))
	}
	f.Add([]byte{1, 0}, uint8(3))
	a := testAdmission(src)
	f.Fuzz(func(t *testing.T, b []byte, cut uint8) {
		in := [][]byte{b}
		if c := int(cut); c > 0 && c < len(b) {
			in = [][]byte{b[:c], b[c:]}
		}
		rej, err := a.check(in)
		if err != nil {
			t.Fatal(err)
		}
		for k, r := range rej {
			if r.Index < 0 || r.Index >= len(in) || (k > 0 && rej[k-1].Index >= r.Index) || r.Reason == "" || r.Detail == "" {
				t.Fatalf("rejections %+v of %d transactions", rej, len(in))
			}
		}
	})
}
