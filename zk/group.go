package zk

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
)

// DefaultDepth is the default depth of a group's Merkle tree: 2^20 members.
const DefaultDepth = 20

// MaxDepth is the largest supported tree depth.
const MaxDepth = 32

// MaxGroupMembers bounds the members of a group held in memory or read from
// a group file, whatever the depth.
const MaxGroupMembers = 1 << 22

// Group is the set of members allowed to signal: an append-only, fixed-depth
// binary Merkle tree whose leaves are identity commitments, left to right,
// with empty leaves equal to zero. A node is HashPair(left, right). Its
// methods are not safe for concurrent use.
type Group struct {
	depth int
	// zeros[l] is the root of an empty subtree of height l.
	zeros []fr.Element
	// nodes[l] holds the non-empty nodes of level l, leaves at level 0;
	// nodes[depth] holds the root once a member exists.
	nodes [][]fr.Element
	index map[fr.Element]int
}

// NewGroup returns an empty group of the given depth (1 to MaxDepth).
func NewGroup(depth int) (*Group, error) {
	if depth < 1 || depth > MaxDepth {
		return nil, fmt.Errorf("zk: group depth %d outside [1, %d]", depth, MaxDepth)
	}
	g := &Group{
		depth: depth,
		zeros: emptyRoots(depth),
		nodes: make([][]fr.Element, depth+1),
		index: make(map[fr.Element]int),
	}
	return g, nil
}

// emptyRoots returns the roots of empty subtrees of heights 0 to depth.
func emptyRoots(depth int) []fr.Element {
	z := make([]fr.Element, depth+1)
	for l := 0; l < depth; l++ {
		z[l+1] = HashPair(z[l], z[l])
	}
	return z
}

// Depth returns the depth of the tree.
func (g *Group) Depth() int { return g.depth }

// Size returns the number of members.
func (g *Group) Size() int { return len(g.nodes[0]) }

// Capacity returns the largest number of members the group can hold.
func (g *Group) Capacity() int {
	if g.depth >= 31 || 1<<g.depth > MaxGroupMembers {
		return MaxGroupMembers
	}
	return 1 << g.depth
}

// Members returns a copy of the identity commitments, in leaf order.
func (g *Group) Members() []fr.Element { return append([]fr.Element(nil), g.nodes[0]...) }

// IndexOf returns the leaf index of a commitment.
func (g *Group) IndexOf(commitment fr.Element) (int, bool) {
	i, ok := g.index[commitment]
	return i, ok
}

// Add appends an identity commitment and returns its leaf index. Zero (the
// empty leaf), duplicates and additions to a full group are rejected.
func (g *Group) Add(commitment fr.Element) (int, error) {
	if commitment.IsZero() {
		return 0, errors.New("zk: the zero commitment marks an empty leaf and cannot be a member")
	}
	if i, ok := g.index[commitment]; ok {
		return 0, fmt.Errorf("zk: commitment %s is already member %d", FormatElement(&commitment), i)
	}
	if g.Size() >= g.Capacity() {
		return 0, fmt.Errorf("zk: group is full (%d members)", g.Size())
	}
	i := len(g.nodes[0])
	g.nodes[0] = append(g.nodes[0], commitment)
	g.index[commitment] = i
	node, pos := commitment, i
	for l := 0; l < g.depth; l++ {
		var parent fr.Element
		if pos&1 == 0 {
			parent = HashPair(node, g.zeros[l])
		} else {
			parent = HashPair(g.nodes[l][pos-1], node)
		}
		pos >>= 1
		if pos < len(g.nodes[l+1]) {
			g.nodes[l+1][pos] = parent
		} else {
			g.nodes[l+1] = append(g.nodes[l+1], parent)
		}
		node = parent
	}
	return i, nil
}

// Root returns the Merkle root of the group.
func (g *Group) Root() fr.Element {
	if len(g.nodes[g.depth]) == 0 {
		return g.zeros[g.depth]
	}
	return g.nodes[g.depth][0]
}

// MerklePath is the authentication path of one leaf: its index and the
// sibling at every level from the leaves up.
type MerklePath struct {
	Index    uint64
	Siblings []fr.Element
}

// Path returns the authentication path of the member at index.
func (g *Group) Path(index int) (MerklePath, error) {
	if index < 0 || index >= g.Size() {
		return MerklePath{}, fmt.Errorf("zk: member index %d outside [0, %d)", index, g.Size())
	}
	p := MerklePath{Index: uint64(index), Siblings: make([]fr.Element, g.depth)}
	pos := index
	for l := 0; l < g.depth; l++ {
		sib := pos ^ 1
		if sib < len(g.nodes[l]) {
			p.Siblings[l] = g.nodes[l][sib]
		} else {
			p.Siblings[l] = g.zeros[l]
		}
		pos >>= 1
	}
	return p, nil
}

// ComputeRoot returns the root that the path proves for leaf.
func (p MerklePath) ComputeRoot(leaf fr.Element) fr.Element {
	node := leaf
	for l, sib := range p.Siblings {
		if (p.Index>>uint(l))&1 == 0 {
			node = HashPair(node, sib)
		} else {
			node = HashPair(sib, node)
		}
	}
	return node
}

// groupFileVersion is the version of the group file format.
const groupFileVersion = 1

// groupFile is the JSON form of a group file:
//
//	{"version": 1, "depth": 20, "members": ["0x<64 hex digits>", ...]}
//
// Members are identity commitments in leaf order.
type groupFile struct {
	Version int      `json:"version"`
	Depth   int      `json:"depth"`
	Members []string `json:"members"`
}

// MaxGroupFileSize bounds the size of a group file accepted by
// DecodeGroupFile: MaxGroupMembers members of 69 bytes each and some slack.
const MaxGroupFileSize = MaxGroupMembers*70 + 4096

// EncodeGroupFile returns the JSON group file of g, one member per line.
func EncodeGroupFile(g *Group) []byte {
	members := make([]string, g.Size())
	for i := range g.nodes[0] {
		members[i] = FormatElement(&g.nodes[0][i])
	}
	b, err := json.MarshalIndent(groupFile{Version: groupFileVersion, Depth: g.depth, Members: members}, "", " ")
	if err != nil {
		// Ints and strings always marshal.
		panic("zk: marshal group file: " + err.Error())
	}
	return append(b, '\n')
}

// DecodeGroupFile parses a group file strictly (known fields, version 1,
// depth in range, canonical non-zero distinct members within the capacity,
// nothing after the object) and rebuilds its tree.
func DecodeGroupFile(b []byte) (*Group, error) {
	if len(b) > MaxGroupFileSize {
		return nil, fmt.Errorf("zk: group file is %d bytes, more than the %d allowed", len(b), MaxGroupFileSize)
	}
	var f groupFile
	if err := decodeStrictJSON(b, &f); err != nil {
		return nil, fmt.Errorf("zk: group file: %w", err)
	}
	if f.Version != groupFileVersion {
		return nil, fmt.Errorf("zk: group file version %d, want %d", f.Version, groupFileVersion)
	}
	g, err := NewGroup(f.Depth)
	if err != nil {
		return nil, fmt.Errorf("zk: group file: %w", err)
	}
	if len(f.Members) > g.Capacity() {
		return nil, fmt.Errorf("zk: group file has %d members, more than the %d a depth-%d group holds", len(f.Members), g.Capacity(), f.Depth)
	}
	leaves := make([]fr.Element, len(f.Members))
	for i, s := range f.Members {
		c, err := ParseElement(s)
		if err != nil {
			return nil, fmt.Errorf("zk: group file member %d: %w", i, err)
		}
		if c.IsZero() {
			return nil, fmt.Errorf("zk: group file member %d is the zero commitment", i)
		}
		if j, dup := g.index[c]; dup {
			return nil, fmt.Errorf("zk: group file members %d and %d are the same commitment", j, i)
		}
		g.index[c] = i
		leaves[i] = c
	}
	g.build(leaves)
	return g, nil
}

// build fills the tree from leaves level by level, hashing each node once.
func (g *Group) build(leaves []fr.Element) {
	g.nodes[0] = leaves
	for l := 0; l < g.depth; l++ {
		below := g.nodes[l]
		if len(below) == 0 {
			g.nodes[l+1] = nil
			continue
		}
		up := make([]fr.Element, (len(below)+1)/2)
		for i := range up {
			right := g.zeros[l]
			if 2*i+1 < len(below) {
				right = below[2*i+1]
			}
			up[i] = HashPair(below[2*i], right)
		}
		g.nodes[l+1] = up
	}
}
