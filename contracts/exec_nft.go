package contracts

import (
	"fmt"
	"slices"

	"github.com/dagd/dagd/crypto"
)

// Execution of non-fungible, soulbound and composable tokens.
//
// A root token records its owner; an attached token records its parent,
// and its owner is its root's owner, so moving a root moves everything
// below it by rewriting one key. Operations on attached tokens carry the
// ancestor path up to the root, which Keys declares and execution checks
// against the state. Depth is bounded by Params.MaxNestingDepth through
// each token's Height, an upper bound of the levels below it.

func (o *CollectionCreate) exec(x *execCtx) {
	id := CollectionID(x.tx.Sender, x.tx.Nonce)
	key := CollectionKey(id)
	if x.get(key) != nil {
		x.reject(CodeExists, "collection %s exists", id)
		return
	}
	c := &Collection{Creator: x.tx.Sender, Soulbound: o.Soulbound, Name: o.Name, Symbol: o.Symbol}
	x.put(key, c.Encode())
	x.event("collection_create", "collection", hexDigest(id), "creator", hexKey(x.tx.Sender), "symbol", o.Symbol,
		"soulbound", fmt.Sprint(o.Soulbound))
}

// nft loads a token or rejects the operation.
func (x *execCtx) nft(id NFTID) *NFT {
	n := load(x, NFTKey(id), DecodeNFT)
	if n == nil && !x.failed() {
		x.reject(CodeNotFound, "token %s not found", id)
	}
	return n
}

// collection loads a collection or rejects the operation.
func (x *execCtx) collection(id crypto.Digest) *Collection {
	c := load(x, CollectionKey(id), DecodeCollection)
	if c == nil && !x.failed() {
		x.reject(CodeNotFound, "collection %s not found", id)
	}
	return c
}

func (o *NFTMint) exec(x *execCtx) {
	c := x.collection(o.ID.Collection)
	if x.failed() {
		return
	}
	if c.Creator != x.tx.Sender {
		x.reject(CodeUnauthorized, "unauthorized: only the creator %s mints in collection %s", c.Creator, o.ID.Collection)
		return
	}
	key := NFTKey(o.ID)
	if x.get(key) != nil {
		x.reject(CodeExists, "token %s exists", o.ID)
		return
	}
	n := &NFT{Owner: o.To, Soulbound: c.Soulbound, Metadata: o.Metadata}
	x.put(key, n.Encode())
	typ := "nft_mint"
	if c.Soulbound {
		typ = "soulbound_issue"
	}
	x.event(typ, "token", o.ID.String(), "to", hexKey(o.To), "metadata", fmt.Sprintf("%x", o.Metadata))
}

func (o *NFTTransfer) exec(x *execCtx) {
	n := x.nft(o.ID)
	switch {
	case x.failed():
		return
	case n.Soulbound:
		x.reject(CodeSoulbound, "soulbound: token %s cannot be transferred", o.ID)
		return
	case n.Attached:
		x.reject(CodeAttached, "attached: token %s is a child of %s; detach it first", o.ID, n.Parent)
		return
	case n.Owner != x.tx.Sender:
		x.reject(CodeUnauthorized, "unauthorized: token %s belongs to %s", o.ID, n.Owner)
		return
	}
	n.Owner = o.To
	x.put(NFTKey(o.ID), n.Encode())
	x.event("nft_transfer", "token", o.ID.String(), "from", hexKey(x.tx.Sender), "to", hexKey(o.To),
		"children", dec(uint64(n.Children)))
}

func (o *NFTBurn) exec(x *execCtx) {
	n := x.nft(o.ID)
	switch {
	case x.failed():
		return
	case n.Attached:
		x.reject(CodeAttached, "attached: token %s is a child of %s; detach it first", o.ID, n.Parent)
		return
	case n.Children > 0:
		x.reject(CodeAttached, "attached: token %s holds %d children; detach them first", o.ID, n.Children)
		return
	case n.Owner != x.tx.Sender:
		x.reject(CodeUnauthorized, "unauthorized: token %s belongs to %s", o.ID, n.Owner)
		return
	}
	x.put(NFTKey(o.ID), nil)
	x.event("nft_burn", "token", o.ID.String(), "owner", hexKey(x.tx.Sender))
}

func (o *NFTRevoke) exec(x *execCtx) {
	n := x.nft(o.ID)
	if x.failed() {
		return
	}
	if !n.Soulbound {
		x.reject(CodeUnauthorized, "unauthorized: token %s is not soulbound; only its owner may burn it", o.ID)
		return
	}
	c := x.collection(o.ID.Collection)
	if x.failed() {
		return
	}
	if c.Creator != x.tx.Sender {
		x.reject(CodeUnauthorized, "unauthorized: only the issuer %s revokes token %s", c.Creator, o.ID)
		return
	}
	if n.Attached || n.Children > 0 { // never, for a soulbound token
		x.reject(CodeAttached, "attached: token %s is part of a composition", o.ID)
		return
	}
	x.put(NFTKey(o.ID), nil)
	x.event("soulbound_revoke", "token", o.ID.String(), "holder", hexKey(n.Owner))
}

// loadPath loads the tokens of an ancestor path and checks that each is
// the parent of the one before and that the last is a root.
func (x *execCtx) loadPath(path []NFTID) []*NFT {
	nodes := make([]*NFT, len(path))
	for i, id := range path {
		n := load(x, NFTKey(id), DecodeNFT)
		if x.failed() {
			return nil
		}
		if n == nil {
			x.reject(CodeStalePath, "stale path: token %s not found", id)
			return nil
		}
		nodes[i] = n
	}
	for i, n := range nodes {
		switch {
		case i < len(nodes)-1 && (!n.Attached || n.Parent != path[i+1]):
			x.reject(CodeStalePath, "stale path: the parent of %s is not %s", path[i], path[i+1])
			return nil
		case i == len(nodes)-1 && n.Attached:
			x.reject(CodeStalePath, "stale path: %s is not a root; its parent is %s", path[i], n.Parent)
			return nil
		}
	}
	return nodes
}

func (o *NFTAttach) exec(x *execCtx) {
	c := x.nft(o.Child)
	if x.failed() {
		return
	}
	nodes := x.loadPath(o.Path)
	if x.failed() {
		return
	}
	root := nodes[len(nodes)-1]
	depth := len(o.Path) + int(c.Height) // of the deepest token below Child, once attached
	switch {
	case slices.Contains(o.Path, o.Child):
		x.reject(CodeCycle, "cycle: token %s cannot be attached to itself or its own descendant %s", o.Child, o.Path[0])
	case c.Soulbound:
		x.reject(CodeSoulbound, "soulbound: token %s cannot be attached", o.Child)
	case nodes[0].Soulbound:
		x.reject(CodeSoulbound, "soulbound: token %s cannot hold children", o.Path[0])
	case c.Attached:
		x.reject(CodeAttached, "attached: token %s is a child of %s; detach it first", o.Child, c.Parent)
	case c.Owner != x.tx.Sender:
		x.reject(CodeUnauthorized, "unauthorized: token %s belongs to %s", o.Child, c.Owner)
	case root.Owner != x.tx.Sender:
		x.reject(CodeUnauthorized, "unauthorized: token %s (root of %s) belongs to %s", o.Path[len(o.Path)-1], o.Path[0], root.Owner)
	case depth > x.m.p.MaxNestingDepth:
		x.reject(CodeTooDeep, "too deep: tokens would nest %d levels below a root, limit %d", depth, x.m.p.MaxNestingDepth)
	case nodes[0].Children == ^uint32(0):
		x.reject(CodeOverflow, "overflow: token %s holds too many children", o.Path[0])
	}
	if x.failed() {
		return
	}
	c.Attached, c.Parent, c.Owner = true, o.Path[0], crypto.AccountPublicKey{}
	x.put(NFTKey(o.Child), c.Encode())
	nodes[0].Children++
	for i, n := range nodes {
		n.Height = max(n.Height, uint8(i+1)+c.Height)
		x.put(NFTKey(o.Path[i]), n.Encode())
	}
	x.event("nft_attach", "token", o.Child.String(), "parent", o.Path[0].String(), "root", o.Path[len(o.Path)-1].String())
}

func (o *NFTDetach) exec(x *execCtx) {
	c := x.nft(o.Child)
	if x.failed() {
		return
	}
	if !c.Attached || c.Parent != o.Path[0] {
		if c.Attached {
			x.reject(CodeStalePath, "stale path: the parent of %s is %s, not %s", o.Child, c.Parent, o.Path[0])
		} else {
			x.reject(CodeStalePath, "stale path: token %s is not attached", o.Child)
		}
		return
	}
	nodes := x.loadPath(o.Path)
	if x.failed() {
		return
	}
	root := nodes[len(nodes)-1]
	if root.Owner != x.tx.Sender {
		x.reject(CodeUnauthorized, "unauthorized: token %s (root of %s) belongs to %s", o.Path[len(o.Path)-1], o.Child, root.Owner)
		return
	}
	c.Attached, c.Parent, c.Owner = false, NFTID{}, x.tx.Sender
	x.put(NFTKey(o.Child), c.Encode())
	p := nodes[0]
	p.Children--
	if p.Children == 0 {
		p.Height = 0
	}
	x.put(NFTKey(o.Path[0]), p.Encode())
	x.event("nft_detach", "token", o.Child.String(), "parent", o.Path[0].String(), "owner", hexKey(x.tx.Sender))
}

// AncestorPath returns the ancestors of token id, parent first, up to its
// root (empty for a root): the Path of an NFTDetach of id, and, with id in
// front, the Path of an NFTAttach below id. It reads at most
// MaxPathLen+1 tokens.
func AncestorPath(st Reader, id NFTID) ([]NFTID, error) {
	var path []NFTID
	cur := id
	for range MaxPathLen + 1 {
		v, err := st.Get(NFTKey(cur))
		if err != nil {
			return nil, fmt.Errorf("contracts: read token %s: %w", cur, err)
		}
		if len(v) == 0 {
			return nil, fmt.Errorf("contracts: token %s not found", cur)
		}
		n, err := DecodeNFT(v)
		if err != nil {
			return nil, fmt.Errorf("contracts: token %s: %w", cur, err)
		}
		if !n.Attached {
			return path, nil
		}
		path = append(path, n.Parent)
		cur = n.Parent
	}
	return nil, fmt.Errorf("contracts: token %s nests deeper than %d", id, MaxPathLen)
}

// OwnerOf returns the owner of token id: its own owner for a root, its
// root's owner for an attached token.
func OwnerOf(st Reader, id NFTID) (crypto.AccountPublicKey, error) {
	path, err := AncestorPath(st, id)
	if err != nil {
		return crypto.AccountPublicKey{}, err
	}
	root := id
	if len(path) > 0 {
		root = path[len(path)-1]
	}
	v, err := st.Get(NFTKey(root))
	if err != nil {
		return crypto.AccountPublicKey{}, fmt.Errorf("contracts: read token %s: %w", root, err)
	}
	n, err := DecodeNFT(v)
	if err != nil {
		return crypto.AccountPublicKey{}, fmt.Errorf("contracts: token %s: %w", root, err)
	}
	return n.Owner, nil
}
