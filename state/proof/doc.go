// Package proof verifies and encodes the Merkle proofs of dagd's state
// commitment. It needs only the standard library and dagd's crypto package,
// so a light client (for example on linux/arm64 without cgo) can check that a
// key holds a value, or holds nothing, under a state root it trusts, with
// nothing but the root, the key, the claimed value and the proof.
//
// # The tree
//
// The state is a binary sparse Merkle tree over 256-bit paths. The path of a
// key is its key hash
//
//	KeyHash(key) = BLAKE3-256(key)
//
// read most significant bit first: bit i is bit (7 - i mod 8) of byte i/8;
// 0 goes left, 1 goes right. Every digest below is BLAKE3-256 with a 32-byte
// output, and || is concatenation.
//
// Subtrees are compressed: a subtree that holds no key is the empty subtree,
// and a subtree that holds exactly one key is that key's leaf, placed at the
// shallowest position where it is alone (not at depth 256). Every internal
// node therefore has at least two leaves below it, and the tree, and so its
// root, depend only on the set of key/value pairs it holds, never on the
// order in which they were written. The depth of a leaf is about log2(N) for
// N keys.
//
// Node hashes are domain separated by a one-byte prefix:
//
//	ValueHash(value)        = BLAKE3-256(value)
//	LeafHash(kh, vh)        = BLAKE3-256(0x00 || kh || vh)     kh = KeyHash(key), vh = ValueHash(value)
//	InternalHash(l, r)      = BLAKE3-256(0x01 || l || r)       l, r = hashes of the left and right child
//	EmptyHash               = BLAKE3-256(0x02)                 the empty subtree, at any depth
//
// The root of the empty tree is EmptyHash; the root of a tree with one key is
// that key's LeafHash. A leaf commits to the full key hash and the value
// hash. A present value may be empty (zero bytes): its ValueHash is
// BLAKE3-256 of nothing, which differs from an absent key.
//
// # Proofs
//
// A Proof for a key is the list of the sibling hashes along the key's path,
// from the root down, and the node where the path ends:
//
//   - Siblings[i] is the hash of the child, at depth i+1, of the path's
//     internal node at depth i that is not on the path (EmptyHash when that
//     subtree is empty). The root is at depth 0. There are at most 256
//     siblings.
//   - Leaf, when present, is the leaf found at depth len(Siblings): its key
//     hash and value hash. When Leaf is absent, the path ends at an empty
//     subtree at that depth.
//
// Verification of a claim (root, key, value) recomputes the root:
//
//  1. kh = KeyHash(key); n = len(Siblings); n must be at most 256.
//  2. The start hash h:
//     - value present (inclusion): Leaf must be present with Leaf.KeyHash = kh
//     and Leaf.ValueHash = ValueHash(value); h = LeafHash(kh, ValueHash(value)).
//     - value absent, Leaf absent: h = EmptyHash (the path ends at an empty subtree).
//     - value absent, Leaf present: Leaf.KeyHash must differ from kh and share
//     its first n bits with kh (another key occupies the only place kh could
//     be); h = LeafHash(Leaf.KeyHash, Leaf.ValueHash).
//  3. For i = n-1 down to 0: if bit i of kh is 0, h = InternalHash(h, Siblings[i]),
//     else h = InternalHash(Siblings[i], h).
//  4. The claim holds if and only if h equals the root.
//
// # Encoding
//
// A proof has one canonical byte encoding (Proof.MarshalBinary, Unmarshal):
//
//	flags    1 byte     bit 0: Leaf present; the other bits are zero
//	n        2 bytes    big-endian number of siblings, at most 256
//	bitmap   ceil(n/8)  bit i (MSB first) set when Siblings[i] is not EmptyHash; unused bits zero
//	siblings 32 bytes   for each set bitmap bit, in order: the sibling hash (never EmptyHash)
//	leaf     64 bytes   if bit 0 of flags: Leaf.KeyHash || Leaf.ValueHash
//
// The decoder rejects anything else: unknown flags, more than 256 siblings,
// set padding bits, an encoded sibling equal to EmptyHash, short input and
// trailing bytes. Lengths are checked before anything is allocated.
package proof
