package engine

import (
	"fmt"

	"github.com/dagd/dagd/contracts"
	"github.com/dagd/dagd/crypto"
	"github.com/dagd/dagd/engine/execution"
)

// Devnet genesis defaults.
const (
	// DefaultDevnetAccounts is the default DevnetOptions.Accounts.
	DefaultDevnetAccounts = 1024
	// DevnetValidatorStake is the stake each devnet validator's operator
	// bonds in the genesis.
	DevnetValidatorStake = 1_000_000
)

// DevnetGenesis returns the deterministic genesis of a devnet: accounts
// contracts.DevnetAccountKey(seed, 0..accounts-1) with contracts.DevnetAccountBalance each,
// and the committee's validators, each bonded by its own operator account,
// which also holds contracts.DevnetAccountBalance to pay the validator's own
// transactions (content registrations).
func DevnetGenesis(chainID, seed string, accounts int, committee []Validator) (*contracts.Genesis, error) {
	if accounts < 0 || accounts > contracts.MaxGenesisAccounts {
		return nil, fmt.Errorf("engine: devnet of %d accounts: want 0 to %d", accounts, contracts.MaxGenesisAccounts)
	}
	g := &contracts.Genesis{ChainID: chainID}
	for i := range accounts {
		g.Accounts = append(g.Accounts, contracts.GenesisAccount{PublicKey: contracts.DevnetAccountKey(seed, i).Public(), Balance: contracts.DevnetAccountBalance})
	}
	for i, v := range committee {
		gv := contracts.GenesisValidator{Stake: DevnetValidatorStake * v.Stake, Operator: contracts.DevnetOperatorKey(seed, i).Public()}
		if len(v.BLSPublicKey) != len(gv.BLSPublicKey) || len(v.ProofOfPossession) != len(gv.ProofOfPossession) {
			return nil, fmt.Errorf("engine: devnet validator %d: malformed BLS key or proof of possession", i)
		}
		copy(gv.BLSPublicKey[:], v.BLSPublicKey)
		copy(gv.ProofOfPossession[:], v.ProofOfPossession)
		g.Validators = append(g.Validators, gv)
		g.Accounts = append(g.Accounts, contracts.GenesisAccount{PublicKey: gv.Operator, Balance: contracts.DevnetAccountBalance})
	}
	if err := g.Validate(); err != nil {
		return nil, fmt.Errorf("engine: devnet genesis: %w", err)
	}
	return g, nil
}

// Genesis returns the devnet's genesis (nil when execution is disabled).
func (d *Devnet) Genesis() *contracts.Genesis { return d.genesis }

// AccountKey returns funded account i of the devnet's genesis.
func (d *Devnet) AccountKey(i int) *crypto.AccountPrivateKey {
	return contracts.DevnetAccountKey(d.opts.Seed, i)
}

// ChainID returns the devnet's chain id.
func (d *Devnet) ChainID() string { return d.opts.ChainID }

// DevnetExecSubscription receives the executed commits of every node of a
// devnet, including nodes started after it was made, each tagged with
// ExecutedCommit.Node.
type DevnetExecSubscription struct {
	*devnetFanIn[*execution.ExecutedCommit]
}

// SubscribeExecution returns a subscription to the executed commits of
// every node. Its channel holds buffer commits (default 4096 times the
// committee size); a node whose part backs up ends with
// execution.ErrLagged, reported by Err.
func (d *Devnet) SubscribeExecution(buffer int) *DevnetExecSubscription {
	if buffer <= 0 {
		buffer = 4096 * d.opts.Validators
	}
	return &DevnetExecSubscription{newDevnetFanIn(d, buffer, func(n *Node) nodeStream[*execution.ExecutedCommit] { return n.SubscribeExecution(buffer) })}
}
