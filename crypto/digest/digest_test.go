package digest

import (
	"strings"
	"testing"

	"github.com/zeebo/blake3"
)

func TestHashIsBLAKE3OfConcatenation(t *testing.T) {
	parts := [][]byte{[]byte("dagd/"), nil, []byte("batch"), make([]byte, 5000)}
	var all []byte
	for _, p := range parts {
		all = append(all, p...)
	}
	want := blake3.Sum256(all)
	if got := Hash(parts...); got != Digest(want) {
		t.Fatalf("Hash = %s, want %x", got, want)
	}
	h := NewHasher()
	_, _ = h.Write(all)
	var streamed Digest
	h.Sum(streamed[:0])
	if streamed != Digest(want) {
		t.Fatalf("NewHasher sum = %s, want %x", streamed, want)
	}
}

func TestParse(t *testing.T) {
	d := Hash([]byte("x"))
	got, err := Parse(d.String())
	if err != nil || got != d {
		t.Fatalf("Parse(String()) = %s, %v; want %s", got, err, d)
	}
	if d.IsZero() || !(Digest{}).IsZero() {
		t.Fatal("IsZero wrong")
	}
	if len(d.Short()) != 8 || !strings.HasPrefix(d.String(), d.Short()) {
		t.Fatalf("Short %q is not the prefix of %q", d.Short(), d.String())
	}
	for _, bad := range []string{"", "00", d.String() + "00", strings.Repeat("zz", Size)} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
}
