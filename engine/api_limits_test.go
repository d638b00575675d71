package engine

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/dagd/dagd/engine/client"
	"github.com/dagd/dagd/engine/execution"
	"github.com/dagd/dagd/erasure"
	"github.com/dagd/dagd/internal/testwait"
)

// limitServer runs a node (alone: it accepts submissions, never commits)
// behind the API server New builds (timeouts, connection caps).
func limitServer(t *testing.T, edit func(*Options)) (*Node, string) {
	t.Helper()
	o := testOptions(t, 4, 0, NewMemNetwork(0))
	if edit != nil {
		edit(&o)
	}
	n := runLoneNode(t, o)
	srv := httptest.NewUnstartedServer(nil)
	srv.Config = n.api.HTTPServer()
	srv.Listener = n.api.Listener(srv.Listener)
	srv.Start()
	t.Cleanup(srv.Close)
	return n, srv.URL
}

func gzipped(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write(b)
	_ = zw.Close()
	return buf.Bytes()
}

// TestRefusalWithoutReadingBody: a handler that refuses a request
// without reading its body (an upload declaring more than the node
// stores) answers at once: the body wrapper must not hide the server's
// own body from it, or the server reads the body before answering, as
// slowly as the client sends it.
func TestRefusalWithoutReadingBody(t *testing.T) {
	_, url := limitServer(t, nil)
	c, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "POST /v1/content HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n\x00", int64(1)<<50)
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no answer to an oversized upload: %v", err)
	}
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(b), "reason") {
		t.Fatalf("oversized upload: %d %s", res.StatusCode, b)
	}
}

// TestCommitAnswersBounded: with a tiny MaxResponseBytes, a range of
// commits with their transactions stops at the limit with a cursor
// (more, next_seq), a commit too large alone comes cut with
// next_tx_offset, and a follower of the cursors reads every transaction.
func TestCommitAnswersBounded(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const limit = 200
	d, err := StartDevnet(ctx, DevnetOptions{BaseDir: t.TempDir(), API: true, InMemoryNetwork: true, NoSync: true, Accounts: -1,
		Execution: execution.Options{Disabled: true},
		Configure: func(i int, o *Options) { o.API.MaxResponseBytes = limit }})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	base := "http://" + d.Node(0).APIAddr()
	want := map[string]bool{}
	var txs [][]byte
	for i := 0; i < 40; i++ {
		tx := fmt.Appendf(nil, "bounded-answer-%03d-%s", i, strings.Repeat("x", 24))
		txs = append(txs, tx)
		want[string(tx)] = true
	}
	if _, err := d.Submit(ctx, 0, txs); err != nil {
		t.Fatal(err)
	}
	getJSON := func(path string, v any) {
		res, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, res.StatusCode, b)
		}
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatal(err)
		}
	}
	next, more, cut := uint64(1), 0, 0
	testwait.Until(t, testTimeout, "every transaction read through the cursors", func() bool {
		var cr client.CommitRange
		getJSON(fmt.Sprintf("/v1/commits?from=%d&limit=1000&txs=own", next), &cr)
		size := 0
		for _, c := range cr.Commits {
			for _, tx := range c.Transactions {
				size += len(tx)
				delete(want, string(tx))
			}
			for off := c.NextTxOffset; off != nil; {
				cut++
				var ci client.CommitInfo
				getJSON(fmt.Sprintf("/v1/commits/%d?txs=own&tx_offset=%d", c.Seq, *off), &ci)
				if ci.TxOffset != *off || len(ci.Transactions) == 0 {
					t.Fatalf("commit %d from %d: offset %d, %d transactions", c.Seq, *off, ci.TxOffset, len(ci.Transactions))
				}
				for _, tx := range ci.Transactions {
					delete(want, string(tx))
				}
				off = ci.NextTxOffset
			}
			next = c.Seq + 1
		}
		if size > limit && len(cr.Commits) > 1 {
			t.Fatalf("range of %d commits with %d bytes of transactions, limit %d", len(cr.Commits), size, limit)
		}
		if cr.More {
			more++
			next = cr.NextSeq
		}
		return len(want) == 0
	})
	t.Logf("read 40 transactions of %d bytes through %d cut ranges and %d cut commits", len(txs[0]), more, cut)
	if more+cut == 0 {
		t.Errorf("no answer was cut at %d bytes", limit)
	}
}

// TestContentLookupSlots: a lookup that would ask other validators for a
// manifest takes a slot first; with API.MaxContentLookups taken it is
// refused at once as busy, naming the limit, without asking anyone.
func TestContentLookupSlots(t *testing.T) {
	n, url := limitServer(t, func(o *Options) { o.API.MaxContentLookups = 2 })
	if !n.limits.lookups.TryAcquire(2) {
		t.Fatal("lookup slots taken")
	}
	defer n.limits.lookups.Release(2)
	res, err := http.Get(url + "/v1/content/" + erasure.RawCID([]byte("nobody has this")).String())
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusTooManyRequests || !strings.Contains(string(b), "MaxContentLookups") {
		t.Fatalf("lookup with every slot taken: %d %s", res.StatusCode, b)
	}
}
