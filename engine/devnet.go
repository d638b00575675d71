package engine

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/dagd/dagd/contracts"
	"github.com/dagd/dagd/crypto"
	"github.com/dagd/dagd/dag"
	"github.com/dagd/dagd/engine/execution"
)

// DevnetOptions configures StartDevnet. Zero values mean defaults.
type DevnetOptions struct {
	// Validators is the committee size. Default 4.
	Validators int
	// BaseDir holds one pebble directory per node (node-0, node-1...).
	// Default: a fresh temporary directory, removed by Close.
	BaseDir string
	// Seed derives every key of the devnet (see DevnetKeys). Default
	// "dagd-devnet".
	Seed string
	// ChainID of the devnet. Default "dagd-devnet".
	ChainID string
	// DAG tunes the consensus cores (zero fields: the engine's defaults).
	DAG dag.Options
	// API serves each node's HTTP API on a free loopback port. Default
	// false.
	API bool
	// EnablePprof adds /debug/pprof/ to the APIs.
	EnablePprof bool
	// InMemoryNetwork connects the nodes through a MemNetwork instead of
	// QUIC on loopback. Default false (QUIC).
	InMemoryNetwork bool
	// NoSync skips fsync on the stores (benchmarks only). Default false.
	NoSync bool
	// TickInterval of every node. Default the engine's.
	TickInterval time.Duration
	// MemTableSize of every node's store. Default the engine's.
	MemTableSize uint64
	// Logger receives every node's logs, tagged with "validator".
	// Default: discard.
	Logger *slog.Logger
	// Accounts is the number of funded accounts of the devnet's genesis
	// (contracts.DevnetAccountKey). Default DefaultDevnetAccounts; negative: none.
	Accounts int
	// Execution configures every node's executor (see execution.Options);
	// with Execution.Disabled the devnet has no genesis and no state.
	// Workers and VerifyWorkers default to GOMAXPROCS divided by
	// Validators (at least 1): the nodes share the cores.
	Execution execution.Options
	// Configure, when set, edits each node's options last (tests).
	Configure func(i int, o *Options)
}

// EnsureDefaults fills zero fields with their defaults and returns o.
func (o *DevnetOptions) EnsureDefaults() *DevnetOptions {
	if o.Validators <= 0 {
		o.Validators = 4
	}
	if o.Seed == "" {
		o.Seed = "dagd-devnet"
	}
	if o.ChainID == "" {
		o.ChainID = "dagd-devnet"
	}
	if o.Accounts == 0 {
		o.Accounts = DefaultDevnetAccounts
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	// The nodes share the process's cores: their executors together get
	// about one worker per core, rather than each as many as there are
	// cores (which only adds waits between the lanes of each).
	if o.Execution.Workers == 0 {
		o.Execution.Workers = max(1, runtime.GOMAXPROCS(0)/o.Validators)
	}
	if o.Execution.VerifyWorkers == 0 {
		o.Execution.VerifyWorkers = max(1, runtime.GOMAXPROCS(0)/o.Validators)
	}
	return o
}

// Validate reports settings that cannot work.
func (o *DevnetOptions) Validate() error {
	if o.Validators > dag.MaxCommitteeSize {
		return fmt.Errorf("engine: devnet of %d validators exceeds %d", o.Validators, dag.MaxCommitteeSize)
	}
	return nil
}

// Devnet is a committee of nodes in one process, on loopback, with
// deterministic keys: for tests, benchmarks and `dagd devnet`. Its methods
// are safe for concurrent use.
type Devnet struct {
	opts      DevnetOptions
	ctx       context.Context
	baseDir   string
	ownsDir   bool
	committee []Validator
	bls       []*crypto.BLSPrivateKey
	net       []ed25519.PrivateKey
	mem       *MemNetwork
	sockets   []net.PacketConn // bound for each node's first start

	genesis *contracts.Genesis // nil without execution

	mu     sync.Mutex
	nodes  []*devnetNode
	fanIns map[fanIn]struct{} // the open DevnetSubscription and DevnetExecSubscription
	closed bool
}

type devnetNode struct {
	node   *Node
	cancel context.CancelFunc
	done   chan struct{}
	err    error
}

// StartDevnet builds and starts a devnet. ctx bounds it; Close stops it.
func StartDevnet(ctx context.Context, o DevnetOptions) (*Devnet, error) {
	o.EnsureDefaults()
	if err := o.Validate(); err != nil {
		return nil, err
	}
	d := &Devnet{opts: o, ctx: ctx, baseDir: o.BaseDir, fanIns: make(map[fanIn]struct{}),
		nodes: make([]*devnetNode, o.Validators), sockets: make([]net.PacketConn, o.Validators)}
	if d.baseDir == "" {
		dir, err := os.MkdirTemp("", "dagd-devnet-")
		if err != nil {
			return nil, fmt.Errorf("engine: devnet dir: %w", err)
		}
		d.baseDir, d.ownsDir = dir, true
	}
	if o.InMemoryNetwork {
		d.mem = NewMemNetwork(0)
	}
	for i := 0; i < o.Validators; i++ {
		bk, nk, err := DevnetKeys(o.Seed, i)
		if err != nil {
			d.closeSockets()
			return nil, err
		}
		addr := fmt.Sprintf("mem:%d", i)
		if !o.InMemoryNetwork {
			// Bind now so that the committee knows every port; the node
			// takes the socket over. A restart binds the same address.
			pc, err := net.ListenPacket("udp", "127.0.0.1:0")
			if err != nil {
				d.closeSockets()
				return nil, fmt.Errorf("engine: devnet socket: %w", err)
			}
			d.sockets[i] = pc
			addr = pc.LocalAddr().String()
		}
		d.bls = append(d.bls, bk)
		d.net = append(d.net, nk)
		d.committee = append(d.committee, Validator{BLSPublicKey: bk.PublicKey().Bytes(), ProofOfPossession: bk.ProofOfPossession(),
			Stake: 1, NetworkKey: nk.Public().(ed25519.PublicKey), Address: addr})
	}
	if !o.Execution.Disabled {
		g, err := DevnetGenesis(o.ChainID, o.Seed, max(o.Accounts, 0), d.committee)
		if err != nil {
			d.closeSockets()
			return nil, err
		}
		d.genesis = g
	}
	for i := 0; i < o.Validators; i++ {
		if err := d.StartNode(i); err != nil {
			_ = d.Close()
			return nil, err
		}
	}
	return d, nil
}

// DevnetKeys derives validator i's keys of a devnet deterministically
// from seed: anyone with the seed has the keys, so use them for tests and
// local networks only.
func DevnetKeys(seed string, i int) (*crypto.BLSPrivateKey, ed25519.PrivateKey, error) {
	blsSeed := crypto.Hash([]byte("dagd/devnet/bls/v1"), []byte(seed), []byte(fmt.Sprint(i)))
	bk, err := crypto.BLSKeyFromSeed(blsSeed[:])
	if err != nil {
		return nil, nil, fmt.Errorf("engine: devnet key %d: %w", i, err)
	}
	edSeed := crypto.Hash([]byte("dagd/devnet/ed25519/v1"), []byte(seed), []byte(fmt.Sprint(i)))
	return bk, ed25519.NewKeyFromSeed(edSeed[:]), nil
}

// closeSockets closes the sockets no node took over; d.mu is held or the
// devnet is not shared yet.
func (d *Devnet) closeSockets() {
	for i, pc := range d.sockets {
		if pc != nil {
			_ = pc.Close()
			d.sockets[i] = nil
		}
	}
}

// Size returns the number of validators.
func (d *Devnet) Size() int { return d.opts.Validators }

// Committee returns the devnet's committee.
func (d *Devnet) Committee() []Validator { return append([]Validator(nil), d.committee...) }

// DataDir returns node i's pebble directory.
func (d *Devnet) DataDir(i int) string { return filepath.Join(d.baseDir, fmt.Sprintf("node-%d", i)) }

// NodeOptions returns the options node i runs with.
func (d *Devnet) NodeOptions(i int) Options {
	o := Options{
		Self: dag.ValidatorID(i), Committee: d.committee, ChainID: d.opts.ChainID, BLSKey: d.bls[i], NetworkKey: d.net[i],
		DataDir: d.DataDir(i), DAG: d.opts.DAG, EnablePprof: d.opts.EnablePprof, NoSync: d.opts.NoSync,
		TickInterval: d.opts.TickInterval, Logger: d.opts.Logger, MemTableSize: d.opts.MemTableSize,
		Genesis: d.genesis, Execution: d.opts.Execution,
	}
	// A devnet carries opaque load too (loadtest's default workload):
	// admission lets it through; signed transactions are checked.
	o.Execution.AdmitOpaque = true
	if d.genesis != nil {
		o.AccountKey = contracts.DevnetOperatorKey(d.opts.Seed, i) // funded by the genesis
	}
	o.Content.OperatorPaysPuts = true // a local devnet: operators pay for puts, as clients need no account
	if d.opts.API {
		o.APIListenAddr = "127.0.0.1:0"
	}
	if d.mem != nil {
		o.NewTransport = d.mem.Factory()
	}
	if d.opts.Configure != nil {
		d.opts.Configure(i, &o)
	}
	return o
}

// Node returns node i, or nil while it is stopped.
func (d *Devnet) Node(i int) *Node {
	d.mu.Lock()
	defer d.mu.Unlock()
	if i < 0 || i >= len(d.nodes) || d.nodes[i] == nil {
		return nil
	}
	return d.nodes[i].node
}

// StartNode starts node i from its data directory (a restart if it ran
// before). It fails if the node is running.
func (d *Devnet) StartNode(i int) error {
	if i < 0 || i >= d.opts.Validators {
		return fmt.Errorf("engine: devnet has no node %d", i)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return errors.New("engine: devnet closed")
	}
	if d.nodes[i] != nil {
		return fmt.Errorf("engine: devnet node %d is running", i)
	}
	ctx, cancel := context.WithCancel(d.ctx)
	opts := d.NodeOptions(i)
	opts.PacketConn, d.sockets[i] = d.sockets[i], nil
	n, err := New(ctx, opts)
	if err != nil {
		cancel()
		return fmt.Errorf("engine: devnet node %d: %w", i, err)
	}
	dn := &devnetNode{node: n, cancel: cancel, done: make(chan struct{})}
	for s := range d.fanIns {
		s.attach(n)
	}
	d.nodes[i] = dn
	go func() {
		dn.err = n.Run(ctx)
		if dn.err != nil {
			d.opts.Logger.Error("devnet node stopped", "validator", i, "err", dn.err)
		}
		close(dn.done)
	}()
	return nil
}

// StopNode stops node i (as a crash would, except that its last writes are
// complete) and waits until it released its store.
func (d *Devnet) StopNode(i int) error {
	d.mu.Lock()
	if i < 0 || i >= len(d.nodes) || d.nodes[i] == nil {
		d.mu.Unlock()
		return fmt.Errorf("engine: devnet node %d is not running", i)
	}
	dn := d.nodes[i]
	d.nodes[i] = nil
	d.mu.Unlock()
	dn.cancel()
	<-dn.done
	return dn.err
}

// Submit hands transactions to node i (see Node.Submit).
func (d *Devnet) Submit(ctx context.Context, i int, txs [][]byte) (int, error) {
	n := d.Node(i)
	if n == nil {
		return 0, &SubmitError{Reason: ReasonStopped, Index: -1, Detail: fmt.Sprintf("devnet node %d is stopped", i)}
	}
	return n.Submit(ctx, txs)
}

// Close stops every node and removes the devnet's directory if it made it.
func (d *Devnet) Close() error {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return nil
	}
	d.closed = true
	d.closeSockets()
	nodes := append([]*devnetNode(nil), d.nodes...)
	for i := range d.nodes {
		d.nodes[i] = nil
	}
	subs := make([]fanIn, 0, len(d.fanIns))
	for s := range d.fanIns {
		subs = append(subs, s)
	}
	d.mu.Unlock()
	var errs []error
	for _, dn := range nodes {
		if dn != nil {
			dn.cancel()
		}
	}
	for i, dn := range nodes {
		if dn != nil {
			<-dn.done
			if dn.err != nil {
				errs = append(errs, fmt.Errorf("node %d: %w", i, dn.err))
			}
		}
	}
	for _, s := range subs {
		s.Close()
	}
	if d.ownsDir {
		if err := os.RemoveAll(d.baseDir); err != nil {
			errs = append(errs, fmt.Errorf("engine: remove devnet dir: %w", err))
		}
	}
	return errors.Join(errs...)
}

// DevnetSubscription receives the commits of every node of a devnet,
// including nodes started after it was made, each tagged with Commit.Node.
type DevnetSubscription struct{ *devnetFanIn[*Commit] }

// Subscribe returns a subscription to the commits of every node. Its
// channel is bounded (Buffer, default 4096 times the committee size);
// a node whose commits back up ends its part with ErrLagged, reported by
// Err.
func (d *Devnet) Subscribe(o SubscribeOptions) *DevnetSubscription {
	return &DevnetSubscription{newDevnetFanIn(d, o.Buffer, func(n *Node) nodeStream[*Commit] { return n.Subscribe(o) })}
}

// nodeStream is one node's subscription, as a devnet fan-in reads it.
type nodeStream[T any] interface {
	C() <-chan T
	Err() error
	Close()
}

// endedByCloser reports whether a node's subscription (of commits or of
// executed commits) ended because its node stopped or it was closed,
// rather than because its reader lagged.
func endedByCloser(err error) bool {
	return errors.Is(err, ErrStopped) || errors.Is(err, ErrUnsubscribed) ||
		errors.Is(err, execution.ErrStopped) || errors.Is(err, execution.ErrUnsubscribed)
}

// fanIn is what a devnet tells of its nodes: a node started, the devnet
// closed.
type fanIn interface {
	attach(n *Node)
	Close()
}

// devnetFanIn merges one subscription per node (open) into one bounded
// channel, for every node of a devnet, including nodes started later.
type devnetFanIn[T any] struct {
	d    *Devnet
	open func(*Node) nodeStream[T]
	c    chan T
	stop chan struct{}
	wg   sync.WaitGroup

	mu   sync.Mutex
	err  error
	once sync.Once
}

func newDevnetFanIn[T any](d *Devnet, buf int, open func(*Node) nodeStream[T]) *devnetFanIn[T] {
	if buf <= 0 {
		buf = 4096 * d.opts.Validators
	}
	s := &devnetFanIn[T]{d: d, open: open, c: make(chan T, buf), stop: make(chan struct{})}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		s.once.Do(func() { close(s.stop); close(s.c) })
		return s
	}
	d.fanIns[s] = struct{}{}
	for _, dn := range d.nodes {
		if dn != nil {
			s.attach(dn.node)
		}
	}
	return s
}

// attach forwards what n's subscription gives; d.mu is held.
func (s *devnetFanIn[T]) attach(n *Node) {
	ns := s.open(n)
	s.wg.Go(func() {
		defer ns.Close()
		for {
			select {
			case c, ok := <-ns.C():
				if !ok {
					if err := ns.Err(); !endedByCloser(err) {
						s.mu.Lock()
						s.err = errors.Join(s.err, fmt.Errorf("node %d: %w", n.Self(), err))
						s.mu.Unlock()
					}
					return
				}
				select {
				case s.c <- c:
				case <-s.stop:
					return
				}
			case <-s.stop:
				return
			}
		}
	})
}

// C returns the channel of the subscription; it is closed by Close, and
// by the devnet's Close.
func (s *devnetFanIn[T]) C() <-chan T { return s.c }

// Err reports nodes whose part of the subscription ended early.
func (s *devnetFanIn[T]) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Close ends the subscription and closes its channel.
func (s *devnetFanIn[T]) Close() {
	s.d.mu.Lock()
	delete(s.d.fanIns, s)
	s.d.mu.Unlock()
	s.once.Do(func() {
		close(s.stop)
		s.wg.Wait()
		close(s.c)
	})
}
