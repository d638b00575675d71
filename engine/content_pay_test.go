package engine

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/dagd/dagd/engine/content"
	"github.com/dagd/dagd/engine/store"
	"github.com/dagd/dagd/erasure"

	"github.com/dagd/dagd/contracts"
	"github.com/dagd/dagd/crypto"
	"github.com/dagd/dagd/engine/client"
	"github.com/dagd/dagd/engine/client/contentpay"
	"github.com/dagd/dagd/internal/testwait"
)

// accountOf reads an account from node i's executed state.
func accountOf(t *testing.T, d *Devnet, i int, pk crypto.AccountPublicKey) contracts.Account {
	t.Helper()
	v, found, err := d.Node(i).exec.State().Get(contracts.AccountKey(pk))
	if err != nil {
		t.Fatal(err)
	}
	if !found {
		return contracts.Account{}
	}
	a, err := contracts.DecodeAccount(v)
	if err != nil {
		t.Fatal(err)
	}
	return *a
}

// paidTx signs the payment of data by key: a RegisterContent computed
// locally, with the fee the node requires plus extra.
func paidTx(t *testing.T, d *Devnet, params *client.ContentParams, key *crypto.AccountPrivateKey, data []byte, extra int64) *contracts.Tx {
	t.Helper()
	op, err := contentpay.Registration(context.Background(), bytes.NewReader(data), int64(len(data)), params, 0, 0, 3_600_000)
	if err != nil {
		t.Fatal(err)
	}
	nonce := accountOf(t, d, 0, key.Public()).Nonce
	tx := contracts.NewTx(params.ChainID, nonce, 0, uint64(time.Now().Add(time.Minute).UnixMilli()), op)
	tx.Sender = key.Public()
	tx.Fee = uint64(int64(contentpay.Fee(params, tx)) + extra)
	tx.Sign(key)
	return tx
}

// postPut posts body to node i's put endpoint with the payment header of
// tx (none when nil) and returns the status and answer.
func postPut(t *testing.T, d *Devnet, i int, body []byte, tx *contracts.Tx) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, "http://"+d.Node(i).APIAddr()+"/v1/content", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if tx != nil {
		req.Header.Set(client.ContentPaymentHeader, hex.EncodeToString(tx.Encode()))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	return resp.StatusCode, b.String()
}

// TestContentPaidPut pins issue 13, finding 9: a node that does not pay
// for its clients refuses an unpaid put (401); a paid put is checked
// before its body is stored (fee by stored bytes and retention, size,
// content, balance, quota) and registered by the payer's own transaction,
// with the certificate as its witness: the payer pays, the node's account
// pays nothing, and the record carries the paid expiry.
func TestContentPaidPut(t *testing.T) {
	d := contentDevnet(t, true, func(_ int, o *Options) {
		o.Content.OperatorPaysPuts = false
		o.Content.MaxAccountUploadBytes = 4 << 20
	})
	data := randomContent(131, 300<<10)
	if st, body := postPut(t, d, 1, data, nil); st != http.StatusUnauthorized || !strings.Contains(body, client.ReasonPaymentRequired) {
		t.Fatalf("unpaid put: %d %s", st, body)
	}
	c, err := client.New(d.Node(1).APIAddr(), client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	params, err := c.ContentParams(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	payer := contracts.DevnetOperatorKey(d.opts.Seed, 3) // funded by the genesis
	node := contracts.DevnetOperatorKey(d.opts.Seed, 1).Public()
	testwait.Until(t, testTimeout, "the genesis to execute on nodes 1 and 2", func() bool {
		return accountOf(t, d, 1, payer.Public()).Balance != 0 && accountOf(t, d, 2, payer.Public()).Balance != 0
	})
	for name, c := range map[string]struct {
		body  []byte
		tx    *contracts.Tx
		code  int
		words string
	}{
		"fee one short":  {data, paidTx(t, d, params, payer, data, -1), http.StatusPaymentRequired, "stored bytes"},
		"other size":     {data[1:], paidTx(t, d, params, payer, data, 0), http.StatusPaymentRequired, "pays for"},
		"other content":  {randomContent(132, len(data)), paidTx(t, d, params, payer, data, 0), http.StatusPaymentRequired, "not the content signed for"},
		"unfunded payer": {data, paidTx(t, d, params, contracts.DevnetAccountKey("nobody", 99), data, 0), http.StatusPaymentRequired, "does not exist"},
		"over the quota": {randomContent(133, 3<<20), paidTx(t, d, params, payer, randomContent(133, 3<<20), 0), http.StatusTooManyRequests, "limit 4194304 per account"},
	} {
		st, body := postPut(t, d, 1, c.body, c.tx)
		if st != c.code || !strings.Contains(body, c.words) {
			t.Errorf("%s: %d %s, want %d naming %q", name, st, body, c.code, c.words)
		}
	}
	req, _ := http.NewRequest(http.MethodPost, "http://"+d.Node(1).APIAddr()+"/v1/content", bytes.NewReader(data))
	req.Header.Set(client.ContentPaymentHeader, "zz")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusPaymentRequired {
		t.Fatalf("malformed payment header: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	tampered := paidTx(t, d, params, payer, data, 0)
	tampered.Fee++
	if st, body := postPut(t, d, 1, data, tampered); st != http.StatusPaymentRequired || !strings.Contains(body, "signature") {
		t.Fatalf("tampered payment: %d %s", st, body)
	}

	nodeBefore, payerBefore := accountOf(t, d, 2, node), accountOf(t, d, 2, payer.Public())
	tx := paidTx(t, d, params, payer, data, 0)
	res, err := c.Put(context.Background(), bytes.NewReader(data), int64(len(data)), client.PutOptions{Payment: tx.Encode()})
	if err != nil {
		t.Fatal(err)
	}
	if r := res.Registration; r == nil || !r.Pending || r.Registrant != payer.Public().String() {
		t.Fatalf("paid put's registration %+v", r)
	}
	id, _ := erasure.CIDFromBytes(tx.Op.(*contracts.RegisterContent).CID)
	if res.CID != id.String() {
		t.Fatalf("stored %s, paid for %s", res.CID, id)
	}
	reg := waitRegistered(t, d, 2, id)
	rec, err := d.Node(2).content.Inspect().LedgerRecord(id)
	if err != nil || rec.Registrant != payer.Public() || rec.Expiry != rec.Time+3_600_000 {
		t.Fatalf("record %+v %v (registration %+v)", rec, err, reg)
	}
	if got := accountOf(t, d, 2, node); got.Balance != nodeBefore.Balance || got.Nonce != nodeBefore.Nonce {
		t.Fatalf("the node's account changed: %+v, was %+v", got, nodeBefore)
	}
	if got := accountOf(t, d, 2, payer.Public()); payerBefore.Balance-got.Balance != tx.Fee {
		t.Fatalf("payer paid %d, fee %d", payerBefore.Balance-got.Balance, tx.Fee)
	}
	if got, _ := getBytes(t, d, 0, id); !bytes.Equal(got, data) {
		t.Fatal("paid content differs")
	}
	// The Go API checks the same payment.
	if _, err := d.Node(1).PutContent(context.Background(), bytes.NewReader(data), -1, content.PutOptions{Payment: paidTx(t, d, params, payer, data, 0)}); !errors.Is(err, content.ErrContentPayment) {
		t.Fatalf("paid put of undeclared size: %v", err)
	}
}

// TestContentSlowBody pins issue 13's slow-body finding for puts: a client
// that sends a few bytes of its body and stalls is cut off at its read
// deadline (UploadBodyGrace plus size/MinUploadRate) with 408, and its
// upload slot is free for the next put.
func TestContentSlowBody(t *testing.T) {
	d := contentDevnet(t, true, func(_ int, o *Options) {
		o.Content.UploadBodyGrace = 300 * time.Millisecond
		o.Content.MinUploadRate = 1 << 30
		o.Content.MaxConcurrentPuts = 1
	})
	conn, err := net.Dial("tcp", d.Node(1).APIAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(testTimeout)) // fail, not hang, when the node waits forever
	if _, err := fmt.Fprintf(conn, "POST /v1/content HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n0123456789"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestTimeout || !strings.Contains(string(body), client.ReasonBodyTooSlow) {
		t.Fatalf("stalled body: %d %s", resp.StatusCode, body)
	}
	data := randomContent(141, 50<<10)
	if st, body := postPut(t, d, 1, data, nil); st != http.StatusCreated {
		t.Fatalf("put after the stalled one: %d %s", st, body)
	}
}

// TestContentExpiryCollected pins issue 13, finding 9's retention: content
// is registered with an expiry in consensus time; once the commits pass it,
// every holder deletes its shards, certificate and index entry, a get
// finds nothing, stat says why, and a peer's announcement of the old
// certificate does not bring it back.
func TestContentExpiryCollected(t *testing.T) {
	d := contentDevnet(t, true, func(_ int, o *Options) {
		o.Content.Retention = 1500 * time.Millisecond
		o.Content.AuditInterval = 50 * time.Millisecond
	})
	data := randomContent(151, 200<<10)
	res := putBytes(t, d, 1, data, content.PutOptions{})
	for i := 0; i < d.Size(); i++ {
		waitRegistered(t, d, i, res.CID)
	}
	rec, err := d.Node(0).content.Inspect().LedgerRecord(res.CID)
	if err != nil || rec.Expiry != rec.Time+1500 {
		t.Fatalf("record %+v %v", rec, err)
	}
	held := func(i int) bool {
		_, err := d.Node(i).content.Inspect().Holding(res.CID)
		return err == nil
	}
	for i := 0; i < d.Size(); i++ {
		testwait.For(t, testTimeout, func() error {
			// The collection ends with the counter: the shards, the
			// certificate and the index entry are gone by then.
			if held(i) || metricValue(t, d.Node(i), "dagd_content_objects_collected_total") == 0 {
				return fmt.Errorf("node %d has not collected %s after its expiry (consensus time %d, expiry %d)", i, res.CID, d.Node(i).content.Inspect().ConsensusTime(), rec.Expiry)
			}
			return nil
		})
	}
	for i := 0; i < d.Size(); i++ {
		s := d.Node(i).content.Inspect()
		if _, err := s.Certificate(res.CID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("node %d keeps the certificate: %v", i, err)
		}
		if r := s.Registration(res.CID); r.Registered || !strings.Contains(r.Reason, "paid retention over") {
			t.Errorf("node %d: registration %+v", i, r)
		}
	}
	if _, err := d.Node(2).GetContent(context.Background(), res.CID, io.Discard); !errors.Is(err, content.ErrContentNotFound) {
		t.Fatalf("get of collected content: %v", err)
	}
	// The old certificate announced again is refused:
	// content.TestRegisterRefusesExpired.
}
