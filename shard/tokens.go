package shard

import (
	"errors"
	"fmt"

	"github.com/dagd/dagd/contracts"
	"github.com/dagd/dagd/crypto"
)

// Tokens binds the token module (contracts.Module) to Machine: the
// executor's machine of a dagd node.
type Tokens struct {
	m *contracts.Module
}

// NewTokens returns the Machine of module m.
func NewTokens(m *contracts.Module) *Tokens { return &Tokens{m: m} }

// Module returns the token module.
func (t *Tokens) Module() *contracts.Module { return t.m }

// Decode implements Machine: contracts.DecodeTx, whose canonical encoding
// makes the digest of the bytes as committed the transaction's digest.
func (t *Tokens) Decode(raw []byte) (*contracts.Tx, TxInfo, error) {
	tx, err := contracts.DecodeTx(raw)
	if err != nil {
		return nil, TxInfo{}, err
	}
	return tx, TxInfo{Digest: crypto.Hash(raw), Expiry: tx.Expiry, Sig: tx.AccountSig()}, nil
}

// Keys implements Machine.
func (t *Tokens) Keys(tx *contracts.Tx) [][]byte { return t.m.Keys(tx) }

// Apply implements Machine.
func (t *Tokens) Apply(env Env, st Store, tx *contracts.Tx) (Receipt, error) {
	r, err := t.m.Apply(contracts.Env{ChainID: env.ChainID, Seq: env.Seq, Time: env.Time}, st, tx)
	if err != nil {
		return nil, err
	}
	if r == nil {
		return nil, errors.New("shard: token module returned no receipt")
	}
	return r, nil
}

// Genesis returns the Options.Genesis and Options.GenesisID that start a
// chain from g.
func (t *Tokens) Genesis(g *contracts.Genesis) (func(Store) error, crypto.Digest, error) {
	if g == nil {
		return nil, crypto.Digest{}, errors.New("shard: nil genesis")
	}
	if err := g.Validate(); err != nil {
		return nil, crypto.Digest{}, fmt.Errorf("shard: %w", err)
	}
	return func(st Store) error { return t.m.Genesis(st, g) }, g.Hash(), nil
}
