package bitmap

import (
	"errors"
	mrand "math/rand/v2"
	"reflect"
	"testing"
)

func TestBitmap(t *testing.T) {
	for _, n := range []int{0, 1, 7, 8, 9, 15, 16, 17, 100, 1000} {
		bm := New(n)
		if want := (n + 7) / 8; len(bm) != want {
			t.Fatalf("New(%d) has %d bytes, want %d", n, len(bm), want)
		}
		if bm.Count() != 0 || len(bm.Indices()) != 0 {
			t.Fatalf("new bitmap of %d not empty", n)
		}
		rng := mrand.New(mrand.NewPCG(uint64(n), 1))
		want := map[int]bool{}
		for range n / 2 {
			i := rng.IntN(n)
			bm.Set(i)
			bm.Set(i) // idempotent
			want[i] = true
		}
		var wantIdx []int
		for i := range n {
			if bm.Has(i) != want[i] {
				t.Fatalf("n=%d: Has(%d) = %v", n, i, bm.Has(i))
			}
			if want[i] {
				wantIdx = append(wantIdx, i)
			}
		}
		if bm.Count() != len(wantIdx) {
			t.Fatalf("n=%d: Count %d, want %d", n, bm.Count(), len(wantIdx))
		}
		if got := bm.Indices(); len(wantIdx) > 0 && !reflect.DeepEqual(got, wantIdx) {
			t.Fatalf("n=%d: Indices %v, want %v", n, got, wantIdx)
		}
		if bm.Has(-1) || bm.Has(8*len(bm)) {
			t.Fatal("Has out of range is true")
		}
		// A bitmap built by Set parses back to itself.
		p, err := Parse(bm, n)
		if err != nil {
			t.Fatalf("n=%d: Parse of a built bitmap: %v", n, err)
		}
		if !reflect.DeepEqual(p, bm) {
			t.Fatalf("n=%d: parse changed the bitmap", n)
		}
		if len(bm) > 0 {
			// Parse copies.
			p[0] ^= 0xff
			if p[0] == bm[0] {
				t.Fatal("Parse aliases its input")
			}
		}
	}
	// Bit order: bit i is bit i%8 of byte i/8.
	bm := New(16)
	bm.Set(0)
	bm.Set(9)
	if bm[0] != 0x01 || bm[1] != 0x02 {
		t.Fatalf("bit layout %x", []byte(bm))
	}
}

func TestBitmapSetOutOfRangePanics(t *testing.T) {
	for _, i := range []int{-1, 16} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Set(%d) on 16 bits did not panic", i)
				}
			}()
			New(16).Set(i)
		}()
	}
}

func TestParseRejects(t *testing.T) {
	cases := []struct {
		b []byte
		n int
	}{
		{[]byte{}, 1},               // too short
		{[]byte{0, 0}, 8},           // too long
		{[]byte{0}, 0},              // bytes for nobody
		{[]byte{0x80}, 7},           // bit 7 of 7
		{[]byte{0xff, 0x02}, 9},     // bit 9 of 9
		{[]byte{0x00, 0x80}, 10},    // bit 15 of 10
		{[]byte{0x01}, -1},          // negative size
		{[]byte{0, 0, 0, 0x10}, 28}, // bit 28 of 28
	}
	for _, c := range cases {
		if _, err := Parse(c.b, c.n); !errors.Is(err, ErrMalformed) {
			t.Errorf("Parse(%x, %d) = %v, want ErrMalformed", c.b, c.n, err)
		}
	}
	ok := []struct {
		b []byte
		n int
	}{
		{nil, 0}, {[]byte{0x7f}, 7}, {[]byte{0xff}, 8}, {[]byte{0xff, 0x01}, 9}, {[]byte{0, 0, 0, 0x08}, 28},
	}
	for _, c := range ok {
		if _, err := Parse(c.b, c.n); err != nil {
			t.Errorf("Parse(%x, %d) = %v", c.b, c.n, err)
		}
	}
}
