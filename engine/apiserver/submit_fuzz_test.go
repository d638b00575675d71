package apiserver

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/dagd/dagd/engine/client"
)

// FuzzParseSubmission: the body of POST /v1/transactions, in any of the
// content types a client may claim, never panics the parser; what it
// accepts is within the limits, and what it refuses has a reason.
func FuzzParseSubmission(f *testing.F) {
	s := newBareServer(f, func(o *Options) {
		o.MaxTxSize = 1000
		o.MaxRequestTxs = 10
		o.MaxRequestBytes = 8000
	})
	o := s.opts
	ctypes := []string{client.ContentTypeJSON, client.ContentTypeBinary, "", "text/plain", "application/json; charset=utf-8", "application/octet-stream;;"}
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
		txs, se := s.parseSubmission(httptest.NewRecorder(), r)
		if se != nil {
			if txs != nil || se.Reason == "" || se.Error() == "" {
				t.Fatalf("refusal %+v with %d transactions", se, len(txs))
			}
			if st := ReasonStatus(se.Reason); st < 400 || st >= 500 {
				t.Fatalf("refusal %q answers %d", se.Reason, st)
			}
			return
		}
		if len(txs) == 0 || len(txs) > o.MaxRequestTxs {
			t.Fatalf("accepted %d transactions", len(txs))
		}
		for _, tx := range txs {
			if len(tx) == 0 || len(tx) > o.MaxTxSize {
				t.Fatalf("accepted a transaction of %d bytes", len(tx))
			}
		}
	})
}

// FuzzSplitBinary: a binary submission body from a client never panics
// the parser, and every transaction it yields is within the limits.
func FuzzSplitBinary(f *testing.F) {
	s := newBareServer(f, nil)
	f.Add(client.AppendBinaryTx(client.AppendBinaryTx(nil, []byte("a")), []byte("bc")))
	f.Add([]byte{0, 0, 0, 5, 1})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, body []byte) {
		txs, err := s.splitBinary(body)
		if err != nil {
			return
		}
		var again []byte
		for _, tx := range txs {
			if len(tx) == 0 || len(tx) > s.opts.MaxTxSize {
				t.Fatalf("transaction of %d bytes passed", len(tx))
			}
			again = client.AppendBinaryTx(again, tx)
		}
		if !bytes.Equal(again, body) {
			t.Fatal("split does not round-trip")
		}
	})
}
