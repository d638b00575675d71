package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/dagd/dagd/engine/client"
	"github.com/dagd/dagd/engine/content"
	"github.com/dagd/dagd/erasure"
	"github.com/dagd/dagd/heal"
	"github.com/dagd/dagd/internal/testwait"
)

// contentDevnet starts a devnet of four validators with APIs for the
// content tests. edit, when set, changes every node's options.
func contentDevnet(t testing.TB, mem bool, edit func(i int, o *Options)) *Devnet {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logger := slog.New(slog.DiscardHandler)
	if os.Getenv("DAGD_TEST_LOG") != "" {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	d, err := StartDevnet(ctx, DevnetOptions{BaseDir: t.TempDir(), API: true, InMemoryNetwork: mem, NoSync: true, Logger: logger,
		Configure: func(i int, o *Options) {
			o.Content.ChunkSize = 64 << 10 // many chunks from little data
			if edit != nil {
				edit(i, o)
			}
		}})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := d.Close(); err != nil {
			t.Errorf("devnet close: %v", err)
		}
		cancel()
	})
	waitConnected(t, d)
	return d
}

// waitConnected waits until every running node reaches every other
// running node.
func waitConnected(t testing.TB, d *Devnet) {
	t.Helper()
	testwait.For(t, testTimeout, func() error {
		running := 0
		for i := 0; i < d.Size(); i++ {
			if d.Node(i) != nil {
				running++
			}
		}
		for i := 0; i < d.Size(); i++ {
			if n := d.Node(i); n != nil && len(n.tr.Connected()) < running-1 {
				return fmt.Errorf("node %d reaches %d of the %d other running nodes", i, len(n.tr.Connected()), running-1)
			}
		}
		return nil
	})
}

func randomContent(seed uint64, size int) []byte {
	r := rand.New(rand.NewPCG(seed, 42))
	b := make([]byte, size)
	for i := 0; i+8 <= size; i += 8 {
		v := r.Uint64()
		for k := 0; k < 8; k++ {
			b[i+k] = byte(v >> (8 * k))
		}
	}
	for i := size - size%8; i < size; i++ {
		b[i] = byte(r.Uint32())
	}
	return b
}

func apiClient(t testing.TB, d *Devnet, i int) *client.Client {
	t.Helper()
	c, err := client.New(d.Node(i).APIAddr(), client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func putBytes(t testing.TB, d *Devnet, i int, data []byte, o content.PutOptions) *content.PutResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	res, err := d.Node(i).PutContent(ctx, bytes.NewReader(data), int64(len(data)), o)
	if err != nil {
		t.Fatalf("put of %d bytes through node %d: %v", len(data), i, err)
	}
	return res
}

func getBytes(t testing.TB, d *Devnet, i int, id cid.Cid) ([]byte, *content.GetResult) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	var b bytes.Buffer
	res, err := d.Node(i).GetContent(ctx, id, &b)
	if err != nil {
		t.Fatalf("get of %s through node %d: %v", id, i, err)
	}
	return b.Bytes(), res
}

// TestContentRoundTrip puts contents of many sizes through one node and
// gets them through another, over QUIC, through the Go API and the HTTP
// API: the bytes come back identical and the CID is the one the erasure
// package computes alone.
func TestContentRoundTrip(t *testing.T) {
	d := contentDevnet(t, false, nil)
	const chunk = 64 << 10
	sizes := []int{0, 1, 1000, chunk - 1, chunk, chunk + 1, 3*chunk + 17, 5<<20 + 3}
	if !testing.Short() {
		sizes = append(sizes, 40<<20+11) // 641 chunks; 200 MB: bench/storage.md
	}
	for n, size := range sizes {
		data := randomContent(uint64(size), size)
		in, out := n%4, (n+1)%4
		want := func() cid.Cid {
			enc, err := erasure.NewEncoder(&erasure.Options{ChunkSize: chunk})
			if err != nil {
				t.Fatal(err)
			}
			id, _, err := enc.Encode(context.Background(), bytes.NewReader(data), int64(size), discardSink{})
			if err != nil {
				t.Fatal(err)
			}
			return id
		}()
		var res *content.PutResult
		if n%2 == 0 {
			res = putBytes(t, d, in, data, content.PutOptions{})
		} else {
			ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
			r, err := apiClient(t, d, in).Put(ctx, bytes.NewReader(data), int64(size), client.PutOptions{})
			cancel()
			if err != nil {
				t.Fatalf("HTTP put of %d bytes: %v", size, err)
			}
			id, err := erasure.ParseCID(r.CID)
			if err != nil {
				t.Fatal(err)
			}
			res = &content.PutResult{CID: id, K: r.K, N: r.N, Chunks: r.Chunks}
		}
		if !res.CID.Equals(want) {
			t.Fatalf("size %d: put gave CID %s, erasure alone gives %s", size, res.CID, want)
		}
		// The CID parses with go-cid alone: version 1, BLAKE3-256
		// multihash (0x1e), 32-byte digest.
		parsed, err := cid.Decode(res.CID.String())
		if err != nil {
			t.Fatalf("size %d: go-cid cannot parse %s: %v", size, res.CID, err)
		}
		if p := parsed.Prefix(); p.Version != 1 || p.MhType != 0x1e || p.MhLength != 32 {
			t.Fatalf("size %d: CID %s has prefix %+v, want CIDv1 with a 32-byte BLAKE3 multihash", size, res.CID, p)
		}
		if res.K != 2 || res.N != 4 {
			t.Fatalf("size %d: k=%d n=%d, want the committee's 2 of 4", size, res.K, res.N)
		}
		got, gr := getBytes(t, d, out, res.CID)
		if !bytes.Equal(got, data) {
			t.Fatalf("size %d: node %d returned %d bytes that differ from the %d put through node %d", size, out, len(got), size, in)
		}
		var viaHTTP bytes.Buffer
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		_, err = apiClient(t, d, (n+2)%4).Get(ctx, res.CID, &viaHTTP)
		cancel()
		if err != nil || !bytes.Equal(viaHTTP.Bytes(), data) {
			t.Fatalf("size %d: HTTP get: %v (%d bytes)", size, err, viaHTTP.Len())
		}
		t.Logf("size %d: %s, local %d remote %d rebuilt %d", size, res.CID, gr.ShardsLocal, gr.ShardsRemote, gr.ChunksRebuilt)
	}
}

type discardSink struct{}

func (discardSink) Put(context.Context, int, int, []byte) error { return nil }

// TestContentTwoValidatorsStopped: with k=2 of n=4, any two holders
// suffice. Content put through node 0 comes back identical through node 3
// (Go API) and node 0 (HTTP) once nodes 1 and 2 are stopped.
func TestContentTwoValidatorsStopped(t *testing.T) {
	d := contentDevnet(t, false, nil)
	data := randomContent(11, 3<<20+5)
	res := putBytes(t, d, 0, data, content.PutOptions{K: 2, N: 4})
	for _, i := range []int{1, 2} {
		if err := d.StopNode(i); err != nil {
			t.Fatal(err)
		}
	}
	got, gr := getBytes(t, d, 3, res.CID)
	if !bytes.Equal(got, data) {
		t.Fatalf("node 3 returned %d bytes that differ", len(got))
	}
	if gr.ChunksRebuilt != gr.Chunks {
		t.Errorf("%d of %d chunks rebuilt from parity, want all (data shards 0 and 1: only 0 reachable)", gr.ChunksRebuilt, gr.Chunks)
	}
	var b bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if _, err := apiClient(t, d, 0).Get(ctx, res.CID, &b); err != nil || !bytes.Equal(b.Bytes(), data) {
		t.Fatalf("HTTP get through node 0: %v", err)
	}
	// A third holder down: fewer than k shards, a clear error.
	if err := d.StopNode(3); err != nil {
		t.Fatal(err)
	}
	ctx2, cancel2 := context.WithTimeout(context.Background(), testTimeout)
	defer cancel2()
	_, err := d.Node(0).GetContent(ctx2, res.CID, io.Discard)
	if !errors.Is(err, erasure.ErrTooFewShards) {
		t.Fatalf("get with one holder of four: %v, want ErrTooFewShards", err)
	}
}

// metricValue returns the value of a counter or gauge without labels on a
// node's registry (0 when absent).
func metricValue(t testing.TB, n *Node, name string) float64 {
	t.Helper()
	mfs, err := n.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		var v float64
		for _, m := range mf.GetMetric() {
			if c := m.GetCounter(); c != nil {
				v += c.GetValue()
			}
			if g := m.GetGauge(); g != nil {
				v += g.GetValue()
			}
		}
		return v
	}
	return 0
}

// shardsIntact reports whether node i holds every one of its shards of
// the object, each matching the manifest.
func shardsIntact(d *Devnet, i int, id cid.Cid, m *erasure.Manifest) bool {
	n := d.Node(i)
	if n == nil {
		return false
	}
	for _, j := range heal.ShardsOf(i, m.Params().TotalShards(), d.Size()) {
		for c := 0; c < m.NumChunks(); c++ {
			b, err := n.content.Inspect().Shard(id, m, c, j)
			if err != nil || erasure.VerifyShard(m, c, j, b) != nil {
				return false
			}
		}
	}
	return true
}

// TestContentRepair damages two validators' shards on disk (node 3's
// shard file corrupted in one chunk and cut short; node 2's object
// directory deleted whole), lets their audits rebuild them, then stops the
// two other holders: a get needs exactly the repaired shards and returns
// the content identical.
func TestContentRepair(t *testing.T) {
	d := contentDevnet(t, false, func(_ int, o *Options) {
		o.Content.AuditInterval = 100 * time.Millisecond
		o.Content.RepairBackoffMin = 20 * time.Millisecond
	})
	data := randomContent(21, 2<<20+999)
	res := putBytes(t, d, 0, data, content.PutOptions{})
	m, err := erasure.NewEncoder(&erasure.Options{ChunkSize: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	_, man, err := m.Encode(context.Background(), bytes.NewReader(data), int64(len(data)), discardSink{})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 4; i++ {
		if !shardsIntact(d, i, res.CID, man) {
			t.Fatalf("node %d: shards not intact right after the put", i)
		}
	}
	objDir := func(i int) string { return filepath.Join(d.DataDir(i), "content", "objects", res.CID.String()) }

	// Node 3: flip a byte of chunk 1's shard, cut the file after chunk 10.
	f3 := filepath.Join(objDir(3), "s3")
	p := man.Params()
	st := int64((p.ChunkSize + p.DataShards - 1) / p.DataShards) // between two chunks' shards in a shard file
	f, err := os.OpenFile(f3, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	var b [1]byte
	if _, err := f.ReadAt(b[:], st+100); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0xff
	if _, err := f.WriteAt(b[:], st+100); err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(10*st + 5); err != nil {
		t.Fatal(err)
	}
	f.Close()
	// Node 2: the whole object directory gone, manifest included.
	if err := os.RemoveAll(objDir(2)); err != nil {
		t.Fatal(err)
	}
	if shardsIntact(d, 3, res.CID, man) || shardsIntact(d, 2, res.CID, man) {
		t.Fatal("damage not visible")
	}

	// The audits run every 100 ms: the repair must be done well within
	// this bound, even on a loaded machine.
	const repairBound = 15 * time.Second
	damaged := time.Now()
	testwait.For(t, repairBound, func() error {
		if shardsIntact(d, 3, res.CID, man) && shardsIntact(d, 2, res.CID, man) {
			return nil
		}
		return fmt.Errorf("shards not repaired (repaired: node 2 %v, node 3 %v)",
			metricValue(t, d.Node(2), "dagd_content_shards_repaired_total"), metricValue(t, d.Node(3), "dagd_content_shards_repaired_total"))
	})
	t.Logf("repaired %v after the damage", time.Since(damaged).Round(time.Millisecond))
	chunks := float64(man.NumChunks())
	if got := metricValue(t, d.Node(2), "dagd_content_shards_repaired_total"); got != chunks {
		t.Errorf("node 2 repaired %v shards, want %v", got, chunks)
	}
	if got := metricValue(t, d.Node(3), "dagd_content_shards_repaired_total"); got != chunks-10+1 {
		t.Errorf("node 3 repaired %v shards, want %v (chunk 1 and chunks 10..)", got, chunks-10+1)
	}
	// The gauges settle at the next audit.
	testwait.Until(t, repairBound, "node 3's gauges to settle at the next audit", func() bool {
		return metricValue(t, d.Node(3), "dagd_content_shards_held") == chunks
	})
	if got := metricValue(t, d.Node(3), "dagd_content_shards_missing"); got != 0 {
		t.Errorf("node 3 reports %v shards missing after repair", got)
	}
	if got := metricValue(t, d.Node(3), "dagd_content_shards_held"); got != chunks {
		t.Errorf("node 3 reports %v shards held, want %v", got, chunks)
	}

	for _, i := range []int{0, 1} {
		if err := d.StopNode(i); err != nil {
			t.Fatal(err)
		}
	}
	got, gr := getBytes(t, d, 2, res.CID)
	if !bytes.Equal(got, data) {
		t.Fatal("content rebuilt from the repaired shards differs")
	}
	if gr.ShardsLocal != int64(man.NumChunks()) || gr.ShardsRemote != int64(man.NumChunks()) {
		t.Errorf("get used %d local and %d remote shards, want %d each (shards 2 and 3)", gr.ShardsLocal, gr.ShardsRemote, man.NumChunks())
	}
}

// TestContentHolderDownDuringPut: a put succeeds with three of four
// holders; the fourth, restarted, learns the certificate from a peer's
// registry, adopts the object and rebuilds its shards, which a later read
// then needs.
func TestContentHolderDownDuringPut(t *testing.T) {
	d := contentDevnet(t, false, func(_ int, o *Options) {
		o.Content.AuditInterval = 100 * time.Millisecond
		o.Content.RepairBackoffMin = 20 * time.Millisecond
	})
	if err := d.StopNode(3); err != nil {
		t.Fatal(err)
	}
	data := randomContent(31, 1<<20+77)
	res := putBytes(t, d, 1, data, content.PutOptions{})
	if len(res.Unconfirmed) != 1 || res.Unconfirmed[0] != 3 {
		t.Fatalf("unconfirmed holders %v, want [3]", res.Unconfirmed)
	}
	if got := res.Certificate.Signers.Indices(); len(got) != 3 {
		t.Fatalf("signers %v, want 0, 1 and 2", got)
	}
	if err := d.StartNode(3); err != nil {
		t.Fatal(err)
	}
	waitConnected(t, d)
	enc, _ := erasure.NewEncoder(&erasure.Options{ChunkSize: 64 << 10})
	_, man, _ := enc.Encode(context.Background(), bytes.NewReader(data), int64(len(data)), discardSink{})
	testwait.Until(t, testTimeout, "the restarted holder to rebuild its shards", func() bool { return shardsIntact(d, 3, res.CID, man) })
	for _, i := range []int{0, 1} {
		if err := d.StopNode(i); err != nil {
			t.Fatal(err)
		}
	}
	got, _ := getBytes(t, d, 3, res.CID)
	if !bytes.Equal(got, data) {
		t.Fatal("content differs")
	}
}

// TestContentIdempotentPut: putting the same content again gives the same
// CID and the first certificate; content put again with other k and n is
// another object, whatever its size.
func TestContentIdempotentPut(t *testing.T) {
	d := contentDevnet(t, true, nil)
	data := randomContent(81, 300<<10)
	first := putBytes(t, d, 0, data, content.PutOptions{})
	again := putBytes(t, d, 2, data, content.PutOptions{})
	if !again.CID.Equals(first.CID) || !again.AlreadyRegistered || !bytes.Equal(again.Certificate.Encode(), first.Certificate.Encode()) {
		t.Fatalf("re-put: %s registered=%v, first %s", again.CID, again.AlreadyRegistered, first.CID)
	}
	// Content of one chunk is named by its manifest like any other (issue
	// 13, finding 10): another coding is another object.
	small := []byte("one chunk")
	a := putBytes(t, d, 1, small, content.PutOptions{K: 2, N: 4})
	b := putBytes(t, d, 1, small, content.PutOptions{K: 1, N: 3})
	if a.CID.Equals(b.CID) || b.AlreadyRegistered || b.K != 1 || b.N != 3 {
		t.Fatalf("one-chunk re-put with k=1 n=3: %+v", b)
	}
	for _, id := range []cid.Cid{a.CID, b.CID} {
		if got, _ := getBytes(t, d, 3, id); !bytes.Equal(got, small) {
			t.Fatalf("%s differs", id)
		}
	}
	// Other coding of multi-chunk content: another CID, both readable.
	other := putBytes(t, d, 1, data, content.PutOptions{K: 3, N: 4})
	if other.CID.Equals(first.CID) || other.AlreadyRegistered {
		t.Fatalf("k=3 coding: %+v", other)
	}
	for _, id := range []cid.Cid{first.CID, other.CID} {
		if got, _ := getBytes(t, d, 3, id); !bytes.Equal(got, data) {
			t.Fatalf("%s differs", id)
		}
	}
}

// TestContentPutParams: parameters that cannot make a certificate are
// refused before anything is sent.
func TestContentPutParams(t *testing.T) {
	d := contentDevnet(t, true, nil)
	for _, o := range []content.PutOptions{{K: 2, N: 2}, {K: 4, N: 3}, {N: 2}, {K: 1, N: 300}} {
		_, err := d.Node(0).PutContent(context.Background(), bytes.NewReader([]byte("x")), 1, o)
		if !errors.Is(err, content.ErrContentParams) {
			t.Errorf("%+v: %v, want content.ErrContentParams", o, err)
		}
	}
	// n=5 on four validators: validator 0 holds shards 0 and 4.
	data := randomContent(91, 200<<10)
	res := putBytes(t, d, 3, data, content.PutOptions{K: 2, N: 5})
	got, _ := getBytes(t, d, 1, res.CID)
	if !bytes.Equal(got, data) {
		t.Fatal("n=5 content differs")
	}
	if h, err := d.Node(0).content.Inspect().Holding(res.CID); err != nil || len(h) != 2 {
		t.Fatalf("validator 0 holds %v (%v), want shards 0 and 4", h, err)
	}
}

// TestContentStoreRestart: what a node holds is what its pebble records,
// not what its directories show. A restart deletes an object directory
// that no holding record names (a crash between the rename into place and
// the record), a temporary file left by a repair, a stray entry and the
// staging area, and keeps the objects it holds: a get that needs its
// shards returns the content.
func TestContentStoreRestart(t *testing.T) {
	d := contentDevnet(t, true, nil)
	data := randomContent(141, 1<<20+5)
	res := putBytes(t, d, 0, data, content.PutOptions{})
	if err := d.StopNode(2); err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(d.DataDir(2), "content")
	objDir := filepath.Join(root, "objects", res.CID.String())
	orphan := filepath.Join(root, "objects", erasure.RawCID([]byte("never recorded")).String())
	stray := filepath.Join(root, "objects", "not-a-cid")
	tmp := filepath.Join(objDir, "s2.tmp")
	staged := filepath.Join(root, "staging", "0-00000000000000aa")
	for _, dir := range []string{orphan, staged} {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "s2"), []byte("half a shard"), 0o640); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{tmp, stray} {
		if err := os.WriteFile(f, []byte("junk"), 0o640); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.StartNode(2); err != nil {
		t.Fatal(err)
	}
	waitConnected(t, d)
	for _, p := range []string{orphan, stray, tmp, staged} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s survived the restart: %v", p, err)
		}
	}
	enc, _ := erasure.NewEncoder(&erasure.Options{ChunkSize: 64 << 10})
	_, man, _ := enc.Encode(context.Background(), bytes.NewReader(data), int64(len(data)), discardSink{})
	if !shardsIntact(d, 2, res.CID, man) {
		t.Fatal("node 2 lost its shards across the restart")
	}
	for _, i := range []int{0, 1} {
		if err := d.StopNode(i); err != nil {
			t.Fatal(err)
		}
	}
	if got, _ := getBytes(t, d, 3, res.CID); !bytes.Equal(got, data) {
		t.Fatal("content differs")
	}
}
