package main

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/spf13/cobra"

	"github.com/dagd/dagd/contracts"
)

// queryFlags are the flags every query subcommand shares.
type queryFlags struct {
	kf      keyringFlags
	node    string
	seq     uint64
	timeout time.Duration
	asJSON  bool
}

func (f *queryFlags) register(cmd *cobra.Command, state bool) {
	fs := cmd.Flags()
	fs.StringVar(&f.node, "node", defaultNode, "the node's HTTP API, HOST:PORT")
	fs.DurationVar(&f.timeout, "timeout", 10*time.Second, "give up after this long")
	fs.BoolVar(&f.asJSON, "json", false, "print the answer as JSON")
	if state {
		fs.Uint64Var(&f.seq, "seq", 0, "read the state after this commit (default: the last executed; the node keeps the last few)")
		f.kf.register(cmd, false)
	}
}

// field is one line of a query's answer.
type field struct{ name, value string }

// stateAnswer is what a state query prints: the decoded value and how it
// was proven.
type stateAnswer struct {
	// What names what was looked up.
	What   string `json:"what"`
	Exists bool   `json:"exists"`
	// Value holds the decoded fields (amounts in decimal).
	Value map[string]string `json:"value,omitempty"`
	// Key is the state key in hex.
	Key string `json:"key"`
	// Seq and StateRoot are the commit whose state root the proof was
	// verified against.
	Seq       uint64 `json:"seq"`
	StateRoot string `json:"state_root"`
	// Proof is "inclusion" or "non-inclusion".
	Proof    string `json:"proof"`
	Verified bool   `json:"verified"`

	fields []field
}

func newAnswer(what string, pv *provenValue, fields ...field) *stateAnswer {
	a := &stateAnswer{What: what, Exists: pv.Value != nil, Key: hex.EncodeToString(pv.Key), Seq: pv.Seq, StateRoot: pv.Root.String(),
		Proof: "inclusion", Verified: true, fields: fields}
	if pv.Value == nil {
		a.Proof = "non-inclusion"
	}
	if len(fields) > 0 {
		a.Value = make(map[string]string, len(fields))
		for _, f := range fields {
			a.Value[f.name] = f.value
		}
	}
	return a
}

func (a *stateAnswer) print(w io.Writer, asJSON bool, pv *provenValue) error {
	if asJSON {
		return printJSON(w, a)
	}
	fmt.Fprintf(w, "%s\n", a.What)
	if !a.Exists {
		fmt.Fprintf(w, "  not found (absent from the state)\n")
	}
	for _, f := range a.fields {
		fmt.Fprintf(w, "  %-12s %s\n", f.name, f.value)
	}
	fmt.Fprintln(w, verifiedLine(pv))
	return nil
}

func u64(v uint64) string { return strconv.FormatUint(v, 10) }

// stateQuery makes a query subcommand that reads one key, with its proof,
// and describes its value.
func stateQuery(use, short string, nargs int, describe func(ctx context.Context, c *ledgerClient, kr keyring, args []string, seq uint64) (*stateAnswer, *provenValue, error)) *cobra.Command {
	var f queryFlags
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.ExactArgs(nargs),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := newLedgerClient(f.node)
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), f.timeout)
			defer cancel()
			a, pv, err := describe(ctx, c, f.kf.keyring(), args, f.seq)
			if err != nil {
				return err
			}
			return a.print(cmd.OutOrStdout(), f.asJSON, pv)
		},
	}
	f.register(cmd, true)
	return cmd
}

// readValue reads key with its proof and decodes a present value.
func readValue[T any](ctx context.Context, c *ledgerClient, key []byte, seq uint64, decode func([]byte) (*T, error)) (*T, *provenValue, error) {
	pv, err := c.provenState(ctx, key, seq)
	if err != nil {
		return nil, nil, err
	}
	if pv.Value == nil {
		return nil, pv, nil
	}
	v, err := decode(pv.Value)
	if err != nil {
		return nil, nil, fmt.Errorf("state %x: %w", key, err)
	}
	return v, pv, nil
}

// amountQuery is a query of an amount key (balance, allowance, delegation).
func amountQuery(ctx context.Context, c *ledgerClient, what string, key []byte, seq uint64) (*stateAnswer, *provenValue, error) {
	pv, err := c.provenState(ctx, key, seq)
	if err != nil {
		return nil, nil, err
	}
	amt := uint64(0)
	if pv.Value != nil {
		if amt, err = contracts.DecodeAmount(pv.Value); err != nil {
			return nil, nil, fmt.Errorf("state %x: %w", key, err)
		}
	}
	a := newAnswer(what, pv, field{"amount", u64(amt)})
	a.Exists = true // an absent amount is zero
	return a, pv, nil
}

func cidString(b []byte) string {
	c, err := cid.Cast(b)
	if err != nil {
		return hex.EncodeToString(b)
	}
	return c.String()
}

func newQueryCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "query",
		Short: "Read accounts, tokens, NFTs and receipts, with state proofs verified",
		Long: `query reads the ledger state from a node (GET /v1/accounts and /v1/state) with a
Merkle proof of every value, or of its absence. The command verifies the proof
itself (package state/proof) against the state root the node records for that
commit (GET /v1/commits/{seq}) and prints "verified against state root R at seq
N"; a proof that does not verify is an error. Accounts are given as a public key
in hex or as the name of a keyring key.

query receipt checks that the receipt the node returns is the canonical
receipt of the transaction; the API serves no proof of it under the commit's
receipts root, so it is not proven.`,
	}
	account := stateQuery("account PUBKEY|NAME", "An account's nonce and native balance", 1,
		func(ctx context.Context, c *ledgerClient, kr keyring, a []string, seq uint64) (*stateAnswer, *provenValue, error) {
			pk, err := resolveAccount(kr, "account", a[0])
			if err != nil {
				return nil, nil, err
			}
			acct, pv, err := c.provenAccount(ctx, pk, seq)
			if err != nil {
				return nil, nil, err
			}
			ans := newAnswer("account "+pk.String(), pv, field{"nonce", u64(acct.Nonce)}, field{"balance", u64(acct.Balance)})
			ans.Exists = pv.Value != nil
			return ans, pv, nil
		})
	token := stateQuery("token TOKEN", "A fungible token: issuer, name, symbol, decimals, cap, supply", 1,
		func(ctx context.Context, c *ledgerClient, _ keyring, a []string, seq uint64) (*stateAnswer, *provenValue, error) {
			id, err := parseDigestArg("token", a[0])
			if err != nil {
				return nil, nil, err
			}
			t, pv, err := readValue(ctx, c, contracts.TokenKey(id), seq, contracts.DecodeToken)
			if err != nil || t == nil {
				return newAnswerOrNil("token "+id.String(), pv, err)
			}
			return newAnswer("token "+id.String(), pv, field{"issuer", t.Issuer.String()}, field{"name", t.Name}, field{"symbol", t.Symbol},
				field{"decimals", strconv.Itoa(int(t.Decimals))}, field{"cap", u64(t.Cap)}, field{"supply", u64(t.Supply)}), pv, nil
		})
	balance := stateQuery("balance TOKEN HOLDER", "An account's balance of a fungible token", 2,
		func(ctx context.Context, c *ledgerClient, kr keyring, a []string, seq uint64) (*stateAnswer, *provenValue, error) {
			id, err := parseDigestArg("token", a[0])
			if err != nil {
				return nil, nil, err
			}
			pk, err := resolveAccount(kr, "holder", a[1])
			if err != nil {
				return nil, nil, err
			}
			return amountQuery(ctx, c, fmt.Sprintf("balance of %s in token %s", pk, id), contracts.BalanceKey(id, pk), seq)
		})
	allowance := stateQuery("allowance TOKEN OWNER SPENDER", "How much of OWNER's token SPENDER may move", 3,
		func(ctx context.Context, c *ledgerClient, kr keyring, a []string, seq uint64) (*stateAnswer, *provenValue, error) {
			id, err := parseDigestArg("token", a[0])
			if err != nil {
				return nil, nil, err
			}
			owner, err := resolveAccount(kr, "owner", a[1])
			if err != nil {
				return nil, nil, err
			}
			sp, err := resolveAccount(kr, "spender", a[2])
			if err != nil {
				return nil, nil, err
			}
			return amountQuery(ctx, c, fmt.Sprintf("allowance of %s over %s in token %s", sp, owner, id), contracts.AllowanceKey(id, owner, sp), seq)
		})
	collection := stateQuery("collection COLLECTION", "A non-fungible collection: creator, name, symbol, soulbound", 1,
		func(ctx context.Context, c *ledgerClient, _ keyring, a []string, seq uint64) (*stateAnswer, *provenValue, error) {
			id, err := parseDigestArg("collection", a[0])
			if err != nil {
				return nil, nil, err
			}
			v, pv, err := readValue(ctx, c, contracts.CollectionKey(id), seq, contracts.DecodeCollection)
			if err != nil || v == nil {
				return newAnswerOrNil("collection "+id.String(), pv, err)
			}
			return newAnswer("collection "+id.String(), pv, field{"creator", v.Creator.String()}, field{"name", v.Name},
				field{"symbol", v.Symbol}, field{"soulbound", strconv.FormatBool(v.Soulbound)}), pv, nil
		})
	nft := stateQuery("nft COLLECTION/INDEX", "A non-fungible token: owner (of its root), parent, metadata", 1,
		func(ctx context.Context, c *ledgerClient, _ keyring, a []string, seq uint64) (*stateAnswer, *provenValue, error) {
			id, err := parseNFTID(a[0])
			if err != nil {
				return nil, nil, err
			}
			v, pv, err := readValue(ctx, c, contracts.NFTKey(id), seq, contracts.DecodeNFT)
			if err != nil || v == nil {
				return newAnswerOrNil("nft "+id.String(), pv, err)
			}
			fields := []field{}
			if v.Attached {
				// The owner is the root's: read the ancestors at the same
				// commit, each proven.
				owner, err := contracts.OwnerOf(&provenReader{ctx: ctx, c: c, seq: pv.Seq}, id)
				if err != nil {
					return nil, nil, fmt.Errorf("owner of %s: %w", id, err)
				}
				fields = append(fields, field{"owner", owner.String()}, field{"parent", v.Parent.String()})
			} else {
				fields = append(fields, field{"owner", v.Owner.String()})
			}
			fields = append(fields, field{"soulbound", strconv.FormatBool(v.Soulbound)}, field{"children", strconv.Itoa(int(v.Children))},
				field{"metadata", cidString(v.Metadata)})
			return newAnswer("nft "+id.String(), pv, fields...), pv, nil
		})
	class := stateQuery("class CLASS", "A semi-fungible class: creator, name, symbol", 1,
		func(ctx context.Context, c *ledgerClient, _ keyring, a []string, seq uint64) (*stateAnswer, *provenValue, error) {
			id, err := parseDigestArg("class", a[0])
			if err != nil {
				return nil, nil, err
			}
			v, pv, err := readValue(ctx, c, contracts.ClassKey(id), seq, contracts.DecodeClass)
			if err != nil || v == nil {
				return newAnswerOrNil("class "+id.String(), pv, err)
			}
			return newAnswer("class "+id.String(), pv, field{"creator", v.Creator.String()}, field{"name", v.Name}, field{"symbol", v.Symbol}), pv, nil
		})
	sftBalance := stateQuery("sft-balance CLASS ID HOLDER", "An account's balance of one id of a semi-fungible class", 3,
		func(ctx context.Context, c *ledgerClient, kr keyring, a []string, seq uint64) (*stateAnswer, *provenValue, error) {
			class, err := parseDigestArg("class", a[0])
			if err != nil {
				return nil, nil, err
			}
			id, err := parseAmount("id", a[1])
			if err != nil {
				return nil, nil, err
			}
			pk, err := resolveAccount(kr, "holder", a[2])
			if err != nil {
				return nil, nil, err
			}
			return amountQuery(ctx, c, fmt.Sprintf("balance of %s in class %s id %d", pk, class, id), contracts.ClassBalanceKey(class, id, pk), seq)
		})
	vesting := stateQuery("vesting SCHEDULE", "A vesting schedule: beneficiary, total, claimed, times", 1,
		func(ctx context.Context, c *ledgerClient, _ keyring, a []string, seq uint64) (*stateAnswer, *provenValue, error) {
			id, err := parseDigestArg("schedule", a[0])
			if err != nil {
				return nil, nil, err
			}
			v, pv, err := readValue(ctx, c, contracts.VestingKey(id), seq, contracts.DecodeVesting)
			if err != nil || v == nil {
				return newAnswerOrNil("vesting schedule "+id.String()+" (absent when fully claimed)", pv, err)
			}
			return newAnswer("vesting schedule "+id.String(), pv, field{"beneficiary", v.Beneficiary.String()}, field{"total", u64(v.Total)},
				field{"claimed", u64(v.Claimed)}, field{"start", u64(v.Start)}, field{"duration", u64(v.Duration)}, field{"cliff", u64(v.Cliff)}), pv, nil
		})
	validator := stateQuery("validator INDEX", "A validator's bonded stake: operator, tokens, shares, jail", 1,
		func(ctx context.Context, c *ledgerClient, _ keyring, a []string, seq uint64) (*stateAnswer, *provenValue, error) {
			i, err := strconv.ParseUint(a[0], 10, 32)
			if err != nil {
				return nil, nil, usageError("validator %q: want a committee index", a[0])
			}
			what := "validator " + a[0]
			v, pv, err := readValue(ctx, c, contracts.ValidatorKey(uint32(i)), seq, contracts.DecodeValidator)
			if err != nil || v == nil {
				return newAnswerOrNil(what, pv, err)
			}
			return newAnswer(what, pv, field{"operator", v.Operator.String()}, field{"tokens", u64(v.Tokens)}, field{"shares", u64(v.Shares)},
				field{"jailed", strconv.FormatBool(v.Jailed)}, field{"slashed", u64(v.Slashed)}), pv, nil
		})
	cmd.AddCommand(account, token, balance, allowance, collection, nft, class, sftBalance, vesting, validator, newQueryReceiptCmd())
	return cmd
}

// newAnswerOrNil is the answer of an absent value, or err.
func newAnswerOrNil(what string, pv *provenValue, err error) (*stateAnswer, *provenValue, error) {
	if err != nil {
		return nil, nil, err
	}
	return newAnswer(what, pv), pv, nil
}

func newQueryReceiptCmd() *cobra.Command {
	var f queryFlags
	cmd := &cobra.Command{
		Use:   "receipt DIGEST",
		Short: "A transaction's receipt: outcome, reason, fee, events, commit",
		Long: `receipt prints the receipt of a transaction (GET /v1/receipts/{digest}), after
checking that it is the canonical receipt of that transaction. A receipt with a
failure code exits with status 1; a transaction without a receipt (not executed
yet, or dropped) exits with status 1 too.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			d, err := parseDigestArg("transaction digest", args[0])
			if err != nil {
				return err
			}
			c, err := newLedgerClient(f.node)
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), f.timeout)
			defer cancel()
			ri, ok, err := c.receipt(ctx, d)
			if err != nil {
				return err
			}
			if !ok {
				return &exitError{code: 1, err: fmt.Errorf("no receipt for %s: not executed yet, or dropped (expired, duplicate, malformed, never committed)", d)}
			}
			w := cmd.OutOrStdout()
			if f.asJSON {
				if err := printJSON(w, ri); err != nil {
					return err
				}
			} else {
				fmt.Fprintf(w, "tx        %s\n", ri.Tx)
				printReceipt(w, ri)
				if ri.ReceiptsRoot != "" {
					fmt.Fprintf(w, "receipts root of commit %d: %s (receipt not proven against it)\n", ri.Seq, ri.ReceiptsRoot)
				}
			}
			if !ri.OK {
				return &exitError{code: 1, err: fmt.Errorf("tx %s failed: %s: %s", d, ri.CodeName, ri.Reason)}
			}
			return nil
		},
	}
	f.register(cmd, false)
	return cmd
}

// provenReader is how the nft query and tx nft attach/detach read
// ancestors.
var _ contracts.Reader = (*provenReader)(nil)
