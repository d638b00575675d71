package contracts

// Execution of native transfers and fungible tokens.

import (
	"errors"

	"github.com/dagd/dagd/crypto"
)

// errSupply reports a token whose supply is below a balance.
var errSupply = errors.New("token supply below a balance")

func (o *Transfer) exec(x *execCtx) {
	if !x.debitAccount(x.tx.Sender, o.Amount) || !x.creditAccount(o.To, o.Amount) {
		return
	}
	x.event("transfer", "from", hexKey(x.tx.Sender), "to", hexKey(o.To), "amount", dec(o.Amount))
}

// token loads a fungible token or rejects the operation.
func (x *execCtx) token(id crypto.Digest) *Token {
	t := load(x, TokenKey(id), DecodeToken)
	if t == nil && !x.failed() {
		x.reject(CodeNotFound, "token %s not found", id)
	}
	return t
}

func (o *TokenCreate) exec(x *execCtx) {
	id := TokenID(x.tx.Sender, x.tx.Nonce)
	key := TokenKey(id)
	if x.get(key) != nil {
		x.reject(CodeExists, "token %s exists", id)
		return
	}
	t := &Token{Issuer: x.tx.Sender, Decimals: o.Decimals, Cap: o.Cap, Name: o.Name, Symbol: o.Symbol}
	x.put(key, t.Encode())
	x.event("token_create", "token", hexDigest(id), "issuer", hexKey(x.tx.Sender), "symbol", o.Symbol,
		"decimals", dec(uint64(o.Decimals)), "cap", dec(o.Cap))
}

func (o *TokenMint) exec(x *execCtx) {
	t := x.token(o.Token)
	if x.failed() {
		return
	}
	if t.Issuer != x.tx.Sender {
		x.reject(CodeUnauthorized, "unauthorized: only the issuer %s mints token %s", t.Issuer, o.Token)
		return
	}
	if supply, ok := add(t.Supply, o.Amount); !ok || supply > t.Cap {
		x.reject(CodeCapExceeded, "cap exceeded: supply %d + %d above cap %d", t.Supply, o.Amount, t.Cap)
		return
	}
	if !x.credit(BalanceKey(o.Token, o.To), o.Amount, "the token") {
		return
	}
	t.Supply += o.Amount
	x.put(TokenKey(o.Token), t.Encode())
	x.event("token_mint", "token", hexDigest(o.Token), "to", hexKey(o.To), "amount", dec(o.Amount), "supply", dec(t.Supply))
}

func (o *TokenTransfer) exec(x *execCtx) {
	if !x.debit(BalanceKey(o.Token, x.tx.Sender), o.Amount, "the token") ||
		!x.credit(BalanceKey(o.Token, o.To), o.Amount, "the token") {
		return
	}
	x.event("token_transfer", "token", hexDigest(o.Token), "from", hexKey(x.tx.Sender), "to", hexKey(o.To), "amount", dec(o.Amount))
}

func (o *TokenBurn) exec(x *execCtx) {
	t := x.token(o.Token)
	if x.failed() || !x.debit(BalanceKey(o.Token, x.tx.Sender), o.Amount, "the token") {
		return
	}
	if t.Supply < o.Amount {
		x.corrupt(TokenKey(o.Token), errSupply)
		return
	}
	t.Supply -= o.Amount
	x.put(TokenKey(o.Token), t.Encode())
	x.event("token_burn", "token", hexDigest(o.Token), "from", hexKey(x.tx.Sender), "amount", dec(o.Amount), "supply", dec(t.Supply))
}

func (o *TokenApprove) exec(x *execCtx) {
	if x.token(o.Token); x.failed() {
		return
	}
	x.putAmount(AllowanceKey(o.Token, x.tx.Sender, o.Spender), o.Amount)
	x.event("token_approve", "token", hexDigest(o.Token), "owner", hexKey(x.tx.Sender), "spender", hexKey(o.Spender), "amount", dec(o.Amount))
}

func (o *TokenTransferFrom) exec(x *execCtx) {
	ak := AllowanceKey(o.Token, o.From, x.tx.Sender)
	allowed := x.amount(ak)
	if x.failed() {
		return
	}
	if allowed < o.Amount {
		x.reject(CodeAllowanceExceeded, "allowance exceeded: %s allows %d, requested %d", o.From, allowed, o.Amount)
		return
	}
	if !x.debit(BalanceKey(o.Token, o.From), o.Amount, "the token") ||
		!x.credit(BalanceKey(o.Token, o.To), o.Amount, "the token") {
		return
	}
	x.putAmount(ak, allowed-o.Amount)
	x.event("token_transfer", "token", hexDigest(o.Token), "from", hexKey(o.From), "to", hexKey(o.To),
		"amount", dec(o.Amount), "spender", hexKey(x.tx.Sender))
}
