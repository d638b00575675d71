//go:build linux

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dagd/dagd/engine/client"
	"github.com/dagd/dagd/engine/config"
	"github.com/dagd/dagd/internal/testwait"
)

// TestMultiProcessTestnet runs a testnet of four real `dagd start`
// processes on loopback, whose genesis funds the accounts of `dagd
// loadtest --workload transfers` (signed transfers, paced by their
// receipts), and checks that the committed sequence and the state survive
// a kill -9 with a restart and a 10-second SIGSTOP: the others keep
// committing, the victim catches up, and every node reports the same
// digest and, once executed, the same state root at every sequence
// number.
func TestMultiProcessTestnet(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-process testnet (about a minute of four dagd processes); scripts/test runs it without -short")
	}
	began := time.Now()
	dir := t.TempDir()
	if d := os.Getenv("DAGD_MULTIPROCESS_DIR"); d != "" {
		dir = d // keep the homes and logs for inspection
	}
	bin := filepath.Join(dir, "dagd")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	t.Logf("built dagd in %s", time.Since(began).Round(time.Millisecond))

	tnDir := filepath.Join(dir, "testnet")
	if out, err := exec.Command(bin, "testnet", "--validators", "4", "--out", tnDir,
		"--accounts", strconv.Itoa(mpAccounts), "--accounts-seed", mpSeed).CombinedOutput(); err != nil {
		t.Fatalf("dagd testnet: %v\n%s", err, out)
	} else {
		t.Logf("dagd testnet:\n%s", out)
	}
	tn, err := config.LoadTestnet(tnDir)
	if err != nil {
		t.Fatal(err)
	}
	c := &cluster{t: t, bin: bin, dir: dir, tn: tn, procs: make([]*proc, len(tn.Nodes)),
		hc: &http.Client{Timeout: 2 * time.Second}}
	t.Cleanup(c.killAll)
	for i := range tn.Nodes {
		c.start(i)
	}
	c.waitFor("every node to commit", 60*time.Second, func() (bool, string) {
		seqs := c.seqs(0, 1, 2, 3)
		return minSeq(seqs) >= 3, fmt.Sprint("seqs ", seqs)
	})

	// Load on every node for the rest of the test; faults start once it
	// follows every node and transactions commit.
	load := c.loadtest()
	c.waitFor("the load to commit transactions", 30*time.Second, func() (bool, string) {
		followed := strings.Contains(tail(load.p.log, 5), "committed=")
		txs := c.committedTxs(0, 1, 2, 3)
		return followed && minSeq(txs) > 0, fmt.Sprintf("loadtest following: %v, committed txs %v", followed, txs)
	})

	// kill -9 node 3: the other three keep committing. It stays down until
	// they are more than the default GC depth (50 rounds) past it, so that
	// what it must fetch comes from their disks, not their memory.
	const killed = 3
	killedRound := c.status(killed).Round
	c.signal(killed, syscall.SIGKILL)
	c.waitExit(killed, 10*time.Second)
	before := c.seqs(0, 1, 2)
	t.Logf("node %d killed (SIGKILL) at round %d; nodes 0..2 at seqs %v", killed, killedRound, before)
	gcDepth := config.Default().Node.DAG.GCDepth
	c.waitFor("nodes 0..2 to commit without node 3", 60*time.Second, func() (bool, string) {
		now := c.seqs(0, 1, 2)
		round := c.status(0).Round
		return rose(before, now, 3) && round > killedRound+gcDepth+10,
			fmt.Sprintf("seqs %v, were %v; node 0 at round %d, node 3 stopped at %d", now, before, round, killedRound)
	})
	// Restarted from its store alone, it catches up from its peers.
	c.start(killed)
	target := maxSeq(c.seqs(0, 1, 2))
	c.waitFor("restarted node 3 to catch up", 30*time.Second, func() (bool, string) {
		s := c.seq(killed)
		return s >= target, fmt.Sprintf("node 3 at seq %d, target %d", s, target)
	})
	c.sameDigest(target, 0, 1, 2, 3)
	// Its executor catches up too, from its own state: the same state
	// roots as the others'.
	c.waitExecuted(target, 30*time.Second, 0, 1, 2, 3)
	c.sameCommit(target, 0, 1, 2, 3)

	// SIGSTOP node 1 for 10 s: the others keep committing; after SIGCONT
	// it catches up.
	const paused = 1
	c.signal(paused, syscall.SIGSTOP)
	c.procs[paused].stopped = true
	before = c.seqs(0, 2, 3)
	t.Logf("node %d paused (SIGSTOP); nodes 0, 2, 3 at seqs %v", paused, before)
	time.Sleep(10 * time.Second)
	after := c.seqs(0, 2, 3)
	if !rose(before, after, 3) {
		t.Errorf("while node %d was paused, nodes 0, 2, 3 went from seqs %v to %v: want each up by 3 or more", paused, before, after)
	}
	c.signal(paused, syscall.SIGCONT)
	c.procs[paused].stopped = false
	target = maxSeq(c.seqs(0, 2, 3))
	t.Logf("node %d resumed (SIGCONT); nodes 0, 2, 3 at seqs %v", paused, after)
	c.waitFor("resumed node 1 to catch up", 30*time.Second, func() (bool, string) {
		s := c.seq(paused)
		return s >= target, fmt.Sprintf("node 1 at seq %d, target %d", s, target)
	})
	c.sameDigest(target, 0, 1, 2, 3)

	load.stop(t)

	// No divergence at any sequence number: the same commit digest and,
	// once every node has executed it, the same state root, on the
	// killed and the paused node as on the others.
	common := minSeq(c.seqs(0, 1, 2, 3))
	c.waitExecuted(common, 30*time.Second, 0, 1, 2, 3)
	for seq := uint64(1); seq <= common; seq++ {
		c.sameCommit(seq, 0, 1, 2, 3)
	}
	t.Logf("compared the digests and state roots of seqs 1..%d on all 4 nodes", common)
	for i := range c.procs {
		if n := c.metric(i, "dagd_equivocation_evidence_total"); n != 0 {
			t.Errorf("node %d detected %v equivocations", i, n)
		}
	}

	// SIGTERM: every node shuts down cleanly, exit status 0.
	for i := range c.procs {
		c.signal(i, syscall.SIGTERM)
	}
	for i := range c.procs {
		if code := c.waitExit(i, 20*time.Second); code != 0 {
			t.Errorf("node %d exited with status %d after SIGTERM", i, code)
		}
		if !strings.Contains(c.logTail(i, 5), "node stopped") {
			t.Errorf("node %d did not log a clean stop:\n%s", i, c.logTail(i, 5))
		}
	}
	t.Logf("wall time %s", time.Since(began).Round(time.Millisecond))
}

type proc struct {
	cmd     *exec.Cmd
	done    chan struct{}
	code    int
	log     string
	stopped bool
}

type cluster struct {
	t     *testing.T
	bin   string
	dir   string
	tn    *config.Testnet
	hc    *http.Client
	mu    sync.Mutex
	procs []*proc
	extra []*proc // dagd loadtest
}

// spawn starts bin with args, its output appended to logPath.
func (c *cluster) spawn(logPath string, args ...string) *proc {
	c.t.Helper()
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		c.t.Fatal(err)
	}
	cmd := exec.Command(c.bin, args...)
	cmd.Stdout, cmd.Stderr = f, f
	// The nodes die with the test binary, whatever happens to it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		f.Close()
		c.t.Fatalf("start %v: %v", args, err)
	}
	p := &proc{cmd: cmd, done: make(chan struct{}), log: logPath}
	go func() {
		err := cmd.Wait()
		f.Close()
		p.code = cmd.ProcessState.ExitCode()
		if err != nil && p.code == 0 {
			p.code = -1
		}
		close(p.done)
	}()
	return p
}

func (c *cluster) start(i int) {
	c.t.Helper()
	p := c.spawn(filepath.Join(c.dir, fmt.Sprintf("node-%d.log", i)), "start", "--home", c.tn.Nodes[i].Home, "--log-level", "info")
	c.mu.Lock()
	c.procs[i] = p
	c.mu.Unlock()
	c.t.Logf("started node %d (pid %d)", i, p.cmd.Process.Pid)
}

func (c *cluster) signal(i int, sig syscall.Signal) {
	c.t.Helper()
	if err := c.procs[i].cmd.Process.Signal(sig); err != nil {
		c.t.Fatalf("signal %v to node %d: %v", sig, i, err)
	}
}

// waitExit waits for node i to exit and returns its exit status (-1 for
// a signal).
func (c *cluster) waitExit(i int, timeout time.Duration) int {
	c.t.Helper()
	select {
	case <-c.procs[i].done:
		return c.procs[i].code
	case <-time.After(timeout):
		c.t.Fatalf("node %d did not exit within %s\n%s", i, timeout, c.logTail(i, 30))
		return 0
	}
}

// killAll kills every child still running; on failure it shows the
// end of each node's log first.
func (c *cluster) killAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, p := range c.procs {
		if p == nil {
			continue
		}
		if c.t.Failed() {
			c.t.Logf("node %d log (last lines):\n%s", i, tail(p.log, 40))
		}
	}
	for _, p := range append(append([]*proc(nil), c.procs...), c.extra...) {
		if p == nil {
			continue
		}
		select {
		case <-p.done:
			continue
		default:
		}
		if p.stopped {
			_ = p.cmd.Process.Signal(syscall.SIGCONT)
		}
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

func (c *cluster) logTail(i int, n int) string { return tail(c.procs[i].log, n) }

func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// status returns node i's status, or a zero one when it does not answer.
func (c *cluster) status(i int) *client.Status {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	nc, err := client.New(c.tn.Nodes[i].API, client.Options{HTTPClient: c.hc})
	if err != nil {
		return &client.Status{}
	}
	st, _, err := nc.Status(ctx)
	if err != nil {
		return &client.Status{}
	}
	return st
}

// seq returns node i's last committed seq, 0 when it does not answer.
func (c *cluster) seq(i int) uint64 { return c.status(i).LastCommittedSeq }

func (c *cluster) committedTxs(nodes ...int) map[int]uint64 {
	out := make(map[int]uint64, len(nodes))
	for _, i := range nodes {
		out[i] = c.status(i).CommittedTxs
	}
	return out
}

func (c *cluster) seqs(nodes ...int) map[int]uint64 {
	out := make(map[int]uint64, len(nodes))
	for _, i := range nodes {
		out[i] = c.seq(i)
	}
	return out
}

func minSeq(m map[int]uint64) uint64 {
	first, v := true, uint64(0)
	for _, s := range m {
		if first || s < v {
			v, first = s, false
		}
	}
	return v
}

func maxSeq(m map[int]uint64) uint64 {
	v := uint64(0)
	for _, s := range m {
		v = max(v, s)
	}
	return v
}

// rose says every node in now is at least by commits past before.
func rose(before, now map[int]uint64, by uint64) bool {
	for i, b := range before {
		if now[i] < b+by {
			return false
		}
	}
	return true
}

func (c *cluster) waitFor(what string, timeout time.Duration, cond func() (bool, string)) {
	c.t.Helper()
	start := time.Now()
	var state string
	if err := testwait.Poll(testwait.Timeout(c.t, timeout), func() error {
		var ok bool
		if ok, state = cond(); !ok {
			return errors.New(what)
		}
		return nil
	}); err != nil {
		c.t.Fatalf("%v: %s", err, state)
	}
	c.t.Logf("%s (%s): %s", what, time.Since(start).Round(time.Millisecond), state)
}

// digest returns the digest node i serves for commit seq.
func (c *cluster) digest(i int, seq uint64) (string, error) {
	ci, err := c.commit(i, seq)
	if err != nil {
		return "", err
	}
	return ci.Digest, nil
}

// commit returns commit seq as node i serves it (GET /v1/commits/{seq}).
func (c *cluster) commit(i int, seq uint64) (*client.CommitInfo, error) {
	nc, err := client.New(c.tn.Nodes[i].API, client.Options{HTTPClient: c.hc})
	if err != nil {
		return nil, err
	}
	ci, err := nc.Commit(context.Background(), seq, client.CommitQuery{})
	if err != nil {
		return nil, err
	}
	if ci.Seq != seq || ci.Digest == "" {
		return nil, fmt.Errorf("asked for commit %d, got commit %d digest %q", seq, ci.Seq, ci.Digest)
	}
	return ci, nil
}

// stateRoot returns the state root ci carries, "" before it is executed.
func stateRoot(ci *client.CommitInfo) string {
	if ci.CommitExecution == nil {
		return ""
	}
	return ci.StateRoot
}

// waitExecuted waits until the nodes have executed commit seq.
func (c *cluster) waitExecuted(seq uint64, timeout time.Duration, nodes ...int) {
	c.t.Helper()
	c.waitFor(fmt.Sprintf("nodes %v to execute commit %d", nodes, seq), timeout, func() (bool, string) {
		ex := make(map[int]uint64, len(nodes))
		for _, i := range nodes {
			ex[i] = c.status(i).LastExecutedSeq
		}
		return minSeq(ex) >= seq, fmt.Sprint("last executed ", ex)
	})
}

// sameCommit checks that the nodes serve one digest and one state root
// (they have executed it) for commit seq.
func (c *cluster) sameCommit(seq uint64, nodes ...int) {
	c.t.Helper()
	var want *client.CommitInfo
	var got []string
	for _, i := range nodes {
		ci, err := c.commit(i, seq)
		if err != nil {
			c.t.Errorf("seq %d: node %d: %v", seq, i, err)
			return
		}
		got = append(got, fmt.Sprintf("node %d digest %.16s state %.16s", i, ci.Digest, stateRoot(ci)))
		switch {
		case stateRoot(ci) == "":
			c.t.Errorf("seq %d: node %d serves no state root (not executed)", seq, i)
			return
		case want == nil:
			want = ci
		case ci.Digest != want.Digest || stateRoot(ci) != stateRoot(want):
			c.t.Errorf("DIVERGENCE at seq %d: %s", seq, strings.Join(got, ", "))
			return
		}
	}
}

// sameDigest checks that the nodes serve one digest for commit seq.
func (c *cluster) sameDigest(seq uint64, nodes ...int) {
	c.t.Helper()
	var want string
	var got []string
	for _, i := range nodes {
		d, err := c.digest(i, seq)
		if err != nil {
			c.t.Errorf("seq %d: node %d: %v", seq, i, err)
			return
		}
		got = append(got, fmt.Sprintf("node %d %.16s", i, d))
		if want == "" {
			want = d
		} else if d != want {
			c.t.Errorf("DIVERGENCE at seq %d: %s", seq, strings.Join(got, ", "))
			return
		}
	}
	c.t.Logf("seq %d: digest %s on nodes %v", seq, want, nodes)
}

// metric returns the value of an unlabelled metric of node i (0 when
// absent).
func (c *cluster) metric(i int, name string) float64 {
	c.t.Helper()
	resp, err := c.hc.Get(fmt.Sprintf("http://%s/metrics", c.tn.Nodes[i].API))
	if err != nil {
		c.t.Errorf("node %d metrics: %v", i, err)
		return 0
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				c.t.Errorf("node %d metric %s: %q", i, name, v)
			}
			return f
		}
	}
	return 0
}

type loadProc struct {
	p *proc
}

// The funded accounts of the testnet's genesis, from which dagd loadtest
// signs transfers.
const (
	mpAccounts = 2000
	mpSeed     = "multiprocess"
)

// loadtest starts `dagd loadtest` against every node until stop.
func (c *cluster) loadtest() *loadProc {
	c.t.Helper()
	var targets []string
	for _, n := range c.tn.Nodes {
		targets = append(targets, n.API)
	}
	p := c.spawn(filepath.Join(c.dir, "loadtest.log"), "loadtest", "--targets", strings.Join(targets, ","),
		"--rate", "200", "--duration", "0", "--log-level", "error", "--json", "--workload", "transfers",
		"--accounts", strconv.Itoa(mpAccounts), "--accounts-seed", mpSeed, "--chain-id", c.tn.ChainID)
	c.mu.Lock()
	c.extra = append(c.extra, p)
	c.mu.Unlock()
	c.t.Logf("started dagd loadtest --workload transfers --rate 200 on %v", targets)
	return &loadProc{p: p}
}

// stop ends the load (SIGINT) and checks that the load generator saw no
// disagreement between the nodes.
func (l *loadProc) stop(t *testing.T) {
	t.Helper()
	_ = l.p.cmd.Process.Signal(os.Interrupt)
	select {
	case <-l.p.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("dagd loadtest did not stop within 30s of SIGINT\n%s", tail(l.p.log, 20))
	}
	summary := tail(l.p.log, 8)
	t.Logf("dagd loadtest exit status %d:\n%s", l.p.code, summary)
	switch l.p.code {
	case 0:
	case 2:
		t.Errorf("dagd loadtest saw the nodes commit different sequences or reach different state roots")
	default:
		t.Errorf("dagd loadtest failed (status %d)", l.p.code)
	}
	var rep struct {
		CommittedTx      uint64            `json:"committed_tx"`
		ExecutedTx       uint64            `json:"executed_tx"`
		ExecOKTx         uint64            `json:"exec_ok_tx"`
		ReceiptCodes     map[string]uint64 `json:"receipt_codes"`
		Consistent       bool              `json:"consistent"`
		StateConsistency *struct {
			Consistent bool   `json:"consistent"`
			CommonSeqs uint64 `json:"common_seqs"`
		} `json:"state_consistency"`
	}
	if err := json.Unmarshal([]byte(tail(l.p.log, 1)), &rep); err != nil {
		t.Fatalf("dagd loadtest printed no JSON summary: %v", err)
	}
	// Transfers among funded accounts: what executes succeeds (a copy
	// sent again after a kill is dropped as a duplicate, without a
	// receipt).
	if rep.CommittedTx == 0 || rep.ExecutedTx == 0 || rep.ExecOKTx != rep.ExecutedTx || !rep.Consistent ||
		rep.StateConsistency == nil || !rep.StateConsistency.Consistent || rep.StateConsistency.CommonSeqs == 0 {
		t.Errorf("dagd loadtest: committed %d, executed %d (ok %d, codes %v), consistent %v, state %+v", rep.CommittedTx,
			rep.ExecutedTx, rep.ExecOKTx, rep.ReceiptCodes, rep.Consistent, rep.StateConsistency)
	}
}
