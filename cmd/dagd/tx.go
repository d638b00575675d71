package main

import (
	"bufio"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/spf13/cobra"

	"github.com/dagd/dagd/contracts"
	"github.com/dagd/dagd/crypto"
	"github.com/dagd/dagd/engine/client"
)

// Defaults of the tx commands.
const (
	// defaultNode is the API address the tx and query commands use
	// without --node (the default api.addr of dagd init).
	defaultNode = "127.0.0.1:8080"
	// defaultExpiry is how long a transaction stays valid by default. A
	// node drops a transaction whose expiry is more than its
	// MaxTxLifetime (2 minutes by default) ahead of the commit.
	defaultExpiry = "1m"
	// receiptPoll is how often --wait asks for the receipt.
	receiptPoll = 100 * time.Millisecond
	// maxCIDString bounds a CID given on the command line.
	maxCIDString = 256
	// maxHexTxInput bounds what tx broadcast reads from standard input.
	maxHexTxInput = 2*contracts.MaxTxSize + 16
)

// txFlags are the flags every tx subcommand shares.
type txFlags struct {
	kf      keyringFlags
	node    string
	from    string
	nonce   uint64
	fee     uint64
	expiry  string
	chainID string
	wait    bool
	timeout time.Duration
	asJSON  bool
	dryRun  bool
}

func (f *txFlags) register(cmd *cobra.Command, signing bool) {
	fs := cmd.Flags()
	fs.StringVar(&f.node, "node", defaultNode, "the node's HTTP API, HOST:PORT")
	fs.BoolVar(&f.wait, "wait", false, "wait for the receipt and print it; a failed transaction exits with status 1")
	fs.DurationVar(&f.timeout, "timeout", 30*time.Second, "give up after this long (the wait for the receipt included)")
	fs.BoolVar(&f.asJSON, "json", false, "print the transaction (and its receipt) as JSON")
	if !signing {
		return
	}
	f.kf.register(cmd, true)
	fs.StringVar(&f.from, "from", "", "the keyring key that signs and pays (required)")
	fs.Uint64Var(&f.nonce, "nonce", 0, "the sender's nonce (default: the account's next nonce, from GET /v1/accounts, proof verified)")
	fs.Uint64Var(&f.fee, "fee", 0, fmt.Sprintf("the fee (default: the token module's default minimum fee, %d)", contracts.DefaultMinFee))
	fs.StringVar(&f.expiry, "expiry", defaultExpiry,
		"last consensus time the transaction may run: a duration from now (90s) or absolute unix milliseconds; nodes drop one more than their max lifetime (default 2m) ahead")
	fs.StringVar(&f.chainID, "chain-id", "", "the chain to sign for (default: the node's, from GET /v1/status)")
	fs.BoolVar(&f.dryRun, "dry-run", false, "print the signed transaction in hex and do not submit it")
	fs.BoolVar(&f.dryRun, "print", false, "the same as --dry-run")
	_ = cmd.MarkFlagRequired("from")
}

// txEnv is what an operation builder may use: account names, and proven
// state reads (for ancestor paths).
type txEnv struct {
	ctx    context.Context
	kr     keyring
	client *ledgerClient
	sender crypto.AccountPublicKey
}

// account resolves a public key in hex or the name of a keyring key.
func (e *txEnv) account(what, s string) (crypto.AccountPublicKey, error) {
	return resolveAccount(e.kr, what, s)
}

// tokenAccountAmount parses the arguments TOKEN ACCOUNT AMOUNT that
// several token operations share; who names the account in errors.
func (e *txEnv) tokenAccountAmount(a []string, who string) (tok crypto.Digest, acct crypto.AccountPublicKey, amt uint64, err error) {
	if tok, err = parseDigestArg("token", a[0]); err != nil {
		return
	}
	if acct, err = e.account(who, a[1]); err != nil {
		return
	}
	amt, err = parseAmount("amount", a[2])
	return
}

func resolveAccount(kr keyring, what, s string) (crypto.AccountPublicKey, error) {
	if len(s) == 2*crypto.AccountPublicKeySize {
		if raw, err := hex.DecodeString(s); err == nil {
			pk, err := crypto.ParseAccountPublicKey(raw)
			if err == nil {
				err = crypto.CheckAccountPublicKey(pk) // small order: anyone could take what it holds
			}
			if err != nil {
				return pk, usageError("%s %q: %w", what, s, err)
			}
			return pk, nil
		}
	}
	if checkKeyName(s) != nil {
		return crypto.AccountPublicKey{}, usageError("%s %q: not a public key (64 hex characters) nor a key name", what, s)
	}
	ke, err := kr.show(s)
	if err != nil {
		return crypto.AccountPublicKey{}, usageError("%s %q: not a public key (64 hex characters) nor a key of the keyring: %w", what, s, err)
	}
	pk, err := parsePublicKey(ke.PublicKey)
	if err != nil {
		return pk, fmt.Errorf("%s %q: %w", what, s, err)
	}
	return pk, nil
}

func parsePublicKey(s string) (crypto.AccountPublicKey, error) {
	raw, err := hex.DecodeString(s)
	if err != nil {
		return crypto.AccountPublicKey{}, fmt.Errorf("public key %q: %w", s, err)
	}
	pk, err := crypto.ParseAccountPublicKey(raw)
	if err == nil {
		err = crypto.CheckAccountPublicKey(pk)
	}
	if err != nil {
		return crypto.AccountPublicKey{}, fmt.Errorf("public key %q: %w", s, err)
	}
	return pk, nil
}

func parseAmount(what, s string) (uint64, error) {
	v, err := strconv.ParseUint(strings.ReplaceAll(s, "_", ""), 10, 64)
	if err != nil {
		return 0, usageError("%s %q: want a non-negative integer", what, s)
	}
	return v, nil
}

func parseDigestArg(what, s string) (crypto.Digest, error) {
	d, err := crypto.ParseDigest(s)
	if err != nil {
		return d, usageError("%s %q: want 64 hex characters", what, s)
	}
	return d, nil
}

// parseNFTID parses COLLECTION/INDEX, as contracts.NFTID.String prints it.
func parseNFTID(s string) (contracts.NFTID, error) {
	c, i, ok := strings.Cut(s, "/")
	if !ok {
		return contracts.NFTID{}, usageError("token %q: want COLLECTION/INDEX", s)
	}
	coll, err := parseDigestArg("collection", c)
	if err != nil {
		return contracts.NFTID{}, err
	}
	idx, err := parseAmount("token index", i)
	if err != nil {
		return contracts.NFTID{}, err
	}
	return contracts.NFTID{Collection: coll, Index: idx}, nil
}

// parseMetadataCID parses a CID (any codec and hash) into the canonical
// binary form NFT metadata takes.
func parseMetadataCID(s string) ([]byte, error) {
	if s == "" {
		return nil, usageError("--metadata CID is required")
	}
	if len(s) > maxCIDString {
		return nil, usageError("metadata CID of %d characters, limit %d", len(s), maxCIDString)
	}
	c, err := cid.Decode(s)
	if err != nil {
		return nil, usageError("metadata CID %q: %w", s, err)
	}
	b := c.Bytes()
	if err := contracts.CheckCID(b); err != nil {
		return nil, usageError("metadata CID %q: %w", s, err)
	}
	return b, nil
}

// parseTime reads a consensus time: empty is now, an integer is unix
// milliseconds, a duration is that long from now.
func parseTime(what, s string, now time.Time) (uint64, error) {
	if s == "" {
		return uint64(now.UnixMilli()), nil
	}
	if v, err := strconv.ParseUint(s, 10, 64); err == nil {
		return v, nil
	}
	d, err := time.ParseDuration(strings.TrimPrefix(s, "+"))
	if err != nil || d < 0 {
		return 0, usageError("%s %q: want a duration from now (90s, 1h) or unix milliseconds", what, s)
	}
	return uint64(now.Add(d).UnixMilli()), nil
}

func parseMillis(what, s string) (uint64, error) {
	if v, err := strconv.ParseUint(s, 10, 64); err == nil {
		return v, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, usageError("%s %q: want a duration (30d is 720h) or milliseconds", what, s)
	}
	return uint64(d.Milliseconds()), nil
}

// txOutput is what a tx command prints with --json.
type txOutput struct {
	Tx      string `json:"tx"`
	Op      string `json:"op"`
	ChainID string `json:"chain_id"`
	Sender  string `json:"sender"`
	Nonce   uint64 `json:"nonce"`
	// Fee is in decimal, as the API prints amounts.
	Fee     string            `json:"fee"`
	Expiry  uint64            `json:"expiry_ms"`
	Created map[string]string `json:"created,omitempty"`
	// Raw is the signed transaction in hex (with --dry-run).
	Raw       string              `json:"raw,omitempty"`
	Submitted bool                `json:"submitted"`
	Receipt   *client.ReceiptInfo `json:"receipt,omitempty"`
}

// created names the objects tx creates, derived from its sender and
// nonce as the module does.
func created(tx *contracts.Tx) map[string]string {
	switch tx.Op.(type) {
	case *contracts.TokenCreate:
		return map[string]string{"token": contracts.TokenID(tx.Sender, tx.Nonce).String()}
	case *contracts.CollectionCreate:
		return map[string]string{"collection": contracts.CollectionID(tx.Sender, tx.Nonce).String()}
	case *contracts.SFTCreate:
		return map[string]string{"class": contracts.ClassID(tx.Sender, tx.Nonce).String()}
	case *contracts.VestingTransfer:
		return map[string]string{"schedule": contracts.VestingID(tx.Sender, tx.Nonce).String()}
	case *contracts.Unbond:
		return map[string]string{"unbonding": strconv.FormatUint(tx.Nonce, 10)}
	}
	return nil
}

// opBuilder makes a command's operation from its arguments.
type opBuilder func(e *txEnv, args []string) (contracts.Op, error)

// runSigned builds, signs and sends the transaction of a tx subcommand.
func runSigned(cmd *cobra.Command, f *txFlags, args []string, build opBuilder) error {
	ctx, cancel := context.WithTimeout(cmd.Context(), f.timeout)
	defer cancel()
	lc, err := newLedgerClient(f.node)
	if err != nil {
		return err
	}
	kr := f.kf.keyring()
	ke, err := kr.show(f.from)
	if err != nil {
		return fmt.Errorf("--from: %w", err)
	}
	sender, err := parsePublicKey(ke.PublicKey)
	if err != nil {
		return fmt.Errorf("--from %s: %w", f.from, err)
	}
	env := &txEnv{ctx: ctx, kr: kr, client: lc, sender: sender}
	op, err := build(env, args)
	if err != nil {
		return err
	}
	expiry, err := parseTime("--expiry", f.expiry, time.Now())
	if err != nil {
		return err
	}
	pw, err := f.kf.password(cmd, false)
	if err != nil {
		return err
	}
	key, err := kr.load(f.from, pw)
	clear(pw)
	if err != nil {
		return err
	}
	chainID := f.chainID
	if chainID == "" {
		st, err := lc.status(ctx)
		if err != nil {
			return fmt.Errorf("chain id: %w (or give --chain-id)", err)
		}
		if st.ChainID == "" {
			return usageError("the node at %s does not report its chain id: give --chain-id", f.node)
		}
		chainID = st.ChainID
	}
	nonce := f.nonce
	if !cmd.Flags().Changed("nonce") {
		acct, _, err := lc.provenAccount(ctx, sender, 0)
		if err != nil {
			return fmt.Errorf("nonce of %s: %w (or give --nonce)", f.from, err)
		}
		nonce = acct.Nonce
	}
	tx := contracts.NewTx(chainID, nonce, f.fee, expiry, op)
	tx.Sender = sender
	if !cmd.Flags().Changed("fee") {
		tx.Fee = contracts.NewModule(contracts.Params{}).MinFee(tx)
	}
	tx.Sign(key)
	return sendTx(ctx, cmd, f, lc, tx)
}

// sendTx prints tx, submits it unless --dry-run, and with --wait waits
// for its receipt. A refused submission or a failed receipt is an error
// with exit status 1.
func sendTx(ctx context.Context, cmd *cobra.Command, f *txFlags, lc *ledgerClient, tx *contracts.Tx) error {
	raw := tx.Encode()
	d := tx.Digest()
	out := txOutput{Tx: d.String(), Op: tx.Op.Type().String(), ChainID: tx.ChainID, Sender: tx.Sender.String(), Nonce: tx.Nonce,
		Fee: strconv.FormatUint(tx.Fee, 10), Expiry: tx.Expiry, Created: created(tx)}
	w := cmd.OutOrStdout()
	if !f.asJSON {
		fmt.Fprintf(w, "tx        %s\n", d)
		fmt.Fprintf(w, "op        %s by %s, nonce %d, fee %d, expiry %d, chain %q\n", out.Op, out.Sender, tx.Nonce, tx.Fee, tx.Expiry, tx.ChainID)
		for _, k := range sortedKeys(out.Created) {
			fmt.Fprintf(w, "created   %s %s\n", k, out.Created[k])
		}
	}
	if f.dryRun {
		out.Raw = hex.EncodeToString(raw)
		if f.asJSON {
			return printJSON(w, out)
		}
		fmt.Fprintln(w, out.Raw)
		return nil
	}
	if err := lc.submit(ctx, raw); err != nil {
		if f.asJSON {
			_ = printJSON(w, out)
		}
		return &exitError{code: 1, err: fmt.Errorf("tx %s: %w", d, err)}
	}
	out.Submitted = true
	if !f.wait {
		if f.asJSON {
			return printJSON(w, out)
		}
		fmt.Fprintf(w, "submitted to %s; see the outcome with: dagd query receipt %s --node %s\n", f.node, d, f.node)
		return nil
	}
	ri, err := waitReceipt(ctx, lc, d)
	if err != nil {
		if f.asJSON {
			_ = printJSON(w, out)
		}
		return &exitError{code: 1, err: fmt.Errorf("tx %s: %w", d, err)}
	}
	out.Receipt = ri
	if f.asJSON {
		if err := printJSON(w, out); err != nil {
			return err
		}
	} else {
		printReceipt(w, ri)
	}
	if !ri.OK {
		return &exitError{code: 1, err: fmt.Errorf("tx %s failed: %s: %s", d, ri.CodeName, ri.Reason)}
	}
	return nil
}

// waitReceipt polls the node for the receipt of d until it exists or ctx
// ends.
func waitReceipt(ctx context.Context, lc *ledgerClient, d crypto.Digest) (*client.ReceiptInfo, error) {
	t := time.NewTicker(receiptPoll)
	defer t.Stop()
	for {
		ri, ok, err := lc.receipt(ctx, d)
		if err != nil && ctx.Err() == nil {
			return nil, err
		}
		if ok {
			return ri, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("no receipt before the timeout (not executed yet, or dropped: expired, duplicate, or never committed): %w", ctx.Err())
		case <-t.C:
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// printReceipt prints a receipt as text.
func printReceipt(w io.Writer, ri *client.ReceiptInfo) {
	fmt.Fprintf(w, "receipt   %s in commit %d (index %d), fee %s\n", ri.CodeName, ri.Seq, ri.Index, ri.Fee)
	if ri.Reason != "" {
		fmt.Fprintf(w, "reason    %s\n", ri.Reason)
	}
	for _, e := range ri.Events {
		var attrs []string
		for _, k := range sortedKeys(e.Attrs) {
			attrs = append(attrs, k+"="+e.Attrs[k])
		}
		fmt.Fprintf(w, "event     %s %s\n", e.Type, strings.Join(attrs, " "))
	}
}

// opCmd makes a tx subcommand whose operation build makes from args.
func opCmd(use, short, long string, nargs int, build opBuilder, extra func(cmd *cobra.Command)) *cobra.Command {
	var f txFlags
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Long:  long,
		Args:  cobra.ExactArgs(nargs),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSigned(cmd, &f, args, build)
		},
	}
	f.register(cmd, true)
	if extra != nil {
		extra(cmd)
	}
	return cmd
}

func newTxCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "tx",
		Short: "Sign and submit transactions: transfers, tokens, NFTs, SFTs, staking, vesting",
		Long: `tx signs one operation of the token module with a keyring key (--from NAME,
see dagd keys), submits it to a node (POST /v1/transactions on --node) and
prints its digest. Accounts are given as a public key in hex or as the name of
a keyring key; amounts as decimal integers.

Defaults: the nonce is the account's next one (GET /v1/accounts, its proof
verified); the fee is the token module's default minimum (` + strconv.Itoa(contracts.DefaultMinFee) + `); the expiry
one minute from now; the chain id the node's (GET /v1/status). --wait polls
GET /v1/receipts/{digest} until the receipt arrives (or --timeout) and prints
it. --dry-run (or --print) prints the signed transaction in hex instead of
submitting it; dagd tx broadcast submits such a transaction later. The
default nonce is the one after the last executed transaction: to send several
transactions of one account without --wait, give each its --nonce.

A submission the node refuses (busy, too large, malformed) prints its reason
and exits with status 1; so does a receipt with a failure code (insufficient
balance, soulbound, ...).

Objects a transaction creates (token, collection, class, vesting schedule,
unbonding entry) are named from the sender and the nonce; the command prints
their identifiers. Content registration is not here: dagd put stores content
and registers it with the committee's availability certificate (paid by
--from KEY); renew-content extends what registered content is paid for.`,
	}
	cmd.AddCommand(
		newTxTransferCmd(),
		newTxTokenCmd(),
		newTxCollectionCmd(),
		newTxNFTCmd(),
		newTxSoulboundCmd(),
		newTxSFTCmd(),
	)
	cmd.AddCommand(newTxStakingCmds()...)
	cmd.AddCommand(newTxVestingCmd(), newTxBroadcastCmd(), newTxRenewContentCmd())
	return cmd
}

// newTxRenewContentCmd is dagd tx renew-content: a signed renewal of
// registered content's paid retention.
func newTxRenewContentCmd() *cobra.Command {
	return opCmd("renew-content CID DURATION", "Extend the paid retention of registered content (anyone may pay)",
		`renew-content pays for DURATION more of CID's retention (from its current
expiry; at most the chain's maximum retention ahead), at the price of its
stored bytes (size x n/k, read from the node's stat of CID) per day begun.
Content whose retention is over is collected by its holders; put it again.`, 2,
		func(e *txEnv, a []string) (contracts.Op, error) {
			id, err := parseCIDArg(a[0])
			if err != nil {
				return nil, err
			}
			d, err := time.ParseDuration(a[1])
			if err != nil || d < time.Millisecond {
				return nil, usageError("DURATION %q: want a positive duration such as 720h", a[1])
			}
			st, err := e.client.Stat(e.ctx, id)
			if err != nil {
				return nil, err
			}
			return contracts.NewRenewContent(id.Bytes(), st.Size, uint16(st.K), uint16(st.N), uint64(d.Milliseconds())), nil
		}, nil)
}

func newTxTransferCmd() *cobra.Command {
	return opCmd("transfer TO AMOUNT", "Send native tokens", "", 2, func(e *txEnv, a []string) (contracts.Op, error) {
		to, err := e.account("recipient", a[0])
		if err != nil {
			return nil, err
		}
		amt, err := parseAmount("amount", a[1])
		if err != nil {
			return nil, err
		}
		return contracts.NewTransfer(to, amt), nil
	}, nil)
}

func newTxTokenCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "token", Short: "Fungible tokens: create, mint, transfer, burn, approve, transfer-from"}
	var (
		decimals  uint8
		supplyCap uint64
	)
	create := opCmd("create NAME SYMBOL", "Create a fungible token; the sender is its issuer",
		"create makes a token of zero supply that the sender alone mints, up to --cap. It prints the token's id.", 2,
		func(_ *txEnv, a []string) (contracts.Op, error) {
			return contracts.NewTokenCreate(a[0], a[1], decimals, supplyCap), nil
		}, func(cmd *cobra.Command) {
			cmd.Flags().Uint8Var(&decimals, "decimals", 0, "decimal places a display shows")
			cmd.Flags().Uint64Var(&supplyCap, "cap", math.MaxUint64, "the supply cap (the default is no practical cap)")
		})
	mint := opCmd("mint TOKEN TO AMOUNT", "Mint a token (issuer only)", "", 3, func(e *txEnv, a []string) (contracts.Op, error) {
		tok, acct, amt, err := e.tokenAccountAmount(a, "recipient")
		if err != nil {
			return nil, err
		}
		return contracts.NewTokenMint(tok, acct, amt), nil
	}, nil)
	transfer := opCmd("transfer TOKEN TO AMOUNT", "Send a fungible token", "", 3, func(e *txEnv, a []string) (contracts.Op, error) {
		tok, acct, amt, err := e.tokenAccountAmount(a, "recipient")
		if err != nil {
			return nil, err
		}
		return contracts.NewTokenTransfer(tok, acct, amt), nil
	}, nil)
	burn := opCmd("burn TOKEN AMOUNT", "Burn some of the sender's token", "", 2, func(_ *txEnv, a []string) (contracts.Op, error) {
		tok, err := parseDigestArg("token", a[0])
		if err != nil {
			return nil, err
		}
		amt, err := parseAmount("amount", a[1])
		if err != nil {
			return nil, err
		}
		return contracts.NewTokenBurn(tok, amt), nil
	}, nil)
	approve := opCmd("approve TOKEN SPENDER AMOUNT", "Let SPENDER move up to AMOUNT of the sender's token (0 revokes)", "", 3,
		func(e *txEnv, a []string) (contracts.Op, error) {
			tok, sp, amt, err := e.tokenAccountAmount(a, "spender")
			if err != nil {
				return nil, err
			}
			return contracts.NewTokenApprove(tok, sp, amt), nil
		}, nil)
	transferFrom := opCmd("transfer-from TOKEN OWNER TO AMOUNT", "Move OWNER's token with the allowance OWNER gave the sender", "", 4,
		func(e *txEnv, a []string) (contracts.Op, error) {
			tok, err := parseDigestArg("token", a[0])
			if err != nil {
				return nil, err
			}
			owner, err := e.account("owner", a[1])
			if err != nil {
				return nil, err
			}
			to, err := e.account("recipient", a[2])
			if err != nil {
				return nil, err
			}
			amt, err := parseAmount("amount", a[3])
			if err != nil {
				return nil, err
			}
			return contracts.NewTokenTransferFrom(tok, owner, to, amt), nil
		}, nil)
	cmd.AddCommand(create, mint, transfer, burn, approve, transferFrom)
	return cmd
}

func newTxCollectionCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "collection", Short: "Non-fungible collections: create (optionally soulbound)"}
	var soulbound bool
	create := opCmd("create NAME SYMBOL", "Create an NFT collection; the sender alone mints in it",
		"create makes a collection whose creator mints its tokens; with --soulbound its tokens can never be transferred (issue, revoke and burn them with dagd tx soulbound). It prints the collection's id.",
		2, func(_ *txEnv, a []string) (contracts.Op, error) {
			if soulbound {
				return contracts.NewSoulboundCollectionCreate(a[0], a[1]), nil
			}
			return contracts.NewCollectionCreate(a[0], a[1]), nil
		}, func(cmd *cobra.Command) {
			cmd.Flags().BoolVar(&soulbound, "soulbound", false, "make the collection's tokens non-transferable")
		})
	cmd.AddCommand(create)
	return cmd
}

// mintCmd is nft mint and soulbound issue: an NFTMint.
func mintCmd(use, short string) *cobra.Command {
	var metadata string
	return opCmd(use, short, "The token is COLLECTION/INDEX; the index is the minter's choice and must be unused.", 2,
		func(e *txEnv, a []string) (contracts.Op, error) {
			id, err := parseNFTID(a[0])
			if err != nil {
				return nil, err
			}
			to, err := e.account("recipient", a[1])
			if err != nil {
				return nil, err
			}
			md, err := parseMetadataCID(metadata)
			if err != nil {
				return nil, err
			}
			return contracts.NewNFTMint(id, to, md), nil
		}, func(cmd *cobra.Command) {
			cmd.Flags().StringVar(&metadata, "metadata", "", "the CID of the token's metadata (required)")
		})
}

// nftOnlyCmd is a subcommand whose operation takes one token.
func nftOnlyCmd(use, short string, op func(contracts.NFTID) contracts.Op) *cobra.Command {
	return opCmd(use, short, "", 1, func(_ *txEnv, a []string) (contracts.Op, error) {
		id, err := parseNFTID(a[0])
		if err != nil {
			return nil, err
		}
		return op(id), nil
	}, nil)
}

func newTxNFTCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "nft", Short: "Non-fungible tokens: mint, transfer, burn, attach, detach",
		Long: "Tokens are named COLLECTION/INDEX (the collection's id in hex, a slash, the index)."}
	transfer := opCmd("transfer TOKEN TO", "Give a token (with every token attached below it)", "", 2,
		func(e *txEnv, a []string) (contracts.Op, error) {
			id, err := parseNFTID(a[0])
			if err != nil {
				return nil, err
			}
			to, err := e.account("recipient", a[1])
			if err != nil {
				return nil, err
			}
			return contracts.NewNFTTransfer(id, to), nil
		}, nil)
	attach := opCmd("attach CHILD PARENT", "Attach a token below another (composable tokens)",
		"attach reads PARENT's ancestors from the node (each read proof-verified) to build the path the operation carries.", 2,
		func(e *txEnv, a []string) (contracts.Op, error) {
			child, err := parseNFTID(a[0])
			if err != nil {
				return nil, err
			}
			parent, err := parseNFTID(a[1])
			if err != nil {
				return nil, err
			}
			up, err := contracts.AncestorPath(&provenReader{ctx: e.ctx, c: e.client}, parent)
			if err != nil {
				return nil, fmt.Errorf("ancestors of %s: %w", parent, err)
			}
			return contracts.NewNFTAttach(child, append([]contracts.NFTID{parent}, up...)), nil
		}, nil)
	detach := opCmd("detach CHILD", "Detach a token from its parent; it becomes a root the sender owns",
		"detach reads CHILD's ancestors from the node (each read proof-verified) to build the path the operation carries.", 1,
		func(e *txEnv, a []string) (contracts.Op, error) {
			child, err := parseNFTID(a[0])
			if err != nil {
				return nil, err
			}
			up, err := contracts.AncestorPath(&provenReader{ctx: e.ctx, c: e.client}, child)
			if err != nil {
				return nil, fmt.Errorf("ancestors of %s: %w", child, err)
			}
			if len(up) == 0 {
				return nil, usageError("token %s is not attached", child)
			}
			return contracts.NewNFTDetach(child, up), nil
		}, nil)
	cmd.AddCommand(
		mintCmd("mint TOKEN TO --metadata CID", "Mint a token of a collection the sender created"),
		transfer,
		nftOnlyCmd("burn TOKEN", "Burn a token the sender owns (no parent, no children)", func(id contracts.NFTID) contracts.Op { return contracts.NewNFTBurn(id) }),
		attach, detach)
	return cmd
}

func newTxSoulboundCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "soulbound", Short: "Soulbound tokens: issue, revoke (issuer), burn (holder)",
		Long: "Soulbound tokens live in collections made with dagd tx collection create --soulbound; they can never be transferred."}
	cmd.AddCommand(
		mintCmd("issue TOKEN HOLDER --metadata CID", "Issue a soulbound token of a collection the sender created"),
		nftOnlyCmd("revoke TOKEN", "Revoke a soulbound token (its collection's creator only)", func(id contracts.NFTID) contracts.Op { return contracts.NewNFTRevoke(id) }),
		nftOnlyCmd("burn TOKEN", "Burn a soulbound token the sender holds", func(id contracts.NFTID) contracts.Op { return contracts.NewNFTBurn(id) }),
	)
	return cmd
}

func newTxSFTCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "sft", Short: "Semi-fungible tokens: create, mint, transfer, batch-transfer, burn"}
	create := opCmd("create NAME SYMBOL", "Create a semi-fungible class; the sender alone mints in it", "create prints the class's id.", 2,
		func(_ *txEnv, a []string) (contracts.Op, error) { return contracts.NewSFTCreate(a[0], a[1]), nil }, nil)
	classIDAmount := func(a []string) (crypto.Digest, uint64, uint64, error) {
		class, err := parseDigestArg("class", a[0])
		if err != nil {
			return class, 0, 0, err
		}
		id, err := parseAmount("id", a[1])
		if err != nil {
			return class, 0, 0, err
		}
		amt, err := parseAmount("amount", a[len(a)-1])
		return class, id, amt, err
	}
	mint := opCmd("mint CLASS ID TO AMOUNT", "Mint tokens of one id of a class (its creator only)", "", 4,
		func(e *txEnv, a []string) (contracts.Op, error) {
			class, id, amt, err := classIDAmount(a)
			if err != nil {
				return nil, err
			}
			to, err := e.account("recipient", a[2])
			if err != nil {
				return nil, err
			}
			return contracts.NewSFTMint(class, id, to, amt), nil
		}, nil)
	transfer := opCmd("transfer CLASS ID TO AMOUNT", "Send tokens of one id", "", 4,
		func(e *txEnv, a []string) (contracts.Op, error) {
			class, id, amt, err := classIDAmount(a)
			if err != nil {
				return nil, err
			}
			to, err := e.account("recipient", a[2])
			if err != nil {
				return nil, err
			}
			return contracts.NewSFTTransfer(class, id, to, amt), nil
		}, nil)
	batch := opCmd("batch-transfer CLASS TO ID:AMOUNT...", "Send several ids at once, all or nothing",
		"Items are ID:AMOUNT pairs in strictly increasing ID order.", 0,
		func(e *txEnv, a []string) (contracts.Op, error) {
			class, err := parseDigestArg("class", a[0])
			if err != nil {
				return nil, err
			}
			to, err := e.account("recipient", a[1])
			if err != nil {
				return nil, err
			}
			var items []contracts.SFTAmount
			for _, s := range a[2:] {
				i, n, ok := strings.Cut(s, ":")
				if !ok {
					return nil, usageError("item %q: want ID:AMOUNT", s)
				}
				id, err := parseAmount("item id", i)
				if err != nil {
					return nil, err
				}
				amt, err := parseAmount("item amount", n)
				if err != nil {
					return nil, err
				}
				items = append(items, contracts.SFTAmount{ID: id, Amount: amt})
			}
			return contracts.NewSFTBatchTransfer(class, to, items), nil
		}, nil)
	batch.Args = cobra.MinimumNArgs(3)
	burn := opCmd("burn CLASS ID AMOUNT", "Burn some of the sender's tokens of one id", "", 3,
		func(_ *txEnv, a []string) (contracts.Op, error) {
			class, id, amt, err := classIDAmount(a)
			if err != nil {
				return nil, err
			}
			return contracts.NewSFTBurn(class, id, amt), nil
		}, nil)
	cmd.AddCommand(create, mint, transfer, batch, burn)
	return cmd
}

func newTxStakingCmds() []*cobra.Command {
	validatorAmount := func(a []string) (uint32, uint64, error) {
		v, err := strconv.ParseUint(a[0], 10, 32)
		if err != nil {
			return 0, 0, usageError("validator %q: want a committee index", a[0])
		}
		amt, err := parseAmount("amount", a[1])
		return uint32(v), amt, err
	}
	bond := opCmd("bond VALIDATOR AMOUNT", "Bond native tokens to a validator (its committee index)", "", 2,
		func(_ *txEnv, a []string) (contracts.Op, error) {
			v, amt, err := validatorAmount(a)
			if err != nil {
				return nil, err
			}
			return contracts.NewBond(v, amt), nil
		}, nil)
	unbond := opCmd("unbond VALIDATOR AMOUNT", "Start unbonding; withdraw after the unbonding period",
		"unbond prints the unbonding entry's id (the transaction's nonce), which dagd tx withdraw takes.", 2,
		func(_ *txEnv, a []string) (contracts.Op, error) {
			v, amt, err := validatorAmount(a)
			if err != nil {
				return nil, err
			}
			return contracts.NewUnbond(v, amt), nil
		}, nil)
	withdraw := opCmd("withdraw UNBONDING", "Release a matured unbonding entry (the nonce of its unbond)", "", 1,
		func(_ *txEnv, a []string) (contracts.Op, error) {
			n, err := parseAmount("unbonding", a[0])
			if err != nil {
				return nil, err
			}
			return contracts.NewWithdraw(n), nil
		}, nil)
	return []*cobra.Command{bond, unbond, withdraw}
}

func newTxVestingCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "vesting", Short: "Vesting schedules and time-locks: transfer, claim"}
	var start, duration, cliff string
	transfer := opCmd("transfer TO AMOUNT", "Lock native tokens in a vesting schedule for TO",
		`Nothing vests before start+cliff; then the vested part grows linearly to all of
it at start+duration. --duration 0 is a plain time-lock that releases all at
--start. Times are durations from now or unix milliseconds. It prints the
schedule's id, which the beneficiary claims with dagd tx vesting claim.`, 2,
		func(e *txEnv, a []string) (contracts.Op, error) {
			to, err := e.account("beneficiary", a[0])
			if err != nil {
				return nil, err
			}
			amt, err := parseAmount("amount", a[1])
			if err != nil {
				return nil, err
			}
			s, err := parseTime("--start", start, time.Now())
			if err != nil {
				return nil, err
			}
			d, err := parseMillis("--duration", duration)
			if err != nil {
				return nil, err
			}
			c, err := parseMillis("--cliff", cliff)
			if err != nil {
				return nil, err
			}
			return contracts.NewVestingTransfer(to, amt, s, d, c), nil
		}, func(cmd *cobra.Command) {
			cmd.Flags().StringVar(&start, "start", "", "when vesting starts: a duration from now or unix milliseconds (default now)")
			cmd.Flags().StringVar(&duration, "duration", "0", "how long vesting lasts (0: a time-lock until --start)")
			cmd.Flags().StringVar(&cliff, "cliff", "0", "how long after --start nothing is claimable")
		})
	claim := opCmd("claim SCHEDULE", "Claim the vested part of a schedule (its beneficiary only)", "", 1,
		func(_ *txEnv, a []string) (contracts.Op, error) {
			s, err := parseDigestArg("schedule", a[0])
			if err != nil {
				return nil, err
			}
			return contracts.NewVestingClaim(s), nil
		}, nil)
	cmd.AddCommand(transfer, claim)
	return cmd
}

func newTxBroadcastCmd() *cobra.Command {
	var f txFlags
	cmd := &cobra.Command{
		Use:   "broadcast HEX|-",
		Short: "Submit a signed transaction (from --dry-run), in hex or on standard input",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s := args[0]
			if s == "-" {
				line, err := bufio.NewReader(io.LimitReader(cmd.InOrStdin(), maxHexTxInput)).ReadString('\n')
				if err != nil && !errors.Is(err, io.EOF) {
					return fmt.Errorf("read the transaction: %w", err)
				}
				s = line
			}
			s = strings.TrimSpace(s)
			if len(s) > 2*contracts.MaxTxSize {
				return usageError("transaction of %d hex characters, limit %d", len(s), 2*contracts.MaxTxSize)
			}
			raw, err := hex.DecodeString(s)
			if err != nil {
				return usageError("transaction: not hex: %w", err)
			}
			tx, err := contracts.DecodeTx(raw)
			if err != nil {
				return usageError("transaction: %w", err)
			}
			if !tx.VerifySignature() {
				return usageError("transaction %s: the signature does not verify", tx.Digest())
			}
			lc, err := newLedgerClient(f.node)
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), f.timeout)
			defer cancel()
			return sendTx(ctx, cmd, &f, lc, tx)
		},
	}
	f.register(cmd, false)
	return cmd
}
