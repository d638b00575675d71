package content

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dagd/dagd/contracts"
	"github.com/dagd/dagd/crypto"
	"github.com/dagd/dagd/dag"
	"github.com/dagd/dagd/engine/store"
	"github.com/dagd/dagd/erasure"
	"github.com/dagd/dagd/heal"
	"github.com/dagd/dagd/internal/testclock"
	"github.com/dagd/dagd/internal/testwait"
	"github.com/ipfs/go-cid"
)

// TestUncertifiedObjectDeletedAfterTTL drives node 0's audit loop with a
// fake clock: shards of an object that no certificate or registration
// claims survive the audit passes within UncertifiedTTL and are deleted
// by the first pass after it. With the system clock this took an hour.
func TestUncertifiedObjectDeletedAfterTTL(t *testing.T) {
	const audit, ttl = time.Minute, time.Hour
	clock := testclock.New(time.Now())
	n := newTestNet(t, 4, func(i int, c *Config) {
		if i == 0 {
			c.Clock = clock
			c.Options.AuditInterval = audit
			c.Options.UncertifiedTTL = ttl
		}
	})
	s := n.svc[0]
	data := randomContent(77, 200<<10)
	enc, err := erasure.NewEncoder(&erasure.Options{ChunkSize: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	_, man, err := enc.Encode(context.Background(), bytes.NewReader(data), int64(len(data)), discardSink{})
	if err != nil {
		t.Fatal(err)
	}
	id := man.CID()
	if _, err := s.store.adopt(id, man, []int{0}); err != nil {
		t.Fatal(err)
	}
	// pass lets one audit pass run: the loop, parked on its timer, wakes,
	// runs the pass and parks again on a timer a whole interval away.
	pass := func(advance time.Duration) {
		t.Helper()
		testwait.Until(t, testTimeout, "the audit loop to wait for its next pass", func() bool { return clock.Waiting(audit / 2) })
		clock.Advance(advance)
		testwait.Until(t, testTimeout, "the audit loop to finish the pass", func() bool { return clock.Waiting(audit / 2) })
	}
	for elapsed := time.Duration(0); elapsed+audit < ttl; elapsed += audit {
		pass(audit)
		if _, err := s.store.holding(id); err != nil {
			t.Fatalf("the uncertified object was deleted %v after it was stored, before its TTL of %v: %v", elapsed+audit, ttl, err)
		}
	}
	pass(audit)
	testwait.Until(t, testTimeout, "the uncertified object to be deleted after its TTL", func() bool {
		_, err := s.store.holding(id)
		return err != nil
	})
}

// TestContentHolderRefusesUnverified drives a holder's upload handling
// directly with bad uploads: a shard that does not match the manifest, a
// manifest that does not match the CID, shards that are not the holder's,
// missing shards. Each is refused with a clear error and leaves nothing
// stored; a good upload through the same path is stored and signed.
func TestContentHolderRefusesUnverified(t *testing.T) {
	net := newTestNet(t, 4, nil)
	s := net.svc[1]
	data := randomContent(61, 5*(64<<10)+9)
	id, man, shards := uploadOf(t, data)
	other := randomContent(62, len(data))
	otherID, otherMan, _ := uploadOf(t, other)
	var seq uint64
	run := func(push func(upload uint64), commitCID []byte, manifest []byte, pushed uint32) *uploadResult {
		seq++
		begin := &uploadBegin{ID: seq, ChunkSize: 64 << 10, K: 2, N: 4, MaxChunks: uint32(man.NumChunks())}
		s.handleUploadFrame(0, begin.encode())
		if s.session(0, seq) == nil {
			t.Fatal("session not opened")
		}
		push(seq)
		ss := s.session(0, seq)
		return s.commitSession(ss, &uploadCommit{ID: seq, Pushed: pushed, CID: commitCID, Manifest: manifest})
	}
	pushAll := func(tamper int) func(uint64) {
		return func(up uint64) {
			for i := 0; i < man.NumChunks(); i++ {
				b := shards[i]
				if i == tamper {
					b = bytes.Clone(b)
					b[3] ^= 1
				}
				s.handleUploadFrame(0, (&shardPush{ID: up, Chunk: uint32(i), Shard: 1, Data: b}).encode())
			}
		}
	}
	n := uint32(man.NumChunks())
	// Issue 13, finding 10: a Byzantine validator that knows small content
	// names it by its raw CID with a manifest whose chunk hash is right and
	// whose shard hashes are those of its garbage. Under raw CIDs a holder
	// verified the garbage against that manifest and signed: the first
	// registration then blocked the content forever.
	small := randomContent(63, 1000)
	_, smallMan, _ := uploadOf(t, small)
	garbage := bytes.Repeat([]byte{0x5a}, smallMan.ShardSize(0))
	forged := smallMan.Encode()
	perChunk := (smallMan.Params().TotalShards() + 1) * erasure.HashSize
	gh := erasure.Sum(garbage)
	copy(forged[len(forged)-perChunk+2*erasure.HashSize:], gh[:]) // the hash of shard 1
	squat := func(up uint64) {
		s.handleUploadFrame(0, (&shardPush{ID: up, Chunk: 0, Shard: 1, Data: garbage}).encode())
	}
	cases := []struct {
		name     string
		push     func(uint64)
		cid      []byte
		manifest []byte
		pushed   uint32
		want     error
	}{
		{"tampered shard", pushAll(2), id, man.Encode(), n, erasure.ErrShardMismatch},
		{"raw CID of known content, garbage shards", squat, erasure.RawCID(small).Bytes(), forged, 1, erasure.ErrManifestMismatch},
		{"manifest of other content", pushAll(-1), otherID, otherMan.Encode(), n, erasure.ErrShardMismatch},
		{"manifest not named by the CID", pushAll(-1), id, otherMan.Encode(), n, erasure.ErrManifestMismatch},
		{"garbage manifest", pushAll(-1), id, []byte{1, 2, 3}, n, erasure.ErrMalformedManifest},
		{"missing shard", func(up uint64) { pushAll(-1)(up); s.session(0, up).got[1][3].ok = false }, id, man.Encode(), n, erasure.ErrShardUnavailable},
		{"shard of another holder", func(up uint64) {
			s.handleUploadFrame(0, (&shardPush{ID: up, Chunk: 0, Shard: 2, Data: shards[0]}).encode())
		}, id, man.Encode(), 1, erasure.ErrShardIndex},
		{"lost pushes", pushAll(-1), id, man.Encode(), n + 1, nil},
	}
	for _, c := range cases {
		res := run(c.push, c.cid, c.manifest, c.pushed)
		if res.Status == statusOK {
			t.Errorf("%s: stored and signed", c.name)
			continue
		}
		if c.want != nil && !strings.Contains(res.Reason, strings.TrimPrefix(c.want.Error(), "erasure: ")) {
			t.Errorf("%s: refused with %q, want %v", c.name, res.Reason, c.want)
		}
		t.Logf("%s: %s", c.name, res.Reason)
	}
	if objs, _ := os.ReadDir(filepath.Join(net.dirs[1], "content", "objects")); len(objs) != 0 {
		t.Fatalf("%d objects stored after refused uploads", len(objs))
	}
	if staged, _ := os.ReadDir(filepath.Join(net.dirs[1], "content", "staging")); len(staged) != 0 {
		t.Fatalf("%d uploads left staged", len(staged))
	}
	res := run(pushAll(-1), id, man.Encode(), n)
	if res.Status != statusOK {
		t.Fatalf("good upload refused: %s", res.Reason)
	}
	c, _ := erasure.CIDFromBytes(id)
	stmt := AvailabilityStatement(testChain, 0, c, man.ContentSize(), 2, 4, man.Digest())
	if err := net.comm.Verify(1, stmt, res.Signature); err != nil {
		t.Fatalf("holder's signature: %v", err)
	}
	if !shardsIntact(s, 1, 4, c, man) {
		t.Fatal("good upload not stored")
	}
}

// uploadOf encodes data as node 0 would for an upload to node 1 and
// returns the CID, the manifest and the shards of holder 1.
func uploadOf(t *testing.T, data []byte) (id []byte, man *erasure.Manifest, shards map[int][]byte) {
	t.Helper()
	shards = map[int][]byte{}
	enc, err := erasure.NewEncoder(&erasure.Options{ChunkSize: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	c, m, err := enc.Encode(context.Background(), bytes.NewReader(data), int64(len(data)), sinkFunc(func(chunk, shard int, b []byte) {
		if shard == 1 {
			shards[chunk] = bytes.Clone(b)
		}
	}))
	if err != nil {
		t.Fatal(err)
	}
	return c.Bytes(), m, shards
}

func TestContentKindsAreNotDAGKinds(t *testing.T) {
	for k := contentKindFirst; k <= contentKindLast; k++ {
		if name := dag.Kind(k).String(); !strings.HasPrefix(name, "kind(") {
			t.Errorf("content kind 0x%02x is dag's %s", k, name)
		}
	}
}

func TestContentOptions(t *testing.T) {
	var o Options
	o.EnsureDefaults()
	check := func(c Options) error {
		return errors.Join(append(c.ValidateSettings("Content."), c.Validate())...)
	}
	if err := check(o); err != nil { // k and n follow the committee, of one validator too
		t.Fatalf("defaults: %v", err)
	}
	for name, edit := range map[string]func(*Options){
		"chunk too big":   func(o *Options) { o.ChunkSize = 32 << 20 },
		"k >= n":          func(o *Options) { o.DataShards, o.TotalShards = 4, 4 },
		"audit too short": func(o *Options) { o.AuditInterval = time.Millisecond },
		"audit too long":  func(o *Options) { o.AuditInterval = 48 * time.Hour },
		"small window":    func(o *Options) { o.UploadWindow = 1 << 10 },
		"idle < 2 stalls": func(o *Options) { o.UploadIdleTimeout = o.StallTimeout },
	} {
		c := o
		edit(&c)
		if check(c) == nil {
			t.Errorf("%s: validated", name)
		}
	}
}

// TestContentChunkSizes: networks with other chunk sizes (the smallest,
// a middling one, the default) round-trip contents around their chunk
// boundaries, on the in-memory network.
func TestContentChunkSizes(t *testing.T) {
	for _, chunk := range []int{erasure.MinChunkSize, 16 << 10, erasure.DefaultChunkSize} {
		t.Run(fmt.Sprint(chunk), func(t *testing.T) {
			n := newTestNet(t, 4, func(_ int, c *Config) { c.Options.ChunkSize = chunk })
			for i, size := range []int{chunk - 1, chunk, chunk + 1, 3*chunk + 5} {
				data := randomContent(uint64(chunk+size), size)
				res, err := n.svc[i%4].Put(context.Background(), bytes.NewReader(data), int64(len(data)), PutOptions{})
				if err != nil {
					t.Fatalf("size %d: %v", size, err)
				}
				if want := (size + chunk - 1) / chunk; res.Chunks != want || res.ChunkSize != chunk {
					t.Fatalf("size %d: %d chunks of %d, want %d of %d", size, res.Chunks, res.ChunkSize, want, chunk)
				}
				var got bytes.Buffer
				if _, err := n.svc[(i+3)%4].Get(context.Background(), res.CID, &got); err != nil || !bytes.Equal(got.Bytes(), data) {
					t.Fatalf("size %d: content differs (%v)", size, err)
				}
			}
		})
	}
}

// TestContentKindsApartFromDAG: content frames and consensus frames share
// the first byte of a frame on one transport; the node's receive path routes by it,
// so no content kind may be a dag message kind (dag owns its range,
// dag.Kind.Valid).
func TestContentKindsApartFromDAG(t *testing.T) {
	for k := 0; k < 256; k++ {
		if IsFrame([]byte{byte(k)}) && dag.Kind(k).Valid() {
			t.Errorf("frame kind %#x is both a content kind and dag's %s", k, dag.Kind(k))
		}
	}
	if !IsFrame([]byte{kindUploadBegin}) || IsFrame([]byte{byte(dag.KindBatch)}) {
		t.Error("IsFrame misroutes")
	}
}

type sinkFunc func(chunk, shard int, b []byte)

func (f sinkFunc) Put(_ context.Context, chunk, shard int, b []byte) error {
	f(chunk, shard, b)
	return nil
}

// shardsIntact reports whether s (validator i of v) holds every one of
// its shards of the object, each matching the manifest.
func shardsIntact(s *Service, i, v int, id cid.Cid, m *erasure.Manifest) bool {
	for _, j := range heal.ShardsOf(i, m.Params().TotalShards(), v) {
		for c := 0; c < m.NumChunks(); c++ {
			b, err := s.store.readShard(id, m, c, j, 0)
			if err != nil || erasure.VerifyShard(m, c, j, b) != nil {
				return false
			}
		}
	}
	return true
}

type discardSink struct{}

func (discardSink) Put(context.Context, int, int, []byte) error { return nil }

// TestOpenSessionRefusesAmplification: a peer's upload whose coding
// stores more than contracts.MaxContentExpansion times the content (k=1,
// n=256) is refused before a session opens.
func TestOpenSessionRefusesAmplification(t *testing.T) {
	s := newTestNet(t, 4, nil).svc[1]
	p := erasure.Params{ChunkSize: s.opts.ChunkSize, DataShards: 1, ParityShards: 255}
	if _, err := s.openSession(0, 77, p, 1, false); !errors.Is(err, ErrContentParams) {
		t.Fatalf("a peer's k=1 n=256 upload: %v, want ErrContentParams", err)
	}
}

// TestContentBadCertificate: certificates that do not prove availability
// are refused by Verify and never enter the registry.
func TestContentBadCertificate(t *testing.T) {
	net := newTestNet(t, 4, nil)
	data := randomContent(71, 100<<10)
	res, err := net.svc[0].Put(context.Background(), bytes.NewReader(data), int64(len(data)), PutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	good := res.Certificate
	committee := net.comm
	chain := testChain
	if err := good.Verify(committee, chain, 0); err != nil {
		t.Fatalf("good certificate: %v", err)
	}
	// The ledger operation carries the same statement and signature.
	op := good.RegisterOp()
	stmt := contracts.AvailabilityStatement(chain, op.Epoch, op.CID, op.Size, op.K, op.N, op.ManifestDigest)
	if !bytes.Equal(stmt, good.Statement(chain, good.Epoch)) || !bytes.Equal(op.Signature[:], good.Signature) || !bytes.Equal(op.Signers, good.Signers) {
		t.Fatal("RegisterOp does not carry the certificate")
	}
	if _, err := committee.VerifyAggregate(stmt, crypto.Bitmap(op.Signers), op.Signature[:]); err != nil {
		t.Fatalf("RegisterOp's signature: %v", err)
	}
	if err := contracts.CheckContentCID(op.CID); err != nil {
		t.Fatalf("RegisterOp's CID: %v", err)
	}
	mut := func(f func(c *Certificate)) *Certificate {
		c, err := DecodeCertificate(good.Encode())
		if err != nil {
			t.Fatal(err)
		}
		f(c)
		return c
	}
	keys := net.keys
	signFor := func(c *Certificate, chain string, epoch uint64, who ...int) {
		var sigs [][]byte
		c.Signers = crypto.NewBitmap(4)
		for _, i := range who {
			sigs = append(sigs, keys[i].Sign(c.Statement(chain, epoch)))
			c.Signers.Set(i)
		}
		c.Signature, _ = crypto.AggregateBLSSignatures(sigs)
	}
	sign := func(c *Certificate, who ...int) { signFor(c, chain, c.Epoch, who...) }
	if c := mut(func(c *Certificate) { sign(c, 0, 1, 2) }); c.Verify(committee, chain, 0) != nil {
		t.Fatal("re-signed certificate does not verify: the cases below would prove nothing")
	}
	cases := map[string]*Certificate{
		"wrong epoch": mut(func(c *Certificate) { c.Epoch = 7 }),
		// Issue 13, finding 4: a quorum's signatures for another chain
		// id or epoch are refused.
		"quorum of another epoch":  mut(func(c *Certificate) { c.Epoch = 7; sign(c, 0, 1, 2) }),
		"signed for another epoch": mut(func(c *Certificate) { signFor(c, chain, 7, 0, 1, 2) }),
		"signed for another chain": mut(func(c *Certificate) { signFor(c, "other-chain", 0, 0, 1, 2) }),
		"other size":               mut(func(c *Certificate) { c.Size++ }),
		"other manifest":           mut(func(c *Certificate) { c.ManifestDigest[0] ^= 1 }),
		"signer bit removed":       mut(func(c *Certificate) { c.Signers = crypto.Bitmap{0x07} }),
		"two signers":              mut(func(c *Certificate) { sign(c, 0, 1) }),
		"signer not holding":       mut(func(c *Certificate) { c.N = 3; sign(c, 0, 1, 3) }),
		"bitmap beyond":            mut(func(c *Certificate) { c.Signers = crypto.Bitmap{0x1f} }),
	}
	for name, c := range cases {
		err := c.Verify(committee, chain, 0)
		if !errors.Is(err, ErrInvalidCertificate) {
			t.Errorf("%s: %v, want ErrInvalidCertificate", name, err)
		}
		if name == "wrong epoch" || name == "quorum of another epoch" {
			continue
		}
		other := mut(func(x *Certificate) { *x = *c; x.CID = erasure.RawCID([]byte(name)) })
		net.svc[2].handleServeFrame(3, (&registerMsg{Cert: other.Encode()}).encode())
		if _, err := net.svc[2].store.certificate(other.CID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s: registered (%v)", name, err)
		}
	}
}
