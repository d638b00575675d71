package blsverify

import (
	"fmt"
	"testing"
)

// BenchmarkVerifyAggregate verifies one certificate by n keys: decoding the
// 48-byte signature (with its subgroup check), adding the n parsed keys,
// hashing the message and one two-pairing check. Keys are parsed once per
// epoch and not counted. crypto's BenchmarkBLSVerifyAggregateKeys does the
// same with blst.
func BenchmarkVerifyAggregate(b *testing.B) {
	msg := []byte("a 32-byte header digest to sign!")
	for _, n := range []int{4, 10, 100} {
		b.Run(fmt.Sprintf("keys=%d", n), func(b *testing.B) {
			pks := make([]*PublicKey, n)
			sigs := make([]*Signature, n)
			for i := range n {
				k := newTestKey(b, "bench", i)
				pks[i], sigs[i] = k.pk, k.sign(b, msg)
			}
			agg := aggregateSigs(b, sigs...).Bytes()
			for b.Loop() {
				s, err := ParseSignature(agg)
				if err != nil {
					b.Fatal(err)
				}
				if err := VerifyAggregate(pks, msg, s); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkParsePublicKey decodes a compressed G2 key with its subgroup
// check (once per key per epoch).
func BenchmarkParsePublicKey(b *testing.B) {
	pk := newTestKey(b, "bench", 0).pk.Bytes()
	for b.Loop() {
		if _, err := ParsePublicKey(pk); err != nil {
			b.Fatal(err)
		}
	}
}
