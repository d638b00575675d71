package engine

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dagd/dagd/engine/client"
	"github.com/dagd/dagd/engine/content"

	"github.com/dagd/dagd/dag"
	"github.com/dagd/dagd/erasure"
	"github.com/dagd/dagd/internal/testwait"
)

// corruptingTransport flips a byte in the body of the successful fetch
// responses (shards and manifests) its node sends while on is set: a
// holder that serves wrong bytes.
type corruptingTransport struct {
	Transport
	on   *atomic.Bool
	sent *atomic.Int64
}

func (c corruptingTransport) Send(to dag.ValidatorID, frame []byte) error {
	// A fetch response is kind, request id (8 bytes), status (0: ok), body.
	if c.on.Load() && len(frame) > 10 && content.FrameKind(frame) == "fetch_response" && frame[9] == 0 {
		bad := bytes.Clone(frame)
		bad[len(bad)-1] ^= 0x5a
		c.sent.Add(1)
		return c.Transport.Send(to, bad)
	}
	return c.Transport.Send(to, frame)
}

// lockedBuffer is a bytes.Buffer safe for concurrent writers (a log).
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestContentWrongShardServed: node 0 serves corrupted shards and
// manifests. Reads through other nodes detect every wrong shard before
// decoding, skip it, blame node 0 (metric, suspicion, a warning in the
// log), take another holder's, and return the content identical; a wrong
// manifest is refused and another holder's used.
func TestContentWrongShardServed(t *testing.T) {
	var on atomic.Bool
	var sent atomic.Int64
	var log2 lockedBuffer
	d := contentDevnet(t, true, func(i int, o *Options) {
		if i == 0 {
			o.WrapTransport = func(tr Transport) Transport { return corruptingTransport{Transport: tr, on: &on, sent: &sent} }
		}
		if i == 2 {
			o.Logger = slog.New(slog.NewTextHandler(&log2, &slog.HandlerOptions{Level: slog.LevelWarn}))
		}
	})
	data := randomContent(41, 2<<20+3)
	res := putBytes(t, d, 1, data, content.PutOptions{})
	small := putBytes(t, d, 1, data[:700<<10], content.PutOptions{K: 2, N: 3}) // held by 0, 1, 2: node 3 must fetch the manifest
	on.Store(true)

	got, gr := getBytes(t, d, 2, res.CID) // plans its own shard 2 and data shard 0, from node 0
	if !bytes.Equal(got, data) {
		t.Fatal("content differs")
	}
	if gr.BadShards[0] == 0 {
		t.Fatalf("no bad shard blamed on node 0: %+v", gr)
	}
	if v := metricValue(t, d.Node(2), "dagd_content_bad_shards_total"); v != float64(gr.BadShards[0]) {
		t.Errorf("bad shard metric %v, get counted %d", v, gr.BadShards[0])
	}
	if !d.Node(2).content.Inspect().Suspect(0) {
		t.Error("node 0 is not suspect after serving bad shards")
	}
	if l := log2.String(); !strings.Contains(l, `msg="holder served a bad shard; skipped"`) || !strings.Contains(l, "holder=0") {
		t.Errorf("node 2 did not log the bad shards of node 0:\n%s", l)
	}
	t.Logf("bad shards from node 0: %d of %d chunks (later chunks ask node 0 last)", gr.BadShards[0], gr.Chunks)

	got, _ = getBytes(t, d, 3, small.CID)
	if !bytes.Equal(got, data[:700<<10]) {
		t.Fatal("content behind a bad manifest differs")
	}
	if sent.Load() == 0 {
		t.Fatal("node 0 never served anything corrupted: the test tests nothing")
	}
}

// TestContentTruncatedUpload: an HTTP upload that ends before its
// Content-Length, and a reader that fails, register nothing and leave
// nothing staged or stored at any holder.
func TestContentTruncatedUpload(t *testing.T) {
	d := contentDevnet(t, true, nil)
	conn, err := net.Dial("tcp", d.Node(0).APIAddr())
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "POST /v1/content HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n", 3<<20)
	if _, err := conn.Write(randomContent(51, 1<<20+5)); err != nil {
		t.Fatal(err)
	}
	conn.(*net.TCPConn).CloseWrite()
	answer, _ := io.ReadAll(conn)
	conn.Close()
	// The client is gone by the time the node answers; whatever it says,
	// it must not be a success.
	if strings.HasPrefix(string(answer), "HTTP/1.1 2") {
		t.Errorf("answer to a truncated upload: %q", answer)
	}

	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	_, err = d.Node(1).PutContent(ctx, io.LimitReader(bytes.NewReader(randomContent(52, 2<<20)), 1<<20), 2<<20, content.PutOptions{})
	if !errors.Is(err, erasure.ErrTruncated) {
		t.Fatalf("put of a short reader: %v, want ErrTruncated", err)
	}
	_, err = d.Node(1).PutContent(ctx, io.MultiReader(bytes.NewReader(make([]byte, 300<<10)), errReader{}), -1, content.PutOptions{})
	if err == nil || !strings.Contains(err.Error(), "disk on fire") {
		t.Fatalf("put of a failing reader: %v", err)
	}
	assertNothingStored(t, d)
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

// assertNothingStored waits until no node has a staged upload, and checks
// that none holds or registered anything.
func assertNothingStored(t *testing.T, d *Devnet) {
	t.Helper()
	for i := 0; i < d.Size(); i++ {
		root := filepath.Join(d.DataDir(i), "content")
		testwait.For(t, testTimeout, func() error {
			if staged, _ := os.ReadDir(filepath.Join(root, "staging")); len(staged) != 0 {
				return fmt.Errorf("node %d still stages %d uploads", i, len(staged))
			}
			return nil
		})
		if objs, _ := os.ReadDir(filepath.Join(root, "objects")); len(objs) != 0 {
			t.Errorf("node %d stores %d objects", i, len(objs))
		}
		if n := d.Node(i).content.Inspect().Records(); n != 0 {
			t.Errorf("node %d has %d content records", i, n)
		}
	}
}

// TestContentMalformedCID: the API and the Go calls refuse CIDs that are
// not dagd's with a clear error, and nothing crashes.
func TestContentMalformedCID(t *testing.T) {
	d := contentDevnet(t, true, nil)
	base := "http://" + d.Node(0).APIAddr()
	for _, s := range []string{
		"not-a-cid",
		"bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy", // sha2-256 raw CID
		"QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG",              // CIDv0
		"bafkr4i",
	} {
		for _, suffix := range []string{"", "/stat", "/manifest"} {
			resp, err := http.Get(base + "/v1/content/" + s + suffix)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), client.ReasonMalformedCID) {
				t.Errorf("GET %s%s: %d %s, want 400 %s", s, suffix, resp.StatusCode, body, client.ReasonMalformedCID)
			}
		}
	}
	// A well-formed CID that names nothing: 404.
	resp, err := http.Get(base + "/v1/content/" + erasure.RawCID([]byte("nothing here")).String())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown CID: %d, want 404", resp.StatusCode)
	}
	if _, err := d.Node(0).GetContent(context.Background(), erasure.RawCID(nil), io.Discard); !errors.Is(err, content.ErrContentNotFound) {
		t.Errorf("get of an unknown CID: %v", err)
	}
}

// TestContentAPIRequests: the endpoints' answers to well-formed and
// ill-formed requests.
func TestContentAPIRequests(t *testing.T) {
	d := contentDevnet(t, true, nil)
	base := "http://" + d.Node(0).APIAddr()
	for _, q := range []string{"k=0", "k=x", "n=999", "k=3&n=3"} {
		resp, err := http.Post(base+"/v1/content?"+q, "application/octet-stream", strings.NewReader("abc"))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), client.ReasonBadParams) {
			t.Errorf("put ?%s: %d %s, want 400 %s", q, resp.StatusCode, body, client.ReasonBadParams)
		}
	}
	data := randomContent(101, 200<<10)
	resp, err := http.Post(base+"/v1/content", "application/octet-stream", bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	var pr client.ContentPutResponse
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("put: %d", resp.StatusCode)
	}
	if err := jsonDecode(resp.Body, &pr); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	head, err := http.Head(base + "/v1/content/" + pr.CID)
	if err != nil {
		t.Fatal(err)
	}
	head.Body.Close()
	if head.StatusCode != http.StatusOK || head.ContentLength != int64(len(data)) || head.Header.Get(client.HeaderManifestDigest) != pr.ManifestDigest {
		t.Errorf("HEAD: %d, length %d, digest %q", head.StatusCode, head.ContentLength, head.Header.Get(client.HeaderManifestDigest))
	}
	cert, err := hexDecode(pr.Certificate)
	if err != nil {
		t.Fatal(err)
	}
	c, err := content.DecodeCertificate(cert)
	if err != nil || c.Verify(d.Node(0).bls, d.Node(0).opts.ChainID, 0) != nil || c.CID.String() != pr.CID {
		t.Fatalf("certificate in the answer: %v", err)
	}
}

func jsonDecode(r io.Reader, v any) error { return json.NewDecoder(r).Decode(v) }

func hexDecode(s string) ([]byte, error) { return hex.DecodeString(s) }

// blackholeTransport swallows the shard pushes its node sends to one peer:
// a holder that takes the upload and never acknowledges.
type blackholeTransport struct {
	Transport
	to dag.ValidatorID
}

func (b blackholeTransport) Send(to dag.ValidatorID, frame []byte) error {
	if to == b.to && len(frame) > 0 && content.FrameKind(frame) == "shard_push" {
		return nil
	}
	return b.Transport.Send(to, frame)
}

// TestContentStalledHolder: a holder that acknowledges nothing is left out
// of the put after StallTimeout; the put is certified by the others, the
// silent holder's session expires, and its audit later rebuilds its shards.
func TestContentStalledHolder(t *testing.T) {
	d := contentDevnet(t, true, func(i int, o *Options) {
		o.Content.UploadWindow = 128 << 10
		o.Content.StallTimeout = time.Second
		o.Content.UploadIdleTimeout = 2 * time.Second
		o.Content.AuditInterval = 200 * time.Millisecond
		if i == 0 {
			o.WrapTransport = func(tr Transport) Transport { return blackholeTransport{Transport: tr, to: 3} }
		}
	})
	data := randomContent(111, 2<<20)
	res := putBytes(t, d, 0, data, content.PutOptions{})
	// Under load an honest holder may be slow too; the silent one is left
	// out whatever happens.
	if !slices.Contains(res.Unconfirmed, 3) || res.Certificate.Signers.Has(3) {
		t.Fatalf("unconfirmed %v, signers %v: holder 3 should be left out", res.Unconfirmed, res.Certificate.Signers.Indices())
	}
	for v, out := range d.Node(0).content.Inspect().UploadWindows() {
		if out != 0 {
			t.Errorf("window of holder %d still holds %d bytes after the put", v, out)
		}
	}
	enc, _ := erasure.NewEncoder(&erasure.Options{ChunkSize: 64 << 10})
	_, man, _ := enc.Encode(context.Background(), bytes.NewReader(data), int64(len(data)), discardSink{})
	testwait.Until(t, testTimeout, "the silent holder's shards to be rebuilt", func() bool { return shardsIntact(d, 3, res.CID, man) })
	testwait.Until(t, testTimeout, "the silent holder's upload session to expire", func() bool {
		staged, _ := os.ReadDir(filepath.Join(d.DataDir(3), "content", "staging"))
		return len(staged) == 0
	})
	// The window is free again: another put goes through.
	putBytes(t, d, 0, data[:100<<10], content.PutOptions{})
}

// TestContentPutAmplification pins issue 13, finding 9's bounds: a client
// may not choose k=1, n=256 (in a committee of four, about 64 copies of
// every byte on each validator). Puts over the HTTP API, uploads a peer
// opens and certificates are all refused past n/k <=
// contracts.MaxContentExpansion and n <= contracts.MaxShardsPerValidator
// per validator.
func TestContentPutAmplification(t *testing.T) {
	d := contentDevnet(t, true, nil)
	base := "http://" + d.Node(0).APIAddr()
	for q, want := range map[string]string{
		"k=1&n=256": "n/k at most 8",
		"k=1&n=9":   "n/k at most 8",
		"k=4&n=17":  "limit 16",
	} {
		resp, err := http.Post(base+"/v1/content?"+q, "application/octet-stream", strings.NewReader("abc"))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), client.ReasonBadParams) || !strings.Contains(string(body), want) {
			t.Errorf("put ?%s: %d %s, want 400 %s naming %q", q, resp.StatusCode, body, client.ReasonBadParams, want)
		}
	}
	// A peer's upload of that coding: content.TestOpenSessionRefusesAmplification.
	// The largest coding allowed still works end to end.
	data := randomContent(111, 100<<10)
	res := putBytes(t, d, 0, data, content.PutOptions{K: 2, N: 16})
	if got, _ := getBytes(t, d, 2, res.CID); !bytes.Equal(got, data) {
		t.Fatal("k=2 n=16 content differs")
	}
	c, err := content.DecodeCertificate(res.Certificate.Encode())
	if err != nil {
		t.Fatal(err)
	}
	c.K = 1 // n/k = 16: refused before any pairing
	if err := c.Verify(d.Node(0).bls, d.Node(0).opts.ChainID, 0); !errors.Is(err, content.ErrInvalidCertificate) || !strings.Contains(err.Error(), "n/k") {
		t.Fatalf("certificate of n/k 16: %v", err)
	}
}
