package apiserver

import (
	"bytes"
	"encoding/json"
	"net/url"
	"testing"

	"google.golang.org/protobuf/proto"

	dagdv1 "github.com/dagd/dagd/engine/api/dagd/v1"
	"github.com/dagd/dagd/engine/client"
)

// FuzzDecodeSubmitJSON: the streaming decoder of POST /v1/transactions
// never panics, never returns more than maxTxs transactions or one empty
// or beyond maxTxSize, and agrees with encoding/json on what it accepts.
func FuzzDecodeSubmitJSON(f *testing.F) {
	f.Add([]byte(`{"transactions":["AAAA","aGVsbG8="]}`))
	f.Add([]byte(`{"transactions":[]}`))
	f.Add([]byte(`{"transactions":null}`))
	f.Add([]byte(`{"transactions":["AA==","AA==","AA==","AA=="]}`))
	f.Add([]byte(`{"transactions":["AA=="],"transactions":["AA=="]}`))
	f.Add([]byte(`{"transactions":[""]}`))
	f.Add([]byte(`{"transactions":[1,{}]}`))
	f.Add([]byte(`{"x":1}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"transactions":["AA=="]} x`))
	const maxTxs, maxSize = 3, 8
	f.Fuzz(func(t *testing.T, body []byte) {
		txs, se := decodeSubmitJSON(bytes.NewReader(body), maxTxs, maxSize)
		if se != nil {
			if txs != nil || se.Reason == "" || se.Detail == "" {
				t.Fatalf("refusal %+v with %d transactions", se, len(txs))
			}
			return
		}
		if len(txs) > maxTxs {
			t.Fatalf("%d transactions accepted", len(txs))
		}
		for _, tx := range txs {
			if len(tx) == 0 || len(tx) > maxSize {
				t.Fatalf("transaction of %d bytes accepted", len(tx))
			}
		}
		var ref client.SubmitJSON
		if err := json.Unmarshal(body, &ref); err != nil {
			t.Fatalf("accepted %q, which encoding/json refuses: %v", body, err)
		}
		if len(ref.Transactions) != len(txs) {
			t.Fatalf("%d transactions, encoding/json finds %d", len(txs), len(ref.Transactions))
		}
		for i := range txs {
			if !bytes.Equal(ref.Transactions[i], txs[i]) {
				t.Fatalf("transaction %d differs from encoding/json's", i)
			}
		}
	})
}

// FuzzSubmitProtoCodec: the Connect API's protobuf codec never decodes
// more than maxTxs+1 transactions of a submission, and decodes a
// submission within the limit as proto.Unmarshal does.
func FuzzSubmitProtoCodec(f *testing.F) {
	add := func(txs ...[]byte) {
		b, _ := proto.Marshal(&dagdv1.SubmitTransactionsRequest{Transactions: txs})
		f.Add(b)
	}
	add([]byte("a"))
	add([]byte("a"), []byte("b"), []byte("c"), []byte("d"), []byte("e"))
	add([]byte{}, []byte{})
	f.Add([]byte{0x0a, 0x80})
	f.Add([]byte{0x10, 0x01, 0x0a, 0x01, 'x'})
	f.Add(bytes.Repeat([]byte{0x0a, 0x00}, 10))
	const maxTxs = 3
	f.Fuzz(func(t *testing.T, b []byte) {
		var got dagdv1.SubmitTransactionsRequest
		err := (countingProtoCodec{maxTxs: maxTxs}).Unmarshal(b, &got)
		if len(got.Transactions) > maxTxs+1 {
			t.Fatalf("%d transactions decoded", len(got.Transactions))
		}
		var ref dagdv1.SubmitTransactionsRequest
		rerr := proto.Unmarshal(b, &ref)
		if rerr == nil && len(ref.Transactions) <= maxTxs {
			if err != nil || !proto.Equal(&got, &ref) {
				t.Fatalf("within the limit: %v, differs from proto.Unmarshal", err)
			}
		}
		if rerr == nil && len(ref.Transactions) > maxTxs && (err != nil || len(got.Transactions) != maxTxs+1) {
			t.Fatalf("%d transactions cut to %d (%v), want %d", len(ref.Transactions), len(got.Transactions), err, maxTxs+1)
		}
	})
}

// FuzzSubmitJSONCodec: the Connect API's JSON codec never decodes more
// than maxTxs+1 transactions of a submission.
func FuzzSubmitJSONCodec(f *testing.F) {
	f.Add([]byte(`{"transactions":["AA==","AA==","AA==","AA==","AA=="]}`))
	f.Add([]byte(`{"x":[1,[2]],"transactions":["AA=="]}`))
	f.Add([]byte(`{"transactions":["AA=="],"transactions":["AA==","AA==","AA==","AA=="]}`))
	f.Add([]byte(`{"transactions":[["AA=="]]}`))
	f.Add([]byte(`{"transactions": [ "AA==" , "AA==" , "AA==" , "AA==" ] }`))
	const maxTxs = 3
	f.Fuzz(func(t *testing.T, b []byte) {
		var got dagdv1.SubmitTransactionsRequest
		err := (countingJSONCodec{name: "json", maxTxs: maxTxs}).Unmarshal(b, &got)
		if err == nil && len(got.Transactions) > maxTxs+1 {
			t.Fatalf("%d transactions decoded", len(got.Transactions))
		}
	})
}

// FuzzCommitQuery: the query parameters of GET /v1/commits and GET
// /v1/commits/{seq} never panic the parsers, and what they accept is in
// range.
func FuzzCommitQuery(f *testing.F) {
	f.Add("from=1&limit=100&txs=own&tx_prefix=24")
	f.Add("from=0")
	f.Add("from=18446744073709551615&limit=1000&txs=all")
	f.Add("from=1&limit=1001")
	f.Add("from=1&tx_offset=5")
	f.Add("txs=none&tx_offset=-1&tx_prefix=99999999999999999999")
	f.Add("from=%zz&;&&=")
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		if from, limit, cq, err := parseCommitRange(q); err == nil {
			if from == 0 || limit < 1 || limit > client.MaxCommitsPerRequest || cq.prefix < 0 || cq.offset != 0 || cq.mode > client.TxAll {
				t.Fatalf("accepted from %d limit %d %+v", from, limit, cq)
			}
		} else if err.Error() == "" {
			t.Fatal("refusal without a message")
		}
		if cq, err := parseCommitQuery(q, true); err == nil && (cq.prefix < 0 || cq.offset < 0 || cq.mode > client.TxAll) {
			t.Fatalf("accepted %+v", cq)
		}
	})
}
