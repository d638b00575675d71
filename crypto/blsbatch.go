package crypto

import (
	"encoding/binary"
	"fmt"
	"io"
	"runtime"
	"sync"

	blst "github.com/supranational/blst/bindings/go"
)

// batchScalarBits is the size of the random weights of batch verification:
// an invalid member survives a batch with probability at most 2^-64.
const batchScalarBits = 64

// pairingItem is one signature check e(sig, g2) == e(H(msg), pk) with a
// validated pk and a decoded, subgroup-checked sig.
type pairingItem struct {
	pk  *blst.P2Affine
	sig *blst.P1Affine
	msg []byte
}

// verifyBatchFindBad verifies items as one randomized batch and, only if the
// batch fails, bisects it to return the positions of the invalid items in
// increasing order. A nil result means every item verified.
func verifyBatchFindBad(items []pairingItem, dst []byte, rand io.Reader) ([]int, error) {
	switch len(items) {
	case 0:
		return nil, nil
	case 1:
		// No randomness needed for a single equation.
		if verifyOne(items[0].pk, items[0].msg, items[0].sig, dst) {
			return nil, nil
		}
		return []int{0}, nil
	}
	ok, err := verifyBatch(items, dst, rand)
	if err != nil || ok {
		return nil, err
	}
	b := bisector{items: items, dst: dst, rand: rand}
	if err := b.find(0, len(items), true); err != nil {
		return nil, err
	}
	return b.bad, nil
}

// bisector finds the invalid members of a failed batch. A batch of valid
// members always passes, so a failed batch holds at least one invalid
// member; when the left half of a failed batch turns out clean, the right
// half is known to fail without checking it again.
type bisector struct {
	items []pairingItem
	dst   []byte
	rand  io.Reader
	bad   []int
}

func (b *bisector) find(lo, hi int, knownBad bool) error {
	if hi-lo == 1 {
		if knownBad || !verifyOne(b.items[lo].pk, b.items[lo].msg, b.items[lo].sig, b.dst) {
			b.bad = append(b.bad, lo)
		}
		return nil
	}
	if !knownBad {
		ok, err := verifyBatch(b.items[lo:hi], b.dst, b.rand)
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
	}
	mid := lo + (hi-lo)/2
	before := len(b.bad)
	if err := b.find(lo, mid, false); err != nil {
		return err
	}
	return b.find(mid, hi, len(b.bad) == before)
}

// verifyBatch checks prod_k e(r_k sig_k, g2) == prod_k e(r_k H(msg_k), pk_k)
// with fresh random 64-bit r_k from rand, on up to GOMAXPROCS goroutines,
// each accumulating Miller loops of a contiguous share into its own pairing
// context; the contexts are merged and one final exponentiation decides.
func verifyBatch(items []pairingItem, dst []byte, rand io.Reader) (bool, error) {
	scalars, err := randomScalars(rand, len(items))
	if err != nil {
		return false, err
	}
	workers := min(runtime.GOMAXPROCS(0), len(items))
	if workers <= 1 {
		ctx, ok := accumulate(items, scalars, dst)
		return ok && blst.PairingFinalVerify(ctx), nil
	}
	ctxs := make([]blst.Pairing, workers)
	oks := make([]bool, workers)
	var wg sync.WaitGroup
	per, extra := len(items)/workers, len(items)%workers
	lo := 0
	for w := range workers {
		hi := lo + per
		if w < extra {
			hi++
		}
		wg.Add(1)
		go func(w, lo, hi int) {
			defer wg.Done()
			ctxs[w], oks[w] = accumulate(items[lo:hi], scalars[lo:hi], dst)
		}(w, lo, hi)
		lo = hi
	}
	wg.Wait()
	for w := range workers {
		if !oks[w] {
			return false, nil
		}
		if w > 0 && blst.PairingMerge(ctxs[0], ctxs[w]) != blstSuccess {
			return false, nil
		}
	}
	return blst.PairingFinalVerify(ctxs[0]), nil
}

// accumulate adds the weighted Miller loops of items into a new pairing
// context and commits it.
func accumulate(items []pairingItem, scalars []blst.Scalar, dst []byte) (blst.Pairing, bool) {
	ctx := blst.PairingCtx(true, dst)
	for k := range items {
		it := &items[k]
		if blst.PairingMulNAggregatePkInG2(ctx, it.pk, false, it.sig, false, &scalars[k], batchScalarBits, it.msg) != blstSuccess {
			return nil, false
		}
	}
	blst.PairingCommit(ctx)
	return ctx, true
}

// randomScalars reads n non-zero 64-bit weights from rand.
func randomScalars(rand io.Reader, n int) ([]blst.Scalar, error) {
	buf := make([]byte, 8*n)
	if _, err := io.ReadFull(rand, buf); err != nil {
		return nil, fmt.Errorf("read batch randomness: %w", err)
	}
	out := make([]blst.Scalar, n)
	var le [blst.BLST_SCALAR_BYTES]byte
	for k := range out {
		r := binary.LittleEndian.Uint64(buf[8*k:])
		for r == 0 { // a zero weight would drop the member from the check
			if _, err := io.ReadFull(rand, le[:8]); err != nil {
				return nil, fmt.Errorf("read batch randomness: %w", err)
			}
			r = binary.LittleEndian.Uint64(le[:8])
		}
		binary.LittleEndian.PutUint64(le[:8], r)
		if out[k].FromLEndian(le[:]) == nil {
			return nil, fmt.Errorf("read batch randomness: zero scalar after reduction")
		}
	}
	clear(buf)
	clear(le[:])
	return out, nil
}
