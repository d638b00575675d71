package erasure_test

import (
	"bytes"
	"context"
	"fmt"
	"sync"

	"github.com/dagd/dagd/erasure"
)

// holders keeps shards in memory; a node would send them to its peers.
type holders struct {
	mu     sync.Mutex
	shards map[[2]int][]byte
}

func (h *holders) Put(_ context.Context, chunk, shard int, data []byte) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.shards[[2]int{chunk, shard}] = bytes.Clone(data) // data is reused after Put
	return nil
}

func (h *holders) Get(_ context.Context, chunk, shard int) ([]byte, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if shard == 0 {
		return nil, fmt.Errorf("holder 0 is down")
	}
	return h.shards[[2]int{chunk, shard}], nil
}

func Example() {
	ctx := context.Background()
	content := bytes.Repeat([]byte("dagd "), 600_000) // 3 MB: three 1 MiB chunks

	enc, err := erasure.NewEncoder(&erasure.Options{DataShards: 2, ParityShards: 2})
	if err != nil {
		panic(err)
	}
	store := &holders{shards: make(map[[2]int][]byte)}
	id, manifest, err := enc.Encode(ctx, bytes.NewReader(content), int64(len(content)), store)
	if err != nil {
		panic(err)
	}

	// The manifest travels as bytes; a reader checks them against the CID.
	m, err := erasure.OpenManifest(id, manifest.Encode())
	if err != nil {
		panic(err)
	}
	dec, err := erasure.NewDecoder(nil)
	if err != nil {
		panic(err)
	}
	var out bytes.Buffer
	stats, err := dec.Decode(ctx, id, m, store, &out)
	if err != nil {
		panic(err)
	}
	fmt.Println("chunks:", m.NumChunks(), "manifest CID:", id.Type() == erasure.ManifestCodec)
	fmt.Println("same content:", bytes.Equal(out.Bytes(), content), "chunks rebuilt:", stats.ChunksRebuilt)
	// Output:
	// chunks: 3 manifest CID: true
	// same content: true chunks rebuilt: 3
}
