package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dagd/dagd/engine/client"
	"github.com/dagd/dagd/engine/execution"
	"github.com/dagd/dagd/erasure"
	"github.com/dagd/dagd/internal/testwait"
)

// hostileConns is the number of idle connections TestHostileClients
// opens: DAGD_HOSTILE_CONNS, default 1000 (the acceptance run uses
// 10,000).
func hostileConns(t *testing.T) int {
	if s := os.Getenv("DAGD_HOSTILE_CONNS"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 0 {
			t.Fatalf("DAGD_HOSTILE_CONNS=%q: want a count", s)
		}
		return v
	}
	return 1000
}

// rssBytes reads the process's resident set size (0 where /proc is not).
func rssBytes() uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseUint(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

// refusals counts the answers of hostile requests by status and reason,
// and the ones without a reason.
type refusals struct {
	mu       sync.Mutex
	byKind   map[string]int
	noReason []string
}

func (r *refusals) add(what string, status int, body []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.byKind == nil {
		r.byKind = map[string]int{}
	}
	var e struct {
		Reason, Error, Code, Message string
	}
	_ = json.Unmarshal(body, &e)
	reason := e.Reason
	if reason == "" {
		reason = e.Code
	}
	msg := e.Error + e.Message
	if status >= 400 && (reason == "" || msg == "") {
		r.noReason = append(r.noReason, fmt.Sprintf("%s: %d %.120q", what, status, body))
	}
	r.byKind[fmt.Sprintf("%-22s %d %s", what, status, reason)]++
}

// TestHostileClients runs a devnet with load through nodes 1..3 and
// points hostile clients at node 0's API: idle connections (many, from 16
// addresses), gzip bombs, huge JSON arrays, slow bodies, oversized and
// slow uploads, commit ranges with every transaction, lookups of unknown
// content. Node 0 must keep committing, honest submissions through it
// must keep succeeding, the process heap must stay within the bound the
// limits set, and every refusal must carry a reason.
func TestHostileClients(t *testing.T) {
	if testing.Short() {
		t.Skip("a devnet under attack for about 15 s; not in -short")
	}
	conns := hostileConns(t)
	const (
		submitBudget = 96 << 20
		readBudget   = 24 << 20
		respBytes    = 4 << 20
	)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	d, err := StartDevnet(ctx, DevnetOptions{BaseDir: t.TempDir(), API: true, InMemoryNetwork: true, NoSync: true, Accounts: -1,
		Execution: execution.Options{Disabled: true},
		Configure: func(i int, o *Options) {
			o.MaxRequestBytes = 8 << 20
			o.API.MaxSubmitBytes = submitBudget
			o.API.MaxSubmitBytesPerIP = submitBudget / 3
			o.API.MaxReadBytes = readBudget
			o.API.MaxResponseBytes = respBytes
			o.API.RequestReadTimeout = 3 * time.Second
			o.API.BodyIdleTimeout = 3 * time.Second
			o.API.ReadHeaderTimeout = 5 * time.Second
			o.API.MaxConns = 4096
			o.API.MaxConnsPerIP = 128
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	target := d.Node(0)
	base := "http://" + target.APIAddr()

	// Everything the attackers send is built before the baseline.
	protoFlood := gzipped(bytes.Repeat([]byte{0x0a, 0x00}, 4<<20))
	bomb := func() []byte {
		raw := make([]byte, 256<<20) // 32 times MaxRequestBytes
		copy(raw, []byte{0x0a, 0x80, 0x80, 0x80, 0x80, 0x01})
		return gzipped(raw)
	}()
	var jb strings.Builder
	jb.WriteString(`{"transactions":["eA=="`)
	for jb.Len() < 6<<20 {
		jb.WriteString(`,"eA=="`)
	}
	jb.WriteString(`]}`)
	jsonFlood := []byte(jb.String())
	jb.Reset()

	honest := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}, Timeout: 20 * time.Second}
	hostile := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true,
		DialContext: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.9")}}).DialContext}, Timeout: 30 * time.Second}

	// Wait for the devnet to commit, then take the baseline.
	testwait.Until(t, 30*time.Second, "first commits", func() bool { return target.Status().LastCommittedSeq >= 3 })
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	baseHeap, baseRSS := ms.HeapAlloc, rssBytes()
	startSeq := target.Status().LastCommittedSeq
	var peakHeap, peakRSS atomic.Uint64
	stopSample := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			if m.HeapAlloc > peakHeap.Load() {
				peakHeap.Store(m.HeapAlloc)
			}
			if r := rssBytes(); r > peakRSS.Load() {
				peakRSS.Store(r)
			}
			select {
			case <-stopSample:
				return
			case <-tick.C:
			}
		}
	}()

	attack, stopAttack := context.WithCancel(ctx)
	var wg sync.WaitGroup
	var ref refusals

	// Load through the other nodes.
	var loadAccepted atomic.Int64
	for i := 1; i < d.Size(); i++ {
		wg.Go(func() {
			tick := time.NewTicker(20 * time.Millisecond)
			defer tick.Stop()
			for k := 0; attack.Err() == nil; k++ {
				var txs [][]byte
				for j := 0; j < 20; j++ {
					txs = append(txs, fmt.Appendf(nil, "load-%d-%d-%d", i, k, j))
				}
				if a, err := d.Submit(attack, i, txs); err == nil {
					loadAccepted.Add(int64(a))
				}
				select {
				case <-attack.Done():
				case <-tick.C:
				}
			}
		})
	}

	// Idle connections from 16 addresses, all open before the rest of
	// the attack starts: each beyond MaxConnsPerIP is answered 503 with
	// the limit named and closed; the others wait for headers that never
	// come until ReadHeaderTimeout closes them.
	var idleFailed atomic.Int64
	var idleMu sync.Mutex
	var idle []net.Conn
	dialStart := time.Now()
	var dialWG sync.WaitGroup
	dialWork := make(chan int)
	for w := 0; w < 128; w++ {
		dialWG.Go(func() {
			for i := range dialWork {
				dl := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 1, byte(1+i%16))}, Timeout: 10 * time.Second}
				c, err := dl.DialContext(attack, "tcp", target.APIAddr())
				if err != nil {
					idleFailed.Add(1)
					continue
				}
				idleMu.Lock()
				idle = append(idle, c)
				idleMu.Unlock()
			}
		})
	}
	for i := 0; i < conns; i++ {
		dialWork <- i
	}
	close(dialWork)
	dialWG.Wait()
	dialTime := time.Since(dialStart)

	hostilePost := func(what, path, ctype, enc string, body []byte) {
		req, _ := http.NewRequestWithContext(attack, http.MethodPost, base+path, bytes.NewReader(body))
		req.Header.Set("Content-Type", ctype)
		if enc != "" {
			req.Header.Set("Content-Encoding", enc)
		}
		res, err := hostile.Do(req)
		if err != nil {
			return
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		ref.add(what, res.StatusCode, b)
	}
	hostileGet := func(what, path string) {
		req, _ := http.NewRequestWithContext(attack, http.MethodGet, base+path, nil)
		res, err := hostile.Do(req)
		if err != nil {
			return
		}
		// Read slowly: the answer is held while it is written.
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode >= 400 {
			ref.add(what, res.StatusCode, b)
			return
		}
		var cr client.CommitRange
		if strings.HasPrefix(path, "/v1/commits?") && json.Unmarshal(b, &cr) == nil {
			size := 0
			for _, c := range cr.Commits {
				for _, tx := range c.Transactions {
					size += len(tx)
				}
			}
			if size > respBytes+int(target.opts.DAG.MaxTxSize) {
				t.Errorf("commit range of %d bytes of transactions, limit %d", size, respBytes)
			}
		}
		ref.add(what, res.StatusCode, nil)
	}
	repeat := func(workers int, fn func()) {
		for w := 0; w < workers; w++ {
			wg.Go(func() {
				for attack.Err() == nil {
					fn()
				}
			})
		}
	}
	repeat(4, func() {
		hostilePost("gzip entry flood", "/dagd.v1.TransactionService/SubmitTransactions", "application/proto", "gzip", protoFlood)
	})
	repeat(2, func() {
		hostilePost("gzip bomb", "/dagd.v1.TransactionService/SubmitTransactions", "application/proto", "gzip", bomb)
	})
	repeat(4, func() { hostilePost("json array flood", "/v1/transactions", client.ContentTypeJSON, "", jsonFlood) })
	repeat(2, func() {
		hostilePost("upload k=1 n=256", "/v1/content?k=1&n=256", "application/octet-stream", "", make([]byte, 64<<10))
	})
	repeat(2, func() { hostileGet("commits txs=all", "/v1/commits?from=1&limit=1000&txs=all") })
	var unknown atomic.Int64
	repeat(2, func() {
		hostileGet("unknown content", "/v1/content/"+erasure.RawCID(fmt.Appendf(nil, "unknown-%d", unknown.Add(1))).String())
	})
	// Slow bodies: submissions and uploads that send one byte, and
	// uploads that declare more than the node stores.
	for w := 0; w < 48; w++ {
		path, what, size := "/v1/transactions", "slow submission", int64(1000000)
		switch w % 6 {
		case 4:
			path, what = "/v1/content?k=2&n=4", "slow upload"
		case 5:
			path, what, size = "/v1/content", "oversized upload", 1<<50
		}
		wg.Go(func() {
			for attack.Err() == nil {
				dl := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.10")}}
				c, err := dl.DialContext(attack, "tcp", target.APIAddr())
				if err != nil {
					return
				}
				fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n\x00", path, client.ContentTypeBinary, size)
				_ = c.SetReadDeadline(time.Now().Add(20 * time.Second))
				b, _ := io.ReadAll(c)
				c.Close()
				if i := bytes.Index(b, []byte("\r\n\r\n")); i > 0 {
					st, _ := strconv.Atoi(string(b[9:12]))
					ref.add(what, st, b[i+4:])
				}
			}
		})
	}

	// Honest submissions through node 0 while the attack runs.
	var honestOK, honestBusy, honestFailed atomic.Int64
	var honestErrs []string
	var honestMu sync.Mutex
	pace := time.NewTicker(50 * time.Millisecond) // the honest client's own rate
	defer pace.Stop()
	deadline := time.Now().Add(12 * time.Second)
	for k := 0; time.Now().Before(deadline); k++ {
		<-pace.C
		body := client.AppendBinaryTx(nil, fmt.Appendf(nil, "honest-%d", k))
		res, err := honest.Post(base+"/v1/transactions", client.ContentTypeBinary, bytes.NewReader(body))
		if err != nil {
			honestFailed.Add(1)
			honestMu.Lock()
			honestErrs = append(honestErrs, err.Error())
			honestMu.Unlock()
			continue
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		switch {
		case res.StatusCode == http.StatusAccepted:
			honestOK.Add(1)
		case res.StatusCode == http.StatusServiceUnavailable && bytes.Contains(b, []byte(ReasonNodeBusy)):
			honestBusy.Add(1) // the worker's own back-pressure, not the attack
		default:
			honestFailed.Add(1)
			honestMu.Lock()
			honestErrs = append(honestErrs, fmt.Sprintf("%d %.160s", res.StatusCode, b))
			honestMu.Unlock()
		}
	}
	endSeq := target.Status().LastCommittedSeq
	stopAttack()
	wg.Wait()
	// What became of the idle connections.
	var idleOpen, idleRefused, idleClosed atomic.Int64
	var classify sync.WaitGroup
	work := make(chan net.Conn)
	for w := 0; w < 64; w++ {
		classify.Go(func() {
			for c := range work {
				_ = c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
				b, err := io.ReadAll(c)
				var ne net.Error
				switch {
				case len(b) > 0:
					ans := string(b)
					body := ans[strings.Index(ans, "\r\n\r\n")+4:]
					st := 0
					if strings.HasPrefix(ans, "HTTP/1.1 503") {
						st = 503
					}
					ref.add("idle conn", max(st, 400), []byte(body))
					idleRefused.Add(1)
				case errors.As(err, &ne) && ne.Timeout():
					idleOpen.Add(1)
				default:
					idleClosed.Add(1)
				}
				c.Close()
			}
		})
	}
	for _, c := range idle {
		work <- c
	}
	close(work)
	classify.Wait()
	close(stopSample)
	<-sampled

	heapGrowth := peakHeap.Load() - min(baseHeap, peakHeap.Load())
	rssGrowth := peakRSS.Load() - min(baseRSS, peakRSS.Load())
	// The bound: both budgets, 64 KiB per connection the API may hold,
	// and 128 MiB for the devnet's own load and the attackers' buffers
	// (they run in this process).
	bound := uint64(submitBudget+readBudget) + uint64(target.opts.API.MaxConns)*(64<<10) + 128<<20
	t.Logf("idle connections: %d opened in %s (%d dials failed); at the end %d refused with 503 at once, %d closed by the server (ReadHeaderTimeout), %d still open",
		conns, dialTime.Round(time.Millisecond), idleFailed.Load(), idleRefused.Load(), idleClosed.Load(), idleOpen.Load())
	t.Logf("node 0 committed %d commits during the attack (seq %d -> %d); load accepted through nodes 1-3: %d txs", endSeq-startSeq, startSeq, endSeq, loadAccepted.Load())
	t.Logf("honest submissions through node 0: %d accepted, %d worker-busy, %d failed", honestOK.Load(), honestBusy.Load(), honestFailed.Load())
	t.Logf("heap: base %d MiB, peak %d MiB (+%d MiB); RSS: base %d MiB, peak %d MiB (+%d MiB); bound on growth %d MiB",
		baseHeap>>20, peakHeap.Load()>>20, heapGrowth>>20, baseRSS>>20, peakRSS.Load()>>20, rssGrowth>>20, bound>>20)
	var kinds []string
	for k, v := range ref.byKind {
		kinds = append(kinds, fmt.Sprintf("%6d  %s", v, k))
	}
	sort.Strings(kinds)
	t.Logf("hostile answers (count, request, status, reason):\n%s", strings.Join(kinds, "\n"))

	if endSeq < startSeq+5 {
		t.Errorf("node 0 committed %d commits in 12 s under attack", endSeq-startSeq)
	}
	if honestOK.Load() == 0 || honestFailed.Load() > 0 {
		t.Errorf("honest submissions: %d accepted, %d failed: %v", honestOK.Load(), honestFailed.Load(), honestErrs[:min(len(honestErrs), 5)])
	}
	if heapGrowth > bound {
		t.Errorf("heap grew by %d MiB, bound %d MiB", heapGrowth>>20, bound>>20)
	}
	if len(ref.noReason) > 0 {
		t.Errorf("%d refusals without a reason, e.g. %v", len(ref.noReason), ref.noReason[:min(len(ref.noReason), 5)])
	}
}
