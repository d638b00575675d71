package dag

import (
	"bytes"
	"errors"
	"fmt"
	"slices"

	"github.com/dagd/dagd/crypto"
)

// Config is what a Node needs: who it is, the committee, its keys, where
// to read persisted batches, and its Options.
type Config struct {
	// ChainID names the chain. Every signature the core makes or checks
	// covers it and the committee's epoch (SigningMessage), so votes and
	// certificates of another chain are refused. At most MaxChainIDSize
	// bytes; empty is allowed (the simulator and unit tests).
	ChainID   string
	Self      ValidatorID
	Committee *Committee
	Signer    Signer
	Verifier  Verifier
	// Batches reads back batches persisted from earlier Ready records.
	Batches BatchReader
	// Certificates, if set, reads back persisted certificates, so that the
	// node can serve history below its GC round to validators that catch
	// up. Without it such requests are answered from memory only.
	Certificates CertificateReader
	Options      Options
}

// Ready is what the node produced since the last one. The driver must make
// Persist durable, in order, and then call Node.Advance, before it sends
// Messages or delivers Committed: that is what keeps a restarted node from
// voting twice or committing twice. The node hands out no other Ready
// until Advance is called, so a driver that persists asynchronously never
// sends what depends on a write that has not finished.
type Ready struct {
	Persist   []Record
	Messages  []Outbound
	Committed []*CommittedSubDAG
	Evidence  []*Evidence
	// Rejected lists refused messages with their reasons, for logs.
	Rejected []Rejection
	// Misbehaving lists peers that sent what no honest validator sends
	// (a signature that does not verify, an equivocation), at most one
	// entry per peer per Ready. The driver may drop their messages for a
	// while; the core itself already ignores what they sent.
	Misbehaving []Misbehavior
}

// IsEmpty reports whether there is nothing to do.
func (r *Ready) IsEmpty() bool {
	return len(r.Persist) == 0 && len(r.Messages) == 0 && len(r.Committed) == 0 && len(r.Evidence) == 0 && len(r.Rejected) == 0 &&
		len(r.Misbehaving) == 0
}

// Node is one validator's consensus core: a primary, one worker and the
// Bullshark orderer, driven by Step (messages), Tick (time) and Submit
// (client transactions), read through Ready. It does no I/O, keeps no
// clock and draws no randomness: the same inputs give the same outputs.
type Node struct {
	cfg     Config
	out     outbox
	worker  *Worker
	primary *Primary

	// Commits wait here, in order, until every batch they name is stored.
	queue         []*CommittedSubDAG
	deliveredSeq  uint64
	deliveredRnd  uint64
	deliveredHash crypto.Digest
	// retained lists, by round, what collected certificates left on disk,
	// until their records are deleted RetainRounds later.
	retained []retainedRound
	// batchAsk is when requestMissingBatches last scanned the queue;
	// askNext rotates the validator asked besides a batch's author.
	batchAsk  Time
	headReady int
	askNext   ValidatorID
	// reproposed counts own batches proposed again (Status).
	reproposed uint64
	// unadvanced: a Ready was handed out and Advance not called since.
	unadvanced bool
}

// NewNode returns a node at genesis. Call Restore before anything else to
// resume from persisted records.
func NewNode(cfg Config) (*Node, error) {
	if cfg.Committee == nil || cfg.Signer == nil || cfg.Verifier == nil || cfg.Batches == nil {
		return nil, errors.New("dag: Config needs Committee, Signer, Verifier and Batches")
	}
	if len(cfg.ChainID) > MaxChainIDSize {
		return nil, fmt.Errorf("dag: chain id of %d bytes exceeds %d", len(cfg.ChainID), MaxChainIDSize)
	}
	if !cfg.Committee.Has(cfg.Self) {
		return nil, fmt.Errorf("dag: validator %d not in committee of %d", cfg.Self, cfg.Committee.Size())
	}
	cfg.Options.EnsureDefaults()
	if err := cfg.Options.Validate(); err != nil {
		return nil, err
	}
	n := &Node{cfg: cfg}
	n.worker = newWorker(cfg.Self, 0, cfg.Committee, &n.cfg.Options, &n.out, cfg.Batches)
	n.primary = newPrimary(cfg.Self, cfg.Committee, &n.cfg.Options, &n.out, cfg.Signer, cfg.Verifier, n.worker, n.enqueue)
	n.primary.history = cfg.Certificates
	n.primary.chainID = cfg.ChainID
	return n, nil
}

func (n *Node) enqueue(subs []*CommittedSubDAG) {
	n.queue = append(n.queue, subs...)
}

// Step processes one message from a validator. An error says why the
// message was refused; the node is unaffected by it.
func (n *Node) Step(from ValidatorID, m Message) error {
	if !n.cfg.Committee.Has(from) {
		return fmt.Errorf("dag: message from unknown validator %d", from)
	}
	var err error
	switch m := m.(type) {
	case *Header:
		err = n.primary.onHeader(from, m)
	case *Vote:
		err = n.primary.onVote(from, m)
	case *Certificate:
		err = n.primary.onCertificate(from, m)
	case *CertRequest:
		n.primary.onCertRequest(from, m)
	case *CertResponse:
		err = n.primary.onCertResponse(from, m)
	case *SyncRequest:
		err = n.primary.onSyncRequest(from, m)
	case *Batch:
		err = n.worker.onBatch(from, m)
		if err == nil {
			n.retryHeaders()
		}
	case *BatchAck:
		n.worker.onAck(from, m)
		n.primary.tryPropose()
	case *BatchRequest:
		n.worker.onRequest(from, m)
	default:
		err = fmt.Errorf("unexpected message %T", m)
	}
	n.deliver()
	if err != nil {
		err = fmt.Errorf("dag: %s from %d: %w", m.Kind(), from, err)
		n.out.reject(from, m.Kind(), err)
	}
	return err
}

func (n *Node) retryHeaders() {
	p := n.primary
	for a := 0; a < n.cfg.Committee.Size(); a++ {
		if h, ok := p.pendingHeaders[ValidatorID(a)]; ok {
			p.tryVote(h)
		}
	}
}

// Tick advances the node's clock: batches seal, timeouts fire, lost
// messages are sent again.
func (n *Node) Tick(now Time) {
	if now < n.primary.now {
		now = n.primary.now // the core's clock never goes back
	}
	n.worker.tick(now)
	n.primary.tick(now)
	n.deliver()
}

// Submit hands a client transaction to the worker. ErrBusy means
// back-pressure: too many batches wait for a header.
func (n *Node) Submit(tx []byte) error { return n.worker.Submit(tx) }

// Ready returns and clears what the node produced. Until Advance is
// called after a non-empty Ready, it returns an empty one and the node
// keeps what it produces meanwhile for the next.
func (n *Node) Ready() Ready {
	if n.unadvanced {
		return Ready{}
	}
	rd := Ready{Persist: n.out.persist, Messages: n.out.messages, Committed: n.out.committed, Evidence: n.out.evidence, Rejected: n.out.rejected,
		Misbehaving: n.out.misbehaving}
	n.out = outbox{}
	n.unadvanced = !rd.IsEmpty()
	return rd
}

// Advance tells the node that the Persist records of the last Ready are
// durable, so that it may hand out the next Ready. Call it after the
// write and before sending that Ready's Messages or delivering its
// Committed (or after, as long as it is after the write).
func (n *Node) Advance() { n.unadvanced = false }

// deliver emits queued commits whose batches are all stored, in order.
func (n *Node) deliver() {
	for len(n.queue) > 0 {
		sub := n.queue[0]
		// Certificates before headReady are known to have all their batches.
		for n.headReady < len(sub.Certificates) && n.hasPayload(sub.Certificates[n.headReady]) {
			n.headReady++
		}
		if n.headReady < len(sub.Certificates) {
			n.requestMissingBatches()
			return
		}
		n.queue = n.queue[1:]
		n.headReady = 0
		n.out.put(commitKey(sub.Seq), sub.Record().encode())
		n.out.committed = append(n.out.committed, sub)
		n.deliveredSeq = sub.Seq
		n.deliveredRnd = sub.Leader.Round()
		n.deliveredHash = sub.Digest
	}
	n.forget()
}

// hasPayload reports whether every batch c references is stored.
func (n *Node) hasPayload(c *Certificate) bool {
	for _, r := range c.Header.Payload {
		if !n.worker.has(r.Digest) {
			return false
		}
	}
	return true
}

// Look-ahead of requestMissingBatches: how many queued commits it scans,
// and how often (a node that catches up receives many messages a
// millisecond; one scan per scanInterval is enough).
const (
	batchLookahead    = 64
	batchScanInterval = 20
)

// requestMissingBatches asks for the batches that the queued commits lack,
// looking ahead of the head so that a node catching up keeps a window of
// requests in flight instead of one commit per round trip. Each digest is
// asked again only after Options.ResendInterval; the first ask goes to the
// batch's author, a repeated one to the author and, in turn, another
// validator (any quorum member stored it).
func (n *Node) requestMissingBatches() {
	now := n.primary.now
	if n.batchAsk != 0 && now-n.batchAsk < batchScanInterval {
		return
	}
	n.batchAsk = now
	w := n.worker
	size := n.cfg.Committee.Size()
	asks := make([][]crypto.Digest, size)
	budget := MaxRequestItems
	for qi := 0; qi < len(n.queue) && qi < batchLookahead && budget > 0; qi++ {
		for _, c := range n.queue[qi].Certificates {
			for _, r := range c.Header.Payload {
				if budget == 0 || w.has(r.Digest) {
					continue
				}
				_, asked := w.requested[r.Digest]
				if !w.ask(r.Digest, c.Author(), c.Round()) {
					continue
				}
				budget--
				author := c.Author()
				if author != n.cfg.Self {
					asks[author] = append(asks[author], r.Digest)
				}
				if asked || author == n.cfg.Self {
					if other, ok := n.nextOther(author); ok {
						asks[other] = append(asks[other], r.Digest)
					}
				}
			}
		}
	}
	for peer, ds := range asks {
		if len(ds) > 0 {
			n.out.send(ValidatorID(peer), &BatchRequest{Digests: ds})
		}
	}
}

// nextOther returns, in turn, a validator that is neither this one nor
// author; false in a committee without a third validator.
func (n *Node) nextOther(author ValidatorID) (ValidatorID, bool) {
	size := ValidatorID(n.cfg.Committee.Size())
	for range size {
		n.askNext = (n.askNext + 1) % size
		if n.askNext != n.cfg.Self && n.askNext != author {
			return n.askNext, true
		}
	}
	return 0, false
}

type retainedRound struct {
	round   uint64
	authors []ValidatorID
	batches []crypto.Digest
}

// retain records what a collected certificate left on disk; the batches
// in skip are proposed again and stay as long as their new certificate.
func (n *Node) retain(c *Certificate, skip map[crypto.Digest]bool) {
	if k := len(n.retained); k == 0 || n.retained[k-1].round < c.Round() {
		n.retained = append(n.retained, retainedRound{round: c.Round()})
	}
	// Certificates are collected in ascending rounds; find c's round.
	i := len(n.retained) - 1
	for i > 0 && n.retained[i].round > c.Round() {
		i--
	}
	if n.retained[i].round != c.Round() {
		return // older than anything retained: its records are gone already
	}
	rr := &n.retained[i]
	rr.authors = append(rr.authors, c.Author())
	for _, r := range c.Header.Payload {
		if !skip[r.Digest] {
			rr.batches = append(rr.batches, r.Digest)
		}
	}
}

// forget drops collected certificates from memory and, RetainRounds later
// and once the commits that could need them are delivered, deletes their
// records.
func (n *Node) forget() {
	// This validator's certificates that missed every commit: their
	// batches go into a new header, or the transactions in them would be
	// lost (a certificate that reaches its peers after they proposed the
	// next round is referenced by no one).
	var again map[crypto.Digest]bool
	for _, c := range n.primary.orderer.TakeOrphaned() {
		if c.Author() != n.cfg.Self || len(c.Header.Payload) == 0 {
			continue
		}
		if again == nil {
			again = make(map[crypto.Digest]bool)
		}
		for _, r := range c.Header.Payload {
			again[r.Digest] = true
		}
		n.worker.repropose(c.Header.Payload)
		n.reproposed += uint64(len(c.Header.Payload))
	}
	for _, c := range n.primary.orderer.TakeCollected() {
		for _, r := range c.Header.Payload {
			if !again[r.Digest] {
				n.worker.dropIndex(r.Digest)
			}
		}
		n.retain(c, again)
	}
	var keep uint64
	if d := n.cfg.Options.GCDepth + n.cfg.Options.RetainRounds; n.deliveredRnd > d {
		keep = n.deliveredRnd - d
	}
	i := 0
	for ; i < len(n.retained) && n.retained[i].round < keep; i++ {
		rr := n.retained[i]
		for _, a := range rr.authors {
			n.out.del(certKey(rr.round, a))
		}
		n.out.del(headerKey(rr.round))
		for a := 0; a < n.cfg.Committee.Size(); a++ {
			n.out.del(voteKey(ValidatorID(a), rr.round))
		}
		for _, d := range rr.batches {
			n.out.del(batchKey(d))
		}
	}
	n.retained = n.retained[i:]
}

// Status is a snapshot of the node's progress, for metrics and APIs.
type Status struct {
	Round              uint64
	LastCommittedRound uint64
	LastCommittedSeq   uint64
	CommitDigest       crypto.Digest
	PendingCerts       int
	PendingCommits     int
	WorkerLoad         int
	// ReproposedBatches counts this validator's batches proposed again
	// because their certificate missed every commit.
	ReproposedBatches uint64
	// RequestedBatches counts the batches asked of peers and not yet
	// received (bounded per author, collected with GC).
	RequestedBatches int
}

// Status returns the node's progress.
func (n *Node) Status() Status {
	return Status{Round: n.primary.round, LastCommittedRound: n.deliveredRnd, LastCommittedSeq: n.deliveredSeq,
		CommitDigest: n.deliveredHash, PendingCerts: len(n.primary.pendingCerts), PendingCommits: len(n.queue), WorkerLoad: n.worker.Load(),
		ReproposedBatches: n.reproposed, RequestedBatches: len(n.worker.requested)}
}

// Primary returns the node's primary core (for inspection in tests).
func (n *Node) Primary() *Primary { return n.primary }

// Restore rebuilds the node from the records it persisted (in any order)
// after a crash or a restart. Records that fail to decode are reported; a
// torn last write must be dropped by the storage layer before this call.
// The node decodes the records; each role then restores its own state:
// the worker its batches, the orderer its commits, the primary its votes,
// its own header and the certificates it held.
func (n *Node) Restore(records []Record) error {
	rs, err := decodeRecords(records)
	if err != nil {
		return err
	}
	p := n.primary
	n.worker.restoreBatches(rs.batches)
	if last, err := n.restoreCommits(rs.commits); err != nil {
		return err
	} else if last != nil {
		n.deliveredSeq, n.deliveredRnd, n.deliveredHash = last.Seq, last.LeaderRound, last.Digest
	}
	certified := p.restore(rs.votes, rs.certs, rs.own, func(c *Certificate) { n.retain(c, nil) })
	var collected []crypto.Digest
	for _, rr := range n.retained {
		collected = append(collected, rr.batches...)
	}
	var proposed []BatchRef
	if rs.own != nil {
		proposed = rs.own.Payload
	}
	n.worker.restoreReferences(certified, collected, proposed)
	p.resume()
	n.deliver()
	return nil
}

// restoredRecords are the decoded records of a Restore, by role.
type restoredRecords struct {
	commits []*CommitRecord
	certs   []*Certificate // sorted by round, then author
	own     *Header        // the highest own header
	votes   []restoredVote // sorted by author, then round
	batches []restoredBatch
}

type restoredVote struct {
	slot   voteSlot
	header crypto.Digest
}

type restoredBatch struct {
	digest crypto.Digest
	header BatchHeader
}

// decodeRecords decodes persisted records in key order.
func decodeRecords(records []Record) (*restoredRecords, error) {
	recs := slices.Clone(records)
	slices.SortFunc(recs, func(a, b Record) int { return bytes.Compare(a.Key, b.Key) })
	rs := &restoredRecords{}
	for _, r := range recs {
		if len(r.Key) == 0 {
			continue
		}
		switch r.Key[0] {
		case prefixCommit:
			cr, err := decodeCommitRecord(r.Value)
			if err != nil {
				return nil, badRecord(r.Key, err)
			}
			rs.commits = append(rs.commits, cr)
		case prefixCert:
			c, err := DecodeCertificate(r.Value)
			if err != nil {
				return nil, badRecord(r.Key, err)
			}
			rs.certs = append(rs.certs, c)
		case prefixHeader:
			h, err := DecodeHeader(r.Value)
			if err != nil {
				return nil, badRecord(r.Key, err)
			}
			if rs.own == nil || h.Round > rs.own.Round {
				rs.own = h
			}
		case prefixVote:
			slot, ok := parseVoteKey(r.Key)
			if !ok || len(r.Value) != crypto.DigestSize {
				return nil, badRecord(r.Key, ErrMalformed)
			}
			v := restoredVote{slot: slot}
			copy(v.header[:], r.Value)
			rs.votes = append(rs.votes, v)
		case prefixBatch:
			d, ok := ParseBatchKey(r.Key)
			if !ok {
				return nil, badRecord(r.Key, fmt.Errorf("batch record: %w", ErrMalformed))
			}
			h, err := PeekBatch(r.Value)
			if err != nil {
				return nil, badRecord(r.Key, fmt.Errorf("batch record: %w", err))
			}
			rs.batches = append(rs.batches, restoredBatch{digest: d, header: h})
		}
	}
	slices.SortFunc(rs.certs, func(a, b *Certificate) int {
		if c := cmpRound(a.Round(), b.Round()); c != 0 {
			return c
		}
		return int(a.Author()) - int(b.Author())
	})
	return rs, nil
}

// restoreCommits hands the orderer the contiguous run of commits ending at
// the last one, as far back as it needs them, and returns the last.
func (n *Node) restoreCommits(commits []*CommitRecord) (*CommitRecord, error) {
	if len(commits) == 0 {
		return nil, nil
	}
	slices.SortFunc(commits, func(a, b *CommitRecord) int { return cmpRound(a.Seq, b.Seq) })
	start := len(commits) - 1
	for start > 0 && commits[start-1].Seq+1 == commits[start].Seq {
		start--
	}
	last := commits[len(commits)-1]
	var keep []*CommitRecord
	for _, c := range commits[start:] {
		if c.LeaderRound+2*n.cfg.Options.GCDepth >= last.LeaderRound {
			keep = append(keep, c)
		}
	}
	if err := n.primary.orderer.Restore(keep); err != nil {
		return nil, err
	}
	return last, nil
}
