package content

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dagd/dagd/crypto"
	"github.com/dagd/dagd/dag"
	"github.com/dagd/dagd/engine/store"
	"github.com/dagd/dagd/erasure"
	"github.com/dagd/dagd/internal/testwait"
)

// testTimeout bounds the waits of this package's tests (scaled by
// DAGD_TEST_TIMEOUT_SCALE).
const testTimeout = 60 * time.Second

const testChain = "dagd-content-test"

// testNet is a committee of content services wired to each other in
// memory, without a node: each service's Sender delivers to the others'
// Deliver, and no one executes (Ledger nil) unless a test says so.
type testNet struct {
	keys []*crypto.BLSPrivateKey
	comm *crypto.BLSCommittee
	svc  []*Service
	dirs []string
	down []bool
	mu   sync.Mutex
}

// netSender is service self's view of the testNet.
type netSender struct {
	net  *testNet
	self int
}

func (s netSender) Send(to dag.ValidatorID, frame []byte) error {
	s.net.mu.Lock()
	ok := int(to) < len(s.net.svc) && !s.net.down[to] && !s.net.down[s.self] && s.net.svc[to] != nil
	var peer *Service
	if ok {
		peer = s.net.svc[to]
	}
	s.net.mu.Unlock()
	if !ok {
		return fmt.Errorf("validator %d unreachable", to)
	}
	peer.Deliver(dag.ValidatorID(s.self), frame)
	return nil
}

func (s netSender) Connected() []dag.ValidatorID {
	s.net.mu.Lock()
	defer s.net.mu.Unlock()
	var out []dag.ValidatorID
	for i, svc := range s.net.svc {
		if i != s.self && svc != nil && !s.net.down[i] && !s.net.down[s.self] {
			out = append(out, dag.ValidatorID(i))
		}
	}
	return out
}

// newTestNet starts v services with small chunks; edit changes a
// service's config before it is built.
func newTestNet(t testing.TB, v int, edit func(i int, c *Config)) *testNet {
	t.Helper()
	n := &testNet{down: make([]bool, v), svc: make([]*Service, v)}
	keys, comm, err := testCommittee(v)
	if err != nil {
		t.Fatal(err)
	}
	n.keys = keys
	n.comm = comm
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	for i := range v {
		dir := t.TempDir()
		n.dirs = append(n.dirs, dir)
		db, err := store.Open(dir, store.Options{NoSync: true}, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		o := Options{ChunkSize: 64 << 10, AuditInterval: time.Hour}
		c := Config{Options: o, ChainID: testChain, Self: i, DataDir: dir, NoSync: true, BLSKey: n.keys[i],
			Store: db, Committee: comm, Sender: netSender{n, i}, Submitter: &fakeSubmitter{}, Clock: systemClock{},
			Logger: slog.New(slog.DiscardHandler), Registerer: prometheus.NewRegistry()}
		if edit != nil {
			edit(i, &c)
		}
		c.Options.EnsureDefaults()
		if err := c.Options.Validate(); err != nil {
			t.Fatal(err)
		}
		s, err := New(c)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Close)
		n.mu.Lock()
		n.svc[i] = s
		n.mu.Unlock()
	}
	for _, s := range n.svc {
		s.Start(ctx)
	}
	return n
}

// testCommittee returns v validators' keys, each of stake 1, and their
// committee.
func testCommittee(v int) ([]*crypto.BLSPrivateKey, *crypto.BLSCommittee, error) {
	keys := make([]*crypto.BLSPrivateKey, v)
	pubs := make([]*crypto.BLSPublicKey, v)
	pops := make([][]byte, v)
	stakes := make([]uint64, v)
	for i := range v {
		seed := crypto.Hash([]byte("content-test"), []byte{byte(i)})
		k, err := crypto.BLSKeyFromSeed(seed[:])
		if err != nil {
			return nil, nil, err
		}
		keys[i], pubs[i], pops[i], stakes[i] = k, k.PublicKey(), k.ProofOfPossession(), 1
	}
	comm, err := crypto.NewBLSCommittee(pubs, pops, stakes)
	return keys, comm, err
}

type systemClock struct{}

func (systemClock) Now() time.Time                         { return time.Now() }
func (systemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

func randomContent(seed uint64, size int) []byte {
	r := rand.New(rand.NewPCG(seed, 42))
	b := make([]byte, size)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// TestServicePutGet puts through one service of a four-validator
// committee wired in memory and gets the content back through another,
// then through a third after one holder is cut off: the room works
// without a node or a devnet.
func TestServicePutGet(t *testing.T) {
	n := newTestNet(t, 4, nil)
	data := randomContent(1, 5*(64<<10)+123)
	res, err := n.svc[0].Put(context.Background(), bytes.NewReader(data), int64(len(data)), PutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Certificate == nil || res.Certificate.Verify(n.comm, testChain, 0) != nil {
		t.Fatalf("put's certificate %+v does not verify", res.Certificate)
	}
	var got bytes.Buffer
	if _, err := n.svc[2].Get(context.Background(), res.CID, &got); err != nil || !bytes.Equal(got.Bytes(), data) {
		t.Fatalf("get from node 2: %v (%d bytes, want %d)", err, got.Len(), len(data))
	}
	n.mu.Lock()
	n.down[1] = true
	n.mu.Unlock()
	got.Reset()
	if _, err := n.svc[3].Get(context.Background(), res.CID, &got); err != nil || !bytes.Equal(got.Bytes(), data) {
		t.Fatalf("get from node 3 with holder 1 down: %v", err)
	}
	testwait.Until(t, testTimeout, "node 3 to keep the put's certificate", func() bool {
		_, err := n.svc[3].Inspect().Certificate(res.CID)
		return err == nil
	})
	st, err := n.svc[3].Stat(context.Background(), res.CID)
	if err != nil || !st.Registered || st.SignerStake < n.comm.QuorumStake() {
		t.Fatalf("stat %+v, %v", st, err)
	}
	if st.Ledger == nil || st.Ledger.Registered {
		t.Fatalf("a node that does not execute reports a ledger registration: %+v", st.Ledger)
	}
	if _, err := n.svc[3].Get(context.Background(), erasure.RawCID([]byte("absent")), io.Discard); err == nil {
		t.Fatal("get of an unknown CID succeeded")
	}
	testwait.Until(t, testTimeout, "the put's upload windows to drain", func() bool {
		for _, w := range n.svc[0].Inspect().UploadWindows() {
			if w != 0 {
				return false
			}
		}
		return true
	})
}
