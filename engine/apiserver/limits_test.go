package apiserver

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/dagd/dagd/dag"
	dagdv1 "github.com/dagd/dagd/engine/api/dagd/v1"
	"github.com/dagd/dagd/engine/client"
	"github.com/dagd/dagd/internal/testwait"
)

// peakHeap samples the heap in use while fn runs and returns its peak
// above the heap before.
func peakHeap(fn func()) uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	var peak atomic.Uint64
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			if m.HeapAlloc > base && m.HeapAlloc-base > peak.Load() {
				peak.Store(m.HeapAlloc - base)
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	fn()
	close(stop)
	<-done
	return peak.Load()
}

func gzipped(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write(b)
	_ = zw.Close()
	return buf.Bytes()
}

func postEnc(t *testing.T, url, ctype, encoding string, body []byte) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", ctype)
	if encoding != "" {
		req.Header.Set("Content-Encoding", encoding)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// TestSubmitDecodeBounded: 4 M empty entries, 8 MiB of protobuf (a few KB
// gzipped) or of JSON, were decoded in full before their count was
// checked (+362 MiB and +199 MiB of heap). They are now counted on the
// wire and refused at MaxRequestTxs with the reason, and the heap stays
// within a few times the body (8 MiB; the race detector's shadow memory
// adds to it).
func TestSubmitDecodeBounded(t *testing.T) {
	url := newTestServer(t, nil).url
	const entries = 4 << 20
	protoBody := bytes.Repeat([]byte{0x0a, 0x00}, entries)
	var js strings.Builder
	js.WriteString(`{"transactions":[""`)
	for i := 1; i < entries*2/3; i++ {
		js.WriteString(`,""`)
	}
	js.WriteString(`]}`)
	var jsx strings.Builder // entries of one byte: 7 bytes each
	jsx.WriteString(`{"transactions":["eA=="`)
	for i := 1; i < entries/3; i++ {
		jsx.WriteString(`,"eA=="`)
	}
	jsx.WriteString(`]}`)
	const bound = 64 << 20
	cases := []struct {
		name, path, ctype, enc string
		body                   []byte
		status                 int
		want                   []string
	}{
		{"connect proto gzip", "/dagd.v1.TransactionService/SubmitTransactions", "application/proto", "gzip", gzipped(protoBody),
			http.StatusBadRequest, []string{"too_many_txs", "20000", "SubmitRejection"}},
		{"connect json", "/dagd.v1.TransactionService/SubmitTransactions", "application/json", "", []byte(js.String()),
			http.StatusBadRequest, []string{"too_many_txs", "20000", "SubmitRejection"}},
		{"json api empty", "/v1/transactions", client.ContentTypeJSON, "", []byte(js.String()),
			http.StatusBadRequest, []string{"empty_tx", `"index":0`}},
		{"json api", "/v1/transactions", client.ContentTypeJSON, "", []byte(jsx.String()),
			http.StatusRequestEntityTooLarge, []string{"too_many_txs", "MaxRequestTxs"}},
	}
	for _, c := range cases {
		var status int
		var out string
		peak := peakHeap(func() { status, out = postEnc(t, url+c.path, c.ctype, c.enc, c.body) })
		t.Logf("%s: %d bytes sent: %d %.160s; heap peak +%d MiB", c.name, len(c.body), status, out, peak>>20)
		if status != c.status {
			t.Errorf("%s: status %d, want %d", c.name, status, c.status)
		}
		for _, w := range c.want {
			if !strings.Contains(out, w) {
				t.Errorf("%s: answer %.200q does not say %q", c.name, out, w)
			}
		}
		if peak > bound {
			t.Errorf("%s: heap grew by %d MiB, bound %d MiB", c.name, peak>>20, bound>>20)
		}
	}
}

// TestSubmitGzipCutAtLimit: a compressed message is cut where it exceeds
// MaxRequestBytes decompressed (not inflated to its end to be measured),
// and the refusal names the limit.
func TestSubmitGzipCutAtLimit(t *testing.T) {
	url := newTestServer(t, func(o *Options) { o.MaxRequestBytes = 1 << 20 }).url
	// One 256 MiB transaction of zeros: 256 KB gzipped.
	raw := make([]byte, 0, 256<<20+8)
	raw = append(raw, 0x0a, 0x80, 0x80, 0x80, 0x80, 0x01)
	raw = raw[:cap(raw)-2]
	body := gzipped(raw)
	raw = nil
	var status int
	var out string
	peak := peakHeap(func() {
		status, out = postEnc(t, url+"/dagd.v1.TransactionService/SubmitTransactions", "application/proto", "gzip", body)
	})
	t.Logf("%d bytes of gzip: %d %.200s; heap peak +%d MiB", len(body), status, out, peak>>20)
	if status != http.StatusTooManyRequests || !strings.Contains(out, "resource_exhausted") || !strings.Contains(out, "MaxRequestBytes") {
		t.Fatalf("answer %d %.200q, want resource_exhausted naming MaxRequestBytes", status, out)
	}
	if peak > 24<<20 {
		t.Errorf("heap grew by %d MiB for a 1 MiB limit", peak>>20)
	}
}

// openSlowBody opens a connection from a loopback address and sends the
// headers of a submission and one byte of its body.
func openSlowBody(t *testing.T, url, from, path string) net.Conn {
	t.Helper()
	d := net.Dialer{}
	if from != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(from)}
	}
	c, err := d.Dial("tcp", strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	ctype := client.ContentTypeBinary
	if strings.HasPrefix(path, "/dagd.v1.") {
		ctype = "application/proto"
	}
	fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\nContent-Length: 1000000\r\n\r\n\x00", path, ctype)
	return c
}

// TestSlowBodiesHoldNoSlots: MaxInflightRequests (the node's slots) connections that send
// one byte of their body used to hold every submission slot (honest
// clients got 429 for as long as the bodies trickled). Slots are taken
// once the body is read now: an honest submission goes through at once,
// and the slow ones are cut at RequestReadTimeout with 408 body_timeout.
func TestSlowBodiesHoldNoSlots(t *testing.T) {
	const slots = 8
	env := newTestServerSlots(t, slots, func(o *Options) { o.API.RequestReadTimeout = 2 * time.Second })
	s, url := env.s, env.url
	fixed := submitFixedCost(s.opts.MaxRequestTxs)
	var conns []net.Conn
	for i := 0; i < slots; i++ {
		conns = append(conns, openSlowBody(t, url, "", "/v1/transactions"))
	}
	for i := 0; i < slots; i++ {
		conns = append(conns, openSlowBody(t, url, "", "/dagd.v1.TransactionService/SubmitTransactions"))
	}
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	// Every slow body is being read: each holds its fixed charge.
	testwait.Until(t, 5*time.Second, "slow bodies admitted", func() bool { return s.limits.submit.used.Load() >= int64(len(conns))*fixed })
	status, out := postEnc(t, url+"/v1/transactions", client.ContentTypeBinary, "", client.AppendBinaryTx(nil, []byte("honest")))
	if status != http.StatusAccepted {
		t.Fatalf("honest submission beside %d slow bodies: %d %s", len(conns), status, out)
	}
	for i, c := range conns {
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		res, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatalf("slow body %d: %v", i, err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		want := http.StatusRequestTimeout
		if i >= slots {
			want = http.StatusGatewayTimeout // Connect's deadline_exceeded
		}
		if res.StatusCode != want || !strings.Contains(string(b), "RequestReadTimeout") {
			t.Errorf("slow body %d: %d %.200s, want %d naming RequestReadTimeout", i, res.StatusCode, b, want)
		}
	}
	testwait.Until(t, 5*time.Second, "charges released", func() bool { return s.limits.submit.used.Load() == 0 })
}

// TestSubmitBudgetRefusal: what bodies hold of the submission budget is
// what they sent; a submission that does not fit the budget, or its
// address's share of it, is refused as busy with the limit named, and
// goes through once the budget is free or from another address.
func TestSubmitBudgetRefusal(t *testing.T) {
	const need = 2*(64<<10) + 24*100
	for _, tc := range []struct {
		name      string
		total, ip int64
		slowFrom  string
		from      string
		limit     string
		otherFrom string
		otherFits bool
	}{
		{"budget", need + (16 << 10), need + (16 << 10), "127.0.0.2", "127.0.0.3", "MaxSubmitBytes", "127.0.0.4", false},
		{"share of an address", 4 * need, need + (16 << 10), "127.0.0.2", "127.0.0.2", "MaxSubmitBytesPerIP", "127.0.0.3", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := newTestServer(t, func(o *Options) {
				o.MaxRequestBytes = 64 << 10
				o.MaxRequestTxs = 100
				o.MaxTxSize = 64 << 10
				o.API.MaxSubmitBytes, o.API.MaxSubmitBytesPerIP = tc.total, tc.ip
			})
			s, url := env.s, env.url
			addr := strings.TrimPrefix(url, "http://")
			from := func(ip string) *http.Client {
				return &http.Client{Transport: &http.Transport{DialContext: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}).DialContext}}
			}
			post := func(ip string, body []byte) (int, string) {
				res, err := from(ip).Post(url+"/v1/transactions", client.ContentTypeBinary, bytes.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				defer res.Body.Close()
				b, _ := io.ReadAll(res.Body)
				return res.StatusCode, string(b)
			}
			d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(tc.slowFrom)}}
			c, err := d.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			fmt.Fprintf(c, "POST /v1/transactions HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n", 60<<10)
			c.Write(make([]byte, 50<<10))
			testwait.Until(t, 5*time.Second, "slow body charged", func() bool { return s.limits.submit.used.Load() >= 2*(50<<10) })
			big := client.AppendBinaryTx(nil, bytes.Repeat([]byte("x"), 40<<10))
			status, out := post(tc.from, big)
			if status != http.StatusTooManyRequests || !strings.Contains(out, client.ReasonTooManyRequests) || !strings.Contains(out, tc.limit+")") {
				t.Fatalf("submission beyond the %s: %d %s", tc.limit, status, out)
			}
			if status, out = post(tc.otherFrom, big); (status == http.StatusAccepted) != tc.otherFits {
				t.Fatalf("submission from another address: %d %s", status, out)
			}
			c.Close()
			testwait.Until(t, 5*time.Second, "budget free", func() bool { return s.limits.submit.used.Load() == 0 })
			if status, out = post(tc.slowFrom, big); status != http.StatusAccepted {
				t.Fatalf("submission with the budget free: %d %s", status, out)
			}
		})
	}
}

// TestConnectionCaps: beyond MaxConnsPerIP connections from one address,
// and beyond MaxConns in all, a connection is answered 503 with the limit
// named and closed; other addresses are served.
func TestConnectionCaps(t *testing.T) {
	env := newTestServer(t, func(o *Options) {
		o.API.MaxConns = 6
		o.API.MaxConnsPerIP = 4
	})
	url, ln := env.url, env.ln
	addr := strings.TrimPrefix(url, "http://")
	dial := func(from string) net.Conn {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
		c, err := d.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	refusal := func(c net.Conn) string {
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		b, _ := io.ReadAll(c)
		return string(b)
	}
	for i := 0; i < 4; i++ {
		dial("127.0.0.2")
	}
	testwait.Until(t, 5*time.Second, "4 connections accepted", func() bool { return ln.open.Load() >= 4 })
	if got := refusal(dial("127.0.0.2")); !strings.Contains(got, "503") || !strings.Contains(got, "MaxConnsPerIP") {
		t.Errorf("5th connection from one address: %q", got)
	}
	dial("127.0.0.3")
	dial("127.0.0.3")
	testwait.Until(t, 5*time.Second, "6 connections accepted", func() bool { return ln.open.Load() >= 6 })
	if got := refusal(dial("127.0.0.4")); !strings.Contains(got, "503") || !strings.Contains(got, "MaxConns") {
		t.Errorf("connection beyond MaxConns: %q", got)
	}
}

// TestRPCUnmarshalRefusalKeepsReason: a Connect submission cut at
// MaxRequestTxs+1 entries is refused by CheckTransactions with its
// SubmitRejection detail.
func TestRPCUnmarshalRefusalKeepsReason(t *testing.T) {
	for _, max := range []int{1, 3} {
		b := bytes.Repeat([]byte{0x0a, 0x01, 'x'}, 10)
		cut := b[:cutProtoTxs(b, max)]
		var m dagdv1.SubmitTransactionsRequest
		if err := (countingProtoCodec{maxTxs: max}).Unmarshal(b, &m); err != nil || len(m.Transactions) != max+1 || len(cut) != 3*(max+1) {
			t.Fatalf("max %d: cut to %d bytes, %d transactions, %v", max, len(cut), len(m.Transactions), err)
		}
		js := []byte(`{"x":[1,2],"transactions":["eA==","eA==","eA==","eA==","eA=="]}`)
		var mj dagdv1.SubmitTransactionsRequest
		if err := (countingJSONCodec{name: "json", maxTxs: max}).Unmarshal(js, &mj); err != nil || len(mj.Transactions) != max+1 {
			t.Fatalf("max %d JSON: %d transactions, %v", max, len(mj.Transactions), err)
		}
	}
	var ce *connect.Error
	_ = errors.As(submitRPCError(&refusal{Reason: client.ReasonBodyTimeout, Index: -1}), &ce)
	if ce.Code() != connect.CodeDeadlineExceeded {
		t.Errorf("body timeout maps to %v", ce.Code())
	}
}

// TestTxWindow: an answer's transactions stop at its byte limit (the
// first always fits, to make progress), after the skipped ones, and are
// charged three times to the read budget; a budget that cannot take one
// more stops the answer too.
func TestTxWindow(t *testing.T) {
	var txs [][]byte
	for i := 0; i < 10; i++ {
		txs = append(txs, bytes.Repeat([]byte{byte(i)}, 100))
	}
	enc := (&dag.Batch{Transactions: txs}).Encode()
	b := newByteBudget(10_000)
	c := &charge{b: b}
	tw := newTxWindow(250, c)
	tw.skip = 3
	var out [][]byte
	if err := tw.appendTxs(enc, 0, &out); err != nil {
		t.Fatal(err)
	}
	if len(out) != 2 || out[0][0] != 3 || out[1][0] != 4 || !tw.full || c.held != 600 {
		t.Fatalf("window of 250 bytes after 3: %d transactions (first %d), full %v, charged %d", len(out), out[0][0], tw.full, c.held)
	}
	c.release()
	big := newTxWindow(50, &charge{b: b}) // one transaction larger than the window still goes
	out = nil
	if err := big.appendTxs(enc, 0, &out); err != nil || len(out) != 1 || !big.full {
		t.Fatalf("window smaller than a transaction: %d, %v", len(out), err)
	}
	tight := newTxWindow(1<<20, &charge{b: newByteBudget(700)}) // the budget takes two
	out = nil
	if err := tight.appendTxs(enc, 0, &out); err != nil || len(out) != 2 || !tight.full {
		t.Fatalf("budget of 700 bytes: %d transactions, %v", len(out), err)
	}
	pre := newTxWindow(1<<20, &charge{b: newByteBudget(1 << 20)})
	out = nil
	if err := pre.appendTxs(enc, 24, &out); err != nil || len(out) != 10 || len(out[9]) != 24 || pre.full {
		t.Fatalf("prefixes: %d transactions, %v", len(out), err)
	}
}
