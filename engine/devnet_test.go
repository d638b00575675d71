package engine

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dagd/dagd/engine/client"
	"github.com/dagd/dagd/engine/store"

	"github.com/dagd/dagd/crypto"
	"github.com/dagd/dagd/dag"
	"github.com/dagd/dagd/internal/testwait"
)

// testTimeout bounds waits in the devnet tests; loaded CI machines are
// slow, and a healthy devnet commits several times a second.
const testTimeout = 60 * time.Second

// digestLog collects every node's commit digests from a devnet
// subscription and checks them as they come.
type digestLog struct {
	t     *testing.T
	mu    sync.Mutex
	bySeq map[uint64]crypto.Digest
	max   map[dag.ValidatorID]uint64
	txs   map[string]int // transaction -> times committed (client.TxOwn: once per tx)
	bad   []string
}

func newDigestLog(t *testing.T) *digestLog {
	return &digestLog{t: t, bySeq: make(map[uint64]crypto.Digest), max: make(map[dag.ValidatorID]uint64), txs: make(map[string]int)}
}

func (l *digestLog) follow(ctx context.Context, sub *DevnetSubscription) {
	go func() {
		for {
			select {
			case c, ok := <-sub.C():
				if !ok {
					return
				}
				l.add(c)
			case <-ctx.Done():
				return
			}
		}
	}()
}

func (l *digestLog) add(c *Commit) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if d, ok := l.bySeq[c.Seq]; ok && d != c.Digest {
		l.bad = append(l.bad, fmt.Sprintf("seq %d: node %d has %s, another node %s", c.Seq, c.Node, c.Digest.Short(), d.Short()))
	} else if !ok {
		l.bySeq[c.Seq] = c.Digest
	}
	if prev := l.max[c.Node]; c.Seq != prev+1 && prev != 0 {
		l.bad = append(l.bad, fmt.Sprintf("node %d delivered seq %d after %d", c.Node, c.Seq, prev))
	}
	l.max[c.Node] = c.Seq
	for _, b := range c.Batches {
		for _, tx := range b.Transactions {
			l.txs[string(tx)]++
		}
	}
}

func (l *digestLog) minSeq(nodes int) uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	m := uint64(1<<63 - 1)
	for i := 0; i < nodes; i++ {
		m = min(m, l.max[dag.ValidatorID(i)])
	}
	return m
}

func (l *digestLog) check() {
	l.t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, b := range l.bad {
		l.t.Error(b)
	}
	for tx, n := range l.txs {
		if n != 1 {
			l.t.Errorf("transaction %.20q committed %d times", tx, n)
		}
	}
}

// dumpOnFailure returns a function that logs every running node's status
// and message counters if the test failed; defer it after the devnet's
// Close.
func dumpOnFailure(t *testing.T, d *Devnet) func() {
	return func() {
		if !t.Failed() {
			return
		}
		for i := 0; i < d.Size(); i++ {
			n := d.Node(i)
			if n == nil {
				continue
			}
			t.Logf("node %d: %+v", i, n.Status())
			mfs, _ := n.Registry().Gather()
			for _, mf := range mfs {
				if !strings.HasPrefix(mf.GetName(), "dagd_messages") {
					continue
				}
				for _, m := range mf.GetMetric() {
					t.Logf("node %d: %s %v %v", i, mf.GetName(), m.GetLabel(), m.GetCounter().GetValue())
				}
			}
		}
	}
}

// gaugeValue reads a metric without labels from n's registry.
func gaugeValue(t *testing.T, n *Node, name string) float64 {
	t.Helper()
	mfs, err := n.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.GetMetric()) == 1 {
			m := mf.GetMetric()[0]
			return m.GetGauge().GetValue() + m.GetCounter().GetValue()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}

func testTx(tag string, i, size int) []byte {
	tx := fmt.Appendf(nil, "%s-%08d-", tag, i)
	for len(tx) < size {
		tx = append(tx, byte('a'+i%26))
	}
	return tx
}

// submitAll submits txs to node, retrying while it is busy.
func submitAll(ctx context.Context, t *testing.T, d *Devnet, node int, txs [][]byte) {
	for len(txs) > 0 {
		n, err := d.Submit(ctx, node, txs)
		txs = txs[n:]
		if err != nil {
			if se, ok := err.(*SubmitError); !ok || !se.Retryable() {
				t.Errorf("submit to node %d: %v", node, err)
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// wireLog records, from every node's outbound frames, the headers,
// certificates and batches sent, to explain a lost transaction.
type wireLog struct {
	mu      sync.Mutex
	headers map[crypto.Digest]*dag.Header
	certs   map[crypto.Digest]*dag.Certificate
	batchOf map[string]crypto.Digest // transaction -> batch
}

func newWireLog() *wireLog {
	return &wireLog{headers: make(map[crypto.Digest]*dag.Header), certs: make(map[crypto.Digest]*dag.Certificate),
		batchOf: make(map[string]crypto.Digest)}
}

type wireLogTransport struct {
	Transport
	l *wireLog
}

func (w *wireLogTransport) Send(to dag.ValidatorID, frame []byte) error {
	if m, err := dag.DecodeMessage(frame); err == nil {
		w.l.mu.Lock()
		switch m := m.(type) {
		case *dag.Header:
			w.l.headers[m.Digest()] = m
		case *dag.Certificate:
			w.l.certs[m.Digest()] = m
		case *dag.Batch:
			d := m.Digest()
			for _, tx := range m.Transactions {
				w.l.batchOf[string(tx)] = d
			}
		}
		w.l.mu.Unlock()
	}
	return w.Transport.Send(to, frame)
}

// orphaned reports whether tx's batch sits only in certificates that no
// certificate of the next round references (such a certificate is never
// committed; its author proposes the batches again once it is garbage
// collected), to explain a transaction that did not commit.
func (l *wireLog) orphaned(tx string) (string, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	bd, ok := l.batchOf[tx]
	if !ok {
		return "batch never sent", false
	}
	var why []string
	for hd, h := range l.headers {
		if !slices.ContainsFunc(h.Payload, func(r dag.BatchRef) bool { return r.Digest == bd }) {
			continue
		}
		if _, certified := l.certs[hd]; !certified {
			why = append(why, fmt.Sprintf("header r%d a%d not certified", h.Round, h.Author))
			continue
		}
		for _, c := range l.certs {
			if slices.Contains(c.Header.Parents, hd) {
				return fmt.Sprintf("certificate r%d a%d is referenced by r%d a%d", h.Round, h.Author, c.Round(), c.Author()), false
			}
		}
		why = append(why, fmt.Sprintf("certificate r%d a%d referenced by no certificate", h.Round, h.Author))
	}
	if len(why) == 0 {
		return fmt.Sprintf("batch %s in no header", bd.Short()), false
	}
	// Orphaned only if every header holding it ended up certified and
	// unreferenced (an uncertified header's batches are proposed again).
	for _, w := range why {
		if !strings.Contains(w, "referenced by no certificate") {
			return strings.Join(why, "; "), false
		}
	}
	return strings.Join(why, "; "), true
}

// TestDevnetCommits runs four validators over QUIC on loopback, submits
// transactions to all of them and checks that every transaction commits
// exactly once and that all nodes have the same digest at every seq.
func TestDevnetCommits(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	wire := newWireLog()
	d, err := StartDevnet(ctx, DevnetOptions{BaseDir: t.TempDir(), Configure: func(_ int, o *Options) {
		o.WrapTransport = func(tr Transport) Transport { return &wireLogTransport{Transport: tr, l: wire} }
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	defer dumpOnFailure(t, d)()
	log := newDigestLog(t)
	log.follow(ctx, d.Subscribe(SubscribeOptions{Transactions: client.TxOwn}))

	const perNode, size = 500, 200
	want := make(map[string]bool)
	for node := 0; node < 4; node++ {
		var txs [][]byte
		for i := 0; i < perNode; i++ {
			tx := testTx(fmt.Sprintf("n%d", node), i, size)
			txs = append(txs, tx)
			want[string(tx)] = true
		}
		submitAll(ctx, t, d, node, txs)
	}
	// Wait until everything committed, or until commits went on for
	// well over the garbage-collection depth without the missing ones.
	committed := func() int {
		log.mu.Lock()
		defer log.mu.Unlock()
		return len(log.txs)
	}
	gcRounds := d.Node(0).opts.DAG.GCDepth
	// stuckSince is the committed count last seen, stuckRound the round
	// at which it was first seen (the first poll starts the clock, even
	// at a count of zero).
	stuckSince, stuckRound, polled := uint64(0), uint64(0), false
	testwait.Until(t, testTimeout, "every transaction to commit", func() bool {
		if committed() >= len(want) {
			return true
		}
		st := d.Node(0).Status()
		if c := uint64(committed()); c != stuckSince || !polled {
			stuckSince, stuckRound, polled = c, st.LastCommittedRound, true
		}
		return st.LastCommittedRound > stuckRound+2*gcRounds
	})
	// Let every node reach the same seq, then compare.
	target := log.minSeq(4) + 2
	testwait.Until(t, testTimeout, "all nodes to pass the same seq", func() bool { return log.minSeq(4) >= target })
	log.check()
	log.mu.Lock()
	missing := 0
	for tx := range want {
		switch n := log.txs[tx]; {
		case n == 0:
			// A batch whose certificate missed every commit is proposed
			// again by its author: nothing may be lost, orphaned or not.
			missing++
			why, _ := wire.orphaned(tx)
			t.Errorf("transaction %.12q never committed: %s", tx, why)
		case n > 1:
			t.Errorf("transaction %.12q committed %d times", tx, n)
		}
	}
	log.mu.Unlock()
	if missing > 0 {
		t.Errorf("%d of %d transactions lost", missing, len(want))
	}
	// Every batch sent was acknowledged: the flow control tracked the
	// right digests (a wrong one would hold its bytes until expiry).
	// Well before the 10 s expiry.
	// Not scaled: past the expiry, bytes leave the gauge unacknowledged.
	if err := testwait.Poll(5*time.Second, func() error {
		var unacked float64
		for i := 0; i < 4; i++ {
			unacked += gaugeValue(t, d.Node(i), "dagd_batch_bytes_unacknowledged")
		}
		if unacked != 0 {
			return fmt.Errorf("%v batch bytes still unacknowledged after the last commit", unacked)
		}
		return nil
	}); err != nil {
		t.Error(err)
	}
	// The API's view agrees with the subscriptions.
	for i := 0; i < 4; i++ {
		rec := httptest.NewRecorder()
		d.Node(i).Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, fmt.Sprintf("/v1/commits/%d", target), nil))
		var ci client.CommitInfo
		if err := json.Unmarshal(rec.Body.Bytes(), &ci); rec.Code != http.StatusOK || err != nil {
			t.Fatalf("node %d commit %d: %d %s", i, target, rec.Code, rec.Body)
		}
		log.mu.Lock()
		want := log.bySeq[target].String()
		log.mu.Unlock()
		if ci.Digest != want {
			t.Errorf("node %d: commit %d digest %s, subscription saw %s", i, target, ci.Digest, want)
		}
	}
}

// voteWatch records, from a node's outbound frames, every vote and every
// own header it sends, across restarts, and reports a second vote for the
// same author and round or a second header for the same round.
type voteWatch struct {
	self     dag.ValidatorID
	mu       sync.Mutex
	votes    map[[2]uint64]crypto.Digest
	headers  map[uint64]crypto.Digest
	conflict []string
}

func (w *voteWatch) wrap(t Transport) Transport { return &watchedTransport{Transport: t, w: w} }

type watchedTransport struct {
	Transport
	w *voteWatch
}

func (wt *watchedTransport) Send(to dag.ValidatorID, frame []byte) error {
	m, err := dag.DecodeMessage(frame)
	if err == nil {
		w := wt.w
		w.mu.Lock()
		switch m := m.(type) {
		case *dag.Vote:
			k := [2]uint64{uint64(m.Origin), m.Round}
			if d, ok := w.votes[k]; ok && d != m.Header {
				w.conflict = append(w.conflict, fmt.Sprintf("voted for %s and %s of author %d round %d", d.Short(), m.Header.Short(), m.Origin, m.Round))
			}
			w.votes[k] = m.Header
		case *dag.Header:
			if d, ok := w.headers[m.Round]; ok && d != m.Digest() {
				w.conflict = append(w.conflict, fmt.Sprintf("proposed %s and %s in round %d", d.Short(), m.Digest().Short(), m.Round))
			}
			w.headers[m.Round] = m.Digest()
		}
		w.mu.Unlock()
	}
	return wt.Transport.Send(to, frame)
}

// voteRecords reads a stopped node's persisted votes and own headers.
func voteRecords(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	s, err := store.Open(dir, (&Options{}).EnsureDefaults().storeOptions(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	recs, err := s.LoadDAGRecords()
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[string][]byte)
	for _, r := range recs {
		if r.Key[0] == 'v' || r.Key[0] == 'h' {
			out[string(r.Key)] = r.Value
		}
	}
	return out
}

// TestRestartCatchesUp stops a validator while load continues on the
// others, restarts it from its store, and checks that it catches up to
// the same digests, never votes twice for an author and round, never
// proposes two headers for a round, and keeps its persisted votes.
func TestRestartCatchesUp(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	watch := &voteWatch{self: 3, votes: make(map[[2]uint64]crypto.Digest), headers: make(map[uint64]crypto.Digest)}
	d, err := StartDevnet(ctx, DevnetOptions{BaseDir: t.TempDir(), Configure: func(i int, o *Options) {
		if i == 3 {
			o.WrapTransport = watch.wrap
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	log := newDigestLog(t)
	log.follow(ctx, d.Subscribe(SubscribeOptions{}))

	// Steady load on nodes 0..2 for the whole test.
	loadCtx, stopLoad := context.WithCancel(ctx)
	var load sync.WaitGroup
	load.Go(func() {
		for i := 0; loadCtx.Err() == nil; i++ {
			node := i % 3
			_, _ = d.Submit(loadCtx, node, [][]byte{testTx("restart", i, 128)})
			time.Sleep(time.Millisecond)
		}
	})
	defer func() { stopLoad(); load.Wait() }()

	testwait.Until(t, testTimeout, "node 3 to commit", func() bool { return log.minSeq(4) >= 3 })
	if err := d.StopNode(3); err != nil {
		t.Fatalf("stop node 3: %v", err)
	}
	before := voteRecords(t, d.DataDir(3))
	if len(before) == 0 {
		t.Fatal("node 3 persisted no votes")
	}
	stoppedAt := log.minSeq(4)
	// The others go on without it.
	testwait.Until(t, testTimeout, "nodes 0..2 to commit without node 3", func() bool { return log.minSeq(3) >= stoppedAt+3 })
	if err := d.StartNode(3); err != nil {
		t.Fatalf("restart node 3: %v", err)
	}
	target := log.minSeq(3) + 2
	testwait.Until(t, testTimeout, "node 3 to catch up", func() bool { return log.minSeq(4) >= target })
	stopLoad()
	load.Wait()
	if err := d.StopNode(3); err != nil {
		t.Fatalf("stop node 3: %v", err)
	}
	after := voteRecords(t, d.DataDir(3))
	for k, v := range before {
		if w, ok := after[k]; ok && !bytes.Equal(v, w) {
			t.Errorf("persisted record %x changed from %x to %x across the restart", k, v[:min(8, len(v))], w[:min(8, len(w))])
		}
	}
	log.check()
	watch.mu.Lock()
	defer watch.mu.Unlock()
	for _, c := range watch.conflict {
		t.Errorf("node 3 %s", c)
	}
	if len(watch.votes) == 0 {
		t.Error("saw no votes from node 3")
	}
}

// captureHandler keeps log records that mention a rejection.
type captureHandler struct {
	mu   sync.Mutex
	recs []string
}

func (h *captureHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *captureHandler) Handle(_ context.Context, r slog.Record) error {
	if !strings.Contains(r.Message, "rejected") {
		return nil
	}
	var b strings.Builder
	b.WriteString(r.Message)
	r.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
		return true
	})
	h.mu.Lock()
	h.recs = append(h.recs, b.String())
	h.mu.Unlock()
	return nil
}
func (h *captureHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *captureHandler) WithGroup(string) slog.Handler      { return h }

func (h *captureHandler) find(substrs ...string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
next:
	for _, r := range h.recs {
		for _, s := range substrs {
			if !strings.Contains(r, s) {
				continue next
			}
		}
		return true
	}
	return false
}

// injector lets a test send raw frames through a node's real transport.
type injector struct {
	mu sync.Mutex
	t  Transport
}

func (in *injector) wrap(t Transport) Transport {
	in.mu.Lock()
	in.t = t
	in.mu.Unlock()
	return t
}

func (in *injector) send(to dag.ValidatorID, frame []byte) {
	in.mu.Lock()
	t := in.t
	in.mu.Unlock()
	if t != nil {
		_ = t.Send(to, frame)
	}
}

// garbageFrames returns frames a faulty or hostile peer (validator 3)
// might send: random bytes, truncations and corruptions of valid
// messages, an unknown kind, lying counts, and well-formed messages with
// bad signatures or a forged sender.
func garbageFrames(rng *rand.Rand, bk *crypto.BLSPrivateKey) [][]byte {
	var out [][]byte
	for range 20 {
		b := make([]byte, rng.IntN(300))
		for i := range b {
			b[i] = byte(rng.UintN(256))
		}
		out = append(out, b)
	}
	h := dag.NewHeader(0, 1, 3, 1, nil, nil)
	d := h.Digest()
	h.Signature = bk.Sign(d[:])
	valid := dag.EncodeMessage(h)
	for i := 1; i < len(valid); i += 7 {
		out = append(out, valid[:i])
	}
	corrupt := bytes.Clone(valid)
	corrupt[len(corrupt)-3] ^= 0xff
	out = append(out, corrupt, append(bytes.Clone(valid), 0), []byte{0xee, 1, 2, 3})
	lying := []byte{byte(dag.KindCertRequest)}
	lying = binary.BigEndian.AppendUint32(lying, 1<<30)
	out = append(out, lying)
	// Well-formed, badly signed: a header whose signature is over
	// something else, and a vote in another validator's name.
	bad := dag.NewHeader(0, 2, 3, 1, nil, nil)
	bad.Signature = bk.Sign([]byte("not the digest"))
	out = append(out, dag.EncodeMessage(bad))
	out = append(out, dag.EncodeMessage(&dag.Vote{Round: 1, Origin: 0, Voter: 1, Signature: bk.Sign([]byte("x"))}))
	return out
}

// TestGarbageFromPeer has validator 3 send garbage alongside its normal
// traffic: the others reject it with a logged reason and keep committing.
func TestGarbageFromPeer(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	capture := &captureHandler{}
	inj := &injector{}
	d, err := StartDevnet(ctx, DevnetOptions{BaseDir: t.TempDir(), Configure: func(i int, o *Options) {
		// Every frame is read and counted: the badly signed header
		// would otherwise have 3 banned (TestHostileValidator).
		o.PeerBanDuration = -1
		switch i {
		case 0:
			o.Logger = slog.New(capture)
		case 3:
			o.WrapTransport = inj.wrap
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	log := newDigestLog(t)
	log.follow(ctx, d.Subscribe(SubscribeOptions{}))
	testwait.Until(t, testTimeout, "first commits", func() bool { return log.minSeq(4) >= 2 })

	bk, _, err := DevnetKeys("dagd-devnet", 3)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	frames := garbageFrames(rng, bk)
	start := log.minSeq(4)
	for round := 0; round < 5; round++ {
		for _, f := range frames {
			for to := dag.ValidatorID(0); to < 3; to++ {
				inj.send(to, f)
			}
		}
		// The next round of garbage goes out once every node committed
		// again: the garbage is interleaved with the honest traffic.
		testwait.Until(t, testTimeout, "commits to continue after the garbage", func() bool { return log.minSeq(4) >= start+uint64(round)+1 })
	}
	testwait.Until(t, testTimeout, "a logged rejection", func() bool { return capture.find("rejected", "reason=", "malformed") })
	testwait.Until(t, testTimeout, "the badly signed header rejected with a signature reason", func() bool {
		return capture.find("rejected", "kind=header", "signature")
	})
	testwait.Until(t, testTimeout, "the forged vote rejected", func() bool { return capture.find("rejected", "kind=vote", "sent by") })
	testwait.For(t, testTimeout, func() error {
		mfs, err := d.Node(0).Registry().Gather()
		if err != nil {
			t.Fatal(err)
		}
		var malformed float64
		for _, mf := range mfs {
			if mf.GetName() != "dagd_messages_rejected_total" {
				continue
			}
			for _, m := range mf.GetMetric() {
				for _, l := range m.GetLabel() {
					if l.GetName() == "reason" && l.GetValue() == "malformed" {
						malformed += m.GetCounter().GetValue()
					}
				}
			}
		}
		if malformed < 50 {
			return fmt.Errorf("dagd_messages_rejected_total{reason=malformed} = %v, want the garbage counted", malformed)
		}
		return nil
	})
	log.check()
}

// TestShutdownLeavesNoGoroutines starts a devnet with APIs, uses it,
// stops it, and checks that every goroutine it started has ended.
func TestShutdownLeavesNoGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	ctx, cancel := context.WithCancel(context.Background())
	d, err := StartDevnet(ctx, DevnetOptions{BaseDir: t.TempDir(), API: true})
	if err != nil {
		t.Fatal(err)
	}
	log := newDigestLog(t)
	sub := d.Subscribe(SubscribeOptions{Transactions: client.TxAll})
	log.follow(ctx, sub)
	submitAll(ctx, t, d, 0, [][]byte{[]byte("leak-check")})
	testwait.Until(t, testTimeout, "a commit on every node", func() bool { return log.minSeq(4) >= 2 })
	if err := d.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
	cancel()
	if err := testwait.Poll(testwait.Timeout(t, 10*time.Second), func() error {
		if after := runtime.NumGoroutine(); after > before {
			return fmt.Errorf("%d goroutines before, %d after close", before, after)
		}
		return nil
	}); err != nil {
		buf := make([]byte, 1<<20)
		t.Fatalf("%v:\n%s", err, buf[:runtime.Stack(buf, true)])
	}
}
