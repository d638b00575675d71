package dagbls

import (
	"crypto/rand"
	"fmt"
	"testing"

	"github.com/dagd/dagd/crypto"
	"github.com/dagd/dagd/dag"
)

// certificates returns m aggregate signatures of a quorum of n validators
// over distinct headers, as certificates carry them.
func certificates(b *testing.B, n, m int) (*Verifier, []dag.AggregateItem) {
	keys, c, err := DevKeys(7, n)
	if err != nil {
		b.Fatal(err)
	}
	v := NewVerifier(c, rand.Reader)
	q := 2*n/3 + 1
	items := make([]dag.AggregateItem, m)
	for j := range items {
		d := crypto.Hash([]byte(fmt.Sprintf("header %d", j)))
		var sigs [][]byte
		var signers []dag.ValidatorID
		for i := 0; i < q; i++ {
			sigs = append(sigs, keys[i].Sign(d[:]))
			signers = append(signers, dag.ValidatorID(i))
		}
		agg, err := v.Aggregate(sigs)
		if err != nil {
			b.Fatal(err)
		}
		items[j] = dag.AggregateItem{Msg: d[:], Signers: signers, Signature: agg}
	}
	return v, items
}

// BenchmarkCertificateVerify compares verifying certificates one by one
// with the randomized batch check, per certificate.
func BenchmarkCertificateVerify(b *testing.B) {
	for _, n := range []int{4, 10} {
		v, items := certificates(b, n, 64)
		b.Run(fmt.Sprintf("n=%d/single", n), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				it := items[i%len(items)]
				if err := v.VerifyAggregate(it.Msg, it.Signers, it.Signature); err != nil {
					b.Fatal(err)
				}
			}
		})
		for _, m := range []int{16, 64} {
			b.Run(fmt.Sprintf("n=%d/batch=%d", n, m), func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					if err := v.VerifyAggregates(items[:m]); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*m), "ns/cert")
			})
		}
	}
}
