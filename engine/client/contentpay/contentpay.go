// Package contentpay holds the rules of a paid content put that a client
// and a node share: the shard bounds a registration must keep, the fee a
// node asks, and the registration a payer signs for content coded as the
// network codes it (without storing anything). It imports the ledger's
// types (contracts) and so, unlike package client, needs cgo.
package contentpay

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/dagd/dagd/contracts"
	"github.com/dagd/dagd/crypto"
	"github.com/dagd/dagd/engine/client"
	"github.com/dagd/dagd/erasure"
)

// ErrParams is wrapped by every refusal of coding parameters (k, n, chunk
// size) that the network cannot use.
var ErrParams = errors.New("invalid content parameters")

// CheckShards refuses a coding that would store too much per content
// byte: n/k above contracts.MaxContentExpansion, or n above
// contracts.MaxShardsPerValidator shards per validator of a committee of
// validators (the bounds the ledger registers under). Errors wrap
// ErrParams.
func CheckShards(k, n, validators int) error {
	if n > contracts.MaxContentExpansion*k {
		return fmt.Errorf("%w: k=%d n=%d stores %.2f bytes per content byte, limit: n/k at most %d", ErrParams, k, n, float64(n)/float64(k), contracts.MaxContentExpansion)
	}
	if limit := contracts.MaxShardsPerValidator * validators; n > limit {
		return fmt.Errorf("%w: n=%d shards for %d validators, limit %d (%d per validator)", ErrParams, n, validators, limit, contracts.MaxShardsPerValidator)
	}
	return nil
}

// Module returns the token module of p's fee rules.
func Module(p *client.ContentParams) *contracts.Module {
	return contracts.NewModule(contracts.Params{MinFee: p.MinFee, FeePerByte: p.FeePerByte, ContentFee: p.ContentFee,
		ContentBytePrice: p.ContentBytePrice, ContentRetentionUnit: p.ContentRetentionUnit, MaxContentRetention: p.MaxContentRetention,
		CommitteeEpoch: p.Epoch})
}

// Fee returns the fee a node of params p requires of tx, the payment of a
// put: the module's minimum fee of tx as it will be submitted, with a full
// signer bitmap as its witness.
func Fee(p *client.ContentParams, tx *contracts.Tx) uint64 {
	op, ok := tx.Op.(*contracts.RegisterContent)
	if !ok {
		return Module(p).MinFee(tx)
	}
	w := *op
	w.Signers = make([]byte, (p.CommitteeSize+7)/8)
	full := *tx
	full.Op = &w
	return Module(p).MinFee(&full)
}

// Registration codes the size bytes of r as the network does (p's chunk
// size, k of n shards; 0 takes p's defaults) without storing anything, and
// returns the RegisterContent a payer signs for that content: its CID,
// manifest digest, p's epoch and the retention (in consensus
// milliseconds).
func Registration(ctx context.Context, r io.Reader, size int64, p *client.ContentParams, k, n int, retention uint64) (*contracts.RegisterContent, error) {
	if k == 0 {
		k = p.K
	}
	if n == 0 {
		n = p.N
	}
	if err := CheckShards(k, n, p.CommitteeSize); err != nil {
		return nil, err
	}
	enc, err := erasure.NewEncoder(&erasure.Options{ChunkSize: p.ChunkSize, DataShards: k, ParityShards: n - k})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrParams, err)
	}
	id, m, err := enc.Encode(ctx, r, size, discardShards{})
	if err != nil {
		return nil, fmt.Errorf("contentpay: code the content: %w", err)
	}
	op := contracts.NewRegisterContent(id.Bytes(), m.ContentSize(), uint16(k), uint16(n), crypto.Digest(m.Digest()), nil, nil)
	op.Epoch, op.Retention = p.Epoch, retention
	return op, nil
}

// discardShards is an erasure.ShardSink that keeps nothing.
type discardShards struct{}

func (discardShards) Put(context.Context, int, int, []byte) error { return nil }
