package erasure

import (
	"bytes"
	"fmt"
	"testing"
)

// A plain, slow Reed-Solomon coder written from the definition, to check
// that the library's SIMD paths give the parity the format promises on any
// machine: GF(2^8) with the polynomial x^8+x^4+x^3+x^2+1 (0x11d), the
// Vandermonde matrix V[r][c] = r^c of n rows and k columns, made systematic
// by multiplying with the inverse of its top k×k square.

func refMul(a, b byte) byte {
	var p byte
	for b != 0 {
		if b&1 != 0 {
			p ^= a
		}
		hi := a & 0x80
		a <<= 1
		if hi != 0 {
			a ^= 0x1d
		}
		b >>= 1
	}
	return p
}

func refPow(a byte, n int) byte {
	r := byte(1)
	for range n {
		r = refMul(r, a)
	}
	return r
}

func refInv(a byte) byte {
	for x := 1; x < 256; x++ {
		if refMul(a, byte(x)) == 1 {
			return byte(x)
		}
	}
	panic("no inverse of 0")
}

// refInvert inverts a square matrix by Gauss-Jordan elimination.
func refInvert(m [][]byte) [][]byte {
	k := len(m)
	a := make([][]byte, k)
	for i := range a {
		a[i] = make([]byte, 2*k)
		copy(a[i], m[i])
		a[i][k+i] = 1
	}
	for col := range k {
		pivot := col
		for a[pivot][col] == 0 {
			pivot++
		}
		a[col], a[pivot] = a[pivot], a[col]
		inv := refInv(a[col][col])
		for j := range a[col] {
			a[col][j] = refMul(a[col][j], inv)
		}
		for r := range k {
			if r != col && a[r][col] != 0 {
				f := a[r][col]
				for j := range a[r] {
					a[r][j] ^= refMul(f, a[col][j])
				}
			}
		}
	}
	out := make([][]byte, k)
	for i := range out {
		out[i] = a[i][k:]
	}
	return out
}

// refMatrix returns the n×k coding matrix.
func refMatrix(k, n int) [][]byte {
	vm := make([][]byte, n)
	for r := range vm {
		vm[r] = make([]byte, k)
		for c := range vm[r] {
			vm[r][c] = refPow(byte(r), c)
		}
	}
	topInv := refInvert(vm[:k])
	out := make([][]byte, n)
	for r := range out {
		out[r] = make([]byte, k)
		for c := range k {
			var v byte
			for x := range k {
				v ^= refMul(vm[r][x], topInv[x][c])
			}
			out[r][c] = v
		}
	}
	return out
}

func TestParityMatchesReferenceCoder(t *testing.T) {
	for _, tc := range []struct{ k, par, chunk, size int }{
		{1, 1, 1024, 3000},
		{2, 2, 4096, 10000},
		{3, 4, 1024, 2500},
		{4, 6, 64 << 10, 130 << 10},
		{10, 4, 4096, 9000},
		{17, 3, 4096, 5000},
	} {
		t.Run(fmt.Sprintf("k=%d,n=%d", tc.k, tc.k+tc.par), func(t *testing.T) {
			n := tc.k + tc.par
			mat := refMatrix(tc.k, n)
			for r := range tc.k { // systematic: the top is the identity
				for c := range tc.k {
					want := byte(0)
					if r == c {
						want = 1
					}
					if mat[r][c] != want {
						t.Fatalf("matrix row %d is not systematic: %v", r, mat[r])
					}
				}
			}
			data := randBytes(uint64(tc.k*1000+tc.par), tc.size)
			_, m, store := encodeBytes(t, &Options{ChunkSize: tc.chunk, DataShards: tc.k, ParityShards: tc.par}, data)
			for c := range m.NumChunks() {
				ss := m.ShardSize(c)
				chunk := data[c*tc.chunk : min(len(data), (c+1)*tc.chunk)]
				padded := make([]byte, tc.k*ss)
				copy(padded, chunk)
				for s := range n {
					want := make([]byte, ss)
					for x := range ss {
						var v byte
						for d := range tc.k {
							v ^= refMul(mat[s][d], padded[d*ss+x])
						}
						want[x] = v
					}
					got, _ := store.get(c, s)
					if !bytes.Equal(got, want) {
						t.Fatalf("chunk %d shard %d differs from the reference coder", c, s)
					}
				}
			}
		})
	}
}
