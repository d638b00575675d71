package engine

import (
	"encoding/binary"
	"sync"

	"github.com/dagd/dagd/crypto"
	"github.com/dagd/dagd/dag"
)

// preVerifiedCap bounds the remembered certificate checks: a few rounds'
// worth of certificates of a large committee.
const preVerifiedCap = 4096

// preVerifier is the core's dag.Verifier with one addition: the receive
// goroutine checks each certificate's aggregate signature as it decodes
// it (precheck), off the event loop and in parallel with it, and the
// core's own check of that certificate is then a lookup. A certificate
// costs a BLS pairing, the largest share of the event loop's work under
// load; this way the loop spends its time on the protocol. What is
// remembered is a BLAKE3 of the message, the signers and the signature,
// so only a check with the very same inputs is skipped. Bounded: the
// oldest entries are forgotten first.
type preVerifier struct {
	dag.Verifier

	mu   sync.Mutex
	ok   map[crypto.Digest]struct{}
	ring []crypto.Digest
	next int

	hits, checks uint64 // for tests and metrics
}

func newPreVerifier(v dag.Verifier) *preVerifier {
	return &preVerifier{Verifier: v, ok: make(map[crypto.Digest]struct{}, preVerifiedCap), ring: make([]crypto.Digest, 0, preVerifiedCap)}
}

// aggregateKey names one aggregate check by its inputs.
func aggregateKey(msg []byte, signers []dag.ValidatorID, sig []byte) crypto.Digest {
	ids := make([]byte, 2*len(signers))
	for i, s := range signers {
		binary.BigEndian.PutUint16(ids[2*i:], uint16(s))
	}
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(msg)))
	return crypto.Hash([]byte("dagd/engine/preverified/v1"), n[:], msg, ids, sig)
}

// VerifyAggregate implements dag.Verifier: a check that precheck already
// passed is not made again.
func (v *preVerifier) VerifyAggregate(msg []byte, signers []dag.ValidatorID, sig []byte) error {
	k := aggregateKey(msg, signers, sig)
	v.mu.Lock()
	_, hit := v.ok[k]
	if hit {
		v.hits++
	}
	v.mu.Unlock()
	if hit {
		return nil
	}
	return v.Verifier.VerifyAggregate(msg, signers, sig)
}

// precheck checks the aggregate signature of a certificate m as it is
// received, and remembers it when it holds. Anything else, and a
// certificate that fails, is left to the core, which refuses it with its
// reason.
func (v *preVerifier) precheck(m dag.Message) {
	c, ok := m.(*dag.Certificate)
	if !ok || c.Round() == 0 || len(c.Signers) == 0 {
		return
	}
	d := c.Digest()
	k := aggregateKey(d[:], c.Signers, c.Signature)
	v.mu.Lock()
	_, known := v.ok[k]
	v.mu.Unlock()
	if known {
		return
	}
	if v.Verifier.VerifyAggregate(d[:], c.Signers, c.Signature) != nil {
		return
	}
	v.mu.Lock()
	v.checks++
	v.mu.Unlock()
	v.remember(k)
}

// remember adds the key of a check that held, forgetting the oldest one
// when full.
func (v *preVerifier) remember(k crypto.Digest) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if _, dup := v.ok[k]; dup {
		return
	}
	if len(v.ring) < preVerifiedCap {
		v.ring = append(v.ring, k)
	} else {
		delete(v.ok, v.ring[v.next])
		v.ring[v.next] = k
		v.next = (v.next + 1) % preVerifiedCap
	}
	v.ok[k] = struct{}{}
}
