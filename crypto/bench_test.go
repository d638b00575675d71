package crypto

import (
	stded25519 "crypto/ed25519"
	"fmt"
	mrand "math/rand/v2"
	"testing"

	blst "github.com/supranational/blst/bindings/go"
)

// Results and the commands that produce them are in bench/crypto.md.

var benchMsg = []byte("a 32-byte header digest to sign!")

func BenchmarkBLSSign(b *testing.B) {
	k := mustBLSKey(b, "bench", 0)
	for b.Loop() {
		k.Sign(benchMsg)
	}
}

// BenchmarkBLSVerify includes decoding the signature with its subgroup
// check, as a vote from the network needs.
func BenchmarkBLSVerify(b *testing.B) {
	k := mustBLSKey(b, "bench", 0)
	sig := k.Sign(benchMsg)
	for b.Loop() {
		if err := VerifyBLS(k.PublicKey(), benchMsg, sig); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBLSVerifyAggregate verifies one certificate signed by every
// member of a committee of n, and (quorum) by 2n/3+1 of a committee of 100.
func BenchmarkBLSVerifyAggregate(b *testing.B) {
	run := func(name string, n, signers int) {
		b.Run(name, func(b *testing.B) {
			tc := newTestCommittee(b, "bench", n)
			idx := make([]int, signers)
			for i := range idx {
				idx[i] = i
			}
			bm, agg := tc.certify(b, benchMsg, idx)
			for b.Loop() {
				if _, err := tc.c.VerifyAggregate(benchMsg, bm, agg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	for _, n := range []int{4, 10, 100} {
		run(fmt.Sprintf("signers=%d", n), n, n)
	}
	run("quorum=67of100", 100, 67)
}

// BenchmarkBLSVerifyAggregateKeys is crypto/blsverify's
// BenchmarkVerifyAggregate on blst, the ceiling for the pure-Go path: decode
// the signature, add the n keys of a list (no precomputed committee sum),
// verify.
func BenchmarkBLSVerifyAggregateKeys(b *testing.B) {
	for _, n := range []int{4, 10, 100} {
		b.Run(fmt.Sprintf("keys=%d", n), func(b *testing.B) {
			tc := newTestCommittee(b, "bench", n)
			all := make([]int, n)
			for i := range all {
				all[i] = i
			}
			_, agg := tc.certify(b, benchMsg, all)
			for b.Loop() {
				sig, err := parseBLSSignature(agg)
				if err != nil {
					b.Fatal(err)
				}
				var acc blst.P2
				for i, k := range tc.pubs {
					if i == 0 {
						acc.FromAffine(&k.p)
					} else {
						acc.AddAssign(&k.p)
					}
				}
				if !verifyOne(acc.ToAffine(), benchMsg, sig, dstSig()) {
					b.Fatal("does not verify")
				}
			}
		})
	}
}

// BenchmarkBLSVerifyAggregates batch-verifies certificates of distinct
// messages, each signed by a quorum of a committee of 10; ns/cert is the
// cost per certificate.
func BenchmarkBLSVerifyAggregates(b *testing.B) {
	tc := newTestCommittee(b, "bench", 10)
	for _, count := range []int{16, 64} {
		b.Run(fmt.Sprintf("certs=%d", count), func(b *testing.B) {
			checks := make([]AggregateCheck, count)
			for k := range checks {
				msg := []byte(fmt.Sprintf("header %d", k))
				bm, agg := tc.certify(b, msg, []int{0, 1, 2, 3, 4, 5, 6})
				checks[k] = AggregateCheck{Msg: msg, Signers: bm, Signature: agg}
			}
			rng := mrand.NewChaCha8([32]byte{1})
			for b.Loop() {
				if err := tc.c.VerifyAggregates(checks, rng); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*count), "ns/cert")
		})
	}
}

// BenchmarkBLSAggregateSignatures adds 67 votes into a certificate
// signature.
func BenchmarkBLSAggregateSignatures(b *testing.B) {
	var sigs [][]byte
	for i := range 67 {
		sigs = append(sigs, mustBLSKey(b, "bench", i).Sign(benchMsg))
	}
	for b.Loop() {
		if _, err := AggregateBLSSignatures(sigs); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBLSVariant compares min-sig (signatures in G1, what dagd uses)
// with min-pk (signatures in G2) on blst directly, with the same work on
// both sides: hashing to the signature group, decompressing and
// subgroup-checking the signature, and for aggregates summing
// proof-of-possession-checked public keys (FastAggregateVerify).
func BenchmarkBLSVariant(b *testing.B) {
	const maxSigners = 100
	sks := make([]*blst.SecretKey, maxSigners)
	for i := range sks {
		sks[i] = blst.KeyGen(testSeed("variant", i))
	}
	dst := []byte("BENCH_BLS_SIG_XMD:SHA-256_SSWU_RO_POP_")
	signerCounts := []int{4, 10, 100}

	b.Run("min-sig", func(b *testing.B) {
		pks := make([]*blst.P2Affine, maxSigners)
		for i, sk := range sks {
			pks[i] = new(blst.P2Affine).From(sk)
		}
		b.Run("sign", func(b *testing.B) {
			for b.Loop() {
				new(blst.P1Affine).Sign(sks[0], benchMsg, dst).Compress()
			}
		})
		sig := new(blst.P1Affine).Sign(sks[0], benchMsg, dst).Compress()
		b.Run("verify", func(b *testing.B) {
			for b.Loop() {
				s := new(blst.P1Affine).Uncompress(sig)
				if s == nil || !s.Verify(true, pks[0], false, benchMsg, dst) {
					b.Fatal("verify failed")
				}
			}
		})
		for _, n := range signerCounts {
			var agg blst.P1Aggregate
			for _, sk := range sks[:n] {
				agg.Add(new(blst.P1Affine).Sign(sk, benchMsg, dst), false)
			}
			aggSig := agg.ToAffine().Compress()
			b.Run(fmt.Sprintf("fast-aggregate-verify/signers=%d", n), func(b *testing.B) {
				for b.Loop() {
					s := new(blst.P1Affine).Uncompress(aggSig)
					if s == nil || !s.FastAggregateVerify(true, pks[:n], benchMsg, dst) {
						b.Fatal("verify failed")
					}
				}
			})
		}
	})

	b.Run("min-pk", func(b *testing.B) {
		pks := make([]*blst.P1Affine, maxSigners)
		for i, sk := range sks {
			pks[i] = new(blst.P1Affine).From(sk)
		}
		b.Run("sign", func(b *testing.B) {
			for b.Loop() {
				new(blst.P2Affine).Sign(sks[0], benchMsg, dst).Compress()
			}
		})
		sig := new(blst.P2Affine).Sign(sks[0], benchMsg, dst).Compress()
		b.Run("verify", func(b *testing.B) {
			for b.Loop() {
				s := new(blst.P2Affine).Uncompress(sig)
				if s == nil || !s.Verify(true, pks[0], false, benchMsg, dst) {
					b.Fatal("verify failed")
				}
			}
		})
		for _, n := range signerCounts {
			var agg blst.P2Aggregate
			for _, sk := range sks[:n] {
				agg.Add(new(blst.P2Affine).Sign(sk, benchMsg, dst), false)
			}
			aggSig := agg.ToAffine().Compress()
			b.Run(fmt.Sprintf("fast-aggregate-verify/signers=%d", n), func(b *testing.B) {
				for b.Loop() {
					s := new(blst.P2Affine).Uncompress(aggSig)
					if s == nil || !s.FastAggregateVerify(true, pks[:n], benchMsg, dst) {
						b.Fatal("verify failed")
					}
				}
			})
		}
	})
}

func BenchmarkEd25519Verify(b *testing.B) {
	k := AccountKeyFromSeed([32]byte{1})
	sig := k.Sign(benchMsg)
	pub := k.Public()
	b.Run("stdlib", func(b *testing.B) {
		for b.Loop() {
			if !stded25519.Verify(pub[:], benchMsg, sig) {
				b.Fatal("verify failed")
			}
		}
	})
	b.Run("voi-zip215", func(b *testing.B) {
		for b.Loop() {
			if !VerifyAccount(pub, benchMsg, sig) {
				b.Fatal("verify failed")
			}
		}
	})
}

// BenchmarkEd25519Batch verifies n signatures by n distinct keys with
// VerifyAccountBatch on one worker and on GOMAXPROCS workers; ns/sig is the
// cost per signature.
func BenchmarkEd25519Batch(b *testing.B) {
	for _, n := range []int{64, 1024} {
		items := make([]AccountSig, n)
		for i := range items {
			k := AccountKeyFromSeed([32]byte{byte(i), byte(i >> 8), 1})
			msg := []byte(fmt.Sprintf("transaction %d", i))
			items[i] = AccountSig{PublicKey: k.Public(), Msg: msg, Sig: k.Sign(msg)}
		}
		for _, workers := range []int{1, 0} {
			name := fmt.Sprintf("n=%d/workers=%d", n, workers)
			if workers == 0 {
				name = fmt.Sprintf("n=%d/workers=GOMAXPROCS", n)
			}
			b.Run(name, func(b *testing.B) {
				for b.Loop() {
					if _, ok := VerifyAccountBatch(items, workers); !ok {
						b.Fatal("batch failed")
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/sig")
			})
		}
	}
}

func BenchmarkKeystoreDecrypt(b *testing.B) {
	k := mustBLSKey(b, "bench", 0)
	for _, c := range []struct {
		name string
		opts KeystoreOptions
	}{{"scrypt-default-2^18", KeystoreOptions{}}, {"scrypt-light-2^10", KeystoreOptions{ScryptN: 1 << 10}}} {
		ks, err := EncryptKeystoreWithOptions(k.Bytes(), []byte("password"), "", nil, nil, c.opts)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := DecryptKeystore(ks, []byte("password")); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
