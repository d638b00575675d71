package checkpoint

import "fmt"

// Chain is what a light client runs from genesis: the chain id it follows
// and the committee of the current epoch, which it trusts because every
// committee since the genesis one was named by an epoch-end checkpoint
// that the committee before it certified. A Chain is not safe for
// concurrent use; its methods change it only when they succeed.
type Chain struct {
	chainID   string
	committee *Committee
	// lastEnd is the number of the last epoch-end checkpoint applied, and
	// applied whether there was one.
	lastEnd uint64
	applied bool
}

// NewChain starts a chain of chainID at its genesis committee (epoch 0's
// committee file; see NewCommittee for how a light client builds it).
func NewChain(chainID string, genesis *Committee) (*Chain, error) {
	if err := checkChainID(chainID); err != nil {
		return nil, fmt.Errorf("checkpoint: new chain: %w", err)
	}
	if genesis == nil {
		return nil, fmt.Errorf("checkpoint: new chain: nil genesis committee: %w", ErrInvalidCommittee)
	}
	return &Chain{chainID: chainID, committee: genesis}, nil
}

// Committee returns the committee of the chain's current epoch.
func (ch *Chain) Committee() *Committee { return ch.committee }

// Verify checks a certificate of the current epoch: its chain id
// (ErrWrongChain), that its number comes after the last epoch change
// (ErrOutOfOrder), and Certificate.Verify against the current committee.
func (ch *Chain) Verify(c *Certificate) error {
	if err := ch.verify(c); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	return nil
}

// verify is Verify without the package prefix on its errors.
func (ch *Chain) verify(c *Certificate) error {
	if c == nil {
		return fmt.Errorf("nil certificate: %w", ErrMalformed)
	}
	if c.Checkpoint.ChainID != ch.chainID {
		return fmt.Errorf("checkpoint %d of chain %q, following %q: %w",
			c.Checkpoint.Number, c.Checkpoint.ChainID, ch.chainID, ErrWrongChain)
	}
	if ch.applied && c.Checkpoint.Number <= ch.lastEnd {
		return fmt.Errorf("checkpoint %d does not come after epoch-end checkpoint %d: %w",
			c.Checkpoint.Number, ch.lastEnd, ErrOutOfOrder)
	}
	return c.verify(ch.committee)
}

// Advance applies an epoch change: end must be a certificate of the
// current epoch that verifies (as Verify checks it) and names a next
// committee (ErrNotEpochEnd); next must be that committee, of the next
// epoch, with the named digest (ErrWrongCommittee). The chain then
// follows next.
func (ch *Chain) Advance(end *Certificate, next *Committee) error {
	if err := ch.advance(end, next); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	return nil
}

// advance is Advance without the package prefix on its errors.
func (ch *Chain) advance(end *Certificate, next *Committee) error {
	if err := ch.verify(end); err != nil {
		return fmt.Errorf("advance from epoch %d: %w", ch.committee.epoch, err)
	}
	named := end.Checkpoint.NextCommittee
	if named == nil {
		return fmt.Errorf("advance from epoch %d: checkpoint %d names no next committee: %w",
			ch.committee.epoch, end.Checkpoint.Number, ErrNotEpochEnd)
	}
	if next == nil {
		return fmt.Errorf("advance from epoch %d: nil next committee: %w", ch.committee.epoch, ErrWrongCommittee)
	}
	if want := ch.committee.epoch + 1; next.epoch != want {
		return fmt.Errorf("advance from epoch %d: next committee is of epoch %d, want %d: %w",
			ch.committee.epoch, next.epoch, want, ErrWrongCommittee)
	}
	if d := next.Digest(); d != *named {
		return fmt.Errorf("advance from epoch %d: next committee has digest %s, checkpoint %d names %s: %w",
			ch.committee.epoch, d.Short(), end.Checkpoint.Number, named.Short(), ErrWrongCommittee)
	}
	ch.committee = next
	ch.lastEnd = end.Checkpoint.Number
	ch.applied = true
	return nil
}

// EpochChange is one step of VerifyChain: the certificate of an epoch's
// last checkpoint and the next epoch's committee it names.
type EpochChange struct {
	// End is the epoch-end certificate.
	End *Certificate
	// Next is the committee End names.
	Next *Committee
}

// VerifyChain runs a light client from genesis: it starts a Chain of
// chainID at genesis, applies each epoch change in order, then verifies
// latest against the committee of the last epoch, which it returns. The
// error names the step that failed.
func VerifyChain(chainID string, genesis *Committee, changes []EpochChange, latest *Certificate) (*Committee, error) {
	ch, err := NewChain(chainID, genesis)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: verify chain: %w", err)
	}
	for i, s := range changes {
		if err := ch.advance(s.End, s.Next); err != nil {
			return nil, fmt.Errorf("checkpoint: verify chain: epoch change %d: %w", i, err)
		}
	}
	if err := ch.verify(latest); err != nil {
		return nil, fmt.Errorf("checkpoint: verify chain: latest: %w", err)
	}
	return ch.committee, nil
}
