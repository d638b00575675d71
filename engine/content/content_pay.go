package content

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	"github.com/dagd/dagd/contracts"
	"github.com/dagd/dagd/crypto"
	"github.com/dagd/dagd/engine/client"
	"github.com/dagd/dagd/engine/client/contentpay"
	"github.com/dagd/dagd/erasure"
	"github.com/dagd/dagd/shard"
)

// Paid puts.
//
// A client pays for its own content: it computes the CID locally (the
// erasure package, with the network's chunk size and the k and n it
// chooses), and signs an ordinary transaction whose operation is a
// contracts.RegisterContent of {cid, size, k, n, manifest digest, epoch,
// retention}, with a fee that covers size*n/k stored bytes for the
// retention (contracts.ContentMinFee). It sends that transaction with the
// upload (PutOptions.Payment; over HTTP the ContentPaymentHeader). The node
// checks it before it takes an upload slot or reads a byte of the body
// (authorize): the chain, epoch, declared size, coding bounds, fee, the
// payer's signature and balance, and the payer's quota of bytes in
// flight. It then stores and distributes the shards, checks that the
// content is the one signed for, collects the availability certificate,
// attaches it to the payer's transaction as its witness (the payer's
// signature does not cover it) and submits that transaction. The node's own
// account pays nothing.

// ErrContentPayment is wrapped by every refusal of a put's payment: a
// transaction that does not pay for the content it comes with, or that its
// payer cannot pay.
var ErrContentPayment = errors.New("content: payment refused")

// ErrContentUnpaid: a put over the HTTP API without a payment, on a node
// that does not pay for its clients' content (Options.OperatorPaysPuts).
var ErrContentUnpaid = errors.New("content: put without payment")

// payment is an authorized payer's transaction, holding its share of the
// payer's quota until release.
type payment struct {
	s      *Service
	tx     *contracts.Tx
	op     *contracts.RegisterContent
	stored int64
}

// authorize checks tx as the payment of a put of size bytes, cheapest
// checks first, and reserves its stored bytes in the payer's quota. Errors
// wrap ErrContentPayment, ErrContentParams, erasure.ErrTooLong or
// ErrContentBusy (quota).
func (s *Service) authorize(tx *contracts.Tx, size int64) (*payment, error) {
	op, ok := tx.Op.(*contracts.RegisterContent)
	if !ok || tx.Op == nil {
		return nil, fmt.Errorf("%w: the transaction is not a content registration", ErrContentPayment)
	}
	if tx.ChainID != s.cfg.ChainID {
		return nil, fmt.Errorf("%w: transaction for chain %q, this node's is %q", ErrContentPayment, tx.ChainID, s.cfg.ChainID)
	}
	if op.Epoch != s.cfg.Epoch {
		return nil, fmt.Errorf("%w: registration for epoch %d, the committee's is %d", ErrContentPayment, op.Epoch, s.cfg.Epoch)
	}
	if size < 0 {
		return nil, fmt.Errorf("%w: a paid put must declare its size (Content-Length)", ErrContentPayment)
	}
	if uint64(size) != op.Size {
		return nil, fmt.Errorf("%w: the body has %d bytes, the registration pays for %d", ErrContentPayment, size, op.Size)
	}
	if size > s.opts.MaxContentSize {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", erasure.ErrTooLong, size, s.opts.MaxContentSize)
	}
	if err := contentpay.CheckShards(int(op.K), int(op.N), s.v); err != nil {
		return nil, err
	}
	if now := uint64(time.Now().UnixMilli()); tx.Expiry < now {
		return nil, fmt.Errorf("%w: the transaction expired at %d (now %d)", ErrContentPayment, tx.Expiry, now)
	}
	params := s.cfg.Params
	params.CommitteeEpoch = s.cfg.Epoch
	mod := contracts.NewModule(params)
	p := mod.Params()
	// The fee is checked on the transaction as it will be submitted: with
	// a full signer bitmap as its witness.
	withWitness := *op
	withWitness.Signers = make([]byte, (s.v+7)/8)
	full := *tx
	full.Op = &withWitness
	if min := mod.MinFee(&full); tx.Fee < min {
		return nil, fmt.Errorf("%w: fee %d below %d: %d stored bytes (size %d x n/k %d/%d) for %d ms at %d per byte per %d ms, plus %d",
			ErrContentPayment, tx.Fee, min, op.StoredBytes(), op.Size, op.N, op.K, op.Retention, p.ContentBytePrice, p.ContentRetentionUnit, p.ContentFee)
	}
	if err := op.CheckClaim(&p); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrContentPayment, err)
	}
	if !tx.VerifySignature() {
		return nil, fmt.Errorf("%w: the payer's signature does not verify", ErrContentPayment)
	}
	if err := s.canPay(tx); err != nil {
		return nil, err
	}
	stored := int64(min(op.StoredBytes(), uint64(1)<<62))
	s.quotaMu.Lock()
	defer s.quotaMu.Unlock()
	if used := s.quota[tx.Sender]; used+stored > s.opts.MaxAccountUploadBytes {
		return nil, fmt.Errorf("%w: account %s has puts of %d stored bytes running here, this one adds %d, limit %d per account",
			ErrContentBusy, tx.Sender, used, stored, s.opts.MaxAccountUploadBytes)
	}
	s.quota[tx.Sender] += stored
	return &payment{s: s, tx: tx, op: op, stored: stored}, nil
}

// canPay reads the payer's account in the executed state: it must exist,
// hold the fee, and not have used the nonce.
func (s *Service) canPay(tx *contracts.Tx) error {
	if s.state() == nil {
		return fmt.Errorf("%w: this node does not execute transactions, so it cannot check a payment", ErrContentPayment)
	}
	v, found, err := s.state().Get(contracts.AccountKey(tx.Sender))
	if err != nil {
		return fmt.Errorf("content: account %s: %w", tx.Sender, err)
	}
	if !found {
		return fmt.Errorf("%w: account %s does not exist in the ledger", ErrContentPayment, tx.Sender)
	}
	acct, err := contracts.DecodeAccount(v)
	if err != nil {
		return fmt.Errorf("content: account %s: %w", tx.Sender, err)
	}
	if acct.Balance < tx.Fee {
		return fmt.Errorf("%w: account %s holds %d, the fee is %d", ErrContentPayment, tx.Sender, acct.Balance, tx.Fee)
	}
	if tx.Nonce < acct.Nonce {
		return fmt.Errorf("%w: nonce %d of account %s is used (next %d)", ErrContentPayment, tx.Nonce, tx.Sender, acct.Nonce)
	}
	return nil
}

// release returns the payment's share of the payer's quota.
func (p *payment) release() {
	s := p.s
	s.quotaMu.Lock()
	defer s.quotaMu.Unlock()
	if left := s.quota[p.tx.Sender] - p.stored; left > 0 {
		s.quota[p.tx.Sender] = left
	} else {
		delete(s.quota, p.tx.Sender)
	}
}

// matches reports whether the content stored is the content paid for.
func (p *payment) matches(id []byte, size uint64, k, n int, manifest crypto.Digest) error {
	op := p.op
	if !bytes.Equal(id, op.CID) || size != op.Size || k != int(op.K) || n != int(op.N) || manifest != op.ManifestDigest {
		return fmt.Errorf("%w: the content stored is not the content signed for (the registration names another CID or manifest: compute them with the network's chunk size)", ErrContentPayment)
	}
	return nil
}

// submitPaid attaches cert to the payer's transaction as its witness and
// submits it, and records it so that client.ContentStat follows it.
func (s *Service) submitPaid(p *payment, cert *Certificate) *client.ContentRegistration {
	id := cert.CID
	if rec, err := s.ledger.record(id); err == nil {
		// Registered already: submitting would charge the payer for a
		// rejection.
		return &client.ContentRegistration{Registered: true, Seq: rec.Seq, Registrant: rec.Registrant.String()}
	}
	p.op.Signers = bytes.Clone(cert.Signers)
	copy(p.op.Signature[:], cert.Signature)
	tx := p.tx
	dig := tx.Digest()
	if _, err := s.cfg.Submitter.Submit(s.ctx, [][]byte{tx.Encode()}); err != nil {
		why := fmt.Sprintf("the payer's tx %s was not accepted: %v", dig, err)
		_ = s.ledger.putOwn(id.Bytes(), &regRec{State: regFailed, Tx: dig, Reason: why})
		return &client.ContentRegistration{Reason: why}
	}
	_ = s.ledger.putOwn(id.Bytes(), &regRec{State: regPayer, Nonce: tx.Nonce, Expiry: tx.Expiry, Tx: dig, Attempts: 1})
	s.log.Info("paid content registration submitted", "cid", id.String(), "tx", dig.String(), "payer", tx.Sender.String(), "fee", tx.Fee)
	return &client.ContentRegistration{Pending: true, Tx: dig.String(), Registrant: tx.Sender.String(),
		Reason: fmt.Sprintf("pending: the payer's tx %s submitted, not executed yet", dig)}
}

// readReceipt reads a transaction's receipt from the executed state.
func (s *Service) readReceipt(tx crypto.Digest) (*shard.ReceiptRecord, bool, error) {
	if s.state() == nil {
		return nil, false, nil
	}
	return shard.ReadReceipt(s.state(), tx)
}

// Params returns this node's client.ContentParams.
func (s *Service) Params() *client.ContentParams {
	p := contracts.NewModule(s.cfg.Params).Params()
	k, n := s.defaultShards()
	return &client.ContentParams{ChainID: s.cfg.ChainID, Epoch: s.cfg.Epoch, CommitteeSize: s.v, ChunkSize: s.opts.ChunkSize,
		K: k, N: n, MaxContentSize: s.opts.MaxContentSize, MinFee: p.MinFee, FeePerByte: p.FeePerByte,
		ContentFee: p.ContentFee, ContentBytePrice: p.ContentBytePrice, ContentRetentionUnit: p.ContentRetentionUnit,
		MaxContentRetention: p.MaxContentRetention}
}
