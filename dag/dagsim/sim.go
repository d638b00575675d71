package dagsim

import (
	"container/heap"
	"encoding/binary"
	"fmt"
	"math/rand/v2"

	"github.com/dagd/dagd/crypto"
	"github.com/dagd/dagd/dag"
)

// Options configures one simulated run.
type Options struct {
	// Validators is the committee size n (equal stake). Default 4.
	Validators int
	// Byzantine is how many validators misbehave, at most f. Default 0.
	Byzantine int
	// Seed draws every fault and every delay.
	Seed uint64
	// Rounds is how far the honest validators must get. Default 60.
	Rounds uint64
	// Crypto is "fast" (keyed-hash signatures) or "bls" (blst). Default fast.
	Crypto string
	// LivenessBound is the virtual time, after faults stop, within which
	// every honest validator must commit new leaders. Default 60 s.
	LivenessBound dag.Time
	// NodeHook, if set, is called on every honest node after it is created
	// or restarted; tests use it to plant bugs.
	NodeHook func(id int, n *dag.Node)
	// Scheme, if set, replaces the signature scheme chosen by Crypto:
	// given n, it returns each validator's signer and the verifier.
	Scheme func(n int) ([]dag.Signer, dag.Verifier, error)
}

func (o *Options) ensureDefaults() {
	if o.Validators == 0 {
		o.Validators = 4
	}
	if o.Rounds == 0 {
		o.Rounds = 60
	}
	if o.Crypto == "" {
		o.Crypto = "fast"
	}
	if o.LivenessBound == 0 {
		o.LivenessBound = 60_000
	}
}

// Result is the outcome of one run.
type Result struct {
	Seed uint64
	// Violations lists broken safety invariants (empty when safe).
	Violations []string
	// LivenessFailure says which honest validator did not make progress
	// after faults stopped ("" when live).
	LivenessFailure string
	// MinCommittedLeaders is the fewest leaders any honest validator committed.
	MinCommittedLeaders int
	// LastSeq and LogDigest name the longest honest commit log.
	LastSeq   uint64
	LogDigest crypto.Digest
	// Stats counts what happened.
	Stats Stats
}

// Stats counts simulated events.
type Stats struct {
	Messages      int      `json:"messages"`
	Dropped       int      `json:"dropped"`
	Duplicated    int      `json:"duplicated"`
	Rejected      int      `json:"rejected"`
	Crashes       int      `json:"crashes"`
	TornWrites    int      `json:"torn_writes"`
	Partitions    int      `json:"partitions"`
	Evidence      int      `json:"evidence"`
	VirtualMillis dag.Time `json:"virtual_ms"`
	MaxRound      uint64   `json:"max_round"`
}

type byzKind int

const (
	honest byzKind = iota
	silent
	equivocator
	garbler
)

func (k byzKind) String() string {
	return [...]string{"honest", "silent", "equivocator", "garbler"}[k]
}

type evKind int

const (
	evDeliver evKind = iota
	evTick
	evCrash
	evRestart
	evPartition
	evHeal
	evSubmit
)

type event struct {
	at       dag.Time
	seq      uint64
	kind     evKind
	to, from int
	frame    []byte
}

type eventQueue []*event

func (q eventQueue) Len() int { return len(q) }
func (q eventQueue) Less(i, j int) bool {
	if q[i].at != q[j].at {
		return q[i].at < q[j].at
	}
	return q[i].seq < q[j].seq
}
func (q eventQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *eventQueue) Push(x any)   { *q = append(*q, x.(*event)) }
func (q *eventQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	return e
}

type simNode struct {
	id      int
	kind    byzKind
	node    *dag.Node
	up      bool
	disk    *disk
	lastSeq uint64
	lastTS  dag.Time
	leaders int
	// leadersAtHeal is the count when faults stopped.
	leadersAtHeal int
	txCounter     uint64
}

type sim struct {
	opts      Options
	rng       *rand.Rand
	committee *dag.Committee
	signers   []dag.Signer
	verifier  dag.Verifier
	nodes     []*simNode
	queue     eventQueue
	seq       uint64
	now       dag.Time

	faults    bool
	loss      float64
	crashRate float64 // crashes per second per honest validator
	tornProb  float64
	partition []int // side of each validator while partitioned, nil otherwise

	// global is the longest honest commit log: digest at each seq.
	global    []crypto.Digest
	leaderRnd []uint64                 // leader round at each seq of global
	committed map[crypto.Digest]uint64 // certificate -> seq that committed it
	res       Result
}

// simDagOptions are the core's options under simulation: short timeouts
// and a shallow GC depth so that garbage collection is exercised.
func simDagOptions() dag.Options {
	return dag.Options{
		GCDepth:        20,
		MaxRoundsAhead: 30,
		MaxHeaderDelay: 100,
		LeaderTimeout:  800,
		BatchSize:      2048,
		MaxBatchDelay:  30,
		ResendInterval: 300,
		SyncInterval:   700,
		SyncLimit:      200,
	}
}

// Run executes one seeded simulation.
func Run(opts Options) (res Result) {
	opts.ensureDefaults()
	s := &sim{opts: opts, rng: rand.New(rand.NewPCG(opts.Seed, 0x64616764)), committed: make(map[crypto.Digest]uint64)}
	s.res.Seed = opts.Seed
	if err := s.setup(); err != nil {
		s.res.Violations = append(s.res.Violations, "setup: "+err.Error())
		return s.res
	}
	s.loop()
	s.finish()
	return s.res
}

func (s *sim) setup() error {
	n := s.opts.Validators
	c, err := dag.EqualStakeCommittee(0, n)
	if err != nil {
		return err
	}
	s.committee = c
	f := int(c.MaxFaultyStake())
	if s.opts.Byzantine > f {
		return fmt.Errorf("%d Byzantine validators exceed f=%d for n=%d", s.opts.Byzantine, f, n)
	}
	switch {
	case s.opts.Scheme != nil:
		s.signers, s.verifier, err = s.opts.Scheme(n)
	case s.opts.Crypto == "fast":
		keys := newFastKeys(s.opts.Seed, n)
		s.verifier = keys
		for i := 0; i < n; i++ {
			s.signers = append(s.signers, fastSigner{secret: keys.secrets[i]})
		}
	case s.opts.Crypto == "bls":
		s.signers, s.verifier, err = blsScheme(s.opts.Seed, n)
	default:
		err = fmt.Errorf("unknown crypto %q (want fast or bls)", s.opts.Crypto)
	}
	if err != nil {
		return err
	}
	// Faults drawn for this seed.
	s.faults = true
	s.loss = s.rng.Float64() * 0.30
	s.crashRate = s.rng.Float64() * 0.3
	s.tornProb = 0.5
	byz := s.rng.Perm(n)[:s.opts.Byzantine]
	s.nodes = make([]*simNode, n)
	for i := range s.nodes {
		s.nodes[i] = &simNode{id: i, disk: newDisk()}
	}
	for _, b := range byz {
		s.nodes[b].kind = byzKind(1 + s.rng.IntN(3))
	}
	for _, sn := range s.nodes {
		if sn.kind == silent {
			continue
		}
		if err := s.start(sn); err != nil {
			return err
		}
		s.schedule(dag.Time(s.rng.IntN(10)), &event{kind: evTick, to: sn.id})
		s.schedule(dag.Time(s.rng.IntN(20)), &event{kind: evSubmit, to: sn.id})
		if sn.kind == honest {
			s.scheduleCrash(sn)
		}
	}
	if s.rng.Float64() < 0.7 {
		s.schedule(dag.Time(1000+s.rng.IntN(8000)), &event{kind: evPartition})
	}
	return nil
}

func (s *sim) start(sn *simNode) error {
	node, err := dag.NewNode(dag.Config{Self: dag.ValidatorID(sn.id), Committee: s.committee, Signer: s.signers[sn.id],
		Verifier: s.verifier, Batches: sn.disk, Certificates: sn.disk, Options: simDagOptions()})
	if err != nil {
		return err
	}
	if err := node.Restore(sn.disk.records()); err != nil {
		return fmt.Errorf("validator %d restore: %w", sn.id, err)
	}
	if sn.kind == honest && s.opts.NodeHook != nil {
		s.opts.NodeHook(sn.id, node)
	}
	// Like a node's executor, the observer replays commits that were
	// persisted but not delivered before the crash.
	for seq := sn.lastSeq + 1; ; seq++ {
		v, ok := sn.disk.kv[string(dag.CommitKey(seq))]
		if !ok {
			break
		}
		rec, err := dag.DecodeCommitRecord(v)
		if err != nil {
			return fmt.Errorf("validator %d: commit record %d: %w", sn.id, seq, err)
		}
		s.observeRecord(sn, rec)
	}
	sn.node = node
	sn.up = true
	node.Tick(s.now)
	s.process(sn)
	return nil
}

func (s *sim) schedule(after dag.Time, e *event) {
	s.seq++
	e.at = s.now + after
	e.seq = s.seq
	heap.Push(&s.queue, e)
}

func (s *sim) scheduleCrash(sn *simNode) {
	if s.crashRate == 0 {
		return
	}
	after := dag.Time(s.rng.ExpFloat64() / s.crashRate * 1000)
	s.schedule(after+1, &event{kind: evCrash, to: sn.id})
}

func (s *sim) honestNodes() []*simNode {
	var out []*simNode
	for _, sn := range s.nodes {
		if sn.kind == honest {
			out = append(out, sn)
		}
	}
	return out
}

func (s *sim) maxHonestRound() uint64 {
	var r uint64
	for _, sn := range s.honestNodes() {
		if sn.up {
			r = max(r, sn.node.Status().Round)
		}
	}
	return r
}

func (s *sim) loop() {
	faultEnd := dag.Time(0)
	healedAt := dag.Time(0)
	const hardCap = 600_000 // ten virtual minutes
	for s.queue.Len() > 0 && len(s.res.Violations) == 0 {
		e := heap.Pop(&s.queue).(*event)
		s.now = e.at
		s.handle(e)
		if s.faults && (s.maxHonestRound() >= s.opts.Rounds/2 || s.now >= 120_000) {
			s.stopFaults()
			faultEnd = s.now
			healedAt = s.now
		}
		if !s.faults {
			done := s.maxHonestRound() >= s.opts.Rounds
			for _, sn := range s.honestNodes() {
				if sn.leaders-sn.leadersAtHeal < 3 {
					done = false
				}
			}
			if done {
				break
			}
			if s.now-healedAt > s.opts.LivenessBound {
				for _, sn := range s.honestNodes() {
					if sn.leaders-sn.leadersAtHeal < 3 {
						s.res.LivenessFailure = fmt.Sprintf("validator %d committed %d leaders in the %d ms after faults stopped at %d ms (round %d)",
							sn.id, sn.leaders-sn.leadersAtHeal, s.opts.LivenessBound, faultEnd, sn.node.Status().Round)
						break
					}
				}
				if s.res.LivenessFailure == "" && s.maxHonestRound() < s.opts.Rounds {
					s.res.LivenessFailure = fmt.Sprintf("honest validators reached round %d of %d", s.maxHonestRound(), s.opts.Rounds)
				}
				break
			}
		}
		if s.now > hardCap {
			s.res.LivenessFailure = "virtual time cap reached"
			break
		}
	}
}

func (s *sim) stopFaults() {
	s.faults = false
	s.loss = 0
	s.partition = nil
	for _, sn := range s.honestNodes() {
		if !sn.up {
			if err := s.start(sn); err != nil {
				s.violation("restart of validator %d failed: %v", sn.id, err)
			}
			s.schedule(10, &event{kind: evTick, to: sn.id})
		}
		sn.leadersAtHeal = sn.leaders
	}
}

func (s *sim) handle(e *event) {
	switch e.kind {
	case evTick:
		sn := s.nodes[e.to]
		if sn.up {
			sn.node.Tick(s.now)
			s.process(sn)
			if sn.kind == garbler && s.rng.Float64() < 0.2 {
				s.garble(sn)
			}
		}
		if sn.up || sn.kind != honest {
			s.schedule(10, &event{kind: evTick, to: e.to})
		}
	case evSubmit:
		sn := s.nodes[e.to]
		if sn.up {
			for k := s.rng.IntN(3); k >= 0; k-- {
				sn.txCounter++
				tx := make([]byte, 16+s.rng.IntN(48))
				binary.BigEndian.PutUint64(tx, uint64(sn.id))
				binary.BigEndian.PutUint64(tx[8:], sn.txCounter)
				_ = sn.node.Submit(tx) // ErrBusy is back-pressure: the client drops it
			}
			s.process(sn)
		}
		s.schedule(dag.Time(100+s.rng.IntN(200)), &event{kind: evSubmit, to: e.to})
	case evDeliver:
		sn := s.nodes[e.to]
		if !sn.up {
			return
		}
		m, err := dag.DecodeMessage(e.frame)
		if err != nil {
			s.res.Stats.Rejected++
			return
		}
		if err := sn.node.Step(dag.ValidatorID(e.from), m); err != nil {
			s.res.Stats.Rejected++
		}
		s.process(sn)
	case evCrash:
		sn := s.nodes[e.to]
		if !s.faults || !sn.up {
			return
		}
		s.crash(sn)
	case evRestart:
		sn := s.nodes[e.to]
		if sn.up {
			return
		}
		if err := s.start(sn); err != nil {
			s.violation("restart of validator %d failed: %v", sn.id, err)
			return
		}
		s.schedule(10, &event{kind: evTick, to: sn.id})
		if s.faults {
			s.scheduleCrash(sn)
		}
	case evPartition:
		if !s.faults {
			return
		}
		s.res.Stats.Partitions++
		s.partition = make([]int, len(s.nodes))
		for i := range s.partition {
			s.partition[i] = s.rng.IntN(2)
		}
		s.schedule(dag.Time(500+s.rng.IntN(4000)), &event{kind: evHeal})
	case evHeal:
		s.partition = nil
		if s.faults && s.rng.Float64() < 0.5 {
			s.schedule(dag.Time(1000+s.rng.IntN(5000)), &event{kind: evPartition})
		}
	}
}

func (s *sim) crash(sn *simNode) {
	sn.up = false
	sn.node = nil
	s.res.Stats.Crashes++
	s.schedule(dag.Time(200+s.rng.IntN(4000)), &event{kind: evRestart, to: sn.id})
}

// process drains a node's Ready: persist, then send, then deliver commits.
func (s *sim) process(sn *simNode) {
	for sn.up {
		rd := sn.node.Ready()
		if rd.IsEmpty() {
			return
		}
		if s.faults && sn.kind == honest && len(rd.Persist) > 0 && s.crashRate > 0 && s.rng.Float64() < s.crashRate*0.002 {
			// The validator dies in the middle of this write: the last
			// record is torn, nothing of this Ready is sent or delivered.
			if s.rng.Float64() < s.tornProb {
				s.res.Stats.TornWrites++
				sn.disk.tornWrite(rd.Persist, func(n int) int { return s.rng.IntN(n) })
			} else {
				sn.disk.write(rd.Persist[:s.rng.IntN(len(rd.Persist))])
			}
			s.crash(sn)
			return
		}
		sn.disk.write(rd.Persist)
		sn.node.Advance()
		for _, m := range rd.Messages {
			s.send(sn, m)
		}
		for _, c := range rd.Committed {
			s.observeCommit(sn, c)
		}
		s.res.Stats.Evidence += len(rd.Evidence)
		for _, ev := range rd.Evidence {
			if err := ev.Check(s.verifier, ""); err != nil {
				s.violation("validator %d emitted bad evidence: %v", sn.id, err)
			} else if s.nodes[ev.First.Author].kind == honest {
				s.violation("validator %d accused honest validator %d", sn.id, ev.First.Author)
			}
		}
	}
}

func (s *sim) send(from *simNode, m dag.Outbound) {
	if from.kind == equivocator {
		if h, ok := m.Msg.(*dag.Header); ok && m.Broadcast && h.Author == dag.ValidatorID(from.id) {
			s.equivocate(from, h)
			return
		}
	}
	frame := dag.EncodeMessage(m.Msg)
	if m.Broadcast {
		for i := range s.nodes {
			if i != from.id {
				s.transmit(from.id, i, frame)
			}
		}
		return
	}
	if int(m.To) != from.id {
		s.transmit(from.id, int(m.To), frame)
	}
}

// equivocate sends the real header to some peers and a conflicting one,
// equally well signed, to the others, and both to one of them.
func (s *sim) equivocate(from *simNode, h *dag.Header) {
	alt := dag.NewHeader(h.Epoch, h.Round, h.Author, h.Timestamp+1, nil, h.Parents)
	d := alt.Digest()
	alt.Signature = s.signers[from.id].Sign(d[:])
	a, b := dag.EncodeMessage(h), dag.EncodeMessage(alt)
	both := s.rng.IntN(len(s.nodes))
	for i := range s.nodes {
		if i == from.id {
			continue
		}
		if i%2 == 0 || i == both {
			s.transmit(from.id, i, a)
		}
		if i%2 == 1 || i == both {
			s.transmit(from.id, i, b)
		}
	}
}

// garble sends one invalid message to a random peer.
func (s *sim) garble(sn *simNode) {
	to := s.rng.IntN(len(s.nodes))
	if to == sn.id {
		return
	}
	var frame []byte
	switch s.rng.IntN(5) {
	case 0: // random bytes
		frame = make([]byte, s.rng.IntN(200))
		for i := range frame {
			frame[i] = byte(s.rng.UintN(256))
		}
	case 1: // a header with a bad signature
		h := dag.NewHeader(0, sn.node.Status().Round, dag.ValidatorID(sn.id), s.now, nil, nil)
		h.Signature = make([]byte, 32)
		frame = dag.EncodeMessage(h)
	case 2: // a certificate claiming every signer with only its own signature
		h := dag.NewHeader(0, sn.node.Status().Round+1, dag.ValidatorID(sn.id), s.now, nil, nil)
		d := h.Digest()
		h.Signature = s.signers[sn.id].Sign(d[:])
		c := &dag.Certificate{Header: h, CommitteeSize: len(s.nodes), Signature: h.Signature}
		for i := range s.nodes {
			c.Signers = append(c.Signers, dag.ValidatorID(i))
		}
		frame = dag.EncodeMessage(c)
	case 3: // a vote for a random header, claiming to come from another voter
		v := &dag.Vote{Round: 1, Origin: dag.ValidatorID(to), Voter: dag.ValidatorID((sn.id + 1) % len(s.nodes)), Signature: make([]byte, 32)}
		v.Header[0] = byte(s.rng.UintN(256))
		frame = dag.EncodeMessage(v)
	case 4: // a truncated real message
		h := dag.NewHeader(0, 1, dag.ValidatorID(sn.id), s.now, nil, nil)
		full := dag.EncodeMessage(h)
		frame = full[:s.rng.IntN(len(full))]
	}
	s.transmit(sn.id, to, frame)
}

func (s *sim) transmit(from, to int, frame []byte) {
	s.res.Stats.Messages++
	if s.faults {
		if s.partition != nil && s.partition[from] != s.partition[to] {
			s.res.Stats.Dropped++
			return
		}
		if s.rng.Float64() < s.loss {
			s.res.Stats.Dropped++
			return
		}
	}
	copies := 1
	if s.rng.Float64() < 0.03 {
		copies = 2
		s.res.Stats.Duplicated++
	}
	for ; copies > 0; copies-- {
		s.schedule(s.delay(), &event{kind: evDeliver, from: from, to: to, frame: frame})
	}
}

// delay draws a network delay with a long tail.
func (s *sim) delay() dag.Time {
	d := 5 + s.rng.ExpFloat64()*20
	if s.faults {
		switch x := s.rng.Float64(); {
		case x < 0.01:
			d += 1000 + s.rng.Float64()*2000
		case x < 0.06:
			d += s.rng.ExpFloat64() * 300
		}
	}
	return dag.Time(d)
}

func (s *sim) violation(format string, args ...any) {
	s.res.Violations = append(s.res.Violations, fmt.Sprintf("t=%dms: ", s.now)+fmt.Sprintf(format, args...))
}

// observeCommit checks the safety invariants on a delivered commit.
func (s *sim) observeCommit(sn *simNode, c *dag.CommittedSubDAG) {
	if sn.kind != honest {
		return
	}
	if c.Seq != sn.lastSeq+1 {
		s.violation("validator %d delivered seq %d after %d (committed twice or skipped)", sn.id, c.Seq, sn.lastSeq)
		return
	}
	if c.Timestamp < sn.lastTS {
		s.violation("validator %d consensus time went back from %d to %d", sn.id, sn.lastTS, c.Timestamp)
	}
	sn.lastSeq, sn.lastTS = c.Seq, c.Timestamp
	sn.leaders++
	if int(c.Seq) <= len(s.global) {
		if s.global[c.Seq-1] != c.Digest {
			s.violation("agreement: validator %d commit %d has digest %s, others %s", sn.id, c.Seq, c.Digest.Short(), s.global[c.Seq-1].Short())
		}
		return
	}
	// A new entry of the longest log: check it commits nothing twice and
	// nothing before its causal history.
	if len(c.Certificates) == 0 || c.Certificates[len(c.Certificates)-1] != c.Leader {
		s.violation("commit %d does not end with its leader", c.Seq)
	}
	local := make(map[crypto.Digest]bool, len(c.Certificates))
	for _, cert := range c.Certificates {
		d := cert.Digest()
		if prev, ok := s.committed[d]; ok {
			s.violation("certificate %s committed twice: seq %d and %d", cert, prev, c.Seq)
		}
		for _, p := range cert.Header.Parents {
			if _, ok := s.committed[p]; !ok && !local[p] && cert.Round() > 1 && cert.Round()-1 >= s.floor() {
				s.violation("commit %d holds %s before its parent %s", c.Seq, cert, p.Short())
			}
		}
		local[d] = true
	}
	for d := range local {
		s.committed[d] = c.Seq
	}
	s.global = append(s.global, c.Digest)
	s.leaderRnd = append(s.leaderRnd, c.Leader.Round())
}

// observeRecord checks a commit replayed from a persisted record.
func (s *sim) observeRecord(sn *simNode, r *dag.CommitRecord) {
	if sn.kind != honest {
		return
	}
	if r.Seq != sn.lastSeq+1 {
		s.violation("validator %d replayed seq %d after %d", sn.id, r.Seq, sn.lastSeq)
		return
	}
	sn.lastSeq, sn.lastTS = r.Seq, r.Timestamp
	sn.leaders++
	if int(r.Seq) <= len(s.global) {
		if s.global[r.Seq-1] != r.Digest {
			s.violation("agreement: validator %d commit %d has digest %s, others %s", sn.id, r.Seq, r.Digest.Short(), s.global[r.Seq-1].Short())
		}
		return
	}
	for _, d := range r.Certificates {
		if prev, ok := s.committed[d]; ok {
			s.violation("certificate %s committed twice: seq %d and %d", d.Short(), prev, r.Seq)
		}
		s.committed[d] = r.Seq
	}
	s.global = append(s.global, r.Digest)
	s.leaderRnd = append(s.leaderRnd, r.LeaderRound)
}

// floor is the lowest round the next commit may include: the GC round
// under the previous leader, below which history is cut.
func (s *sim) floor() uint64 {
	if len(s.leaderRnd) == 0 {
		return 0
	}
	last := s.leaderRnd[len(s.leaderRnd)-1]
	if gc := simDagOptions().GCDepth; last > gc {
		return last - gc
	}
	return 0
}

func (s *sim) finish() {
	s.res.Stats.VirtualMillis = s.now
	s.res.Stats.MaxRound = s.maxHonestRound()
	s.res.MinCommittedLeaders = -1
	for _, sn := range s.honestNodes() {
		if s.res.MinCommittedLeaders < 0 || sn.leaders < s.res.MinCommittedLeaders {
			s.res.MinCommittedLeaders = sn.leaders
		}
	}
	s.res.LastSeq = uint64(len(s.global))
	if len(s.global) > 0 {
		s.res.LogDigest = s.global[len(s.global)-1]
	}
}
