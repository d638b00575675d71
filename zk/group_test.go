package zk

import (
	"bytes"
	"strings"
	"testing"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
)

// naiveRoot hashes a full tree of 2^depth leaves.
func naiveRoot(leaves []fr.Element, depth int) fr.Element {
	level := make([]fr.Element, 1<<depth)
	copy(level, leaves)
	for l := 0; l < depth; l++ {
		up := make([]fr.Element, len(level)/2)
		for i := range up {
			up[i] = HashPair(level[2*i], level[2*i+1])
		}
		level = up
	}
	return level[0]
}

func TestGroupRootsAndPaths(t *testing.T) {
	rng := testRand(t, 21)
	const depth = 4
	g, err := NewGroup(depth)
	if err != nil {
		t.Fatal(err)
	}
	if g.Root() != naiveRoot(nil, depth) {
		t.Fatal("empty root is not the root of zero leaves")
	}
	var leaves []fr.Element
	for n := 1; n <= 1<<depth; n++ {
		c := randFr(rng)
		i, err := g.Add(c)
		if err != nil || i != n-1 {
			t.Fatalf("Add: index %d, %v", i, err)
		}
		leaves = append(leaves, c)
		root := g.Root()
		if root != naiveRoot(leaves, depth) {
			t.Fatalf("%d members: incremental root differs from a full recomputation", n)
		}
		for k := range leaves {
			p, err := g.Path(k)
			if err != nil {
				t.Fatal(err)
			}
			if p.ComputeRoot(leaves[k]) != root {
				t.Fatalf("%d members: path of member %d does not lead to the root", n, k)
			}
			if k > 0 && p.ComputeRoot(leaves[k-1]) == root {
				t.Fatalf("path of member %d proves another leaf", k)
			}
		}
		// The file round trip rebuilds the same tree in bulk.
		g2, err := DecodeGroupFile(EncodeGroupFile(g))
		if err != nil {
			t.Fatal(err)
		}
		if g2.Root() != root || g2.Size() != n {
			t.Fatalf("%d members: decoded group differs", n)
		}
		if i, ok := g2.IndexOf(c); !ok || i != n-1 {
			t.Fatal("decoded group lost its index")
		}
	}
	if _, err := g.Add(randFr(rng)); err == nil {
		t.Fatal("a full group accepted a member")
	}
	if _, err := g.Path(1 << depth); err == nil {
		t.Fatal("path of a missing member")
	}
}

func TestGroupRejects(t *testing.T) {
	g, err := NewGroup(3)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.Add(fr.Element{}); err == nil {
		t.Fatal("zero commitment accepted")
	}
	c := fr.NewElement(42)
	if _, err := g.Add(c); err != nil {
		t.Fatal(err)
	}
	if _, err := g.Add(c); err == nil {
		t.Fatal("duplicate commitment accepted")
	}
	for _, d := range []int{0, -1, MaxDepth + 1} {
		if _, err := NewGroup(d); err == nil {
			t.Fatalf("depth %d accepted", d)
		}
	}
}

func TestGroupFileIsStrict(t *testing.T) {
	g, _ := NewGroup(2)
	if _, err := g.Add(fr.NewElement(7)); err != nil {
		t.Fatal(err)
	}
	good := EncodeGroupFile(g)
	one := FormatElement(new(fr.Element).SetUint64(7))
	bad := map[string]string{
		"trailing data":     string(good) + "{}",
		"unknown field":     `{"version":1,"depth":2,"members":[],"extra":1}`,
		"version":           `{"version":2,"depth":2,"members":[]}`,
		"depth":             `{"version":1,"depth":0,"members":[]}`,
		"upper-case hex":    `{"version":1,"depth":2,"members":["` + strings.ToUpper(one[2:]) + `"]}`,
		"no prefix":         `{"version":1,"depth":2,"members":["` + one[2:] + `"]}`,
		"zero member":       `{"version":1,"depth":2,"members":["0x` + strings.Repeat("0", 64) + `"]}`,
		"not canonical":     `{"version":1,"depth":2,"members":["0x` + strings.Repeat("f", 64) + `"]}`,
		"duplicate members": `{"version":1,"depth":2,"members":["` + one + `","` + one + `"]}`,
		"too many members":  `{"version":1,"depth":1,"members":["` + one + `","0x` + strings.Repeat("0", 63) + `1","0x` + strings.Repeat("0", 63) + `2"]}`,
		"not JSON":          `members: 1`,
	}
	for name, s := range bad {
		if _, err := DecodeGroupFile([]byte(s)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := DecodeGroupFile(good); err != nil {
		t.Fatal(err)
	}
}

func TestIdentityFile(t *testing.T) {
	rng := testRand(t, 22)
	id, err := IdentityFromSecret(randFr(rng))
	if err != nil {
		t.Fatal(err)
	}
	b := EncodeIdentityFile(id)
	back, err := DecodeIdentityFile(b)
	if err != nil {
		t.Fatal(err)
	}
	if back.Secret() != id.Secret() || back.Commitment() != id.Commitment() {
		t.Fatal("identity file round trip changed the identity")
	}
	if !bytes.Equal(EncodeIdentityFile(back), b) {
		t.Fatal("identity file encoding is not stable")
	}
	for name, s := range map[string]string{
		"zero secret":   `{"version":1,"secret":"0x` + strings.Repeat("0", 64) + `"}`,
		"version":       `{"version":3,"secret":"0x` + strings.Repeat("0", 63) + `1"}`,
		"unknown field": `{"version":1,"secret":"0x` + strings.Repeat("0", 63) + `1","x":1}`,
		"short secret":  `{"version":1,"secret":"0x01"}`,
		"trailing":      `{"version":1,"secret":"0x` + strings.Repeat("0", 63) + `1"} x`,
	} {
		if _, err := DecodeIdentityFile([]byte(s)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := IdentityFromSecret(fr.Element{}); err == nil {
		t.Fatal("zero secret accepted")
	}
	fresh, err := NewIdentity(bytes.NewReader(bytes.Repeat([]byte{9}, 64)))
	if s := fresh.Secret(); err != nil || s.IsZero() {
		t.Fatalf("NewIdentity: %v", err)
	}
	if _, err := NewIdentity(bytes.NewReader(nil)); err == nil {
		t.Fatal("NewIdentity without randomness succeeded")
	}
}
