package loadtest

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/dagd/dagd/contracts"
	"github.com/dagd/dagd/crypto"
)

// TransferOptions configures the transfers workload.
type TransferOptions struct {
	// Keys are the funded accounts that send and receive. At least 2.
	Keys []*crypto.AccountPrivateKey
	// ChainID of the transactions. Required.
	ChainID string
	// Fee of each transaction. Default contracts.DefaultMinFee.
	Fee uint64
	// Amount of each transfer. Default 1.
	Amount uint64
	// Lifetime is how long after it is sent a transaction expires, at
	// least. Default 60 s.
	Lifetime time.Duration
	// MaxLifetime bounds how long after it is sent a transaction expires
	// (the nodes drop transactions expiring more than their
	// MaxTxLifetime ahead). Default 110 s.
	MaxLifetime time.Duration
	// ResendAfter: a transaction not committed for this long is sent
	// again, byte for byte (a copy that does commit is dropped as a
	// duplicate; one lost by consensus is replaced). Default 8 s.
	ResendAfter time.Duration
	// MaxPresign bounds the transactions Prepare signs. Default
	// 4,000,000.
	MaxPresign uint64
	// PresignWindow is the commit latency Prepare expects: it signs the
	// run's transactions for the first rate×PresignWindow accounts, those
	// that will be in use (the others sign at send time, if the pool has
	// to grow that far). Default 2 s.
	PresignWindow time.Duration
}

// Transfers is the native-token transfer workload. Each account has at
// most one transaction in flight, as a wallet that waits until its
// transaction is committed: its transactions use consecutive nonces and
// a transaction is sent only once the previous one is committed, so it
// is committed after it, and execution follows the consensus order: they
// execute in nonce order whatever node they go to and however far
// execution trails consensus. (A committed transaction executes at its
// commit's consensus time, so it cannot expire on the way.) Accounts
// take turns in the order their transactions commit, and an account is
// used for the first time only when none of those in use may send: the
// accounts in use are about the rate times the commit latency (and each
// goes deep into its nonces), the others a reserve for latency spikes. A
// slot that falls due while no account is ready is dropped
// ("workload_idle": the pool is too small for the rate and the commit
// latency). A transaction not
// committed after ResendAfter (lost by consensus, or slow) is sent again
// byte for byte, so that at most one copy executes; it is signed again
// only once it has surely expired. Receipts are kept track of until they
// come: one that did not consume its nonce retires the account.
//
// Prepare signs the transactions the run will need, per account, on all
// cores before the run, for the accounts it expects in use
// (PresignWindow): transaction j of an account expires Lifetime after
// the time it is expected to be sent; one that would be sent too close to
// or too far from its expiry is signed again when it is sent.
type Transfers struct {
	o    TransferOptions
	pubs []crypto.AccountPublicKey

	// Hooks of workloads built on this one (Mixed); nil for transfers.
	// op returns account a's operation of nonce in a transaction expiring
	// at expiry (unix ms); gate reports whether account a may send its
	// next transaction now; committed sees that account a's transaction
	// of nonce is committed (both with w.mu held).
	op        func(a int, nonce, expiry uint64) contracts.Op
	gate      func(a int) bool
	committed func(a int, nonce uint64)

	mu       sync.Mutex
	accts    []acctState
	ready    []int              // accounts in use ready to send, in turn order (a FIFO)
	fresh    int                // accounts fresh.. have not been used yet
	resend   []int              // accounts whose in-flight transaction must go again now
	inflight map[uint64]int     // seq of each account's transaction in flight
	awaiting map[uint64]pending // committed transactions without a receipt yet
	digest   map[crypto.Digest]uint64
	dead     int
	resent   int
	resigned int
	lastScan time.Time
}

type acctState struct {
	nonce    uint64 // of the next transaction to send
	presign  [][]byte
	expiries []uint64 // of presign, unix ms
	tx       []byte   // in flight, nil when none
	txExpiry uint64   // its expiry, unix ms
	seq      uint64   // of the transaction in flight
	sentAt   time.Time
	dead     bool
	tries    int // refusals of the transaction in flight: each moves it to the next node
}

// pending is a committed transaction waiting for its receipt.
type pending struct {
	acct  int
	nonce uint64
}

// NewTransfers returns the workload.
func NewTransfers(o TransferOptions) (*Transfers, error) {
	if len(o.Keys) < 2 {
		return nil, fmt.Errorf("loadtest: transfers need at least 2 accounts, have %d", len(o.Keys))
	}
	if o.ChainID == "" {
		return nil, errors.New("loadtest: transfers need a chain id")
	}
	if o.Fee == 0 {
		o.Fee = contracts.DefaultMinFee
	}
	if o.Amount == 0 {
		o.Amount = 1
	}
	if o.Lifetime <= 0 {
		o.Lifetime = 60 * time.Second
	}
	if o.MaxLifetime <= 0 {
		o.MaxLifetime = 110 * time.Second
	}
	if o.MaxLifetime <= o.Lifetime {
		return nil, fmt.Errorf("loadtest: transfers: MaxLifetime %v must exceed Lifetime %v", o.MaxLifetime, o.Lifetime)
	}
	if o.ResendAfter <= 0 {
		o.ResendAfter = 8 * time.Second
	}
	if o.MaxPresign == 0 {
		o.MaxPresign = 4_000_000
	}
	if o.PresignWindow <= 0 {
		o.PresignWindow = 2 * time.Second
	}
	w := &Transfers{o: o, accts: make([]acctState, len(o.Keys)), inflight: make(map[uint64]int), awaiting: make(map[uint64]pending),
		digest: make(map[crypto.Digest]uint64)}
	for _, k := range o.Keys {
		w.pubs = append(w.pubs, k.Public())
	}
	return w, nil
}

// sign returns account a's transaction with nonce, expiring at expiry.
func (w *Transfers) sign(a int, nonce, expiry uint64) []byte {
	n := uint64(len(w.pubs))
	// A recipient other than the sender, spread by a multiplicative hash.
	x := (uint64(a)*n + nonce) * 0x9E3779B97F4A7C15
	to := (uint64(a) + 1 + (x>>33)%(n-1)) % n
	var op contracts.Op = contracts.NewTransfer(w.pubs[to], w.o.Amount)
	if w.op != nil {
		op = w.op(a, nonce, expiry)
	}
	return contracts.NewSignedTx(w.o.Keys[a], w.o.ChainID, nonce, w.o.Fee, expiry, op).Encode()
}

// Prepare implements Workload: it signs ceil(min(n, MaxPresign) / k)
// transactions for each of the first k = rate×PresignWindow accounts (at
// most all of them), on GOMAXPROCS goroutines.
func (w *Transfers) Prepare(ctx context.Context, n uint64, rate float64) error {
	n = min(n, w.o.MaxPresign)
	if n == 0 || !(rate > 0) {
		return nil
	}
	accts := min(len(w.pubs), max(1, int(rate*w.o.PresignWindow.Seconds())))
	per := int((n + uint64(accts) - 1) / uint64(accts))
	now := time.Now()
	// Account a's j-th transaction is expected about j turns after its
	// first, one turn being accounts/rate seconds.
	turn := time.Duration(float64(accts) / rate * float64(time.Second))
	presign := make([][][]byte, accts)
	expiries := make([][]uint64, accts)
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	for g := range workers {
		wg.Go(func() {
			for a := g; a < accts; a += workers {
				if ctx.Err() != nil {
					return
				}
				w.mu.Lock()
				nonce := w.accts[a].nonce
				w.mu.Unlock()
				for j := range per {
					exp := uint64(now.Add(w.o.Lifetime + time.Duration(j)*turn).UnixMilli())
					presign[a] = append(presign[a], w.sign(a, nonce+uint64(j), exp))
					expiries[a] = append(expiries[a], exp)
				}
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for a := range accts {
		w.accts[a].presign, w.accts[a].expiries = presign[a], expiries[a]
	}
	return nil
}

// expiredFor is how long after its expiry (wall clock) an unexecuted
// transaction is taken as never to execute: consensus time, which decides
// expiry, trails the wall clock by the commit latency, far less than this.
const expiredFor = 30 * time.Second

// Tx implements Workload.
func (w *Transfers) Tx(seq uint64, _ time.Time, nodes int) ([]byte, int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := time.Now()
	if since := now.Sub(w.lastScan); since >= time.Second || (since >= 100*time.Millisecond && len(w.resend) == 0 && len(w.ready) == 0) {
		w.lastScan = now
		w.findLost(now)
	}
	for len(w.resend) > 0 {
		a := w.resend[0]
		w.resend = w.resend[1:]
		st := &w.accts[a]
		if st.tx == nil || st.dead {
			continue // executed or retired meanwhile
		}
		if now.After(time.UnixMilli(int64(st.txExpiry)).Add(expiredFor)) {
			// Expired long enough ago that no commit can still execute
			// it: the same nonce, signed again. (Signing again earlier
			// could execute both, and the second would fail its nonce.)
			st.txExpiry = uint64(now.Add(w.o.Lifetime).UnixMilli())
			st.tx = w.sign(a, st.nonce-1, st.txExpiry)
			w.resigned++
		}
		w.resent++
		delete(w.inflight, st.seq)
		w.track(a, seq, st.tx, now)
		return st.tx, (a + st.tries) % nodes
	}
	a := w.nextReady()
	if a < 0 {
		return nil, -1
	}
	st := &w.accts[a]
	var tx []byte
	if len(st.presign) > 0 {
		exp := time.UnixMilli(int64(st.expiries[0]))
		if exp.After(now.Add(w.o.Lifetime/2)) && exp.Before(now.Add(w.o.MaxLifetime)) {
			tx, st.txExpiry = st.presign[0], st.expiries[0]
		} else {
			w.resigned++
		}
		st.presign, st.expiries = st.presign[1:], st.expiries[1:]
	}
	if tx == nil {
		st.txExpiry = uint64(now.Add(w.o.Lifetime).UnixMilli())
		tx = w.sign(a, st.nonce, st.txExpiry)
	}
	st.nonce++
	st.tx, st.tries = tx, 0
	w.track(a, seq, tx, now)
	return tx, a % nodes
}

// maxGateTries bounds how many ready accounts Tx looks at for one slot
// when a gate holds some back.
const maxGateTries = 16

// nextReady takes the first ready account in use that the gate lets
// through (those it holds back go to the back of the queue), else an
// account not used yet, or returns -1; w.mu is held.
func (w *Transfers) nextReady() int {
	for tries := 0; tries < maxGateTries && len(w.ready) > 0; tries++ {
		a := w.ready[0]
		w.ready = w.ready[1:]
		switch {
		case w.accts[a].dead:
			tries-- // retired after it got back in line: not a try
		case w.gate == nil || w.gate(a):
			return a
		default:
			w.ready = append(w.ready, a)
		}
	}
	for w.fresh < len(w.accts) {
		a := w.fresh
		w.fresh++
		if w.gate == nil || w.gate(a) {
			return a
		}
		w.ready = append(w.ready, a)
	}
	return -1
}

// chargedCodes maps the names of receipt codes to Code.Charged: whether
// the transaction consumed its nonce.
var chargedCodes = func() map[string]bool {
	m := make(map[string]bool)
	for c := range contracts.Code(256) {
		if n := c.String(); n != fmt.Sprintf("code(%d)", uint16(c)) {
			m[n] = c.Charged()
		}
	}
	return m
}()

// consumedNonce reports whether a receipt with code consumed the
// transaction's nonce (unknown codes are taken as consumed).
func consumedNonce(code string) bool {
	charged, known := chargedCodes[code]
	return charged || !known
}

// track records that account a sent tx as transaction seq; w.mu is held.
func (w *Transfers) track(a int, seq uint64, tx []byte, now time.Time) {
	st := &w.accts[a]
	st.seq, st.sentAt = seq, now
	w.inflight[seq] = a
	w.digest[crypto.Hash(tx)] = seq // a resend names the new slot
}

// findLost queues for resending the in-flight transactions not committed
// for ResendAfter, in account order; w.mu is held. Tx calls it
// every second, and every 100 ms while no account is ready.
func (w *Transfers) findLost(now time.Time) {
	for a := range w.accts {
		st := &w.accts[a]
		if st.tx != nil && !st.dead && now.Sub(st.sentAt) >= w.o.ResendAfter {
			st.sentAt = now // queued once
			w.resend = append(w.resend, a)
		}
	}
}

// Identify implements Workload.
func (w *Transfers) Identify(tx []byte) (uint64, bool) { return w.IdentifyDigest(crypto.Hash(tx)) }

// IdentifyDigest implements Workload.
func (w *Transfers) IdentifyDigest(d [32]byte) (uint64, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	k, ok := w.digest[d]
	return k, ok
}

// Committed implements Workload: a committed transaction will execute,
// however late, after everything committed before it; the account may
// send its next transaction.
func (w *Transfers) Committed(seq uint64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.commit(seq)
}

// commit moves the in-flight transaction seq to the committed ones
// awaiting their receipt and makes its account ready; w.mu is held.
func (w *Transfers) commit(seq uint64) {
	a, ok := w.inflight[seq]
	if !ok {
		return
	}
	delete(w.inflight, seq)
	st := &w.accts[a]
	st.tx = nil
	nonce := st.nonce - 1
	w.awaiting[seq] = pending{acct: a, nonce: nonce}
	if w.committed != nil {
		w.committed(a, nonce)
	}
	if !st.dead {
		w.ready = append(w.ready, a)
	}
}

// Executed implements Workload: the receipt of a committed transaction
// (one whose commit the follower has not reported yet counts as
// committed now). A receipt that did not consume the nonce (bad nonce:
// another sender used the account; expired; bad signature...) means the
// workload's nonces no longer match the account's: it is retired.
func (w *Transfers) Executed(seq uint64, ok bool, code string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.commit(seq)
	p, found := w.awaiting[seq]
	if !found {
		return
	}
	delete(w.awaiting, seq)
	if st := &w.accts[p.acct]; !ok && !consumedNonce(code) && !st.dead {
		st.dead = true
		w.dead++
	}
}

// sent returns the account and nonce of transaction seq, in flight or
// awaiting its receipt; w.mu is held.
func (w *Transfers) sent(seq uint64) (acct int, nonce uint64, ok bool) {
	if p, ok := w.awaiting[seq]; ok {
		return p.acct, p.nonce, true
	}
	if a, ok := w.inflight[seq]; ok && w.accts[a].tx != nil {
		return a, w.accts[a].nonce - 1, true
	}
	return 0, 0, false
}

// Classify implements Classifier: every transaction is a transfer meant
// to succeed.
func (w *Transfers) Classify(_ uint64, code string) (string, bool) {
	return contracts.OpTransfer.String(), code == contracts.CodeOK.String()
}

// Returned implements Workload: a transaction that was not delivered is
// sent again at the next slot, to the next node (the same bytes: at most
// one copy executes), so that a node that is down holds no account back.
func (w *Transfers) Returned(txs [][]byte) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, tx := range txs {
		seq, ok := w.digest[crypto.Hash(tx)]
		if !ok {
			continue
		}
		if a, ok := w.inflight[seq]; ok && w.accts[a].tx != nil {
			w.accts[a].tries++
			w.resend = append(w.resend, a)
		}
	}
}

// Executes implements Workload: the run waits for the receipts.
func (w *Transfers) Executes() bool { return true }

// Stats returns the accounts retired after a bad nonce, the transactions
// sent again, and those signed again at send time.
func (w *Transfers) Stats() (dead, resent, resigned int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.dead, w.resent, w.resigned
}
