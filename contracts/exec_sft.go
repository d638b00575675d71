package contracts

import "github.com/dagd/dagd/crypto"

// Execution of semi-fungible tokens.

func (o *SFTCreate) exec(x *execCtx) {
	id := ClassID(x.tx.Sender, x.tx.Nonce)
	key := ClassKey(id)
	if x.get(key) != nil {
		x.reject(CodeExists, "class %s exists", id)
		return
	}
	c := &Class{Creator: x.tx.Sender, Name: o.Name, Symbol: o.Symbol}
	x.put(key, c.Encode())
	x.event("sft_create", "class", hexDigest(id), "creator", hexKey(x.tx.Sender), "symbol", o.Symbol)
}

func (o *SFTMint) exec(x *execCtx) {
	c := load(x, ClassKey(o.Class), DecodeClass)
	switch {
	case x.failed():
		return
	case c == nil:
		x.reject(CodeNotFound, "class %s not found", o.Class)
		return
	case c.Creator != x.tx.Sender:
		x.reject(CodeUnauthorized, "unauthorized: only the creator %s mints in class %s", c.Creator, o.Class)
		return
	}
	if !x.credit(ClassBalanceKey(o.Class, o.ID, o.To), o.Amount, "the class id") {
		return
	}
	x.event("sft_mint", "class", hexDigest(o.Class), "id", dec(o.ID), "to", hexKey(o.To), "amount", dec(o.Amount))
}

// moveSFT moves amount of (class, id) from the sender to to.
func (x *execCtx) moveSFT(class crypto.Digest, id uint64, to crypto.AccountPublicKey, amount uint64) bool {
	return x.debit(ClassBalanceKey(class, id, x.tx.Sender), amount, "class id "+dec(id)) &&
		x.credit(ClassBalanceKey(class, id, to), amount, "class id "+dec(id))
}

func (o *SFTTransfer) exec(x *execCtx) {
	if !x.moveSFT(o.Class, o.ID, o.To, o.Amount) {
		return
	}
	x.event("sft_transfer", "class", hexDigest(o.Class), "id", dec(o.ID), "from", hexKey(x.tx.Sender),
		"to", hexKey(o.To), "amount", dec(o.Amount))
}

func (o *SFTBatchTransfer) exec(x *execCtx) {
	for _, it := range o.Items {
		if !x.moveSFT(o.Class, it.ID, o.To, it.Amount) {
			return
		}
	}
	var total uint64
	for _, it := range o.Items {
		total, _ = add(total, it.Amount)
	}
	x.event("sft_batch_transfer", "class", hexDigest(o.Class), "from", hexKey(x.tx.Sender), "to", hexKey(o.To),
		"items", dec(uint64(len(o.Items))), "total", dec(total))
}

func (o *SFTBurn) exec(x *execCtx) {
	if !x.debit(ClassBalanceKey(o.Class, o.ID, x.tx.Sender), o.Amount, "class id "+dec(o.ID)) {
		return
	}
	x.event("sft_burn", "class", hexDigest(o.Class), "id", dec(o.ID), "from", hexKey(x.tx.Sender), "amount", dec(o.Amount))
}
