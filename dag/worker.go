package dag

import (
	"errors"
	"fmt"

	"github.com/dagd/dagd/crypto"
)

// ErrBusy is returned by Submit when the worker holds as many unproposed
// batches as it may: back-pressure, try again later.
var ErrBusy = errors.New("dag: busy, too many pending batches")

// ErrTxTooLarge is returned by Submit for a transaction above MaxTxSize.
var ErrTxTooLarge = errors.New("dag: transaction too large")

// CertificateReader reads certificates the driver has persisted, including
// those below the GC round that are still retained (Options.RetainRounds).
type CertificateReader interface {
	// ReadCertificates returns up to limit persisted certificates of
	// rounds at or above from, ascending by round then author.
	ReadCertificates(from uint64, limit int) []*Certificate
}

// BatchReader reads batches the driver has persisted from earlier Ready
// records (the way etcd raft's Storage is read by its state machine).
type BatchReader interface {
	// ReadBatch returns the batch stored under d, or false.
	ReadBatch(d crypto.Digest) (*Batch, bool)
}

// Outbound is a message to send. Broadcast sends it to every other
// validator; otherwise it goes to To.
type Outbound struct {
	To        ValidatorID
	Broadcast bool
	Msg       Message
}

// outbox collects what the cores produce between two Ready calls.
type outbox struct {
	persist   []Record
	messages  []Outbound
	committed []*CommittedSubDAG
	evidence  []*Evidence
	rejected  []Rejection
	// misbehaving holds at most one entry per peer.
	misbehaving []Misbehavior
}

func (o *outbox) send(to ValidatorID, m Message) {
	o.messages = append(o.messages, Outbound{To: to, Msg: m})
}
func (o *outbox) broadcast(m Message) {
	o.messages = append(o.messages, Outbound{Broadcast: true, Msg: m})
}
func (o *outbox) put(key, value []byte) {
	o.persist = append(o.persist, Record{Key: key, Value: value})
}
func (o *outbox) del(key []byte) { o.persist = append(o.persist, Record{Key: key, Delete: true}) }

// Rejection reports a message refused, with the reason, for logs and metrics.
type Rejection struct {
	From   ValidatorID
	Kind   Kind
	Reason error
}

func (o *outbox) reject(from ValidatorID, k Kind, err error) {
	if len(o.rejected) < 1024 {
		o.rejected = append(o.rejected, Rejection{From: from, Kind: k, Reason: err})
	}
}

// Misbehavior names a peer that sent what no honest validator sends, and
// what it was.
type Misbehavior struct {
	Peer   ValidatorID
	Kind   Kind
	Reason error
}

// misbehave reports peer once per Ready.
func (o *outbox) misbehave(peer ValidatorID, k Kind, err error) {
	for _, m := range o.misbehaving {
		if m.Peer == peer {
			return
		}
	}
	o.misbehaving = append(o.misbehaving, Misbehavior{Peer: peer, Kind: k, Reason: err})
}

type batchInfo struct {
	author     ValidatorID
	referenced bool
	size       int // encoded bytes, for the unreferenced bound
}

type ownBatch struct {
	ref    BatchRef
	acks   stakeSet
	sentAt Time
}

// Worker is the Narwhal worker core of one validator as a pure state
// machine: it seals client transactions into batches by size or delay,
// disseminates them, counts acknowledgements, stores other validators'
// batches, and hands the primary the digests that a quorum stored.
type Worker struct {
	self      ValidatorID
	id        uint16
	committee *Committee
	opts      *Options
	out       *outbox
	reader    BatchReader

	cur      [][]byte
	curBytes int
	curSince Time

	pending []*ownBatch // sealed, waiting for a quorum of acks, in seal order
	ready   []BatchRef  // stored by a quorum, waiting for a header

	index      map[crypto.Digest]*batchInfo
	unrefOrder [][]crypto.Digest // per author, FIFO of unreferenced batches
	unrefBytes []int             // per author, bytes of the batches in unrefOrder
	// requested are the batches asked of peers, each with the author and
	// round of the header or certificate that names it, so that garbage
	// collection forgets them; reqCount counts them per author, bounded
	// by maxRequestedPerAuthor (a Byzantine author's headers may name
	// batches that do not exist).
	requested map[crypto.Digest]batchAsk
	reqCount  []int
	now       Time
}

// batchAsk is one batch requested from peers.
type batchAsk struct {
	at     Time
	round  uint64
	author ValidatorID
}

// maxRequestedPerAuthor bounds the requested batches named by one
// author's headers and certificates.
func (w *Worker) maxRequestedPerAuthor() int { return max(2*w.opts.MaxHeaderBatches, MaxRequestItems) }

// ask records that d, named by author's header or certificate of round,
// is asked for now. It reports false, recording nothing, when d was asked
// less than ResendInterval ago or author's share of requests is full.
func (w *Worker) ask(d crypto.Digest, author ValidatorID, round uint64) bool {
	if a, ok := w.requested[d]; ok {
		if w.now-a.at < w.opts.ResendInterval {
			return false
		}
		a.at = w.now
		w.requested[d] = a
		return true
	}
	if w.reqCount[author] >= w.maxRequestedPerAuthor() {
		return false
	}
	w.reqCount[author]++
	w.requested[d] = batchAsk{at: w.now, round: round, author: author}
	return true
}

// unask forgets the request of d.
func (w *Worker) unask(d crypto.Digest) {
	if a, ok := w.requested[d]; ok {
		w.reqCount[a.author]--
		delete(w.requested, d)
	}
}

// collectRequests forgets the requests named below the GC round.
func (w *Worker) collectRequests(gc uint64) {
	for d, a := range w.requested { // deletes only: order does not matter
		if a.round < gc {
			w.reqCount[a.author]--
			delete(w.requested, d)
		}
	}
}

// Requested returns how many batches are asked of peers (for metrics and
// tests).
func (w *Worker) Requested() int { return len(w.requested) }

func newWorker(self ValidatorID, id uint16, c *Committee, opts *Options, out *outbox, r BatchReader) *Worker {
	return &Worker{self: self, id: id, committee: c, opts: opts, out: out, reader: r,
		index: make(map[crypto.Digest]*batchInfo), unrefOrder: make([][]crypto.Digest, c.Size()), unrefBytes: make([]int, c.Size()),
		requested: make(map[crypto.Digest]batchAsk), reqCount: make([]int, c.Size())}
}

// Submit adds a client transaction to the batch being filled.
func (w *Worker) Submit(tx []byte) error {
	if len(tx) == 0 {
		return errors.New("dag: empty transaction")
	}
	if len(tx) > w.opts.MaxTxSize {
		return fmt.Errorf("%w: %d bytes, limit %d", ErrTxTooLarge, len(tx), w.opts.MaxTxSize)
	}
	if len(w.pending)+len(w.ready) >= w.opts.MaxPendingBatches {
		return ErrBusy
	}
	if len(w.cur) == 0 {
		w.curSince = w.now
	}
	w.cur = append(w.cur, tx)
	w.curBytes += len(tx)
	if w.curBytes >= w.opts.BatchSize || len(w.cur) >= MaxBatchTxs {
		w.seal()
	}
	return nil
}

// Load returns the number of own batches not yet in a header.
func (w *Worker) Load() int { return len(w.pending) + len(w.ready) }

func (w *Worker) seal() {
	if len(w.cur) == 0 {
		return
	}
	b := &Batch{Epoch: w.committee.Epoch(), Author: w.self, Worker: w.id, Transactions: w.cur}
	w.cur, w.curBytes = nil, 0
	enc := b.Encode()
	b.enc = enc // the broadcast sends this encoding, not a new one
	d := BatchDigest(enc)
	w.out.put(batchKey(d), enc)
	w.index[d] = &batchInfo{author: w.self}
	ob := &ownBatch{ref: BatchRef{Digest: d, Worker: w.id}, acks: newStakeSet(w.committee), sentAt: w.now}
	ob.acks.add(w.committee, w.self)
	w.out.broadcast(b)
	w.pending = append(w.pending, ob)
	w.promote()
}

// promote moves batches stored by a quorum to the ready list.
func (w *Worker) promote() {
	q := w.committee.QuorumThreshold()
	kept := w.pending[:0]
	for _, ob := range w.pending {
		if ob.acks.stake >= q {
			w.ready = append(w.ready, ob.ref)
		} else {
			kept = append(kept, ob)
		}
	}
	for i := len(kept); i < len(w.pending); i++ {
		w.pending[i] = nil
	}
	w.pending = kept
}

func (w *Worker) tick(now Time) {
	w.now = now
	if len(w.cur) > 0 && now-w.curSince >= w.opts.MaxBatchDelay {
		w.seal()
	}
	for _, ob := range w.pending {
		if now-ob.sentAt >= w.opts.ResendInterval {
			ob.sentAt = now
			b, ok := w.reader.ReadBatch(ob.ref.Digest)
			if !ok {
				continue
			}
			for i := 0; i < w.committee.Size(); i++ {
				if !ob.acks.seen[i] {
					w.out.send(ValidatorID(i), b)
				}
			}
		}
	}
}

// takeReady removes and returns up to max batch references for a header.
func (w *Worker) takeReady(max int) []BatchRef {
	n := min(max, len(w.ready))
	out := append([]BatchRef(nil), w.ready[:n]...)
	w.ready = w.ready[n:]
	return out
}

// requeue puts references of an abandoned header back in front.
func (w *Worker) requeue(refs []BatchRef) {
	w.ready = append(append([]BatchRef(nil), refs...), w.ready...)
}

// repropose puts the batches of an own certificate that missed every
// commit back in front of the ready list, indexed again (the collection
// of that certificate dropped them from the index; their records stayed).
func (w *Worker) repropose(refs []BatchRef) {
	for _, r := range refs {
		w.index[r.Digest] = &batchInfo{author: w.self, referenced: true}
	}
	w.requeue(refs)
}

func (w *Worker) has(d crypto.Digest) bool { _, ok := w.index[d]; return ok }

// markReferenced records that a certificate references d, so it is no
// longer subject to eviction as unreferenced.
func (w *Worker) markReferenced(d crypto.Digest) {
	if bi, ok := w.index[d]; ok {
		bi.referenced = true
	}
}

// dropIndex forgets a batch whose certificate fell below the GC round;
// its record stays on disk for peers that catch up.
func (w *Worker) dropIndex(d crypto.Digest) { delete(w.index, d) }

// forget drops an unreferenced batch and its record.
func (w *Worker) forget(d crypto.Digest) {
	if _, ok := w.index[d]; ok {
		delete(w.index, d)
		w.out.del(batchKey(d))
	}
}

// request asks peer for the batches it lacks among ds, which a header of
// peer's of round names.
func (w *Worker) request(peer ValidatorID, round uint64, ds []crypto.Digest) {
	var missing []crypto.Digest
	for _, d := range ds {
		if w.has(d) {
			continue
		}
		if len(missing) == MaxRequestItems {
			break
		}
		if w.ask(d, peer, round) {
			missing = append(missing, d)
		}
	}
	if len(missing) > 0 && peer != w.self {
		w.out.send(peer, &BatchRequest{Digests: missing})
	}
}

func (w *Worker) onBatch(from ValidatorID, b *Batch) error {
	if b.Epoch != w.committee.Epoch() {
		return fmt.Errorf("batch of epoch %d, want %d", b.Epoch, w.committee.Epoch())
	}
	if !w.committee.Has(b.Author) {
		return fmt.Errorf("batch author %d not in committee", b.Author)
	}
	for _, tx := range b.Transactions {
		if len(tx) == 0 || len(tx) > w.opts.MaxTxSize {
			return fmt.Errorf("batch holds a transaction of %d bytes", len(tx))
		}
	}
	enc := b.encoding() // a decoded batch's own bytes: no second encoding
	d := BatchDigest(enc)
	_, wanted := w.requested[d]
	if b.Author != from && !wanted {
		if w.has(d) {
			// A second answer to a request that another peer answered
			// first: harmless.
			return nil
		}
		return fmt.Errorf("unrequested batch of author %d relayed by %d", b.Author, from)
	}
	w.unask(d)
	if !w.has(d) {
		w.out.put(batchKey(d), enc)
		w.index[d] = &batchInfo{author: b.Author, size: len(enc)}
		w.trackUnreferenced(b.Author, d)
	}
	if b.Author == from && from != w.self {
		w.out.send(from, &BatchAck{Digest: d})
	}
	return nil
}

// trackUnreferenced queues d, just stored, among author's unreferenced
// batches, and drops the oldest beyond MaxUnreferencedBatches or
// MaxUnreferencedBytes: a Byzantine author's batches that no certificate
// references cost bounded memory and disk.
func (w *Worker) trackUnreferenced(author ValidatorID, d crypto.Digest) {
	q := append(w.unrefOrder[author], d)
	w.unrefBytes[author] += w.sizeOf(d)
	// Drop references that are no longer candidates (referenced since, or
	// collected) and count the bytes again, so the queue stays short and
	// the count exact before anything is dropped.
	if len(q) > 2*w.opts.MaxUnreferencedBatches/3 || w.unrefBytes[author] > w.opts.MaxUnreferencedBytes/2 {
		kept := q[:0]
		bytes := 0
		for _, x := range q {
			if bi, ok := w.index[x]; ok && !bi.referenced {
				kept = append(kept, x)
				bytes += bi.size
			}
		}
		q = kept
		w.unrefBytes[author] = bytes
	}
	for len(q) > 1 && (len(q) > w.opts.MaxUnreferencedBatches || w.unrefBytes[author] > w.opts.MaxUnreferencedBytes) {
		old := q[0]
		q = q[1:]
		w.unrefBytes[author] -= w.sizeOf(old)
		w.forget(old)
	}
	w.unrefOrder[author] = q
}

// sizeOf returns the size of an indexed batch (0 once forgotten or
// referenced: it then no longer counts as unreferenced).
func (w *Worker) sizeOf(d crypto.Digest) int {
	if bi, ok := w.index[d]; ok && !bi.referenced {
		return bi.size
	}
	return 0
}

func (w *Worker) onAck(from ValidatorID, a *BatchAck) {
	for _, ob := range w.pending {
		if ob.ref.Digest == a.Digest {
			ob.acks.add(w.committee, from)
			w.promote()
			return
		}
	}
}

// Bounds of one batch request's answer: batches sent, and digests looked
// up (each may cost a disk read; a request may name up to
// MaxRequestItems digests, existing or not).
const (
	maxServedBatches = 64
	maxServedLookups = 4 * maxServedBatches
)

func (w *Worker) onRequest(from ValidatorID, r *BatchRequest) {
	n := 0
	for i, d := range r.Digests {
		if i == maxServedLookups {
			return
		}
		// Read from disk even when not indexed: retained batches below
		// the GC round serve validators that catch up.
		if b, ok := w.reader.ReadBatch(d); ok {
			w.out.send(from, b)
			if n++; n >= maxServedBatches {
				return
			}
		}
	}
}

// restoreBatches indexes the batches persisted before a restart; own
// batches wait again for a header (restoreReferences drops those already
// proposed).
func (w *Worker) restoreBatches(bs []restoredBatch) {
	for _, b := range bs {
		w.index[b.digest] = &batchInfo{author: b.header.Author}
		if b.header.Author == w.self {
			ob := &ownBatch{ref: BatchRef{Digest: b.digest, Worker: b.header.Worker}, acks: newStakeSet(w.committee)}
			ob.acks.add(w.committee, w.self)
			w.pending = append(w.pending, ob)
		}
	}
}

// restoreReferences marks the batches that restored certificates
// reference, forgets those of collected certificates (their records stay
// on disk for peers that catch up), and drops from the pending own
// batches those that a certificate or the last own header carries.
func (w *Worker) restoreReferences(certified map[crypto.Digest]bool, collected []crypto.Digest, proposed []BatchRef) {
	for d := range certified {
		w.markReferenced(d)
	}
	for _, d := range collected {
		w.dropIndex(d)
	}
	inHeader := make(map[crypto.Digest]bool, len(proposed))
	for _, r := range proposed {
		inHeader[r.Digest] = true
	}
	kept := w.pending[:0]
	for _, ob := range w.pending {
		if !certified[ob.ref.Digest] && !inHeader[ob.ref.Digest] {
			kept = append(kept, ob)
		}
	}
	w.pending = kept
}

func (w *Worker) readyCount() int { return len(w.ready) }
