package content

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dagd/dagd/contracts"
	"github.com/dagd/dagd/crypto"
	"github.com/dagd/dagd/dag"
	"github.com/dagd/dagd/engine/store"
	"github.com/dagd/dagd/state"
)

// Sender carries content frames to peers: the node's transport.
type Sender interface {
	// Send queues frame for validator to. When the peer's queue is full
	// and waiting may cure it, the error wraps netquic.ErrQueueFull.
	Send(to dag.ValidatorID, frame []byte) error
	// Connected returns the peers the transport reaches now.
	Connected() []dag.ValidatorID
}

// Committee is what the service needs of the committee of its epoch:
// stakes, thresholds and BLS verification. *crypto.BLSCommittee
// satisfies it.
type Committee interface {
	// Size returns the number of validators.
	Size() int
	// Stake returns the stake of validator i.
	Stake(i int) uint64
	// QuorumStake returns the stake of a quorum.
	QuorumStake() uint64
	// ValidityStake returns the smallest stake that includes an honest
	// validator (more than a third).
	ValidityStake() uint64
	// Verify checks validator i's signature of msg.
	Verify(i int, msg, sig []byte) error
	// VerifyAggregate checks an aggregate signature of msg by signers and
	// returns their stake.
	VerifyAggregate(msg []byte, signers crypto.Bitmap, aggSig []byte) (uint64, error)
}

// Submitter submits transactions to the node's intake (the node's own
// registrations and the payers' paid ones).
type Submitter interface {
	// Submit offers encoded transactions and returns how many were
	// accepted.
	Submit(ctx context.Context, txs [][]byte) (int, error)
}

// Ledger is the service's view of the node's executed state.
type Ledger interface {
	// Executed returns the sequence of the last executed commit.
	Executed() uint64
	// State returns the executed state; nil when the node does not
	// execute.
	State() *state.Store
}

// TxReader reads back the transactions of committed commits.
type TxReader interface {
	// CommitTxs returns the transactions of committed commit seq, in
	// order. With an error it returns those it could read.
	CommitTxs(seq uint64) ([][]byte, error)
}

// Clock is where the service reads the time of its time-dependent
// decisions (audit schedule, uncertified objects' age, registrar retries
// and expiries). engine.SystemClock satisfies it.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// After returns a channel that receives the time once d has passed on
	// this clock.
	After(d time.Duration) <-chan time.Time
}

// Config is what New needs: plain values of the node and the small
// interfaces through which the service reaches the rest of it.
type Config struct {
	// Options are the content options.
	Options Options
	// ChainID and Epoch name the chain and the committee's epoch.
	ChainID string
	Epoch   uint64
	// Self is this node's validator index.
	Self int
	// DataDir is the node's data directory (shards go under
	// DataDir/content unless Options.Dir says otherwise).
	DataDir string
	// NoSync skips fsync (tests).
	NoSync bool
	// BLSKey signs availability statements.
	BLSKey *crypto.BLSPrivateKey
	// AccountKey signs the node's own registrations; nil: none.
	AccountKey *crypto.AccountPrivateKey
	// Params are the ledger's parameters (fees) and MaxTxLifetime the
	// longest a transaction lives.
	Params        contracts.Params
	MaxTxLifetime time.Duration
	// Store is the node's database.
	Store *store.Store
	// Committee, Sender, Submitter, Ledger and Clock are the node's (all
	// required but Ledger, which is nil, or whose State is nil, when the
	// node does not execute).
	Committee Committee
	Sender    Sender
	Submitter Submitter
	Ledger    Ledger
	Clock     Clock
	// LookupSlot takes a slot for a content lookup that asks other
	// validators, or refuses; nil: no bound.
	LookupSlot func() (release func(), err error)
	// Logger and Registerer receive the service's logs and metrics.
	Logger     *slog.Logger
	Registerer prometheus.Registerer
}

// state returns the executed state, nil when the node does not execute.
func (s *Service) state() *state.Store {
	if s.cfg.Ledger == nil {
		return nil
	}
	return s.cfg.Ledger.State()
}

// executed returns the last executed commit, 0 when the node does not
// execute.
func (s *Service) executed() uint64 {
	if s.cfg.Ledger == nil {
		return 0
	}
	return s.cfg.Ledger.Executed()
}

// lookupSlot takes a slot for a content lookup that asks other validators.
func (s *Service) lookupSlot() (func(), error) {
	if s.cfg.LookupSlot == nil {
		return func() {}, nil
	}
	return s.cfg.LookupSlot()
}
