package engine

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/dagd/dagd/engine/client"
)

// FuzzParseSubmission: the body of POST /v1/transactions, in any of the
// content types a client may claim, never panics the parser; what it
// accepts is within the limits, and what it refuses has a reason.
func FuzzParseSubmission(f *testing.F) {
	o := testOptionsF(f)
	o.DAG.MaxTxSize = 1000
	o.MaxRequestTxs = 10
	o.MaxRequestBytes = 8000
	n, err := New(context.Background(), o)
	if err != nil {
		f.Fatal(err)
	}
	defer n.Close()
	ctypes := []string{ContentTypeJSON, ContentTypeBinary, "", "text/plain", "application/json; charset=utf-8", "application/octet-stream;;"}
	f.Add(uint8(0), []byte(`{"transactions":["AAAA","aGVsbG8="]}`))
	f.Add(uint8(0), []byte(`{"transactions":[]}`))
	f.Add(uint8(0), []byte(`{"transactions":["AAAA"]} {}`))
	f.Add(uint8(2), []byte(`{"transactions":[null,"",1]}`))
	f.Add(uint8(1), client.AppendBinaryTx(client.AppendBinaryTx(nil, []byte("a")), []byte("bc")))
	f.Add(uint8(1), []byte{0, 0, 0, 5, 1})
	f.Add(uint8(4), []byte(`{"transactions":["AAAA"],"x":1}`))
	f.Add(uint8(5), []byte{0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, ct uint8, body []byte) {
		r := httptest.NewRequest(http.MethodPost, "/v1/transactions", bytes.NewReader(body))
		if c := ctypes[int(ct)%len(ctypes)]; c != "" {
			r.Header.Set("Content-Type", c)
		}
		txs, se := n.parseSubmission(httptest.NewRecorder(), r)
		if se != nil {
			if txs != nil || se.Reason == "" || se.Error() == "" {
				t.Fatalf("refusal %+v with %d transactions", se, len(txs))
			}
			if st := se.HTTPStatus(); st < 400 || st >= 500 {
				t.Fatalf("refusal %q answers %d", se.Reason, st)
			}
			return
		}
		if len(txs) == 0 || len(txs) > o.MaxRequestTxs {
			t.Fatalf("accepted %d transactions", len(txs))
		}
		for _, tx := range txs {
			if len(tx) == 0 || len(tx) > o.DAG.MaxTxSize {
				t.Fatalf("accepted a transaction of %d bytes", len(tx))
			}
		}
	})
}
