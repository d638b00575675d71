package dag

import (
	"math/rand/v2"
	"testing"

	"github.com/dagd/dagd/crypto"
)

// BenchmarkOrdererAddPerCertificate measures the Bullshark commit cost per
// certificate: inserting a random 300-round DAG in causal order, commits
// included.
func BenchmarkOrdererAddPerCertificate(b *testing.B) {
	for _, n := range []int{4, 10} {
		c, _ := EqualStakeCommittee(0, n)
		certs := randomDAG(rand.New(rand.NewPCG(1, 2)), c, 300, 0)
		b.Run(map[int]string{4: "n=4", 10: "n=10"}[n], func(b *testing.B) {
			b.ReportAllocs()
			commits := 0
			for i := 0; i < b.N; i++ {
				o := NewOrderer(c, 50)
				for _, x := range certs {
					subs, err := o.Add(x)
					if err != nil {
						b.Fatal(err)
					}
					commits += len(subs)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(certs)), "ns/cert")
			b.ReportMetric(float64(commits)/float64(b.N), "commits/op")
		})
	}
}

// BenchmarkDecodeCertificate measures strict decoding of a certificate.
func BenchmarkDecodeCertificate(b *testing.B) {
	enc := EncodeMessage(sampleMessages()[2])
	b.SetBytes(int64(len(enc)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := DecodeMessage(enc); err != nil {
			b.Fatal(err)
		}
	}
}

type nullCrypto struct{}

func (nullCrypto) Sign([]byte) []byte                                  { return []byte{1} }
func (nullCrypto) VerifySignature(ValidatorID, []byte, []byte) error   { return nil }
func (nullCrypto) Aggregate([][]byte) ([]byte, error)                  { return []byte{1}, nil }
func (nullCrypto) VerifyAggregate([]byte, []ValidatorID, []byte) error { return nil }
func (nullCrypto) VerifyAggregates([]AggregateItem) error              { return nil }
func (nullCrypto) ReadBatch(crypto.Digest) (*Batch, bool)              { return nil, false }

// BenchmarkNodeCertificateStep measures the core's cost per certificate
// received from the network: checks, DAG insertion, records, proposals and
// commits, with signature checks stubbed out (they are measured in dagbls).
func BenchmarkNodeCertificateStep(b *testing.B) {
	c, _ := EqualStakeCommittee(0, 4)
	all := randomDAG(rand.New(rand.NewPCG(3, 4)), c, 300, 0)
	var certs []*Certificate
	for _, x := range all {
		if x.Author() != 0 { // validator 0 runs the node
			x.Signers = []ValidatorID{1, 2, 3}
			certs = append(certs, x)
		}
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		n, err := NewNode(Config{Self: 0, Committee: c, Signer: nullCrypto{}, Verifier: nullCrypto{}, Batches: nullCrypto{}, Options: Options{MaxRoundsAhead: 400}})
		if err != nil {
			b.Fatal(err)
		}
		for _, x := range certs {
			_ = n.Step(x.Author(), x)
			Drain(n)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(certs)), "ns/cert")
}
