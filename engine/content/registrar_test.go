package content

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	"github.com/dagd/dagd/contracts"
	"github.com/dagd/dagd/crypto"
	"github.com/dagd/dagd/internal/testclock"
	"github.com/dagd/dagd/internal/testwait"
)

// fakeSubmitter takes every transaction and keeps it.
type fakeSubmitter struct {
	mu  sync.Mutex
	txs []*contracts.Tx
}

func (f *fakeSubmitter) Submit(_ context.Context, txs [][]byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, b := range txs {
		tx, err := contracts.DecodeTx(b)
		if err != nil {
			return 0, err
		}
		f.txs = append(f.txs, tx)
	}
	return len(txs), nil
}

func (f *fakeSubmitter) submitted() []*contracts.Tx {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*contracts.Tx(nil), f.txs...)
}

// TestRegistrarSubmitsFollowsAndResubmits: the registrar signs the
// node's own registration of a put with its account, at the account's
// nonce; when the transaction gets no receipt past its expiry it submits
// it again; once the ledger records the content it is done. A fake
// submitter, a state store written by the test and a fake clock stand in
// for the node, the executor and time.
func TestRegistrarSubmitsFollowsAndResubmits(t *testing.T) {
	l := newFakeLedger(t)
	sub := &fakeSubmitter{}
	clock := testclock.New(time.Now())
	var seed [crypto.AccountSeedSize]byte
	seed[0] = 9
	key := crypto.AccountKeyFromSeed(seed)
	net := newTestNet(t, 4, func(i int, c *Config) {
		if i == 0 {
			c.Ledger, c.Submitter, c.Clock, c.AccountKey = l, sub, clock, key
			c.MaxTxLifetime = 20 * time.Second
		}
	})
	u := map[string][]byte{string(contracts.AccountKey(key.Public())): (&contracts.Account{Nonce: 5, Balance: 1 << 50}).Encode()}
	l.commitRaw(t, 1, u)
	data := randomContent(5, 2*(64<<10))
	res, err := net.svc[0].Put(context.Background(), bytes.NewReader(data), int64(len(data)), PutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if r := res.Registration; r == nil || !r.Pending {
		t.Fatalf("put's registration %+v, want pending", r)
	}
	testwait.Until(t, testTimeout, "the registrar to submit", func() bool { return len(sub.submitted()) == 1 })
	tx := sub.submitted()[0]
	op, ok := tx.Op.(*contracts.RegisterContent)
	if !ok || !bytes.Equal(op.CID, res.CID.Bytes()) || tx.Sender != key.Public() || tx.Nonce != 5 || tx.ChainID != testChain {
		t.Fatalf("submitted %+v (op %+v)", tx, tx.Op)
	}
	if !tx.VerifySignature() {
		t.Fatal("registration not signed by the node's account")
	}
	// No receipt: past its expiry (and the grace) it is submitted again,
	// not before.
	clock.Advance(2 * time.Second)
	if err := net.svc[0].ledger.round(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := len(sub.submitted()); n != 1 {
		t.Fatalf("%d submissions before the first expired", n)
	}
	testwait.Until(t, testTimeout, "the registrar to submit again after the expiry", func() bool {
		clock.Advance(5 * time.Second)
		return len(sub.submitted()) >= 2
	})
	again := sub.submitted()[1]
	if again.Nonce != 5 || again.Digest() == tx.Digest() {
		t.Fatalf("resubmitted nonce %d digest %s, first %s", again.Nonce, again.Digest(), tx.Digest())
	}
	// The ledger records it: the registrar is done with it.
	c := res.Certificate
	l.commit(t, 2, recordOf(c, again, 2, 1000, 1<<40))
	testwait.Until(t, testTimeout, "the registration to be done", func() bool {
		clock.Advance(time.Second)
		r := net.svc[0].Inspect().Registration(c.CID)
		return r.Registered && r.Seq == 2
	})
	n := len(sub.submitted())
	clock.Advance(time.Hour)
	if err := net.svc[0].ledger.round(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := len(sub.submitted()); got != n {
		t.Fatalf("%d more submissions after the registration executed", got-n)
	}
}
