package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"testing"

	"github.com/dagd/dagd/engine/client"
)

// FuzzContentPutParams: the query parameters and declared size of POST
// /v1/content never panic the handler, and every refusal is JSON with a
// reason. The request's context is already cancelled: what passes the
// parsing stops at once.
func FuzzContentPutParams(f *testing.F) {
	o := testOptionsF(f)
	n, err := New(context.Background(), o)
	if err != nil {
		f.Fatal(err)
	}
	defer n.Close()
	h := n.Handler()
	f.Add("k=1&n=4", int64(10), []byte("0123456789"))
	f.Add("k=0&n=300", int64(-1), []byte{})
	f.Add("k=2&n=1", int64(1<<62), []byte("x"))
	f.Add("k=%41&n=", int64(0), []byte{})
	f.Add("k=99999999999999999999", int64(5), []byte("abc"))
	f.Fuzz(func(t *testing.T, query string, size int64, body []byte) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		r := httptest.NewRequestWithContext(ctx, http.MethodPost, "/v1/content?"+url.PathEscape(query), bytes.NewReader(body))
		r.URL.RawQuery = query
		r.ContentLength = size
		if size < 0 {
			r.ContentLength = -1
		}
		r.Header.Set("Content-Length", strconv.FormatInt(r.ContentLength, 10))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if rec.Code < 400 {
			return
		}
		var e client.ErrorBody
		if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Reason == "" || e.Error == "" {
			t.Fatalf("refusal %d without a reason: %q", rec.Code, rec.Body.String())
		}
	})
}
