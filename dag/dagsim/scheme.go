package dagsim

import (
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/zeebo/blake3"

	"github.com/dagd/dagd/dag"
)

// fastKeys is the simulator's cheap signature scheme: each validator signs
// with a keyed BLAKE3 MAC under its own secret, and aggregates are the XOR
// of the signers' MACs. Only the simulated verifier sees every secret; a
// validator's code holds only its own, so a Byzantine validator still
// cannot sign for another.
type fastKeys struct {
	secrets [][32]byte
}

func newFastKeys(seed uint64, n int) *fastKeys {
	k := &fastKeys{secrets: make([][32]byte, n)}
	for i := range k.secrets {
		var in [16]byte
		binary.BigEndian.PutUint64(in[:8], seed)
		binary.BigEndian.PutUint64(in[8:], uint64(i))
		k.secrets[i] = blake3.Sum256(append([]byte("dagsim/key"), in[:]...))
	}
	return k
}

func mac(secret [32]byte, msg []byte) []byte {
	h, _ := blake3.NewKeyed(secret[:]) // a 32-byte key never fails
	_, _ = h.Write(msg)
	return h.Sum(nil)
}

type fastSigner struct{ secret [32]byte }

func (s fastSigner) Sign(msg []byte) []byte { return mac(s.secret, msg) }

var errBadSig = errors.New("dagsim: bad signature")

func (k *fastKeys) VerifySignature(i dag.ValidatorID, msg, sig []byte) error {
	if int(i) >= len(k.secrets) {
		return fmt.Errorf("dagsim: unknown signer %d", i)
	}
	if subtle.ConstantTimeCompare(mac(k.secrets[i], msg), sig) != 1 {
		return errBadSig
	}
	return nil
}

func (k *fastKeys) Aggregate(sigs [][]byte) ([]byte, error) {
	out := make([]byte, 32)
	for _, s := range sigs {
		if len(s) != 32 {
			return nil, errBadSig
		}
		for i := range out {
			out[i] ^= s[i]
		}
	}
	return out, nil
}

func (k *fastKeys) VerifyAggregate(msg []byte, signers []dag.ValidatorID, sig []byte) error {
	sigs := make([][]byte, len(signers))
	for i, s := range signers {
		if int(s) >= len(k.secrets) {
			return fmt.Errorf("dagsim: unknown signer %d", s)
		}
		sigs[i] = mac(k.secrets[s], msg)
	}
	want, _ := k.Aggregate(sigs)
	if subtle.ConstantTimeCompare(want, sig) != 1 {
		return errBadSig
	}
	return nil
}

func (k *fastKeys) VerifyAggregates(items []dag.AggregateItem) error {
	for _, it := range items {
		if err := k.VerifyAggregate(it.Msg, it.Signers, it.Signature); err != nil {
			return err
		}
	}
	return nil
}
