package engine

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"

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
// so only a check with the very same inputs is skipped. Checks that
// failed are remembered too (the core then refuses the certificate
// without a pairing, and the receive path drops its sender for a while).
// Bounded: the oldest entries are forgotten first.
type preVerifier struct {
	dag.Verifier
	chainID string
	epoch   uint64
	comm    *dag.Committee

	mu  sync.Mutex
	ok  *dag.RecentDigests // checks that held
	bad *dag.RecentDigests // checks that failed
	// budget is each peer's share of the receive path's checks: a token
	// bucket of precheckBurst checks refilled at precheckRate a second.
	// Beyond it a certificate is left to the core, whose inbox serves
	// the peers in turn: one peer's forgeries cannot hold up the others'
	// messages in the receive path.
	budget []float64
	filled []time.Time
	// failedAt is when each peer's last precheck failed: a failure costs
	// precheckFailCost checks of its budget, and while its budget is
	// spent, such a peer's certificates are dropped rather than left to
	// the core.
	failedAt []time.Time
	// skipped counts certificates left to the core for want of budget.
	skipped uint64
	// clock is time.Now (tests freeze it).
	clock func() time.Time

	hits, checks uint64 // for tests and metrics
}

// A peer's share of prechecks: an honest validator broadcasts one
// certificate a round, a few dozen rounds a second at most.
// A failed check costs precheckFailCost of them: a peer that sends only
// forgeries gets two checks a second. precheckFaultMemory is how long a
// failure marks the peer as faulty.
const (
	precheckRate        = 64
	precheckBurst       = 64
	precheckFailCost    = 32
	precheckFaultMemory = 30 * time.Second
)

// errOverBudget refuses a certificate of a peer whose checks failed
// recently and whose share of checks is spent.
var errOverBudget = errors.New("engine: the peer's certificates failed their checks recently and its share of checks is spent")

func newPreVerifier(v dag.Verifier, chainID string, epoch uint64, comm *dag.Committee) *preVerifier {
	size := comm.Size()
	return &preVerifier{Verifier: v, chainID: chainID, epoch: epoch, comm: comm,
		budget: make([]float64, size), filled: make([]time.Time, size), failedAt: make([]time.Time, size), clock: time.Now,
		ok: dag.NewRecentDigests(preVerifiedCap), bad: dag.NewRecentDigests(badCap)}
}

// badCap bounds the remembered failed checks.
const badCap = 1024

// errKnownBad refuses a check that failed before.
var errKnownBad = errors.New("engine: aggregate signature failed before")

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
	hit := v.ok.Has(k)
	if hit {
		v.hits++
	}
	bad := v.bad.Has(k)
	v.mu.Unlock()
	if hit {
		return nil
	}
	if bad {
		return errKnownBad
	}
	return v.Verifier.VerifyAggregate(msg, signers, sig)
}

// precheck checks the aggregate signature of a certificate m from peer
// from as it is received, and remembers the outcome. It returns an error
// only when the signature fails (and so its sender is faulty: honest
// validators broadcast only their own certificates, checked); anything
// else, and a certificate the core refuses on cheaper grounds (another
// author than its sender, a bitmap of another size), is left to the core,
// which refuses it with its reason.
func (v *preVerifier) precheck(from dag.ValidatorID, m dag.Message) error {
	c, ok := m.(*dag.Certificate)
	if !ok || c.Round() == 0 || len(c.Signers) == 0 || c.Author() != from || c.Header.Epoch != v.epoch ||
		c.CommitteeSize != v.comm.Size() || !v.quorum(c.Signers) {
		return nil
	}
	msg := dag.SigningMessage(v.chainID, v.epoch, c.Digest())
	k := aggregateKey(msg, c.Signers, c.Signature)
	v.mu.Lock()
	known := v.ok.Has(k)
	bad := v.bad.Has(k)
	v.mu.Unlock()
	if known {
		return nil
	}
	if bad {
		return fmt.Errorf("%s: %w", c, errKnownBad)
	}
	now := v.clock()
	if !v.spend(from, now) {
		v.mu.Lock()
		faulty := !v.failedAt[from].IsZero() && now.Sub(v.failedAt[from]) < precheckFaultMemory
		v.mu.Unlock()
		if faulty {
			return fmt.Errorf("%s: %w", c, errOverBudget)
		}
		return nil
	}
	if err := v.Verifier.VerifyAggregate(msg, c.Signers, c.Signature); err != nil {
		v.mu.Lock()
		v.bad.Add(k)
		v.failedAt[from] = now
		v.budget[from] = max(v.budget[from]-precheckFailCost, -precheckBurst)
		v.mu.Unlock()
		return fmt.Errorf("%s aggregate signature: %w", c, err)
	}
	v.mu.Lock()
	v.checks++
	v.mu.Unlock()
	v.remember(k)
	return nil
}

// quorum reports whether signers are distinct members carrying a quorum
// of stake (the core refuses the rest without a check).
func (v *preVerifier) quorum(signers []dag.ValidatorID) bool {
	seen := make([]bool, v.comm.Size())
	var stake uint64
	for _, s := range signers {
		if !v.comm.Has(s) || seen[s] {
			return false
		}
		seen[s] = true
		stake += v.comm.Stake(s)
	}
	return stake >= v.comm.QuorumThreshold()
}

// spend takes one precheck from peer's budget, or reports false.
func (v *preVerifier) spend(peer dag.ValidatorID, now time.Time) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	if int(peer) >= len(v.budget) {
		return false
	}
	if last := v.filled[peer]; last.IsZero() {
		v.budget[peer] = precheckBurst
	} else {
		v.budget[peer] = min(precheckBurst, v.budget[peer]+now.Sub(last).Seconds()*precheckRate)
	}
	v.filled[peer] = now
	if v.budget[peer] < 1 {
		v.skipped++
		return false
	}
	v.budget[peer]--
	return true
}

// remember adds the key of a check that held, forgetting the oldest one
// when full.
func (v *preVerifier) remember(k crypto.Digest) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.ok.Add(k)
}
