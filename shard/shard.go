package shard

// ShardOf returns the shard of key among shards (shards >= 1): the 64-bit
// FNV-1a hash of the key's bytes, modulo shards. The function is fixed:
// it is part of how the executor spreads work, never of what a transaction
// does, so changing it (or Options.Shards) changes no result, only which
// transactions may run in parallel.
func ShardOf(key []byte, shards int) int {
	if shards <= 1 {
		return 0
	}
	const (
		offset64 = 14695981039346656037
		prime64  = 1099511628211
	)
	h := uint64(offset64)
	for _, b := range key {
		h ^= uint64(b)
		h *= prime64
	}
	return int(h % uint64(shards))
}
