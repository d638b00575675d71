package content

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/cockroachdb/pebble/v2"
)

// BenchmarkShardStorage compares the ways a holder could keep shards: 200
// MiB of 512 KiB shards (one holder's share of a 400 MiB put at k=2, or of
// 200 MiB at k=1) written then synced once, and read back. "pebble" puts
// each shard in pebble as a value (32 MiB memtable, the engine's); "file
// per shard" writes a file per shard and syncs each; "file per object"
// is what contentStore does: one file per object and shard index, each
// chunk's shard at its offset, one sync at the end. bench/storage.md has
// the figures that chose the file per object.
func BenchmarkShardStorage(b *testing.B) {
	const shard, shards = 512 << 10, 400
	data := make([][]byte, 8)
	for i := range data {
		data[i] = randomContent(uint64(i), shard)
	}
	key := func(s int) []byte { return []byte(fmt.Sprintf("c/%08d", s)) }
	openDB := func(b *testing.B, dir string) *pebble.DB {
		db, err := pebble.Open(dir, &pebble.Options{MemTableSize: 32 << 20, Logger: quietPebble{}})
		if err != nil {
			b.Fatal(err)
		}
		return db
	}
	b.Run("write/pebble", func(b *testing.B) {
		b.SetBytes(shard * shards)
		for i := 0; i < b.N; i++ {
			db := openDB(b, b.TempDir())
			for s := 0; s < shards; s++ {
				if err := db.Set(key(s), data[s%8], pebble.NoSync); err != nil {
					b.Fatal(err)
				}
			}
			if err := db.Set([]byte("sync"), nil, pebble.Sync); err != nil {
				b.Fatal(err)
			}
			if err := db.Flush(); err != nil { // what a memtable flush will cost
				b.Fatal(err)
			}
			db.Close()
		}
	})
	b.Run("write/file-per-shard", func(b *testing.B) {
		b.SetBytes(shard * shards)
		for i := 0; i < b.N; i++ {
			dir := b.TempDir()
			for s := 0; s < shards; s++ {
				if err := writeFileSync(filepath.Join(dir, fmt.Sprint(s)), data[s%8], true); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("write/file-per-object", func(b *testing.B) {
		b.SetBytes(shard * shards)
		for i := 0; i < b.N; i++ {
			f, err := os.Create(filepath.Join(b.TempDir(), "s0"))
			if err != nil {
				b.Fatal(err)
			}
			for s := 0; s < shards; s++ {
				if _, err := f.WriteAt(data[s%8], int64(s)*shard); err != nil {
					b.Fatal(err)
				}
			}
			if err := f.Sync(); err != nil {
				b.Fatal(err)
			}
			f.Close()
		}
	})
	b.Run("read/pebble", func(b *testing.B) {
		db := openDB(b, b.TempDir())
		defer db.Close()
		for s := 0; s < shards; s++ {
			_ = db.Set(key(s), data[s%8], pebble.NoSync)
		}
		_ = db.Flush()
		b.SetBytes(shard * shards)
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			for s := 0; s < shards; s++ {
				v, c, err := db.Get(key(s))
				if err != nil || len(v) != shard {
					b.Fatal(err)
				}
				c.Close()
			}
		}
	})
	b.Run("read/file-per-object", func(b *testing.B) {
		path := filepath.Join(b.TempDir(), "s0")
		f, err := os.Create(path)
		if err != nil {
			b.Fatal(err)
		}
		for s := 0; s < shards; s++ {
			_, _ = f.WriteAt(data[s%8], int64(s)*shard)
		}
		f.Close()
		b.SetBytes(shard * shards)
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			for s := 0; s < shards; s++ {
				// As readShard does: open, read the range, close.
				f, err := os.Open(path)
				if err != nil {
					b.Fatal(err)
				}
				buf := make([]byte, shard)
				if _, err := f.ReadAt(buf, int64(s)*shard); err != nil {
					b.Fatal(err)
				}
				f.Close()
			}
		}
	})
}

type quietPebble struct{}

func (quietPebble) Infof(string, ...any)  {}
func (quietPebble) Errorf(string, ...any) {}
func (quietPebble) Fatalf(format string, args ...any) {
	panic(fmt.Sprintf(format, args...))
}
