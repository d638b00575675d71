package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"log/slog"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"time"

	"github.com/zeebo/blake3"

	"github.com/dagd/dagd/dag"
	"github.com/dagd/dagd/engine"
	"github.com/dagd/dagd/engine/content"
	"github.com/dagd/dagd/internal/cputime"
)

// Options configure a run. Zero values mean defaults.
type Options struct {
	// Size is the content of each put, in bytes. Default 64 MiB.
	Size int64
	// Rounds is the number of put-then-get rounds. Default 3.
	Rounds int
	// Validators is the devnet's size. Default 4.
	Validators int
	// InMemoryNetwork runs the devnet on engine.MemNetwork instead of QUIC
	// over loopback. Default false.
	InMemoryNetwork bool
	// K and N choose the coding (0: the committee's defaults).
	K, N int
	// ChunkSize is the network's chunk size (0: the engine's default).
	ChunkSize int
	// Fsync makes the stores sync their writes. Default false: the
	// figures are those of the code path, not of the disk's flushes.
	Fsync bool
	// DAG tunes the devnet's consensus cores (zero fields: the engine's
	// defaults). A longer MaxHeaderDelay makes idle consensus cheaper, to
	// separate the storage path's cost from the devnet's background.
	DAG dag.Options
	// BaseDir holds the devnet's data. Default: a temporary directory,
	// removed afterwards.
	BaseDir string
	// Logger receives the devnet's logs. Default: discard.
	Logger *slog.Logger
	// OnRound, when set, is called after each round.
	OnRound func(Round)
	// PutProfile and GetProfile, when set, receive a CPU profile (pprof)
	// of the last round's put and of its get.
	PutProfile, GetProfile io.Writer
}

// EnsureDefaults fills the zero fields of o and returns o.
func (o *Options) EnsureDefaults() *Options {
	if o.Size == 0 {
		o.Size = 64 << 20
	}
	if o.Rounds == 0 {
		o.Rounds = 3
	}
	if o.Validators == 0 {
		o.Validators = 4
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Validate reports options that cannot work.
func (o *Options) Validate() error {
	switch {
	case o.Size < 0 || o.Size > 16<<30:
		return fmt.Errorf("storage bench: size %d outside [0, 16 GiB]", o.Size)
	case o.Rounds < 1 || o.Rounds > 1000:
		return fmt.Errorf("storage bench: %d rounds outside [1, 1000]", o.Rounds)
	case o.Validators < 2 || o.Validators > 64:
		return fmt.Errorf("storage bench: %d validators outside [2, 64]", o.Validators)
	}
	return nil
}

// Round is one put and one get.
type Round struct {
	// CID is what the put returned.
	CID string `json:"cid"`
	// Put and Get are the durations through the Go API.
	Put time.Duration `json:"put_ns"`
	Get time.Duration `json:"get_ns"`
	// PutMBps and GetMBps are content bytes (10^6) per second.
	PutMBps float64 `json:"put_mb_s"`
	GetMBps float64 `json:"get_mb_s"`
	// PutCPU and GetCPU are the CPU time the whole process (every
	// validator, consensus included) used during each.
	PutCPU time.Duration `json:"put_cpu_ns"`
	GetCPU time.Duration `json:"get_cpu_ns"`
	// PutMBpcs and GetMBpcs are content bytes per CPU-second of the
	// process: a figure that other load on the machine does not lower.
	PutMBpcs float64 `json:"put_mb_cpu_s"`
	GetMBpcs float64 `json:"get_mb_cpu_s"`
}

// Result is a whole run.
type Result struct {
	// Size is the content of each put, in bytes.
	Size int64 `json:"size"`
	// Network is "quic" or "memory".
	Network string `json:"network"`
	// Validators, K, N and ChunkSize describe the devnet and the coding.
	Validators int `json:"validators"`
	K          int `json:"k"`
	N          int `json:"n"`
	ChunkSize  int `json:"chunk_size"`
	// Rounds are the measurements, in order.
	Rounds []Round `json:"rounds"`
	// PutMBps, GetMBps, PutMBpcs and GetMBpcs are the medians over the
	// rounds.
	PutMBps  float64 `json:"put_mb_s"`
	GetMBps  float64 `json:"get_mb_s"`
	PutMBpcs float64 `json:"put_mb_cpu_s"`
	GetMBpcs float64 `json:"get_mb_cpu_s"`
	// IdleCPU is the share of one core the idle devnet uses (consensus
	// rounds without transactions), measured for a second before the
	// rounds: part of every round's CPU time.
	IdleCPU float64 `json:"idle_cpu"`
	// NumCPU, GOMAXPROCS and the 1-minute load average before and after
	// the run say how much of the machine the run had.
	NumCPU     int     `json:"num_cpu"`
	GOMAXPROCS int     `json:"gomaxprocs"`
	LoadBefore float64 `json:"load_before"`
	LoadAfter  float64 `json:"load_after"`
}

// Run starts a devnet and measures o.Rounds puts (through validator 0) and
// gets (through validator 1, written to io.Discard) of o.Size random bytes;
// the first round's content is also got once more, untimed, and checked
// against what was put.
func Run(ctx context.Context, o Options) (*Result, error) {
	o.EnsureDefaults()
	if err := o.Validate(); err != nil {
		return nil, err
	}
	res := &Result{Size: o.Size, Validators: o.Validators, NumCPU: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0), LoadBefore: load1()}
	res.Network = "quic"
	if o.InMemoryNetwork {
		res.Network = "memory"
	}
	d, err := engine.StartDevnet(ctx, engine.DevnetOptions{Validators: o.Validators, BaseDir: o.BaseDir, InMemoryNetwork: o.InMemoryNetwork, DAG: o.DAG,
		NoSync: !o.Fsync, Logger: o.Logger, Configure: func(_ int, no *engine.Options) {
			if o.ChunkSize > 0 {
				no.Content.ChunkSize = o.ChunkSize
			}
		}})
	if err != nil {
		return nil, err
	}
	defer d.Close()
	if err := waitConnected(ctx, d); err != nil {
		return nil, err
	}
	c0, t0 := cputime.Process(), time.Now()
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(time.Second):
	}
	res.IdleCPU = (cputime.Process() - c0).Seconds() / time.Since(t0).Seconds()
	data := make([]byte, o.Size)
	_, _ = rand.NewChaCha8([32]byte{'d', 'a', 'g', 'd'}).Read(data)
	var want [32]byte
	for i := 0; i < o.Rounds; i++ {
		data[0]++ // another object every round: no put finds its content stored
		want = blake3.Sum256(data)
		last := i == o.Rounds-1
		stop, err := startProfile(last, o.PutProfile)
		if err != nil {
			return nil, err
		}
		c0, t0 := cputime.Process(), time.Now()
		put, err := d.Node(0).PutContent(ctx, bytes.NewReader(data), o.Size, content.PutOptions{K: o.K, N: o.N})
		tPut, cPut := time.Since(t0), cputime.Process()-c0
		stop()
		if err != nil {
			return nil, fmt.Errorf("round %d: put: %w", i, err)
		}
		if i == 0 {
			// Check once, untimed, that a get returns what was put.
			h := blake3.New()
			if _, err := d.Node(1).GetContent(ctx, put.CID, h); err != nil {
				return nil, fmt.Errorf("round %d: get: %w", i, err)
			}
			var got [32]byte
			h.Sum(got[:0])
			if got != want {
				return nil, fmt.Errorf("round %d: get returned other bytes than were put", i)
			}
		}
		if stop, err = startProfile(last, o.GetProfile); err != nil {
			return nil, err
		}
		c0, t0 = cputime.Process(), time.Now()
		_, err = d.Node(1).GetContent(ctx, put.CID, io.Discard)
		tGet, cGet := time.Since(t0), cputime.Process()-c0
		stop()
		if err != nil {
			return nil, fmt.Errorf("round %d: get: %w", i, err)
		}
		res.K, res.N, res.ChunkSize = put.K, put.N, put.ChunkSize
		rd := Round{CID: put.CID.String(), Put: tPut, Get: tGet, PutMBps: mbps(o.Size, tPut), GetMBps: mbps(o.Size, tGet),
			PutCPU: cPut, GetCPU: cGet, PutMBpcs: mbps(o.Size, cPut), GetMBpcs: mbps(o.Size, cGet)}
		res.Rounds = append(res.Rounds, rd)
		if o.OnRound != nil {
			o.OnRound(rd)
		}
	}
	var puts, gets, putc, getc []float64
	for _, r := range res.Rounds {
		puts, gets = append(puts, r.PutMBps), append(gets, r.GetMBps)
		putc, getc = append(putc, r.PutMBpcs), append(getc, r.GetMBpcs)
	}
	res.PutMBps, res.GetMBps = median(puts), median(gets)
	res.PutMBpcs, res.GetMBpcs = median(putc), median(getc)
	res.LoadAfter = load1()
	return res, nil
}

// startProfile starts a CPU profile into w when on and w is set, and
// returns the function that stops it.
func startProfile(on bool, w io.Writer) (func(), error) {
	if !on || w == nil {
		return func() {}, nil
	}
	if err := pprof.StartCPUProfile(w); err != nil {
		return nil, fmt.Errorf("storage bench: CPU profile: %w", err)
	}
	return pprof.StopCPUProfile, nil
}

func mbps(n int64, d time.Duration) float64 { return float64(n) / 1e6 / max(d.Seconds(), 1e-9) }

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	slices.Sort(v)
	return v[len(v)/2]
}

// waitConnected waits until every node of the devnet reaches a quorum.
func waitConnected(ctx context.Context, d *engine.Devnet) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		ok := true
		for i := 0; i < d.Size(); i++ {
			if n := d.Node(i); n == nil || n.Status().PeersConnected < d.Size()-1 {
				ok = false
			}
		}
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return errors.New("storage bench: devnet nodes did not connect within 30s")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// load1 reads the 1-minute load average (Linux); -1 elsewhere.
func load1() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return -1
	}
	var l float64
	if _, err := fmt.Sscan(strings.Fields(string(b))[0], &l); err != nil {
		return -1
	}
	return l
}
