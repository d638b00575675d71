package shard

import (
	"bytes"
	"fmt"
	"slices"
	"sort"
)

// baseReader is what the overlay reads keys it has not loaded from: the
// state store, or the genesis layer over it.
type baseReader interface {
	Get(key []byte) ([]byte, bool, error)
}

// slot is one distinct key of a commit in the overlay: its value as the
// transactions executed so far left it. At any moment at most one
// transaction may touch a slot (the schedule orders every pair that shares
// a key), so slots need no lock.
type slot struct {
	key     []byte
	val     []byte
	loaded  bool
	present bool
	dirty   bool
}

// view is the Store one transaction sees: its declared keys, through the
// commit's slots. A worker reuses one view for its transactions.
type view struct {
	base  baseReader
	slots []slot
	keys  [][]byte // the transaction's keys, sorted, distinct
	idx   []int32  // their slots
}

func (v *view) find(key []byte) (*slot, error) {
	keys := v.keys
	var i int
	if len(keys) <= 8 {
		for i = 0; i < len(keys) && bytes.Compare(keys[i], key) < 0; i++ {
		}
	} else {
		i = sort.Search(len(keys), func(i int) bool { return bytes.Compare(keys[i], key) >= 0 })
	}
	if i == len(keys) || !bytes.Equal(keys[i], key) {
		return nil, fmt.Errorf("%w: %x", ErrUndeclaredKey, key)
	}
	s := &v.slots[v.idx[i]]
	if !s.loaded {
		val, ok, err := v.base.Get(s.key)
		if err != nil {
			return nil, fmt.Errorf("shard: read state key %x: %w", s.key, err)
		}
		s.val, s.present, s.loaded = val, ok, true
	}
	return s, nil
}

// Get implements Store.
func (v *view) Get(key []byte) ([]byte, error) {
	s, err := v.find(key)
	if err != nil || !s.present {
		return nil, err
	}
	return s.val, nil
}

// Set implements Store.
func (v *view) Set(key, value []byte) error {
	s, err := v.find(key)
	if err != nil {
		return err
	}
	s.val = append(make([]byte, 0, len(value)), value...)
	s.present, s.dirty = true, true
	return nil
}

// Delete implements Store.
func (v *view) Delete(key []byte) error {
	s, err := v.find(key)
	if err != nil {
		return err
	}
	s.val, s.present, s.dirty = nil, false, true
	return nil
}

// valueCache holds the latest value of recently used keys, as of the
// executor's position. It is read by the lanes during a commit (no
// writes then) and updated after the commit is durable.
type valueCache struct {
	base baseReader
	max  int
	m    map[string]cachedValue
}

type cachedValue struct {
	val     []byte
	present bool
}

// Get implements baseReader.
func (c *valueCache) Get(key []byte) ([]byte, bool, error) {
	if v, ok := c.m[string(key)]; ok {
		return v.val, v.present, nil
	}
	return c.base.Get(key)
}

// update records the final values of a committed commit's slots.
func (c *valueCache) update(slots []slot) {
	if len(c.m)+len(slots) > c.max {
		clear(c.m)
	}
	for i := range slots {
		if s := &slots[i]; s.loaded && len(slots) <= c.max {
			c.m[string(s.key)] = cachedValue{val: s.val, present: s.present}
		}
	}
}

// genesisLayer is the Store the genesis writes to: a map over the empty
// state, which commit 1's transactions then read through.
type genesisLayer struct {
	base baseReader
	vals map[string]genesisValue
}

type genesisValue struct {
	val     []byte
	present bool
}

func newGenesisLayer(base baseReader) *genesisLayer {
	return &genesisLayer{base: base, vals: make(map[string]genesisValue)}
}

// Get implements baseReader.
func (g *genesisLayer) get(key []byte) ([]byte, bool, error) {
	if v, ok := g.vals[string(key)]; ok {
		return v.val, v.present, nil
	}
	return g.base.Get(key)
}

// genesisReader adapts the layer to baseReader (its Get is Store's).
type genesisReader struct{ g *genesisLayer }

func (r genesisReader) Get(key []byte) ([]byte, bool, error) { return r.g.get(key) }

// Get implements Store.
func (g *genesisLayer) Get(key []byte) ([]byte, error) {
	v, ok, err := g.get(key)
	if err != nil || !ok {
		return nil, err
	}
	return v, nil
}

// Set implements Store.
func (g *genesisLayer) Set(key, value []byte) error {
	g.vals[string(key)] = genesisValue{val: append(make([]byte, 0, len(value)), value...), present: true}
	return nil
}

// Delete implements Store.
func (g *genesisLayer) Delete(key []byte) error {
	g.vals[string(key)] = genesisValue{}
	return nil
}

// sortedKeys returns the layer's keys in bytewise order.
func (g *genesisLayer) sortedKeys() []string {
	keys := make([]string, 0, len(g.vals))
	for k := range g.vals {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
