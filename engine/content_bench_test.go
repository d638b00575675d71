package engine

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"testing"

	"github.com/dagd/dagd/engine/content"
	"github.com/ipfs/go-cid"
	"github.com/zeebo/blake3"
)

// BenchmarkContent puts and gets content through a local devnet of four
// validators (k=2, n=4, 1 MiB chunks), on QUIC over loopback and on the
// in-memory network: MB/s of content through one node's Go API. Put goes
// through node 0, get through node 1 (which holds data shard 1, so it
// fetches data shard 0 from node 0 and decodes nothing); every get is
// checked against what was put. The stores do not fsync (NoSync), as on a
// benchmark's throwaway data. The 200 MiB case is the acceptance
// figure: go test -run '^$' -bench 'Content/.*200MiB' -benchtime 1x ./engine
func BenchmarkContent(b *testing.B) {
	for _, mem := range []bool{false, true} {
		net := "quic"
		if mem {
			net = "mem"
		}
		for _, size := range []int{64 << 20, 200 << 20} {
			b.Run(fmt.Sprintf("net=%s/size=%dMiB", net, size>>20), func(b *testing.B) {
				benchContent(b, mem, size)
			})
		}
	}
}

func benchContent(b *testing.B, mem bool, size int) {
	d := contentDevnet(b, mem, func(_ int, o *Options) { o.Content.ChunkSize = 1 << 20 })
	data := randomContent(7, size)
	var ids []cid.Cid
	var sums [][32]byte
	b.Run("put", func(b *testing.B) {
		b.SetBytes(int64(size))
		b.StopTimer()
		for i := 0; i < b.N; i++ {
			data[0]++ // a new object each time
			sums = append(sums, blake3.Sum256(data))
			b.StartTimer()
			res, err := d.Node(0).PutContent(context.Background(), bytes.NewReader(data), int64(size), content.PutOptions{})
			if err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			ids = append(ids, res.CID)
		}
	})
	if len(ids) == 0 {
		return
	}
	// Check once, untimed, that a get returns what was put.
	h := blake3.New()
	if _, err := d.Node(1).GetContent(context.Background(), ids[0], h); err != nil {
		b.Fatal(err)
	}
	var got [32]byte
	h.Sum(got[:0])
	if got != sums[0] {
		b.Fatal("get returned other bytes than were put")
	}
	b.Run("get", func(b *testing.B) {
		b.SetBytes(int64(size))
		for i := 0; i < b.N; i++ {
			if _, err := d.Node(1).GetContent(context.Background(), ids[i%len(ids)], io.Discard); err != nil {
				b.Fatal(err)
			}
		}
	})
}
