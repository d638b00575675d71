package dag

import (
	"encoding/binary"
	"testing"
)

// benchTxs returns n transactions of size bytes, each distinct.
func benchTxs(n, size int) [][]byte {
	txs := make([][]byte, n)
	for i := range txs {
		tx := make([]byte, size)
		binary.BigEndian.PutUint64(tx, uint64(i)+1)
		for j := 8; j < size; j++ {
			tx[j] = byte(i*31 + j)
		}
		txs[i] = tx
	}
	return txs
}

// The devnet's batches: 100 kB of 512-byte transactions (engine
// DefaultDAGOptions.BatchSize).
const benchBatchTxs, benchTxSize = 196, 512

// BenchmarkBatchReceive measures the core's path of a batch from a peer:
// strict decoding of the frame, then Step (checks, digest, record,
// acknowledgement) and Ready.
func BenchmarkBatchReceive(b *testing.B) {
	c, _ := EqualStakeCommittee(0, 4)
	frame := EncodeMessage(&Batch{Author: 1, Transactions: benchTxs(benchBatchTxs, benchTxSize)})
	n, err := NewNode(Config{Self: 0, Committee: c, Signer: nullCrypto{}, Verifier: nullCrypto{}, Batches: nullCrypto{}})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		// A distinct batch each time, as on the wire: the last byte of
		// the last transaction counts the iterations.
		binary.BigEndian.PutUint32(frame[len(frame)-4:], uint32(i))
		m, err := DecodeMessage(frame)
		if err != nil {
			b.Fatal(err)
		}
		if err := n.Step(1, m); err != nil {
			b.Fatal(err)
		}
		if rd := Drain(n); len(rd.Persist) == 0 {
			b.Fatal("batch not persisted")
		}
	}
}

// BenchmarkBatchSeal measures the core's path of an own batch: Submit of
// its transactions, sealing (encoding, digest, record) and the broadcast's
// encoding into a frame, as the engine sends it.
func BenchmarkBatchSeal(b *testing.B) {
	c, _ := EqualStakeCommittee(0, 4)
	txs := benchTxs(benchBatchTxs, benchTxSize)
	n, err := NewNode(Config{Self: 0, Committee: c, Signer: nullCrypto{}, Verifier: nullCrypto{}, Batches: nullCrypto{},
		Options: Options{BatchSize: benchBatchTxs * benchTxSize, MaxPendingBatches: 1 << 30}})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(benchBatchTxs * benchTxSize))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		for _, tx := range txs {
			if err := n.Submit(tx); err != nil {
				b.Fatal(err)
			}
		}
		rd := Drain(n)
		sent := 0
		for _, o := range rd.Messages {
			if _, ok := o.Msg.(*Batch); ok {
				sent += len(EncodeMessage(o.Msg))
			}
		}
		if sent == 0 {
			b.Fatal("no batch sealed")
		}
	}
}
