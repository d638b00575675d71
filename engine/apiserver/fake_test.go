package apiserver

import (
	"bytes"
	"context"
	"fmt"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sync/semaphore"

	"github.com/dagd/dagd/crypto"
	"github.com/dagd/dagd/dag"
	"github.com/dagd/dagd/engine/client"
	"github.com/dagd/dagd/engine/store"
)

// memCommits is an in-memory Commits: commits appended by a test, batches
// it may prune.
type memCommits struct {
	mu      sync.Mutex
	records map[uint64]*dag.CommitRecord
	index   map[uint64]*store.CommitIndex
	batches map[crypto.Digest][]byte
	last    uint64
	// evidence is kept in slot order, as the store keeps it.
	evidence []store.StoredEvidence
}

func newMemCommits() *memCommits {
	return &memCommits{records: map[uint64]*dag.CommitRecord{}, index: map[uint64]*store.CommitIndex{},
		batches: map[crypto.Digest][]byte{}}
}

// add appends a commit with one batch per entry of batches (by author),
// and returns its seq.
func (m *memCommits) add(batches map[dag.ValidatorID][][]byte) uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.last++
	seq := m.last
	digest := crypto.Hash(fmt.Appendf(nil, "commit %d", seq))
	ci := &store.CommitIndex{Seq: seq, LeaderRound: 2 * seq, Timestamp: dag.Time(1000 * seq), Digest: digest, Certs: 4}
	for a := dag.ValidatorID(0); a < 4; a++ {
		txs, ok := batches[a]
		if !ok {
			continue
		}
		b := &dag.Batch{Epoch: 1, Author: a, Transactions: txs}
		d := b.Digest()
		m.batches[d] = b.Encode()
		ci.Batches = append(ci.Batches, store.IndexedBatch{Digest: d, Author: a, Txs: len(txs)})
	}
	m.records[seq] = &dag.CommitRecord{Seq: seq, LeaderRound: ci.LeaderRound, Timestamp: ci.Timestamp, Digest: digest,
		Certificates: make([]crypto.Digest, 4)}
	m.index[seq] = ci
	return seq
}

// prune drops the batches of commits up to seq.
func (m *memCommits) prune(seq uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for s := uint64(1); s <= seq; s++ {
		for _, b := range m.index[s].Batches {
			delete(m.batches, b.Digest)
		}
	}
}

func (m *memCommits) lastSeq() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.last
}

func (m *memCommits) CommitRecord(seq uint64) (*dag.CommitRecord, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if r, ok := m.records[seq]; ok {
		return r, nil
	}
	return nil, store.ErrNotFound
}

func (m *memCommits) CommitIndex(seq uint64) (*store.CommitIndex, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if ci, ok := m.index[seq]; ok {
		return ci, nil
	}
	return nil, store.ErrNotFound
}

func (m *memCommits) GetBatch(d crypto.Digest, fn func(v []byte) error) error {
	m.mu.Lock()
	v, ok := m.batches[d]
	m.mu.Unlock()
	if !ok {
		return store.ErrNotFound
	}
	return fn(v)
}

func (m *memCommits) HasBatch(d crypto.Digest) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.batches[d]
	return ok
}

func (m *memCommits) BatchSize(d crypto.Digest) (int64, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.batches[d]
	return int64(len(v)), ok
}

// addEvidence stores evidence of an equivocation by author in round of
// epoch, in slot order.
func (m *memCommits) addEvidence(epoch, round uint64, author dag.ValidatorID) *dag.Evidence {
	a := dag.NewHeader(epoch, round, author, 1, nil, nil)
	b := dag.NewHeader(epoch, round, author, 2, nil, nil)
	a.Signature, b.Signature = []byte{1}, []byte{2}
	ev := &dag.Evidence{First: a, Second: b}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.evidence = append(m.evidence, store.StoredEvidence{Slot: store.SlotOf(ev), Evidence: ev, Encoding: ev.Encode()})
	slices.SortFunc(m.evidence, func(x, y store.StoredEvidence) int {
		return bytes.Compare(store.EvidenceKey(x.Slot), store.EvidenceKey(y.Slot))
	})
	return ev
}

func (m *memCommits) ScanEvidence(from store.EvidenceSlot, fn func(se store.StoredEvidence) bool) error {
	m.mu.Lock()
	evs := slices.Clone(m.evidence)
	m.mu.Unlock()
	for _, se := range evs {
		if bytes.Compare(store.EvidenceKey(se.Slot), store.EvidenceKey(from)) >= 0 && !fn(se) {
			break
		}
	}
	return nil
}

// fakeRefusal is a node's refusal as the Backend returns it: not the
// server's own type, only a Refusal.
type fakeRefusal struct {
	reason          string
	accepted, index int
	detail          string
}

func (e *fakeRefusal) Error() string {
	return fmt.Sprintf("fake: submission refused (%s) at %d: %s", e.reason, e.index, e.detail)
}

func (e *fakeRefusal) Refusal() (string, int, int) { return e.reason, e.accepted, e.index }

// fakeBackend is a node: it takes every transaction up to capacity (then
// refuses as queue_full), with submission slots of its own.
type fakeBackend struct {
	commits   *memCommits
	maxTxs    int
	maxTxSize int
	slots     *semaphore.Weighted
	nslots    int
	capacity  int
	stopping  chan struct{}
	stopOnce  sync.Once
	invalid   atomic.Int64
	mu        sync.Mutex
	submitted [][]byte
	ready     atomic.Bool
	health    atomic.Pointer[[2]string]
}

func newFakeBackend(c *memCommits, maxTxs, maxTxSize, slots int) *fakeBackend {
	b := &fakeBackend{commits: c, maxTxs: maxTxs, maxTxSize: maxTxSize, slots: semaphore.NewWeighted(int64(slots)),
		nslots: slots, capacity: 1 << 30, stopping: make(chan struct{})}
	b.ready.Store(true)
	b.health.Store(&[2]string{})
	return b
}

func (b *fakeBackend) Status() client.Status {
	last := b.commits.lastSeq()
	return client.Status{ChainID: "fake", Validator: 0, CommitteeSize: 4, Round: 2*last + 1, LastCommittedRound: 2 * last,
		LastCommittedSeq: last, CommitDigest: crypto.Hash(fmt.Appendf(nil, "commit %d", last)).String(), QuorumConnected: true,
		PeersConnected: 3, LastCommitAt: time.Unix(1700000000, 0).UTC()}
}

func (b *fakeBackend) Ready() (bool, string) {
	if b.ready.Load() {
		return true, "ready"
	}
	return false, "no commit yet"
}

func (b *fakeBackend) Health() (string, string) {
	h := b.health.Load()
	return h[0], h[1]
}

func (b *fakeBackend) CheckTransactions(txs [][]byte) error {
	if len(txs) == 0 {
		return &fakeRefusal{reason: client.ReasonNoTxs, index: -1}
	}
	if len(txs) > b.maxTxs {
		return &fakeRefusal{reason: client.ReasonTooManyTxs, index: -1,
			detail: fmt.Sprintf("at least %d transactions, limit %d per request (MaxRequestTxs)", len(txs), b.maxTxs)}
	}
	for i, tx := range txs {
		if len(tx) == 0 {
			return &fakeRefusal{reason: client.ReasonEmptyTx, index: i}
		}
		if len(tx) > b.maxTxSize {
			return &fakeRefusal{reason: client.ReasonTxTooLarge, index: i}
		}
	}
	return nil
}

func (b *fakeBackend) TakeSubmitSlot() (func(), error) {
	if !b.slots.TryAcquire(1) {
		return nil, &fakeRefusal{reason: client.ReasonTooManyRequests, index: -1,
			detail: fmt.Sprintf("more than %d submissions in flight (MaxInflightRequests)", b.nslots)}
	}
	return func() { b.slots.Release(1) }, nil
}

func (b *fakeBackend) Submit(_ context.Context, txs [][]byte) (int, error) {
	if err := b.CheckTransactions(txs); err != nil {
		return 0, err
	}
	select {
	case <-b.stopping:
		return 0, &fakeRefusal{reason: client.ReasonStopped, index: -1}
	default:
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	room := max(b.capacity-len(b.submitted), 0)
	n := min(room, len(txs))
	b.submitted = append(b.submitted, txs[:n]...)
	if n < len(txs) {
		return n, &fakeRefusal{reason: client.ReasonQueueFull, accepted: n, index: -1}
	}
	return n, nil
}

func (b *fakeBackend) CountInvalid(txs int) { b.invalid.Add(int64(txs)) }

func (b *fakeBackend) CommitExecution(seq uint64) (*client.CommitExecution, error) { return nil, nil }

func (b *fakeBackend) Stopping() <-chan struct{} { return b.stopping }

func (b *fakeBackend) stop() { b.stopOnce.Do(func() { close(b.stopping) }) }

// testEnv is a server of a fake node, listening on loopback.
type testEnv struct {
	s       *Server
	b       *fakeBackend
	commits *memCommits
	url     string
	ln      *limitListener
}

// newTestServer starts a server of a fake node with 64 submission slots;
// edit adjusts its options.
func newTestServer(t *testing.T, edit func(*Options)) *testEnv {
	return newTestServerSlots(t, 64, edit)
}

// newTestServerSlots is newTestServer with slots submission slots.
func newTestServerSlots(t *testing.T, slots int, edit func(*Options)) *testEnv {
	return newTestServerWith(t, slots, edit, nil)
}

// newTestServerWith is newTestServerSlots with setup run on the server
// before it listens.
func newTestServerWith(t *testing.T, slots int, edit func(*Options), setup func(*Server)) *testEnv {
	t.Helper()
	o := Options{MaxRequestBytes: 32 << 20, MaxRequestTxs: 20000, MaxTxSize: 64 << 10, ChainID: "fake", Epoch: 1}
	if edit != nil {
		edit(&o)
	}
	o.API.EnsureDefaults()
	o.RPC.EnsureDefaults()
	commits := newMemCommits()
	b := newFakeBackend(commits, o.MaxRequestTxs, o.MaxTxSize, slots)
	s, err := New(b, commits, o)
	if err != nil {
		t.Fatal(err)
	}
	if setup != nil {
		setup(s)
	}
	srv := httptest.NewUnstartedServer(nil)
	srv.Config = s.HTTPServer()
	ln := s.Listener(srv.Listener).(*limitListener)
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	t.Cleanup(b.stop)
	return &testEnv{s: s, b: b, commits: commits, url: srv.URL, ln: ln}
}

// newBareServer is a server of a fake node that does not listen (for the
// parsers).
func newBareServer(tb testing.TB, edit func(*Options)) *Server {
	tb.Helper()
	o := Options{MaxRequestBytes: 32 << 20, MaxRequestTxs: 20000, MaxTxSize: 64 << 10}
	if edit != nil {
		edit(&o)
	}
	o.API.EnsureDefaults()
	o.RPC.EnsureDefaults()
	commits := newMemCommits()
	s, err := New(newFakeBackend(commits, o.MaxRequestTxs, o.MaxTxSize, 64), commits, o)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// setCapacity makes the node take only n transactions in all, then
// refuse as queue_full.
func (b *fakeBackend) setCapacity(n int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.capacity = n
}
