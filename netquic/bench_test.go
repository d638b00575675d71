package netquic

import (
	"fmt"
	"log/slog"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"
)

// BenchmarkThroughput sends frames from one transport to another over
// loopback and reports frames per second and MB/s (payload bytes). The
// sender retries on ErrQueueFull, as a node that wants every frame would.
func BenchmarkThroughput(b *testing.B) {
	for _, size := range []int{512, 64 << 10, 1 << 20} {
		b.Run(sizeName(size), func(b *testing.B) { benchThroughput(b, size) })
	}
}

func sizeName(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%dMiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%dKiB", n>>10)
	}
	return fmt.Sprintf("%dB", n)
}

func benchThroughput(b *testing.B, size int) {
	nodes := startNet(b, 2, func(i int, o *Options) {
		o.Logger = slog.New(slog.DiscardHandler)
		o.KeepAlivePeriod = time.Second
	})
	a, r := nodes[0], nodes[1]
	waitConnected(b, nodes)
	frame := make([]byte, size)
	rng := rand.New(rand.NewPCG(5, 6))
	for i := range frame {
		frame[i] = byte(rng.Uint32())
	}
	// Warm up the link (congestion window, flow-control auto-tuning).
	warm := max(16, (8<<20)/size)
	done := make(chan struct{})
	go func() {
		for range warm {
			<-r.tr.Inbox()
		}
		close(done)
	}()
	for range warm {
		sendRetry(a.tr, 1, frame)
	}
	<-done

	got := make(chan int)
	go func() {
		n := 0
		for range b.N {
			in := <-r.tr.Inbox()
			n += len(in.Frame)
		}
		got <- n
	}()
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		sendRetry(a.tr, 1, frame)
	}
	n := <-got
	b.StopTimer()
	if n != b.N*size {
		b.Fatalf("received %d bytes, want %d", n, b.N*size)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "frames/s")
}

// sendRetry sends frame, yielding while the queue is full.
func sendRetry(tr *Transport, to PeerID, frame []byte) {
	for spins := 0; ; spins++ {
		err := tr.Send(to, frame)
		if err == nil {
			return
		}
		if err != ErrQueueFull {
			panic(err)
		}
		if spins < 4 {
			runtime.Gosched()
		} else {
			time.Sleep(50 * time.Microsecond)
		}
	}
}
