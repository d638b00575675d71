package state

import (
	"container/list"
	"sync"
)

// nodeCache keeps up to a fixed number of decoded internal nodes and evicts
// the least recently used. Stored nodes never change, so a cached node is
// never wrong; a commit drops the nodes it replaces, so that the cache holds
// live nodes and a cache as large as the tree serves every read. A nil
// *nodeCache caches nothing.
type nodeCache struct {
	mu   sync.Mutex
	size int
	m    map[nodeKey]*list.Element
	lru  list.List // front: most recently used; values are *cacheEntry
}

type cacheEntry struct {
	k nodeKey
	n *internalNode
}

func newNodeCache(size int) *nodeCache {
	if size <= 0 {
		return nil
	}
	return &nodeCache{size: size, m: make(map[nodeKey]*list.Element)}
}

func (c *nodeCache) get(k nodeKey) (*internalNode, bool) {
	if c == nil {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[k]
	if !ok {
		return nil, false
	}
	c.lru.MoveToFront(e)
	return e.Value.(*cacheEntry).n, true
}

func (c *nodeCache) put(k nodeKey, n *internalNode) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.m[k]; ok {
		c.lru.MoveToFront(e)
		return
	}
	for c.lru.Len() >= c.size {
		old := c.lru.Back()
		delete(c.m, old.Value.(*cacheEntry).k)
		c.lru.Remove(old)
	}
	c.m[k] = c.lru.PushFront(&cacheEntry{k, n})
}

func (c *nodeCache) remove(k nodeKey) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.m[k]; ok {
		delete(c.m, k)
		c.lru.Remove(e)
	}
}
