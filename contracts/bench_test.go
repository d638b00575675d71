package contracts

import (
	"testing"

	"github.com/dagd/dagd/crypto"
)

// BenchmarkApplyNativeTransfer measures Apply of native transfers on one
// goroutine over a map-backed store, without signature checks (the
// executor batch-verifies signatures before Apply): 1,000 senders in
// turn, each paying a different recipient.
func BenchmarkApplyNativeTransfer(b *testing.B) {
	const senders = 1_000
	m := NewModule(Params{})
	st := newMemStore()
	keys := make([]crypto.AccountPublicKey, senders)
	for i := range keys {
		keys[i] = accountKey(i).Public()
		_ = st.Set(AccountKey(keys[i]), (&Account{Balance: 1 << 62}).Encode())
	}
	env := Env{ChainID: testChain, Seq: 1, Time: 1}
	txs := make([]*Tx, b.N)
	for i := range txs {
		s := i % senders
		txs[i] = NewTx(testChain, uint64(i/senders), DefaultMinFee, 10, NewTransfer(keys[(s+1)%senders], 1))
		txs[i].Sender = keys[s]
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		rc, err := m.Apply(env, st, txs[i])
		if err != nil || !rc.OK() {
			b.Fatalf("%v %+v", err, rc)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tx/s")
}

// BenchmarkKeysNativeTransfer measures Keys of a native transfer, which
// the executor computes once per transaction to schedule it.
func BenchmarkKeysNativeTransfer(b *testing.B) {
	m := NewModule(Params{})
	tx := NewSignedTx(accountKey(0), testChain, 0, DefaultMinFee, 10, NewTransfer(accountKey(1).Public(), 1))
	b.ReportAllocs()
	for b.Loop() {
		_ = m.Keys(tx)
	}
}

// BenchmarkDecodeTx measures DecodeTx of a native transfer (173 bytes)
// and of an SFT batch transfer of 64 items (1,223 bytes).
func BenchmarkDecodeTx(b *testing.B) {
	items := make([]SFTAmount, 64)
	for i := range items {
		items[i] = SFTAmount{ID: uint64(i), Amount: 1}
	}
	for _, c := range []struct {
		name string
		op   Op
	}{
		{"transfer", NewTransfer(accountKey(1).Public(), 1)},
		{"sft-batch-64", NewSFTBatchTransfer(digestOf("c"), accountKey(1).Public(), items)},
	} {
		raw := NewSignedTx(accountKey(0), testChain, 0, DefaultMinFee, 10, c.op).Encode()
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(raw)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := DecodeTx(raw); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkTxDigest measures Digest (encode and BLAKE3) of a native
// transfer, which Apply computes for the receipt.
func BenchmarkTxDigest(b *testing.B) {
	tx := NewSignedTx(accountKey(0), testChain, 0, DefaultMinFee, 10, NewTransfer(accountKey(1).Public(), 1))
	b.ReportAllocs()
	for b.Loop() {
		_ = tx.Digest()
	}
}
