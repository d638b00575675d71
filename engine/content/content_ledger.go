package content

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dagd/dagd/engine/client"
	"github.com/dagd/dagd/engine/store"

	"github.com/ipfs/go-cid"

	"github.com/dagd/dagd/contracts"
	"github.com/dagd/dagd/crypto"
	"github.com/dagd/dagd/erasure"
	"github.com/dagd/dagd/heal"
	"github.com/dagd/dagd/shard"
)

// Ledger registration of content.
//
// A put ends with an availability certificate: the aggregate BLS signature
// of holders with a quorum of stake. The node that aggregated it registers
// it in the ledger with a contracts.RegisterContent transaction signed by
// its own account (Options.AccountKey) and submitted through its own
// intake (Node.Submit), like any client's transaction. Every validator's
// executor verifies the certificate against the committee in the state and
// records the content (contracts.ContentKey): the executed state is the
// source of truth of what the network stores. The registrar below submits,
// follows the receipt, and submits again when the transaction was dropped
// or its nonce was taken.
//
// The state is a Merkle tree keyed by hashes: it cannot list the content it
// holds. So each node keeps, in its own pebble, an index of the content
// registrations it executed (ledgerPrefix: CID -> commit, transaction, n),
// written by the executor after each commit (Executed) and caught up
// from the commits themselves after a restart (CatchUp). The audit
// lists the index, and reads each content's record from the state.
//
// The local registry of certificates (content_registry.go), fed by the
// uploader's announcement and by pulling other validators' registries, is
// kept as a hint and a fallback: it lets a node learn of content before the
// registration executes, and it is the only registry of a node that does
// not execute (Execution.Disabled), of a chain whose state has no committee
// (no genesis), or of content whose uploader has no funded account. When
// both know a CID, the ledger's record decides (its manifest digest, k, n).
// A node says which it used in logs and in client.ContentStat.Ledger.

// contentRegisterEvent is the event contracts' RegisterContent emits.
const contentRegisterEvent = "content_register"

// ledgerRec is an index entry: u8 version (1) | seq u64 | tx digest [32] |
// n u16.
type ledgerRec struct {
	Seq uint64
	Tx  crypto.Digest
	N   int
}

func (r *ledgerRec) encode() []byte {
	b := make([]byte, 0, 1+8+32+2)
	b = append(b, 1)
	b = binary.BigEndian.AppendUint64(b, r.Seq)
	b = append(b, r.Tx[:]...)
	return binary.BigEndian.AppendUint16(b, uint16(r.N))
}

func decodeLedgerRec(p []byte) (*ledgerRec, error) {
	r := &frameReader{p: p}
	if v := r.u8("version"); r.err == nil && v != 1 {
		return nil, fmt.Errorf("content: ledger index record version %d", v)
	}
	rec := &ledgerRec{Seq: r.u64("seq")}
	copy(rec.Tx[:], r.bytes(crypto.DigestSize, "tx"))
	rec.N = int(r.u16("n"))
	if err := r.end("ledger index record"); err != nil {
		return nil, err
	}
	return rec, nil
}

// States of an own registration.
const (
	// regPending: to submit, or submitted and waiting for its receipt.
	regPending = 1
	// regDone: the ledger records the content.
	regDone = 2
	// regFailed: given up; the certificate stays in the local registry.
	regFailed = 3
	// regPayer: the payer's own transaction was submitted (a paid put);
	// the registrar leaves it alone: this node pays nothing.
	regPayer = 4
)

// regRec is the registrar's record of one content this node put:
//
//	version u8 (1) | state u8 | nonce u64 | expiry u64 (unix ms) | tx [32] |
//	attempts u16 | seq u64 | reason length u16 | reason
//
// A zero tx means nothing is in flight.
type regRec struct {
	State    uint8
	Nonce    uint64
	Expiry   uint64
	Tx       crypto.Digest
	Attempts int
	Seq      uint64
	Reason   string
}

func (r *regRec) encode() []byte {
	reason := truncate(r.Reason, maxReasonLen)
	b := make([]byte, 0, 64+len(reason))
	b = append(b, 1, r.State)
	b = binary.BigEndian.AppendUint64(b, r.Nonce)
	b = binary.BigEndian.AppendUint64(b, r.Expiry)
	b = append(b, r.Tx[:]...)
	b = binary.BigEndian.AppendUint16(b, uint16(min(r.Attempts, 0xffff)))
	b = binary.BigEndian.AppendUint64(b, r.Seq)
	b = binary.BigEndian.AppendUint16(b, uint16(len(reason)))
	return append(b, reason...)
}

func decodeRegRec(p []byte) (*regRec, error) {
	r := &frameReader{p: p}
	if v := r.u8("version"); r.err == nil && v != 1 {
		return nil, fmt.Errorf("content: registration record version %d", v)
	}
	rec := &regRec{State: r.u8("state"), Nonce: r.u64("nonce"), Expiry: r.u64("expiry")}
	copy(rec.Tx[:], r.bytes(crypto.DigestSize, "tx"))
	rec.Attempts = int(r.u16("attempts"))
	rec.Seq = r.u64("seq")
	n := int(r.u16("reason length"))
	if n > maxReasonLen {
		return nil, fmt.Errorf("content: registration record: reason of %d bytes", n)
	}
	rec.Reason = string(r.bytes(n, "reason"))
	if err := r.end("registration record"); err != nil {
		return nil, err
	}
	if rec.State < regPending || rec.State > regPayer {
		return nil, fmt.Errorf("content: registration record: state %d", rec.State)
	}
	return rec, nil
}

// ledgerView is the content service's access to the ledger: the executed
// state, the index of registrations, and the registrar.
type ledgerView struct {
	s *Service
	// hasCommittee caches a positive answer of usable: once the state
	// holds a committee it keeps one.
	hasCommittee atomic.Bool

	// now is the consensus time (ms) of the last commit this node
	// executed: content whose paid retention ended before it is expired
	// (0 until a commit executes after a start: nothing expires early).
	now atomic.Uint64

	wake chan struct{}
	mu   sync.Mutex
	// warned remembers the reasons of local-only registrations already
	// logged at warning level.
	warned map[string]bool
}

func newLedgerView(s *Service) *ledgerView {
	return &ledgerView{s: s, wake: make(chan struct{}, 1), warned: map[string]bool{}}
}

// usable reports whether content can be registered in this node's ledger,
// or why not.
func (l *ledgerView) usable() (bool, string) {
	st := l.s.state()
	if st == nil {
		return false, "this node does not execute transactions (execution disabled): local registry only"
	}
	if l.hasCommittee.Load() {
		return true, ""
	}
	_, ok, err := st.Get(contracts.CommitteeKey())
	if err != nil {
		return false, fmt.Sprintf("state unreadable: %v", err)
	}
	if ok {
		l.hasCommittee.Store(true)
		return true, ""
	}
	if l.s.executed() == 0 {
		return false, "the ledger has not executed its first commit yet"
	}
	return false, "the ledger has no committee (the chain started without a genesis): local registry only"
}

// ErrExpired: the ledger records the content, but its paid retention is
// over (in consensus time): its holders collect it. It wraps errNotFound.
var ErrExpired = fmt.Errorf("%w: paid retention over", store.ErrNotFound)

// record returns the ledger's record of a content, errNotFound when it has
// none or this node does not execute, ErrExpired (with the record) when its
// retention is over as of the last commit this node executed.
func (l *ledgerView) record(id cid.Cid) (*contracts.Content, error) {
	st := l.s.state()
	if st == nil {
		return nil, store.ErrNotFound
	}
	v, ok, err := st.Get(contracts.ContentKey(id.Bytes()))
	if err != nil {
		return nil, fmt.Errorf("content: ledger record of %s: %w", id, err)
	}
	if !ok {
		return nil, store.ErrNotFound
	}
	rec, err := contracts.DecodeContent(v)
	if err != nil {
		return nil, fmt.Errorf("content: ledger record of %s: %w", id, err)
	}
	if !bytes.Equal(rec.CID, id.Bytes()) {
		return nil, fmt.Errorf("content: ledger record of %s names another CID", id)
	}
	if now := l.now.Load(); rec.Expired(now) {
		return rec, fmt.Errorf("%w: %s was paid until %d, consensus time is %d", ErrExpired, id, rec.Expiry, now)
	}
	return rec, nil
}

// claimOf returns the claim a ledger record makes.
func claimOf(id cid.Cid, rec *contracts.Content) *Claim {
	return &Claim{CID: id, Size: rec.Size, K: int(rec.K), N: int(rec.N), ManifestDigest: erasure.Hash(rec.Manifest)}
}

// claim returns what the network committed to store of id: the ledger's
// record when there is one, else the local registry's certificate
// (fromLedger false). It is errNotFound when neither knows id.
func (s *Service) claim(id cid.Cid) (c *Claim, fromLedger bool, err error) {
	rec, err := s.ledger.record(id)
	if err == nil {
		c := claimOf(id, rec)
		if c.check() == nil {
			return c, true, nil
		}
		s.log.Error("ledger record of content out of range; ignored", "cid", id.String(), "k", rec.K, "n", rec.N)
	} else if errors.Is(err, ErrExpired) {
		return nil, false, err // the local registry's certificate is over too
	} else if !errors.Is(err, store.ErrNotFound) {
		s.log.Warn("ledger record unreadable; using the local registry", "cid", id.String(), "err", err)
	}
	cert, err := s.store.certificate(id)
	if err != nil {
		return nil, false, err
	}
	claim := cert.Claim
	return &claim, false, nil
}

// registration describes how the ledger records id, as this node sees it.
func (s *Service) registration(id cid.Cid) *client.ContentRegistration {
	r := &client.ContentRegistration{}
	rec, err := s.ledger.record(id)
	if err == nil {
		r.Registered, r.Seq, r.Registrant, r.Expiry = true, rec.Seq, rec.Registrant.String(), rec.Expiry
		if v, err := s.store.getRecord(store.ContentKey(store.LedgerPrefix, id.Bytes())); err == nil {
			if lr, err := decodeLedgerRec(v); err == nil && lr.Seq == rec.Seq {
				r.Tx = lr.Tx.String()
			}
		}
		if r.Tx == "" {
			if own, err := s.ledger.own(id); err == nil && own.State == regDone && own.Seq == rec.Seq {
				r.Tx = own.Tx.String()
			}
		}
		return r
	}
	if !errors.Is(err, store.ErrNotFound) || errors.Is(err, ErrExpired) {
		r.Reason = err.Error()
		return r
	}
	if ok, why := s.ledger.usable(); !ok {
		r.Reason = why
		return r
	}
	if own, err := s.ledger.own(id); err == nil {
		switch own.State {
		case regPending:
			r.Pending = true
			if own.Tx != (crypto.Digest{}) {
				r.Reason = fmt.Sprintf("pending: tx %s submitted, not executed yet", own.Tx)
			} else {
				r.Reason = "pending: to be submitted by this node"
			}
		case regFailed:
			r.Reason = "this node's registration failed: " + own.Reason
		case regPayer:
			r.Pending, r.Tx = true, own.Tx.String()
			r.Reason = fmt.Sprintf("pending: the payer's tx %s submitted, not executed yet", own.Tx)
			if rr, found, err := s.readReceipt(own.Tx); err == nil && found {
				if rc, err := contracts.DecodeReceipt(rr.Receipt); err == nil && !rc.OK() {
					r.Pending = false
					r.Reason = fmt.Sprintf("the payer's tx %s was rejected at commit %d: %s: %s", own.Tx, rr.Seq, rc.Code, rc.Reason)
				}
			}
		default:
			r.Reason = fmt.Sprintf("not in the ledger as of commit %d", s.executed())
		}
		return r
	}
	r.Reason = fmt.Sprintf("not in the ledger as of commit %d (the node that put it registers it)", s.executed())
	return r
}

// own returns this node's registration record of id, or errNotFound.
func (l *ledgerView) own(id cid.Cid) (*regRec, error) {
	v, err := l.s.store.getRecord(store.ContentKey(store.RegPrefix, id.Bytes()))
	if err != nil {
		return nil, err
	}
	return decodeRegRec(v)
}

func (l *ledgerView) putOwn(id []byte, r *regRec) error {
	if err := l.s.store.kv.Set(store.ContentKey(store.RegPrefix, id), r.encode(), false); err != nil {
		return fmt.Errorf("content: registration record: %w", err)
	}
	return nil
}

func (l *ledgerView) poke() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// localOnly logs, once per reason at warning level, that content stays in
// the local registry.
func (l *ledgerView) localOnly(id cid.Cid, why string) {
	l.mu.Lock()
	first := !l.warned[why]
	l.warned[why] = true
	l.mu.Unlock()
	level := l.s.log.Debug
	if first {
		level = l.s.log.Warn
	}
	level("content not registered in the ledger; its certificate is kept in the local registry", "cid", id.String(), "reason", why)
}

// enqueue makes the registrar register a certificate this node
// aggregated, and returns the registration as it stands.
func (l *ledgerView) enqueue(c *Certificate) *client.ContentRegistration {
	s := l.s
	if rec, err := l.record(c.CID); err == nil {
		return &client.ContentRegistration{Registered: true, Seq: rec.Seq, Registrant: rec.Registrant.String()}
	}
	if old, err := l.own(c.CID); err == nil && old.State != regFailed {
		return s.registration(c.CID)
	}
	why := ""
	if ok, reason := l.usable(); !ok && s.state() == nil {
		why = reason
	} else if s.cfg.AccountKey == nil {
		why = "this node has no account key (Options.AccountKey, keys.account_keystore) to sign its registration"
	}
	if why != "" {
		l.localOnly(c.CID, why)
		_ = l.putOwn(c.CID.Bytes(), &regRec{State: regFailed, Reason: why})
		return &client.ContentRegistration{Reason: why}
	}
	if err := l.putOwn(c.CID.Bytes(), &regRec{State: regPending}); err != nil {
		s.log.Error("registration not queued", "cid", c.CID.String(), "err", err)
		return &client.ContentRegistration{Reason: err.Error()}
	}
	l.poke()
	return &client.ContentRegistration{Pending: true, Reason: "pending: to be submitted by this node"}
}

// Bounds of the registrar.
const (
	// regBatch bounds the registrations submitted at once.
	regBatch = 64
	// regMaxAttempts: a registration submitted this many times without
	// executing is given up.
	regMaxAttempts = 20
	// regGrace is how long after its expiry a transaction without a
	// receipt is considered dropped.
	regGrace = 3 * time.Second
)

// runRegistrar submits the pending registrations of this node's puts and
// follows them until they execute.
func (s *Service) runRegistrar() {
	l := s.ledger
	clock := s.clock
	backoff := time.Time{}
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-l.wake:
		case <-clock.After(250 * time.Millisecond):
		}
		if clock.Now().Before(backoff) {
			continue
		}
		if err := l.round(s.ctx); err != nil {
			if s.ctx.Err() != nil {
				return
			}
			s.log.Warn("content registration round failed; retrying", "err", err)
			backoff = clock.Now().Add(time.Second)
		}
	}
}

// pendingReg is one registration the registrar works on.
type pendingReg struct {
	id  cid.Cid
	rec *regRec
}

// round looks at every pending registration once: done, still waiting,
// failed, or to (re)submit; then submits those that need it, with
// consecutive nonces from the account's, when none is in flight.
func (l *ledgerView) round(ctx context.Context) error {
	s := l.s
	var pend []pendingReg
	err := s.store.scan(store.RegPrefix, nil, 0, func(idb, v []byte) bool {
		rec, err := decodeRegRec(v)
		if err != nil || rec.State != regPending {
			return true
		}
		id, err := cid.Cast(bytes.Clone(idb))
		if err != nil {
			return true
		}
		pend = append(pend, pendingReg{id: id, rec: rec})
		return len(pend) < 4*regBatch
	})
	if err != nil || len(pend) == 0 {
		return err
	}
	ok, why := l.usable()
	if !ok {
		if s.state() != nil && s.executed() == 0 {
			return nil // the genesis executes with the first commit
		}
		for _, p := range pend {
			l.localOnly(p.id, why)
			_ = l.putOwn(p.id.Bytes(), &regRec{State: regFailed, Reason: why})
		}
		return nil
	}
	st := s.state()
	now := s.clock.Now()
	inFlight := 0
	var submit []pendingReg
	for _, p := range pend {
		if rec, err := l.record(p.id); err == nil {
			l.done(p, rec.Seq)
			continue
		}
		if p.rec.Tx != (crypto.Digest{}) {
			rr, found, err := shard.ReadReceipt(st, p.rec.Tx)
			if err != nil {
				return fmt.Errorf("content: receipt of %s: %w", p.rec.Tx, err)
			}
			if found {
				rc, err := contracts.DecodeReceipt(rr.Receipt)
				if err != nil {
					return fmt.Errorf("content: receipt of %s: %w", p.rec.Tx, err)
				}
				switch rc.Code {
				case contracts.CodeOK, contracts.CodeExists:
					l.done(p, rr.Seq)
					continue
				case contracts.CodeBadNonce, contracts.CodeExpired:
					s.log.Info("content registration to submit again", "cid", p.id.String(), "tx", p.rec.Tx.String(), "code", rc.Code.String(), "reason", rc.Reason)
				default:
					l.fail(p, fmt.Sprintf("tx %s rejected: %s: %s", p.rec.Tx, rc.Code, rc.Reason))
					continue
				}
			} else if now.Before(time.UnixMilli(int64(p.rec.Expiry)).Add(regGrace)) {
				inFlight++
				continue
			}
		}
		if p.rec.Attempts >= regMaxAttempts {
			l.fail(p, fmt.Sprintf("submitted %d times without executing", p.rec.Attempts))
			continue
		}
		submit = append(submit, p)
	}
	if len(submit) == 0 || inFlight > 0 {
		return nil
	}
	submit = submit[:min(len(submit), regBatch)]
	key := s.cfg.AccountKey
	var acct *contracts.Account
	v, found, err := st.Get(contracts.AccountKey(key.Public()))
	if err != nil {
		return fmt.Errorf("content: account: %w", err)
	}
	if found {
		if acct, err = contracts.DecodeAccount(v); err != nil {
			return fmt.Errorf("content: account %s: %w", key.Public(), err)
		}
	}
	// The fee covers each object's stored bytes (contracts.ContentMinFee);
	// the account must pay for the first, the others wait for later rounds.
	mod := contracts.NewModule(s.cfg.Params)
	params := mod.Params()
	fee := params.ContentFee
	if len(submit) > 0 {
		if cert, err := s.store.certificate(submit[0].id); err == nil {
			op := cert.RegisterOp()
			op.Retention = uint64(s.opts.Retention.Milliseconds())
			fee = max(fee, contracts.ContentMinFee(&params, op))
		}
	}
	if acct == nil || acct.Balance < fee {
		why := fmt.Sprintf("account %s is not funded in the ledger", key.Public())
		if acct != nil {
			why = fmt.Sprintf("account %s cannot pay the fee %d (balance %d)", key.Public(), fee, acct.Balance)
		}
		for _, p := range submit {
			l.localOnly(p.id, why)
			l.fail(p, why)
		}
		return nil
	}
	lifetime := min(s.cfg.MaxTxLifetime/2, 30*time.Second)
	expiry := uint64(now.Add(lifetime).UnixMilli())
	txs := make([][]byte, 0, len(submit))
	recs := make([]*regRec, 0, len(submit))
	for i, p := range submit {
		cert, err := s.store.certificate(p.id)
		if err != nil {
			l.fail(p, fmt.Sprintf("certificate not in the local registry: %v", err))
			return nil // nonces would skip one: submit the rest next round
		}
		op := cert.RegisterOp()
		op.Retention = uint64(s.opts.Retention.Milliseconds())
		tx := contracts.NewTx(s.cfg.ChainID, acct.Nonce+uint64(i), 0, expiry, op)
		tx.Sender = key.Public()
		tx.Fee = mod.MinFee(tx)
		tx.Sign(key)
		txs = append(txs, tx.Encode())
		recs = append(recs, &regRec{State: regPending, Nonce: tx.Nonce, Expiry: expiry, Tx: tx.Digest(), Attempts: p.rec.Attempts + 1})
	}
	accepted, err := s.cfg.Submitter.Submit(ctx, txs)
	for i := 0; i < accepted; i++ {
		if err := l.putOwn(submit[i].id.Bytes(), recs[i]); err != nil {
			return err
		}
		s.log.Info("content registration submitted", "cid", submit[i].id.String(), "tx", recs[i].Tx.String(), "nonce", recs[i].Nonce, "attempt", recs[i].Attempts)
	}
	if err != nil {
		return fmt.Errorf("content: submit content registrations (%d of %d accepted): %w", accepted, len(txs), err)
	}
	return nil
}

func (l *ledgerView) done(p pendingReg, seq uint64) {
	rec := *p.rec
	rec.State, rec.Seq, rec.Reason = regDone, seq, ""
	_ = l.putOwn(p.id.Bytes(), &rec)
	l.s.m.ledgerRegistered.Inc()
	l.s.log.Info("content registered in the ledger", "cid", p.id.String(), "seq", seq, "tx", rec.Tx.String())
}

func (l *ledgerView) fail(p pendingReg, why string) {
	rec := *p.rec
	rec.State, rec.Reason = regFailed, why
	_ = l.putOwn(p.id.Bytes(), &rec)
	l.s.m.ledgerFailed.Inc()
	l.s.log.Warn("content registration failed; the certificate stays in the local registry", "cid", p.id.String(), "reason", why)
}

// Executed indexes the content registrations of an executed commit: it records them
// in the index, with the cursor, and schedules their audits. It runs on
// the executor's goroutine after the commit's state is written.
func (s *Service) Executed(res *shard.Result) {
	s.ledger.now.Store(res.Time)
	b := s.store.kv.NewBatch()
	defer b.Close()
	var fresh []cid.Cid
	for i, r := range res.Receipts {
		rc, ok := r.(*contracts.Receipt)
		if !ok || rc.Code != contracts.CodeOK || i >= len(res.Txs) {
			continue
		}
		for _, ev := range rc.Events {
			if ev.Type != contentRegisterEvent {
				continue
			}
			id, n, err := parseRegisterEvent(ev)
			if err != nil {
				s.log.Error("content registration event unreadable", "seq", res.Seq, "err", err)
				continue
			}
			_ = b.Set(store.ContentKey(store.LedgerPrefix, id.Bytes()), (&ledgerRec{Seq: res.Seq, Tx: res.Txs[i], N: n}).encode())
			fresh = append(fresh, id)
		}
	}
	_ = b.Set([]byte(store.LedgerCursorKey), binary.BigEndian.AppendUint64(nil, res.Seq))
	if err := b.Commit(false); err != nil {
		s.log.Error("content index not written; it catches up at the next start", "seq", res.Seq, "err", err)
		return
	}
	for _, id := range fresh {
		s.log.Debug("content registration executed", "cid", id.String(), "seq", res.Seq)
		s.hs.wakeFor(id, false)
	}
	if len(fresh) > 0 {
		s.ledger.poke()
	}
}

// parseRegisterEvent reads the CID and n of a content_register event.
func parseRegisterEvent(ev contracts.Event) (cid.Cid, int, error) {
	var idHex, nStr string
	for _, a := range ev.Attrs {
		switch a.Key {
		case "cid":
			idHex = a.Value
		case "n":
			nStr = a.Value
		}
	}
	raw, err := hex.DecodeString(idHex)
	if err != nil {
		return cid.Undef, 0, fmt.Errorf("cid %q: %w", idHex, err)
	}
	id, err := parseCIDBytes(raw)
	if err != nil {
		return cid.Undef, 0, err
	}
	n, err := strconv.Atoi(nStr)
	if err != nil || n < 1 || n > erasure.MaxShards {
		return cid.Undef, 0, fmt.Errorf("n %q", nStr)
	}
	return id, n, nil
}

// CatchUp indexes the registrations of commits executed after the index's
// cursor, up to executed: those of the last commits before a crash, whose
// index write was lost, or of a whole history the first time. It reads the
// commits' transactions back through r and keeps the RegisterContent
// operations the state says executed in that commit. The executor calls
// it before it executes anything.
func (s *Service) CatchUp(ctx context.Context, executed uint64, r TxReader) {
	var cursor uint64
	if v, err := s.store.getRecord([]byte(store.LedgerCursorKey)); err == nil && len(v) == 8 {
		cursor = binary.BigEndian.Uint64(v)
	}
	if cursor >= executed {
		return
	}
	start := time.Now()
	found, missing := 0, 0
	b := s.store.kv.NewBatch()
	defer b.Close()
	for seq := cursor + 1; seq <= executed && ctx.Err() == nil; seq++ {
		txs, err := r.CommitTxs(seq)
		if err != nil {
			missing++
		}
		for _, raw := range txs {
			tx, err := contracts.DecodeTx(raw)
			if err != nil {
				continue
			}
			op, ok := tx.Op.(*contracts.RegisterContent)
			if !ok {
				continue
			}
			id, err := parseCIDBytes(op.CID)
			if err != nil {
				continue
			}
			rec, err := s.ledger.record(id)
			if err != nil || rec.Seq != seq {
				continue
			}
			_ = b.Set(store.ContentKey(store.LedgerPrefix, op.CID), (&ledgerRec{Seq: seq, Tx: tx.Digest(), N: int(op.N)}).encode())
			found++
		}
	}
	if ctx.Err() != nil {
		return
	}
	_ = b.Set([]byte(store.LedgerCursorKey), binary.BigEndian.AppendUint64(nil, executed))
	if err := b.Commit(false); err != nil {
		s.log.Error("content index catch-up not written", "err", err)
		return
	}
	level := s.log.Info
	if missing > 0 {
		level = s.log.Warn
	}
	level("content index caught up with the executed commits", "from", cursor+1, "to", executed, "registrations", found,
		"unreadable", missing, "took", time.Since(start).Round(time.Millisecond))
}

// holdsAt reports whether this node holds shards of an object with n
// shards.
func (s *Service) holdsAt(n int) bool {
	return len(heal.ShardsOf(s.self, n, s.v)) > 0
}
