package checkpoint_test

import (
	"fmt"
	"testing"

	"github.com/dagd/dagd/crypto/digest"
)

// BenchmarkCertificateVerify measures what a light client pays for one
// checkpoint: Certificate.Verify against committees of 4, 10 and 100
// equal-stake members, every member signing, on an epoch-end checkpoint
// (the larger kind). It reports the encoded certificate's size.
func BenchmarkCertificateVerify(b *testing.B) {
	for _, n := range []int{4, 10, 100} {
		b.Run(fmt.Sprintf("members=%d", n), func(b *testing.B) {
			keys := blsKeys(b, "bench", n)
			stakes := make([]uint64, n)
			for i := range stakes {
				stakes[i] = 1
			}
			com := committeeOf(b, 3, keys, stakes)
			next := digest.Hash([]byte("next"))
			c := certify(b, testCheckpoint(3, 99, &next), keys, all(n))
			enc, err := c.Encode()
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if err := c.Verify(com); err != nil {
					b.Fatal(err)
				}
			}
			// After the loop: ResetTimer (and b.Loop's start) clear
			// reported metrics.
			b.ReportMetric(float64(len(enc)), "cert-bytes")
		})
	}
}
