package dag

import (
	"bytes"
	"errors"
	"fmt"
	"slices"

	"github.com/dagd/dagd/crypto"
)

type voteSlot struct {
	author ValidatorID
	round  uint64
}

// voteRecord is this validator's vote on one slot, kept so that a replayed
// header is answered with the same vote instead of a new signature.
type voteRecord struct {
	sig    []byte
	sentAt Time
}

// syncGrant is what a sync request to one peer allows its answers to
// bring: certificates of rounds from on, at most left of them, until
// the grant expires.
type syncGrant struct {
	from  uint64
	left  uint32
	until Time
}

// Bounds of the primary's memory of failed checks and of its requests.
const (
	// badCertCap bounds the remembered certificates whose aggregate
	// signature failed.
	badCertCap = 1024
	// maxWanted bounds the causal history one certificate response may
	// bring beyond what was asked.
	maxWanted = 4 * MaxResponseCerts
	// firstChunk is how many certificates of a response are checked in
	// the first batch; each further batch doubles. A forged response
	// costs one small batch and one single check before it is dropped.
	firstChunk = 4
)

// Primary is the Narwhal primary core of one validator as a pure state
// machine: it proposes at most one header per round, votes for others'
// valid headers at most once per author and round, assembles certificates
// from votes, keeps the DAG causally complete by requesting what is
// missing, and feeds certificates to the Bullshark orderer.
type Primary struct {
	self      ValidatorID
	committee *Committee
	opts      *Options
	out       *outbox
	signer    Signer
	verifier  Verifier
	worker    *Worker
	orderer   *Orderer
	onCommit  func([]*CommittedSubDAG)
	history   CertificateReader // may be nil
	chainID   string

	now Time

	round      uint64 // round of the next own header
	roundSince Time   // when round-1 reached a quorum
	lastHeader Time

	own          *Header
	ownCertified bool
	ownVotes     stakeSet
	ownSigs      map[ValidatorID][]byte
	// ownChecked are the voters whose signature on the own header was
	// verified on its own (the own one is); badVoters sent one that
	// failed and are not heard again for this header.
	ownChecked   map[ValidatorID]bool
	badVoters    map[ValidatorID]bool
	ownSentAt    Time
	lastProposed uint64

	votedFor map[voteSlot]crypto.Digest
	// votes keeps the signature of each vote sent, per slot (not across
	// restarts: a restored vote is signed again once).
	votes map[voteSlot]*voteRecord
	// seen is the first header heard of each slot; seenChecked says its
	// own signature was verified (a header inside a certificate is
	// covered by the aggregate instead).
	seen        map[voteSlot]*Header
	seenChecked map[voteSlot]bool
	// accused marks the slots where a conflicting header was examined:
	// that costs at most one signature check per author and round, the
	// one needed to make Evidence.
	accused map[voteSlot]bool
	// badCerts remembers certificates whose aggregate signature failed
	// (keyed by digest, signers and signature), oldest forgotten first.
	badCerts *RecentDigests
	// grants are the outstanding sync requests, per peer.
	grants []syncGrant
	// syncServed is when each peer's last sync request was answered.
	syncServed []Time

	pendingHeaders map[ValidatorID]*Header
	pendingCerts   map[crypto.Digest]*Certificate
	waiting        map[crypto.Digest][]crypto.Digest // missing parent -> waiting children
	requested      map[crypto.Digest]Time

	lastProgress  Time
	lastSync      Time
	lastParentAsk Time
	syncNext      ValidatorID
	highestSeen   uint64
	gcDone        uint64 // rounds below this have been forgotten
}

func newPrimary(self ValidatorID, c *Committee, opts *Options, out *outbox, s Signer, v Verifier, w *Worker, onCommit func([]*CommittedSubDAG)) *Primary {
	o := NewOrderer(c, opts.GCDepth)
	o.keepCollected = true
	return &Primary{
		self: self, committee: c, opts: opts, out: out, signer: s, verifier: v, worker: w, orderer: o, onCommit: onCommit,
		round:    1,
		votedFor: make(map[voteSlot]crypto.Digest), seen: make(map[voteSlot]*Header), accused: make(map[voteSlot]bool),
		votes: make(map[voteSlot]*voteRecord), seenChecked: make(map[voteSlot]bool), badCerts: NewRecentDigests(badCertCap),
		grants: make([]syncGrant, c.Size()), syncServed: make([]Time, c.Size()),
		pendingHeaders: make(map[ValidatorID]*Header), pendingCerts: make(map[crypto.Digest]*Certificate),
		waiting: make(map[crypto.Digest][]crypto.Digest), requested: make(map[crypto.Digest]Time),
		ownSigs: make(map[ValidatorID][]byte), ownChecked: make(map[ValidatorID]bool), badVoters: make(map[ValidatorID]bool),
	}
}

// Round returns the round of the primary's next own header.
func (p *Primary) Round() uint64 { return p.round }

// Orderer returns the primary's Bullshark orderer.
func (p *Primary) Orderer() *Orderer { return p.orderer }

func (p *Primary) gcRound() uint64 { return p.orderer.GCRound() }

// signing returns what a validator signs for the header of digest d.
func (p *Primary) signing(d crypto.Digest) []byte {
	return SigningMessage(p.chainID, p.committee.Epoch(), d)
}

// verifyHeaderSig checks h's own signature.
func (p *Primary) verifyHeaderSig(h *Header) error {
	if err := p.verifier.VerifySignature(h.Author, p.signing(h.Digest()), h.Signature); err != nil {
		return fmt.Errorf("header signature: %w", err)
	}
	return nil
}

// --- headers and votes ---

func (p *Primary) checkHeader(h *Header) error {
	if h.Epoch != p.committee.Epoch() {
		return fmt.Errorf("header of epoch %d, want %d", h.Epoch, p.committee.Epoch())
	}
	if !p.committee.Has(h.Author) {
		return fmt.Errorf("header author %d not in committee", h.Author)
	}
	if h.Round == 0 {
		return errors.New("header of round 0")
	}
	if len(h.Payload) > p.opts.MaxHeaderBatches {
		return fmt.Errorf("header with %d batches, limit %d", len(h.Payload), p.opts.MaxHeaderBatches)
	}
	if len(h.Parents) > p.committee.Size() {
		return fmt.Errorf("header with %d parents, committee of %d", len(h.Parents), p.committee.Size())
	}
	seen := make(map[crypto.Digest]struct{}, len(h.Payload))
	for _, r := range h.Payload {
		if _, dup := seen[r.Digest]; dup {
			return errors.New("header payload repeats a batch")
		}
		seen[r.Digest] = struct{}{}
	}
	return nil
}

func (p *Primary) onHeader(from ValidatorID, h *Header) error {
	if h.Author != from {
		return fmt.Errorf("header of author %d sent by %d", h.Author, from)
	}
	if err := p.checkHeader(h); err != nil {
		return err
	}
	if h.Round > p.round+p.opts.MaxRoundsAhead {
		p.highestSeen = max(p.highestSeen, h.Round)
		return fmt.Errorf("header round %d too far ahead of local round %d", h.Round, p.round)
	}
	if h.Round < p.gcRound()+1 {
		return nil // too old to matter
	}
	d := h.Digest()
	if p.orderer.Contains(d) {
		return nil // certified already: no vote can matter
	}
	// Cheap before expensive: a header is placed by its digest before any
	// signature is checked. A replay costs no check and is answered from
	// the vote record; a conflicting header costs at most one check, once
	// per author and round.
	slot := voteSlot{h.Author, h.Round}
	first, ok := p.seen[slot]
	switch {
	case ok && first.Digest() != d:
		return p.conflicting(from, slot, first, h)
	case ok && p.seenChecked[slot]:
		p.replayed(slot, h)
		return nil
	}
	// Checking the signature here costs a pairing per header. Leaving it
	// to evidence (headers come only from their authors over the
	// authenticated transport) was tried: the devnet's p95 commit latency
	// at 10,000 tx/s went from 300 ms to 1 s, for a reason not yet found
	// (see bench/consensus.md), so it stays.
	if err := p.verifyHeaderSig(h); err != nil {
		p.out.misbehave(from, KindHeader, err)
		return err
	}
	p.seen[slot] = h
	p.seenChecked[slot] = true
	if _, ok := p.votedFor[slot]; ok {
		p.replayed(slot, h) // voted before a restart: the first vote may have been lost
		return nil
	}
	if cur, ok := p.pendingHeaders[h.Author]; !ok || cur.Round <= h.Round {
		p.pendingHeaders[h.Author] = h
	}
	p.tryVote(h)
	return nil
}

// replayed answers a header heard again whose signature was checked: if
// this validator voted for it, the vote is sent again (the first may
// have been lost), from the record, at most twice per ResendInterval
// (the author sends its header again once per ResendInterval).
func (p *Primary) replayed(slot voteSlot, h *Header) {
	d := h.Digest()
	voted, ok := p.votedFor[slot]
	if !ok || voted != d || h.Author == p.self {
		return
	}
	rec := p.votes[slot]
	if rec == nil {
		// Voted before a restart: sign once more, then answer from the record.
		rec = &voteRecord{sig: p.signer.Sign(p.signing(d))}
		p.votes[slot] = rec
	} else if p.now-rec.sentAt < p.opts.ResendInterval/2 {
		return
	}
	rec.sentAt = p.now
	p.out.send(h.Author, &Vote{Epoch: h.Epoch, Round: h.Round, Origin: h.Author, Header: d, Voter: p.self, Signature: rec.sig})
}

// conflicting handles a header of a slot that already has another. Only
// the first conflict of a slot is examined: its signature is checked
// (and the first header's, when that came unchecked inside a
// certificate) to make Evidence; later ones cost nothing.
func (p *Primary) conflicting(from ValidatorID, slot voteSlot, first, h *Header) error {
	if p.accused[slot] {
		return fmt.Errorf("equivocating header from %d in round %d (already examined)", h.Author, h.Round)
	}
	p.accused[slot] = true
	if err := p.verifyHeaderSig(h); err != nil {
		p.out.misbehave(from, KindHeader, err)
		return err
	}
	if !p.seenChecked[slot] {
		if err := p.verifyHeaderSig(first); err != nil {
			p.seen[slot] = h // the checked one takes the forged one's place
			p.seenChecked[slot] = true
			return fmt.Errorf("%w: %w", errFirstForged, err)
		}
	}
	err := fmt.Errorf("equivocating header from %d in round %d", h.Author, h.Round)
	p.out.evidence = append(p.out.evidence, &Evidence{First: first, Second: h})
	p.out.misbehave(h.Author, KindHeader, err)
	return err
}

// errFirstForged: of two headers of one slot, the first seen has a bad
// signature, so they are no evidence.
var errFirstForged = errors.New("the header seen first for this author and round has a bad signature")

// tryVote votes for h once its parents and batches are stored.
func (p *Primary) tryVote(h *Header) {
	if h.Round-1 < p.gcRound() {
		delete(p.pendingHeaders, h.Author)
		return
	}
	var missing []crypto.Digest
	parents := newStakeSet(p.committee)
	var maxTS Time
	for _, pd := range h.Parents {
		c := p.orderer.Get(pd)
		if c == nil {
			missing = append(missing, pd)
			continue
		}
		if c.Round() != h.Round-1 {
			delete(p.pendingHeaders, h.Author)
			p.out.reject(h.Author, KindHeader, fmt.Errorf("%s has a parent of round %d", h, c.Round()))
			return
		}
		parents.add(p.committee, c.Author())
		maxTS = max(maxTS, c.Header.Timestamp)
	}
	if len(missing) > 0 {
		p.requestCerts(h.Author, missing)
		return
	}
	if parents.stake < p.committee.QuorumThreshold() {
		delete(p.pendingHeaders, h.Author)
		p.out.reject(h.Author, KindHeader, fmt.Errorf("%s parents carry stake %d below quorum", h, parents.stake))
		return
	}
	if h.Timestamp < maxTS {
		delete(p.pendingHeaders, h.Author)
		p.out.reject(h.Author, KindHeader, fmt.Errorf("%s timestamp %d before its parents' %d", h, h.Timestamp, maxTS))
		return
	}
	if h.Timestamp > p.now+p.opts.MaxClockDrift {
		return // retried on later ticks, when our clock has caught up
	}
	var missingBatches []crypto.Digest
	for _, r := range h.Payload {
		if !p.worker.has(r.Digest) {
			missingBatches = append(missingBatches, r.Digest)
		}
	}
	if len(missingBatches) > 0 {
		p.worker.request(h.Author, h.Round, missingBatches)
		return
	}
	delete(p.pendingHeaders, h.Author)
	slot := voteSlot{h.Author, h.Round}
	if _, ok := p.votedFor[slot]; ok {
		return
	}
	d := h.Digest()
	p.votedFor[slot] = d
	p.out.put(voteKey(h.Author, h.Round), d[:])
	rec := &voteRecord{sig: p.signer.Sign(p.signing(d)), sentAt: p.now}
	p.votes[slot] = rec
	p.out.send(h.Author, &Vote{Epoch: h.Epoch, Round: h.Round, Origin: h.Author, Header: d, Voter: p.self, Signature: rec.sig})
}

func (p *Primary) onVote(from ValidatorID, v *Vote) error {
	if v.Voter != from {
		return fmt.Errorf("vote of %d sent by %d", v.Voter, from)
	}
	if !p.committee.Has(v.Voter) {
		return fmt.Errorf("voter %d not in committee", v.Voter)
	}
	if v.Epoch != p.committee.Epoch() {
		return fmt.Errorf("vote of epoch %d, want %d", v.Epoch, p.committee.Epoch())
	}
	if p.own == nil || p.ownCertified || v.Header != p.own.Digest() || v.Round != p.own.Round || v.Origin != p.self || v.Epoch != p.own.Epoch {
		return nil // stale or not ours: harmless
	}
	if _, dup := p.ownSigs[v.Voter]; dup || p.badVoters[v.Voter] {
		return nil
	}
	// Votes are checked together, once a quorum is in: one aggregate
	// check instead of one pairing per vote (certifyOwn).
	p.ownSigs[v.Voter] = v.Signature
	p.ownVotes.add(p.committee, v.Voter)
	if p.ownVotes.stake >= p.committee.QuorumThreshold() {
		return p.certifyOwn()
	}
	return nil
}

// certifyOwn aggregates the votes on the own header into its certificate.
// The votes were not checked one by one: the aggregate is checked once,
// and only when it fails is each unchecked vote checked on its own, the
// bad ones refused (their voters are not heard again for this header)
// and the certificate left to the votes still to come.
func (p *Primary) certifyOwn() error {
	signers := make([]ValidatorID, 0, len(p.ownSigs))
	for i := 0; i < p.committee.Size(); i++ {
		if _, ok := p.ownSigs[ValidatorID(i)]; ok {
			signers = append(signers, ValidatorID(i))
		}
	}
	sigs := make([][]byte, len(signers))
	unchecked := false
	for i, s := range signers {
		sigs[i] = p.ownSigs[s]
		unchecked = unchecked || !p.ownChecked[s]
	}
	msg := p.signing(p.own.Digest())
	agg, err := p.verifier.Aggregate(sigs)
	if err == nil && unchecked {
		err = p.verifier.VerifyAggregate(msg, signers, agg)
	}
	if err != nil {
		if !unchecked {
			return fmt.Errorf("aggregate own votes: %w", err)
		}
		for _, s := range signers {
			if p.ownChecked[s] {
				continue
			}
			if verr := p.verifier.VerifySignature(s, msg, p.ownSigs[s]); verr != nil {
				delete(p.ownSigs, s)
				p.badVoters[s] = true
				err := fmt.Errorf("dag: vote from %d: vote signature: %w", s, verr)
				p.out.reject(s, KindVote, err)
				p.out.misbehave(s, KindVote, err)
				continue
			}
			p.ownChecked[s] = true
		}
		p.ownVotes = newStakeSet(p.committee)
		for _, s := range signers {
			if _, ok := p.ownSigs[s]; ok {
				p.ownVotes.add(p.committee, s)
			}
		}
		if p.ownVotes.stake >= p.committee.QuorumThreshold() {
			return p.certifyOwn() // every vote left is checked now
		}
		return nil
	}
	c := &Certificate{Header: p.own, Signers: signers, CommitteeSize: p.committee.Size(), Signature: agg}
	p.ownCertified = true
	p.out.broadcast(c)
	p.addCert(p.self, c)
	return nil
}

// --- certificates ---

func (p *Primary) checkCert(c *Certificate) error {
	if err := p.checkHeader(c.Header); err != nil {
		return err
	}
	if c.CommitteeSize != p.committee.Size() {
		return fmt.Errorf("signer bitmap of %d, committee of %d", c.CommitteeSize, p.committee.Size())
	}
	set := newStakeSet(p.committee)
	for _, s := range c.Signers {
		if !set.add(p.committee, s) {
			return fmt.Errorf("unknown or repeated signer %d", s)
		}
	}
	if set.stake < p.committee.QuorumThreshold() {
		return fmt.Errorf("%s signed by stake %d below quorum %d", c, set.stake, p.committee.QuorumThreshold())
	}
	return nil
}

// badCertKey names one aggregate check of c by its inputs, for badCerts.
func badCertKey(c *Certificate) crypto.Digest {
	d := c.Digest()
	ids := make([]byte, 2*len(c.Signers))
	for i, s := range c.Signers {
		ids[2*i], ids[2*i+1] = byte(s>>8), byte(s)
	}
	return crypto.Hash([]byte("dagd/dag/badcert/v1"), d[:], ids, c.Signature)
}

// errBadCertKnown refuses a certificate whose check failed before.
var errBadCertKnown = errors.New("aggregate signature failed before")

// admit reports whether c is new, in range and worth verifying: every
// check that costs no signature comes first.
func (p *Primary) admit(c *Certificate) (bool, error) {
	if c.Round() == 0 {
		return false, nil
	}
	if c.Round() < p.gcRound() {
		return false, nil
	}
	d := c.Digest()
	if p.orderer.Contains(d) {
		return false, nil
	}
	if _, ok := p.pendingCerts[d]; ok {
		return false, nil
	}
	if c.Round() > p.round+p.opts.MaxRoundsAhead {
		p.highestSeen = max(p.highestSeen, c.Round())
		return false, fmt.Errorf("%s too far ahead of local round %d", c, p.round)
	}
	if err := p.checkCert(c); err != nil {
		return false, err
	}
	if row := p.orderer.Round(c.Round()); int(c.Author()) < len(row) && row[c.Author()] != nil {
		// A quorum certified another header of this slot: this one cannot
		// hold a quorum of honest signatures.
		return false, fmt.Errorf("%s conflicts with the certified %s", c, row[c.Author()])
	}
	if p.badCerts.Has(badCertKey(c)) {
		return false, fmt.Errorf("%s: %w", c, errBadCertKnown)
	}
	return true, nil
}

// certFailed records a certificate whose aggregate signature failed and
// reports its sender: honest validators check certificates before they
// keep or send them, so none sends an invalid one.
func (p *Primary) certFailed(from ValidatorID, kind Kind, c *Certificate, err error) error {
	p.badCerts.Add(badCertKey(c))
	err = fmt.Errorf("%s aggregate signature: %w", c, err)
	p.out.misbehave(from, kind, err)
	return err
}

func (p *Primary) onCertificate(from ValidatorID, c *Certificate) error {
	if c.Author() != from {
		// Validators broadcast only their own certificates; others come
		// as answers to requests.
		return fmt.Errorf("%s of author %d sent by %d", c, c.Author(), from)
	}
	ok, err := p.admit(c)
	if !ok || err != nil {
		return err
	}
	if err := p.verifier.VerifyAggregate(p.signing(c.Digest()), c.Signers, c.Signature); err != nil {
		return p.certFailed(from, KindCertificate, c, err)
	}
	p.verified(from, c)
	return nil
}

// asked reports whether this node asked for the certificate of digest d
// (of any peer) or a parked certificate waits for it.
func (p *Primary) asked(d crypto.Digest) bool {
	if _, ok := p.requested[d]; ok {
		return true
	}
	_, ok := p.waiting[d]
	return ok
}

// onCertResponse takes from a response only what this node asked for:
// the certificates it requested or that parked certificates wait for, the
// rounds of an outstanding sync request to this peer (up to its limit),
// and the causal history of those it still lacks (bounded). The rest is
// ignored unchecked. The certificates taken are verified in batches that
// start small and double, lowest rounds first; at the first one that
// fails, the rest of the response is dropped and the sender reported.
func (p *Primary) onCertResponse(from ValidatorID, r *CertResponse) error {
	certs := slices.Clone(r.Certificates)
	slices.SortStableFunc(certs, func(a, b *Certificate) int { return cmpRound(b.Round(), a.Round()) })
	g := &p.grants[from]
	if g.until < p.now {
		*g = syncGrant{}
	}
	want := make(map[crypto.Digest]bool)
	var fresh []*Certificate
	var errs []error
	unasked := 0
	for _, c := range certs {
		d := c.Digest()
		ok := want[d] || p.asked(d)
		if !ok && g.left > 0 && c.Round() >= g.from {
			ok = true
			g.left--
		}
		if !ok {
			unasked++
			continue
		}
		admitted, err := p.admit(c)
		if err != nil {
			errs = append(errs, err)
		}
		if !admitted {
			continue
		}
		fresh = append(fresh, c)
		for _, pd := range c.Header.Parents {
			if len(want) < maxWanted && !p.orderer.Contains(pd) {
				want[pd] = true
			}
		}
	}
	if unasked > 0 {
		errs = append(errs, fmt.Errorf("%d certificates nobody asked for ignored", unasked))
	}
	// Lowest rounds first (parents before children), in the response's
	// order within a round.
	slices.SortStableFunc(fresh, func(a, b *Certificate) int { return cmpRound(a.Round(), b.Round()) })
	for i, chunk := 0, firstChunk; i < len(fresh); chunk *= 2 {
		part := fresh[i:min(i+chunk, len(fresh))]
		bad, err := p.verifyCerts(part)
		for _, c := range part[:bad] {
			if _, again := p.admit(c); again == nil && !p.orderer.Contains(c.Digest()) {
				p.verified(from, c)
			}
		}
		if err != nil {
			errs = append(errs, p.certFailed(from, KindCertResponse, part[bad], err))
			if rest := len(fresh) - i - bad - 1; rest > 0 {
				errs = append(errs, fmt.Errorf("%d more certificates of the response dropped unchecked", rest))
			}
			break
		}
		i += len(part)
	}
	return errors.Join(errs...)
}

// verifyCerts checks the aggregate signatures of certs, together first.
// It returns how many lead the first that fails (len(certs) when all
// hold) and that one's error.
func (p *Primary) verifyCerts(certs []*Certificate) (int, error) {
	items := make([]AggregateItem, len(certs))
	for i, c := range certs {
		items[i] = AggregateItem{Msg: p.signing(c.Digest()), Signers: c.Signers, Signature: c.Signature}
	}
	if len(items) > 1 && p.verifier.VerifyAggregates(items) == nil {
		return len(certs), nil
	}
	for i, it := range items {
		if err := p.verifier.VerifyAggregate(it.Msg, it.Signers, it.Signature); err != nil {
			return i, err
		}
	}
	return len(certs), nil
}

func cmpRound(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// verified handles a certificate whose signatures are valid. A header of
// its slot seen before with another digest makes Evidence, once per slot,
// if both headers carry their author's valid signature.
func (p *Primary) verified(from ValidatorID, c *Certificate) {
	slot := voteSlot{c.Author(), c.Round()}
	if first, ok := p.seen[slot]; ok && first.Digest() != c.Digest() && !p.accused[slot] {
		p.accused[slot] = true
		second := c.Header
		if p.verifyHeaderSig(second) == nil {
			if p.seenChecked[slot] || p.verifyHeaderSig(first) == nil {
				p.out.evidence = append(p.out.evidence, &Evidence{First: first, Second: second})
			} else {
				p.seen[slot] = second
				p.seenChecked[slot] = true
			}
		}
	}
	p.addCert(from, c)
}

// addCert inserts c, or parks it until its parents arrive.
func (p *Primary) addCert(from ValidatorID, c *Certificate) {
	missing := p.orderer.MissingParents(c)
	if len(missing) > 0 {
		if len(p.pendingCerts) >= p.opts.MaxPendingCerts {
			p.out.reject(from, KindCertificate, fmt.Errorf("%s dropped: %d certificates already wait for parents", c, len(p.pendingCerts)))
			return
		}
		d := c.Digest()
		p.pendingCerts[d] = c
		for _, m := range missing {
			p.waiting[m] = append(p.waiting[m], d)
		}
		p.requestCerts(from, missing)
		if from != c.Author() {
			p.requestCerts(c.Author(), missing)
		}
		return
	}
	queue := []*Certificate{c}
	for len(queue) > 0 {
		c := queue[0]
		queue = queue[1:]
		if !p.insert(c) {
			continue
		}
		d := c.Digest()
		children := p.waiting[d]
		delete(p.waiting, d)
		for _, cd := range children {
			child, ok := p.pendingCerts[cd]
			if !ok || !p.orderer.HasParents(child) {
				continue
			}
			delete(p.pendingCerts, cd)
			queue = append(queue, child)
		}
	}
	p.advance()
}

// insert persists c and adds it to the DAG and the orderer.
func (p *Primary) insert(c *Certificate) bool {
	commits, err := p.orderer.Add(c)
	if err != nil {
		p.out.reject(c.Author(), KindCertificate, err)
		return false
	}
	if !p.orderer.Contains(c.Digest()) {
		return false // below GC
	}
	p.out.put(certKey(c.Round(), c.Author()), c.Encode())
	delete(p.requested, c.Digest())
	for _, r := range c.Header.Payload {
		p.worker.markReferenced(r.Digest)
	}
	if len(commits) > 0 {
		p.lastProgress = p.now
		p.onCommit(commits)
	}
	p.collect()
	// A header waiting for this certificate may now be votable.
	for a := 0; a < p.committee.Size(); a++ {
		if h, ok := p.pendingHeaders[ValidatorID(a)]; ok && h.Round == c.Round()+1 {
			p.tryVote(h)
		}
	}
	return true
}

func (p *Primary) requestCerts(peer ValidatorID, ds []crypto.Digest) {
	if peer == p.self {
		return
	}
	var ask []crypto.Digest
	for _, d := range ds {
		if t, ok := p.requested[d]; ok && p.now-t < p.opts.ResendInterval {
			continue
		}
		if len(ask) == MaxRequestItems {
			break
		}
		p.requested[d] = p.now
		ask = append(ask, d)
	}
	if len(ask) > 0 {
		p.out.send(peer, &CertRequest{Digests: ask})
	}
}

func (p *Primary) onCertRequest(from ValidatorID, r *CertRequest) {
	var certs []*Certificate
	for _, d := range r.Digests {
		if c := p.orderer.Get(d); c != nil && c.Round() > 0 {
			certs = append(certs, c)
			if len(certs) >= int(p.opts.SyncLimit) {
				break
			}
		}
	}
	if len(certs) > 0 {
		p.out.send(from, &CertResponse{Certificates: certs})
	}
}

func (p *Primary) onSyncRequest(from ValidatorID, r *SyncRequest) error {
	// A validator asks a given peer at most once per SyncInterval (it
	// turns to the next peer each time); answering more often would let
	// one peer keep this node reading history from disk.
	if last := p.syncServed[from]; last != 0 && p.now-last < p.opts.SyncInterval/2 {
		return fmt.Errorf("sync request %v after the last one: at most one per %d ms", p.now-last, p.opts.SyncInterval/2)
	}
	p.syncServed[from] = max(p.now, 1)
	limit := min(int(r.Limit), int(p.opts.SyncLimit))
	var certs []*Certificate
	start := max(r.FromRound, 1)
	if start < p.gcRound() && p.history != nil {
		// History below the GC round comes from disk.
		for _, c := range p.history.ReadCertificates(start, limit) {
			if c.Round() >= p.gcRound() {
				break
			}
			certs = append(certs, c)
		}
	}
	top := p.round + p.opts.MaxRoundsAhead
	for round := max(start, p.gcRound()); round <= top && len(certs) < limit; round++ {
		row := p.orderer.Round(round)
		if row == nil {
			if round > p.round {
				break
			}
			continue
		}
		for _, c := range row {
			if c != nil && len(certs) < limit {
				certs = append(certs, c)
			}
		}
	}
	if len(certs) > 0 {
		p.out.send(from, &CertResponse{Certificates: certs})
	}
	return nil
}

// --- rounds and proposals ---

func (p *Primary) quorumAt(round uint64) (bool, stakeSet) {
	set := newStakeSet(p.committee)
	for _, c := range p.orderer.Round(round) {
		if c != nil {
			set.add(p.committee, c.Author())
		}
	}
	return set.stake >= p.committee.QuorumThreshold(), set
}

// advance moves to the highest round whose predecessor holds a quorum of
// certificates, then proposes if Bullshark's waits allow.
func (p *Primary) advance() {
	if gc := p.gcRound(); p.round < gc {
		// Commits learnt through sync moved garbage collection past this
		// validator's round (it was down or paused): the rounds below gc
		// are gone everywhere and can never gather a quorum here, so
		// waiting for them would stall the validator for good. Resume at
		// the GC round; proposing waits until a quorum of its round's
		// certificates arrives.
		p.round = gc
		p.roundSince = p.now
		p.lastProgress = p.now
	}
	for {
		if ok, _ := p.quorumAt(p.round); !ok {
			break
		}
		p.round++
		p.roundSince = p.now
		p.lastProgress = p.now
	}
	p.tryPropose()
}

func (p *Primary) tryPropose() {
	r := p.round
	if p.lastProposed >= r {
		return
	}
	if ok, _ := p.quorumAt(r - 1); !ok {
		return
	}
	waited := p.now - p.roundSince
	prev := r - 1
	if prev >= 2 && prev%2 == 0 {
		if p.orderer.LeaderOf(prev) == nil && waited < p.opts.LeaderTimeout {
			return
		}
	} else if prev >= 3 {
		leader := p.orderer.LeaderOf(prev - 1)
		if leader != nil && waited < p.opts.LeaderTimeout {
			support := p.orderer.LeaderSupport(prev - 1)
			_, all := p.quorumAt(prev)
			against := all.stake - support
			if support < p.committee.ValidityThreshold() && against < p.committee.QuorumThreshold() {
				return
			}
		}
	}
	sinceHeader := p.now - p.lastHeader
	if p.lastProposed > 0 && sinceHeader < p.opts.MinHeaderDelay {
		return
	}
	if p.worker.readyCount() == 0 && !(p.own != nil && !p.ownCertified) && p.lastProposed > 0 && sinceHeader < p.opts.MaxHeaderDelay {
		return
	}
	p.propose(r)
}

func (p *Primary) propose(r uint64) {
	if p.own != nil && !p.ownCertified {
		p.worker.requeue(p.own.Payload) // abandoned header: its batches go in this one
	}
	var parents []crypto.Digest
	var maxTS Time
	for _, c := range p.orderer.Round(r - 1) {
		if c != nil {
			parents = append(parents, c.Digest())
			maxTS = max(maxTS, c.Header.Timestamp)
		}
	}
	payload := p.worker.takeReady(p.opts.MaxHeaderBatches)
	h := NewHeader(p.committee.Epoch(), r, p.self, max(p.now, maxTS), payload, parents)
	d := h.Digest()
	h.Signature = p.signer.Sign(p.signing(d))
	p.out.put(headerKey(r), h.Encode())
	p.out.put(voteKey(p.self, r), d[:])
	p.votedFor[voteSlot{p.self, r}] = d
	p.seen[voteSlot{p.self, r}] = h
	p.setOwn(h)
	p.out.broadcast(h)
	if p.ownVotes.stake >= p.committee.QuorumThreshold() {
		_ = p.certifyOwn()
	}
}

// restore rebuilds the primary from its records, after the orderer
// restored its commits: the votes it cast, the certificates it held
// (sorted by round, then author; those below the GC round go to
// collected, those missing parents wait as pending) and its last own
// header. It returns the batches the certificates reference.
func (p *Primary) restore(votes []restoredVote, certs []*Certificate, own *Header, collected func(*Certificate)) map[crypto.Digest]bool {
	for _, v := range votes {
		p.votedFor[v.slot] = v.header
	}
	referenced := make(map[crypto.Digest]bool)
	for _, c := range certs {
		for _, r := range c.Header.Payload {
			referenced[r.Digest] = true
		}
		if c.Round() == 0 {
			continue
		}
		if c.Round() < p.gcRound() {
			collected(c)
			continue
		}
		if !p.orderer.HasParents(c) {
			p.pendingCerts[c.Digest()] = c
			continue
		}
		p.insert(c)
	}
	if own != nil {
		p.setOwn(own)
		p.seen[voteSlot{p.self, own.Round}] = own
		p.lastHeader = 0
		p.ownSentAt = 0
	}
	return referenced
}

// resume takes up the round after a restore, once every role restored
// itself.
func (p *Primary) resume() {
	p.round = max(p.round, p.lastProposed)
	p.advance()
}

func (p *Primary) setOwn(h *Header) {
	p.own = h
	p.ownCertified = p.orderer.Contains(h.Digest())
	p.ownVotes = newStakeSet(p.committee)
	p.ownVotes.add(p.committee, p.self)
	p.ownSigs = map[ValidatorID][]byte{p.self: h.Signature}
	p.ownChecked = map[ValidatorID]bool{p.self: true}
	p.badVoters = make(map[ValidatorID]bool)
	p.ownSentAt = p.now
	p.lastProposed = h.Round
	p.lastHeader = p.now
}

func (p *Primary) tick(now Time) {
	p.now = now
	if p.own != nil && !p.ownCertified && now-p.ownSentAt >= p.opts.ResendInterval {
		p.ownSentAt = now
		p.out.broadcast(p.own)
	}
	// Headers waiting on the clock or on data are retried.
	for a := 0; a < p.committee.Size(); a++ {
		if h, ok := p.pendingHeaders[ValidatorID(a)]; ok {
			p.tryVote(h)
		}
	}
	// A parked certificate whose parent requests were lost asks again, of
	// another peer each time.
	low := p.lowestPending()
	if low != nil && now-p.lastParentAsk >= p.opts.ResendInterval && p.committee.Size() > 1 {
		p.lastParentAsk = now
		missing := p.orderer.MissingParents(low)
		for _, d := range missing {
			delete(p.requested, d)
		}
		p.requestCerts(p.nextPeer(), missing)
	}
	behind := p.highestSeen > p.round+1
	if (behind || now-p.lastProgress >= p.opts.SyncInterval) && now-p.lastSync >= p.opts.SyncInterval && p.committee.Size() > 1 {
		p.lastSync = now
		from := p.round - 1
		if low != nil && low.Round()-1 < from {
			from = low.Round() - 1 // the history the parked certificates wait for
		}
		peer := p.nextPeer()
		from = max(from, 1)
		// The answer may bring these rounds, this many certificates, for
		// a while; nothing else unasked.
		p.grants[peer] = syncGrant{from: from, left: p.opts.SyncLimit, until: now + 4*p.opts.SyncInterval}
		p.out.send(peer, &SyncRequest{FromRound: from, Limit: p.opts.SyncLimit})
	}
	p.advance()
}

// nextPeer cycles through the other validators.
func (p *Primary) nextPeer() ValidatorID {
	p.syncNext = (p.syncNext + 1) % ValidatorID(p.committee.Size())
	if p.syncNext == p.self {
		p.syncNext = (p.syncNext + 1) % ValidatorID(p.committee.Size())
	}
	return p.syncNext
}

// lowestPending returns the parked certificate of the lowest round (then
// author), or nil.
func (p *Primary) lowestPending() *Certificate {
	var low *Certificate
	for _, c := range p.pendingCerts {
		if low == nil || c.Round() < low.Round() || (c.Round() == low.Round() && c.Author() < low.Author()) {
			low = c
		}
	}
	return low
}

// collect forgets per-round state below the GC round.
func (p *Primary) collect() {
	gc := p.gcRound()
	if p.gcDone < gc {
		p.worker.collectRequests(gc)
	}
	for ; p.gcDone < gc; p.gcDone++ {
		r := p.gcDone
		for a := 0; a < p.committee.Size(); a++ {
			slot := voteSlot{ValidatorID(a), r}
			delete(p.votedFor, slot)
			delete(p.votes, slot)
			delete(p.seen, slot)
			delete(p.seenChecked, slot)
			delete(p.accused, slot)
		}
	}
	for a := 0; a < p.committee.Size(); a++ {
		if h, ok := p.pendingHeaders[ValidatorID(a)]; ok && h.Round < gc {
			delete(p.pendingHeaders, ValidatorID(a))
		}
	}
	if len(p.pendingCerts) > 0 {
		var drop []crypto.Digest
		for d, c := range p.pendingCerts {
			if c.Round() < gc {
				drop = append(drop, d)
			}
		}
		for _, d := range drop { // order does not matter: deletes only
			delete(p.pendingCerts, d)
		}
		if len(drop) > 0 {
			// Forget the parents that only collected certificates waited for.
			for m, children := range p.waiting { // deletes only
				live := children[:0]
				for _, cd := range children {
					if _, ok := p.pendingCerts[cd]; ok {
						live = append(live, cd)
					}
				}
				if len(live) == 0 {
					delete(p.waiting, m)
				} else {
					p.waiting[m] = live
				}
			}
		}
	}
	if len(p.requested) > p.opts.MaxPendingCerts {
		// Requests never answered: forget those asked long ago (deletes
		// only, so the map's order does not matter), and start over
		// rather than grow.
		for d, t := range p.requested {
			if p.now-t > 4*p.opts.ResendInterval {
				delete(p.requested, d)
			}
		}
		if len(p.requested) > 4*p.opts.MaxPendingCerts {
			clear(p.requested)
		}
	}
	if len(p.waiting) > 4*p.opts.MaxPendingCerts {
		clear(p.waiting)
	}
}

func sortDigests(ds []crypto.Digest) {
	slices.SortFunc(ds, func(a, b crypto.Digest) int { return bytes.Compare(a[:], b[:]) })
}
