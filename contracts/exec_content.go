package contracts

import (
	"fmt"

	"github.com/dagd/dagd/crypto"
)

// Execution of content registration.

// precheck checks what the sender signed against the state: the epoch,
// that the content is not registered (or has expired), and the shard
// bound of the committee, which it returns. It rejects through x.
func (o *RegisterContent) precheck(x *execCtx) *crypto.BLSCommittee {
	key := ContentKey(o.CID)
	if o.Epoch != x.m.p.CommitteeEpoch {
		x.reject(CodeBadCertificate, "bad certificate: signed for epoch %d, the ledger's committee is of epoch %d", o.Epoch, x.m.p.CommitteeEpoch)
		return nil
	}
	if old := x.get(key); old != nil {
		rec, err := DecodeContent(old)
		if err != nil {
			x.corrupt(key, err)
			return nil
		}
		if !rec.Expired(x.env.Time) {
			x.reject(CodeExists, "content %x already registered (paid until %d)", o.CID, rec.Expiry)
			return nil
		}
		// Expired: its holders collect it; a new registration replaces it.
	}
	raw := x.get(CommitteeKey())
	if x.failed() {
		return nil
	}
	if raw == nil {
		x.reject(CodeNotFound, "no committee: genesis has not been applied")
		return nil
	}
	c, err := x.m.blsCommittee(raw)
	if err != nil {
		x.corrupt(CommitteeKey(), err)
		return nil
	}
	if limit := MaxShardsPerValidator * c.Size(); int(o.N) > limit {
		x.reject(CodeInvalid, "shards n=%d: more than %d per validator of a committee of %d (limit %d)", o.N, MaxShardsPerValidator, c.Size(), limit)
		return nil
	}
	return c
}

// checkWitness implements witnessed: the availability certificate must
// carry a quorum's stake. It runs before the fee is charged, on the state
// exec then sees (the charge writes only the sender's account).
func (o *RegisterContent) checkWitness(x *execCtx) *rejection {
	c := o.precheck(x)
	if c == nil {
		x.rej = nil // the sender's fault: exec rejects it again, charged
		return nil
	}
	bad := func(format string, args ...any) *rejection {
		return &rejection{code: CodeBadWitness, reason: "bad certificate: " + fmt.Sprintf(format, args...)}
	}
	signers, err := crypto.ParseBitmap(o.Signers, c.Size())
	if err != nil {
		return bad("signers: %v", err)
	}
	stmt := AvailabilityStatement(x.env.ChainID, o.Epoch, o.CID, o.Size, o.K, o.N, o.ManifestDigest)
	stake, err := c.VerifyAggregate(stmt, signers, o.Signature[:])
	if err != nil {
		return bad("%v", err)
	}
	if q := c.QuorumStake(); stake < q {
		return bad("no quorum: signers hold %d of %d stake, need %d", stake, c.TotalStake(), q)
	}
	x.witnessStake = stake
	return nil
}

func (o *RegisterContent) exec(x *execCtx) {
	if o.precheck(x) == nil {
		return
	}
	if x.witnessStake == 0 {
		// Apply verifies the witness before the charge whenever precheck
		// passes; reaching here without it is a bug, not a client's fault.
		x.err = fmt.Errorf("contracts: registration of %x reached execution with an unverified certificate", o.CID)
		return
	}
	rec := &Content{Registrant: x.tx.Sender, CID: o.CID, Size: o.Size, K: o.K, N: o.N, Manifest: o.ManifestDigest,
		Seq: x.env.Seq, Time: x.env.Time, Expiry: satAdd(x.env.Time, o.Retention)}
	x.put(ContentKey(o.CID), rec.Encode())
	x.event("content_register", "cid", fmt.Sprintf("%x", o.CID), "size", dec(o.Size), "k", dec(uint64(o.K)),
		"n", dec(uint64(o.N)), "manifest", hexDigest(o.ManifestDigest), "signers", dec(uint64(crypto.Bitmap(o.Signers).Count())),
		"stake", dec(x.witnessStake), "expiry", dec(rec.Expiry))
}

func (o *RenewContent) exec(x *execCtx) {
	key := ContentKey(o.CID)
	raw := x.get(key)
	if x.failed() {
		return
	}
	if raw == nil {
		x.reject(CodeNotFound, "content %x is not registered", o.CID)
		return
	}
	rec, err := DecodeContent(raw)
	if err != nil {
		x.corrupt(key, err)
		return
	}
	if rec.Size != o.Size || rec.K != o.K || rec.N != o.N {
		x.reject(CodeInvalid, "content %x is size %d k=%d n=%d, the renewal says size %d k=%d n=%d", o.CID, rec.Size, rec.K, rec.N, o.Size, o.K, o.N)
		return
	}
	if rec.Expired(x.env.Time) {
		x.reject(CodeNotFound, "content %x expired at %d: register it again", o.CID, rec.Expiry)
		return
	}
	expiry := satAdd(rec.Expiry, o.Retention)
	if limit := satAdd(x.env.Time, x.m.p.MaxContentRetention); expiry > limit {
		x.reject(CodeInvalid, "renewal to %d: more than Params.MaxContentRetention (%d ms) ahead of now (%d)", expiry, x.m.p.MaxContentRetention, x.env.Time)
		return
	}
	rec.Expiry = expiry
	x.put(key, rec.Encode())
	x.event("content_renew", "cid", fmt.Sprintf("%x", o.CID), "expiry", dec(expiry))
}

// blsCommittee returns the committee of the encoded Committee raw, built
// once and cached: building it parses every key and checks every proof of
// possession. The result depends on raw alone.
func (m *Module) blsCommittee(raw []byte) (*crypto.BLSCommittee, error) {
	h := crypto.Hash(raw)
	m.mu.Lock()
	if m.committee.c != nil && m.committee.raw == h {
		c := m.committee.c
		m.mu.Unlock()
		return c, nil
	}
	m.mu.Unlock()
	cm, err := DecodeCommittee(raw)
	if err != nil {
		return nil, err
	}
	c, err := cm.BLSCommittee()
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	m.committee.raw, m.committee.c = h, c
	m.mu.Unlock()
	return c, nil
}

// BLSCommittee parses c's keys and checks their proofs of possession.
func (c *Committee) BLSCommittee() (*crypto.BLSCommittee, error) {
	keys := make([]*crypto.BLSPublicKey, len(c.Members))
	pops := make([][]byte, len(c.Members))
	stakes := make([]uint64, len(c.Members))
	for i := range c.Members {
		m := &c.Members[i]
		k, err := crypto.ParseBLSPublicKey(m.BLSPublicKey[:])
		if err != nil {
			return nil, fmt.Errorf("contracts: committee member %d: %w", i, err)
		}
		keys[i], pops[i], stakes[i] = k, m.ProofOfPossession[:], m.Stake
	}
	bc, err := crypto.NewBLSCommittee(keys, pops, stakes)
	if err != nil {
		return nil, fmt.Errorf("contracts: committee: %w", err)
	}
	return bc, nil
}
