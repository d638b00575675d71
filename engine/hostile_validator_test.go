package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	mathrand "math/rand/v2"
	"net/http"
	"os"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dagd/dagd/crypto"
	"github.com/dagd/dagd/dag"
	"github.com/dagd/dagd/engine/execution"
	"github.com/dagd/dagd/internal/testwait"
)

// hostileLink is validator 3's transport in TestHostileValidator: its own
// node's messages are swallowed while muted (the validator is silent),
// and the test sends what it likes through the real QUIC transport, with
// the validator's identity.
type hostileLink struct {
	Transport
	muted atomic.Bool

	mu sync.Mutex
	// certs are the digests of the honest validators' certificates
	// validator 3 received, by round (the last few rounds), for the
	// parents of its hostile headers.
	certs map[uint64][]crypto.Digest
	top   uint64
}

// Receive records the certificates the honest validators broadcast.
func (h *hostileLink) Receive(ctx context.Context) (InboundFrame, error) {
	f, err := h.Transport.Receive(ctx)
	if err == nil && len(f.Frame) > 0 && dag.Kind(f.Frame[0]) == dag.KindCertificate {
		if m, derr := dag.DecodeMessage(f.Frame); derr == nil {
			c := m.(*dag.Certificate)
			h.mu.Lock()
			h.certs[c.Round()] = append(h.certs[c.Round()], c.Digest())
			h.top = max(h.top, c.Round())
			for r := range h.certs {
				if r+8 < h.top {
					delete(h.certs, r)
				}
			}
			h.mu.Unlock()
		}
	}
	return f, err
}

// latest returns the highest round with certificates of a quorum (3),
// and their digests.
func (h *hostileLink) latest() (uint64, []crypto.Digest) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for r := h.top; r > 0 && r+8 >= h.top; r-- {
		if len(h.certs[r]) >= 3 {
			return r, slices.Clone(h.certs[r])
		}
	}
	return 0, nil
}

func (h *hostileLink) Send(to dag.ValidatorID, frame []byte) error {
	if h.muted.Load() {
		return nil
	}
	return h.Transport.Send(to, frame)
}

// inject sends a frame through the real transport; false when its queue
// is full.
func (h *hostileLink) inject(to dag.ValidatorID, frame []byte) bool {
	return h.Transport.Send(to, frame) == nil
}

type hostileLinkSlot struct {
	mu sync.Mutex
	l  *hostileLink
}

func (s *hostileLinkSlot) wrap(t Transport) Transport {
	l := &hostileLink{Transport: t, certs: make(map[uint64][]crypto.Digest)}
	l.muted.Store(true)
	s.mu.Lock()
	s.l = l
	s.mu.Unlock()
	return l
}

func (s *hostileLinkSlot) get() *hostileLink {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.l
}

// hostileFlood builds the frames validator 3, holding its real key bk,
// floods with. The signed ones are made once a round (the attacker's own
// signing would otherwise take the shared cores from the validators under
// test); the rest changes every burst.
type hostileFlood struct {
	bk      *crypto.BLSPrivateKey
	chainID string
	junk    []byte
	rng     *mathrand.ChaCha8
	round   uint64
	signed  [][]byte
}

func newHostileFlood(bk *crypto.BLSPrivateKey, chainID string) *hostileFlood {
	return &hostileFlood{bk: bk, chainID: chainID, junk: bk.Sign([]byte("not a header")), rng: mathrand.NewChaCha8([32]byte{3})}
}

// burst returns the frames of one burst against round r, whose parents
// are certificates of round r-1: a header naming 1,000 batches that do not
// exist, its own header replayed, a request for 4,096 batches that do not
// exist, conflicting headers of the slot, then what proves validator 3
// faulty at once: a certificate response of 128 forged certificates and
// a forged certificate.
func (f *hostileFlood) burst(r uint64, parents []crypto.Digest, n int) [][]byte {
	ts := dag.Time(time.Now().UnixMilli())
	if r != f.round || f.signed == nil {
		f.round = r
		sign := func(h *dag.Header) []byte {
			h.Signature = f.bk.Sign(dag.SigningMessage(f.chainID, 0, h.Digest()))
			return dag.EncodeMessage(h)
		}
		fake := make([]dag.BatchRef, 1000)
		for i := range fake {
			_, _ = f.rng.Read(fake[i].Digest[:])
		}
		f.signed = [][]byte{sign(dag.NewHeader(0, r, 3, ts, fake, parents)), sign(dag.NewHeader(0, r, 3, ts+1, nil, parents))}
		for i := range 4 {
			f.signed = append(f.signed, sign(dag.NewHeader(0, r, 3, ts+dag.Time(2+i), nil, parents)))
		}
	}
	out := [][]byte{f.signed[0]}
	for range 4 {
		out = append(out, f.signed[1]) // replayed
	}
	req := make([]crypto.Digest, dag.MaxRequestItems)
	for i := range req {
		_, _ = f.rng.Read(req[i][:])
	}
	out = append(out, dag.EncodeMessage(&dag.BatchRequest{Digests: req}))
	out = append(out, f.signed[2:]...) // conflicting
	var forged []*dag.Certificate
	for i := range 128 {
		h := dag.NewHeader(0, r+uint64(i%3), dag.ValidatorID(i%3), ts+dag.Time(n*1000+i), nil, parents)
		h.Signature = f.junk
		forged = append(forged, &dag.Certificate{Header: h, Signers: []dag.ValidatorID{0, 1, 2}, CommitteeSize: 4, Signature: f.junk})
	}
	out = append(out, dag.EncodeMessage(&dag.CertResponse{Certificates: forged}))
	fc := dag.NewHeader(0, r+1, 3, ts+dag.Time(n), nil, nil)
	fc.Signature = f.junk
	out = append(out, dag.EncodeMessage(&dag.Certificate{Header: fc, Signers: []dag.ValidatorID{0, 1, 3}, CommitteeSize: 4, Signature: f.junk}))
	return out
}

// phaseFigures are what one phase of TestHostileValidator measured, over
// its slices.
type phaseFigures struct {
	name        string
	committed   uint64  // by the slowest honest node, summed over the slices
	seconds     float64 // the slices' time
	txPerSec    float64 // committed / seconds
	maxHeap     uint64
	maxLoopLag  time.Duration
	unhealthy   int
	firstBad    string
	maxInbox    int
	maxReqBatch int
	maxPending  int
	frames      int // hostile frames sent
}

// TestHostileValidator is the acceptance test of issue 13: on a devnet of
// four validators over QUIC on loopback, validator 3, using its own valid
// keys, floods validators 0-2 with forged certificate responses, replayed
// and conflicting headers, headers naming batches that do not exist,
// forged certificates and requests for batches that do not exist, as fast
// as its transport takes them, for DAGD_HOSTILE_DURATION (default 12 s) a phase.
// The same offered load goes through validators 0-2 while 3 is merely
// silent, then while it is hostile; each phase lasts until all of its load
// is committed, and its throughput is that load over that time. The honest
// validators must answer /healthz with 200 all along, keep their queues and
// the process heap bounded, and commit at least 80 % of the silent
// throughput in the acceptance run (DAGD_HOSTILE_DURATION set, on a quiet
// machine). In the suite's short phases, where a loaded 2-core machine or
// the race detector moves the ratio by 20 %, the floor is half: before the
// fixes of issue 13 the flood stalled the event loop for seconds a frame.
func TestHostileValidator(t *testing.T) {
	// With bans (the default), the first proof of fault shuts validator 3
	// out; without, every frame is read and refused by the core, which
	// must hold on its own.
	t.Run("bans", func(t *testing.T) { testHostileValidator(t, true) })
	t.Run("no-bans", func(t *testing.T) { testHostileValidator(t, false) })
}

func testHostileValidator(t *testing.T, ban bool) {
	dur, floor := 12*time.Second, 0.5
	if s := os.Getenv("DAGD_HOSTILE_DURATION"); s != "" {
		floor = 0.8
		var err error
		if dur, err = time.ParseDuration(s); err != nil {
			t.Fatalf("DAGD_HOSTILE_DURATION: %v", err)
		}
	}
	const rate = 6000 // offered transactions per second, over validators 0-2
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	slot := &hostileLinkSlot{}
	d, err := StartDevnet(ctx, DevnetOptions{BaseDir: t.TempDir(), API: true, Execution: execution.Options{Disabled: true},
		Configure: func(i int, o *Options) {
			if !ban {
				o.PeerBanDuration = -1
			}
			if i == 3 {
				o.WrapTransport = slot.wrap
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	defer dumpOnFailure(t, d)()
	honest := []int{0, 1, 2}
	minSeq := func() uint64 {
		m := ^uint64(0)
		for _, i := range honest {
			m = min(m, d.Node(i).Status().LastCommittedSeq)
		}
		return m
	}
	testwait.Until(t, testTimeout, "first commits without validator 3", func() bool { return minSeq() >= 3 })
	link := slot.get()
	bk, _, err := DevnetKeys("dagd-devnet", 3)
	if err != nil {
		t.Fatal(err)
	}

	// runLoad offers rate transactions a second, spread over 0-2, for
	// dur; a transaction refused as busy is offered again at the next
	// tick. It returns how many were accepted.
	seq := 0
	runLoad := func(ctx context.Context, dur time.Duration) uint64 {
		var wg sync.WaitGroup
		var accepted atomic.Uint64
		lctx, stop := context.WithTimeout(ctx, dur)
		defer stop()
		for _, i := range honest {
			base := seq
			wg.Go(func() {
				tick := time.NewTicker(10 * time.Millisecond)
				defer tick.Stop()
				per := rate / len(honest) / 100
				var txs [][]byte
				for k := 0; ; {
					select {
					case <-lctx.Done():
						return
					case <-tick.C:
					}
					for range per {
						txs = append(txs, testTx(fmt.Sprintf("hv%d", i), base+k, 128))
						k++
					}
					n, _ := d.Submit(lctx, i, txs) // busy: offered again next tick
					accepted.Add(uint64(n))
					txs = txs[n:]
				}
			})
		}
		wg.Wait()
		seq += int(dur.Seconds()+1) * rate
		return accepted.Load()
	}
	committed := func() uint64 {
		m := ^uint64(0)
		for _, i := range honest {
			m = min(m, d.Node(i).Status().CommittedTxs)
		}
		return m
	}
	// drain waits until n transactions more than before are committed by
	// every honest node (or dur and 30 s more have passed).
	drain := func(before, n uint64) {
		// Not reaching n is measured by the caller, not a failure here.
		_ = testwait.Poll(testwait.Timeout(t, dur+30*time.Second), func() error {
			if committed()-before < n {
				return errors.New("not drained")
			}
			return nil
		})
	}

	// measure runs one phase: the offered load for dur, then until every
	// accepted transaction is committed by every honest node, with attack
	// running all along if set. Throughput is what was accepted over the
	// time it took to commit it.
	measure := func(f *phaseFigures, attack func(ctx context.Context) int) {
		pctx, stop := context.WithCancel(ctx)
		var wg sync.WaitGroup
		var mu sync.Mutex
		frames := make(chan int, 1)
		if attack != nil {
			wg.Go(func() { frames <- attack(pctx) })
		}
		// Health, loop lag, queues and heap, sampled all along.
		wg.Go(func() {
			tick := time.NewTicker(200 * time.Millisecond)
			defer tick.Stop()
			var ms runtime.MemStats
			for n := 0; ; n++ {
				select {
				case <-pctx.Done():
					return
				case <-tick.C:
				}
				for _, i := range honest {
					node := d.Node(i)
					resp, err := http.Get("http://" + node.APIAddr() + "/healthz")
					var body []byte
					code := 0
					if err == nil {
						body, _ = io.ReadAll(resp.Body)
						resp.Body.Close()
						code = resp.StatusCode
					}
					lag := time.Since(time.Unix(0, node.lastLoop.Load()))
					st := node.Status()
					mu.Lock()
					if code != http.StatusOK {
						f.unhealthy++
						if f.firstBad == "" {
							f.firstBad = fmt.Sprintf("node %d: %d %v %s", i, code, err, body)
						}
					}
					f.maxLoopLag = max(f.maxLoopLag, lag)
					f.maxInbox = max(f.maxInbox, st.InboxQueue)
					f.maxReqBatch = max(f.maxReqBatch, st.RequestedBatches)
					f.maxPending = max(f.maxPending, st.PendingCerts)
					mu.Unlock()
				}
				if n%3 == 0 {
					runtime.ReadMemStats(&ms)
					mu.Lock()
					f.maxHeap = max(f.maxHeap, ms.HeapAlloc)
					mu.Unlock()
				}
			}
		})
		before := committed()
		start := time.Now()
		offered := runLoad(ctx, dur)
		drain(before, offered)
		f.seconds = time.Since(start).Seconds()
		f.committed = min(committed()-before, offered)
		stop()
		wg.Wait()
		if attack != nil {
			f.frames = <-frames
		}
		f.txPerSec = float64(f.committed) / f.seconds
		t.Logf("%s: %d transactions accepted, committed by every honest node in %.1f s: %.0f tx/s; max heap %d MiB, max loop lag %v, unhealthy answers %d, max inbox %d, max requested batches %d, max pending certs %d, hostile frames %d",
			f.name, offered, f.seconds, f.txPerSec, f.maxHeap>>20, f.maxLoopLag.Round(time.Millisecond), f.unhealthy, f.maxInbox, f.maxReqBatch, f.maxPending, f.frames)
	}

	// Warm up under load, then validator 3 silent, then hostile.
	flood := newHostileFlood(bk, d.ChainID())
	attack := func(ctx context.Context) int {
		sent := 0
		for burst := 0; ctx.Err() == nil; burst++ {
			r, parents := link.latest()
			for _, frame := range flood.burst(r+1, parents, burst) {
				for to := dag.ValidatorID(0); to < 3; to++ {
					// Line rate: as fast as the transport's queue takes
					// them; a full queue is waited out.
					for !link.inject(to, frame) {
						if ctx.Err() != nil {
							return sent
						}
						runtime.Gosched()
						time.Sleep(time.Millisecond)
					}
					sent++
				}
			}
		}
		return sent
	}
	silent, hostile := &phaseFigures{name: "silent"}, &phaseFigures{name: "hostile"}
	warm := committed()
	drain(warm, runLoad(ctx, 2*time.Second))
	measure(silent, nil)
	measure(hostile, attack)

	ratio := hostile.txPerSec / silent.txPerSec
	var bans uint64
	for _, i := range honest {
		bans += d.Node(i).Status().PeersBanned
		for _, p := range honest {
			if d.Node(i).bans.until[p].Load() != 0 {
				t.Errorf("validator %d banned honest validator %d", i, p)
			}
		}
	}
	t.Logf("figures (%v of load a phase, %d tx/s offered, machine shared): silent %.0f tx/s, hostile %.0f tx/s, ratio %.2f; max heap %d MiB silent, %d MiB hostile; bans %d; hostile frames %d",
		dur, rate, silent.txPerSec, hostile.txPerSec, ratio, silent.maxHeap>>20, hostile.maxHeap>>20, bans, hostile.frames)
	if silent.txPerSec <= 0 {
		t.Fatal("nothing committed while validator 3 was silent")
	}
	if ratio < floor {
		t.Errorf("hostile throughput %.0f tx/s is %.0f%% of the silent %.0f tx/s, want at least %.0f%%", hostile.txPerSec, 100*ratio, silent.txPerSec, 100*floor)
	}
	for _, f := range []*phaseFigures{silent, hostile} {
		if f.unhealthy > 0 {
			t.Errorf("/healthz answered %d times with an error; first: %s", f.unhealthy, f.firstBad)
		}
	}
	if ban && bans == 0 {
		t.Error("validator 3 sent forged signatures and equivocated, and no one banned it")
	}
	if !ban && hostile.maxReqBatch == 0 {
		t.Error("the headers naming batches that do not exist were never asked about: the attack missed")
	}
	// Bounded memory: the queues within their limits, the heap within
	// a small multiple of the silent phase's.
	if hostile.maxReqBatch > max(2*DefaultDAGOptions().MaxHeaderBatches, dag.MaxRequestItems) {
		t.Errorf("requested batches reached %d", hostile.maxReqBatch)
	}
	if hostile.maxPending > DefaultDAGOptions().MaxPendingCerts {
		t.Errorf("pending certificates reached %d", hostile.maxPending)
	}
	if limit := 2*silent.maxHeap + 256<<20; hostile.maxHeap > limit {
		t.Errorf("max heap %d MiB under attack, %d MiB silent", hostile.maxHeap>>20, silent.maxHeap>>20)
	}
}
