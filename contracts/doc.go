// Package contracts is what dagd's transactions do: the canonical signed
// transaction (Tx), the token module that executes it (Module), receipts,
// the genesis, and slashing.
//
// It imports nothing of dagd but crypto (and may import zk): the state it
// reads and writes is the small Store interface declared here, which
// package state implements on pebble and tests implement with a map.
//
// # Transactions
//
// A Tx carries a chain id, the sender's Ed25519 key, a nonce, a fee, an
// expiry in consensus milliseconds, one typed operation (Op) and the
// signature. Its encoding is canonical (Tx documents the layout; DecodeTx
// refuses anything else, and at most MaxTxSize bytes), its digest is
// BLAKE3 of that encoding, and the signature covers SigningDomain
// followed by the encoding without the signature:
//
//	op := contracts.NewTransfer(bob, 500)
//	tx := contracts.NewSignedTx(aliceKey, "dagd-devnet", nonce, 1000, expiry, op)
//	raw := tx.Encode()                  // submit these bytes
//	tx, err := contracts.DecodeTx(raw)  // a node decodes them
//	ok := tx.VerifySignature()          // or batch: tx.AccountSig()
//
// # Execution
//
// Keys(tx) lists every key the transaction may touch, computed from the
// transaction alone, so that the shard executor can schedule
// non-conflicting transactions in parallel; Apply never touches another
// key. Objects a transaction creates get identifiers derived from the
// sender and nonce (TokenID, CollectionID, ClassID, VestingID, and
// UnbondingKey's nonce), which is what makes their keys known in advance;
// operations on nested tokens carry their ancestor path (AncestorPath) for
// the same reason.
//
// Apply rejects, changing nothing, a transaction for another chain,
// expired (Env.Time > Expiry), below the minimum fee, with a wrong nonce,
// or whose sender cannot pay the fee: its receipt is not Charged, and the
// shard executor stores none for it (it paid nothing). Otherwise the nonce
// is consumed and the fee charged (and burnt) whatever happens; an
// operation that breaks a rule changes nothing else, and its Receipt
// carries a Code and a Reason. Small-order keys, for which anyone can
// sign (crypto.AccountPublicKey.SmallOrder), never verify as senders and
// are refused as recipients (CodeInvalid, fee charged) and in a genesis.
// Execution is deterministic: no clock but Env.Time, no randomness, no map
// iteration, no goroutines.
//
// # Keys
//
// Keys are a prefix byte and fixed-width fields (see the Prefix constants):
//
//	a|account                      nonce and native balance
//	t|token                        fungible token: issuer, cap, supply
//	b|token|owner                  fungible balance
//	l|token|owner|spender          allowance
//	c|collection                   non-fungible collection (or soulbound)
//	n|collection|index             non-fungible token: owner or parent
//	s|class                        semi-fungible class
//	f|class|id|owner               semi-fungible balance
//	v|validator                    bonded stake, shares, jail
//	d|validator|delegator          delegation shares
//	u|delegator|nonce              unbonding entry
//	e|validator                    evidence applied (slashing)
//	w|schedule                     vesting schedule
//	r|BLAKE3(domain, cid)          registered content (ContentKey)
//	k                              genesis committee (BLS keys, stakes)
//	g                              genesis record
//
// # Operations and their keys
//
// Every transaction touches its sender's account a|sender besides the keys
// listed.
//
//	transfer             Transfer{To, Amount}                    a|To
//	token-create         TokenCreate{Name, Symbol, Decimals, Cap} t|TokenID(sender, nonce)
//	token-mint           TokenMint{Token, To, Amount}            t|Token, b|Token|To
//	token-transfer       TokenTransfer{Token, To, Amount}        b|Token|sender, b|Token|To
//	token-burn           TokenBurn{Token, Amount}                t|Token, b|Token|sender
//	token-approve        TokenApprove{Token, Spender, Amount}    t|Token, l|Token|sender|Spender
//	token-transfer-from  TokenTransferFrom{Token, From, To, Amount}
//	                                                             l|Token|From|sender, b|Token|From, b|Token|To
//	collection-create    CollectionCreate{Name, Symbol, Soulbound}
//	                                                             c|CollectionID(sender, nonce)
//	nft-mint             NFTMint{ID, To, Metadata}               c|ID.Collection, n|ID
//	nft-transfer         NFTTransfer{ID, To}                     n|ID
//	nft-burn             NFTBurn{ID}                             n|ID
//	nft-revoke           NFTRevoke{ID}                           c|ID.Collection, n|ID
//	nft-attach           NFTAttach{Child, Path}                  n|Child, n|Path[i] for each i
//	nft-detach           NFTDetach{Child, Path}                  n|Child, n|Path[i] for each i
//	sft-create           SFTCreate{Name, Symbol}                 s|ClassID(sender, nonce)
//	sft-mint             SFTMint{Class, ID, To, Amount}          s|Class, f|Class|ID|To
//	sft-transfer         SFTTransfer{Class, ID, To, Amount}      f|Class|ID|sender, f|Class|ID|To
//	sft-batch-transfer   SFTBatchTransfer{Class, To, Items}      f|Class|Items[i].ID|sender, f|Class|Items[i].ID|To
//	sft-burn             SFTBurn{Class, ID, Amount}              f|Class|ID|sender
//	bond                 Bond{Validator, Amount}                 v|Validator, d|Validator|sender
//	unbond               Unbond{Validator, Amount}               v|Validator, d|Validator|sender, u|sender|nonce
//	withdraw             Withdraw{Unbonding}                     u|sender|Unbonding
//	vesting-transfer     VestingTransfer{To, Amount, Start, Duration, Cliff}
//	                                                             w|VestingID(sender, nonce)
//	vesting-claim        VestingClaim{Schedule}                  w|Schedule
//	register-content     RegisterContent{CID, Size, K, N, ManifestDigest, Signers, Signature, Epoch}
//	                                                             k, ContentKey(CID) (r|...)
//
// Slash (from consensus evidence, not a transaction) touches
// SlashKeys(validator): e|validator and v|validator.
//
// A fungible transfer thus touches three keys and never the token's
// supply, so transfers of one token by different senders do not conflict
// unless they share a recipient; only mint and burn touch t|token.
//
// # Token kinds
//
// Native tokens pay fees and are staked. Fungible tokens have an issuer who
// alone mints, up to a cap; holders transfer, burn and grant allowances.
// Non-fungible tokens live in collections whose creator mints them with a
// metadata CID. A soulbound collection's tokens are issued by its creator,
// can never be transferred or attached (Reason "soulbound: ..."), are
// revoked by the issuer (NFTRevoke) and burnt by the holder. Composable
// tokens: an NFT may be attached below another (NFTAttach) and detached;
// an attached token records its parent, the owner of its root owns it,
// and a transfer of the root moves the whole tree. Attaching a token to
// itself or below its own descendant is rejected ("cycle"), an attached
// token cannot be transferred on its own, and no token nests deeper than
// Params.MaxNestingDepth. Semi-fungible classes hold balances per (id,
// account), minted by the class creator, moved singly or in batches of at
// most Params.MaxBatchSize.
//
// # Staking, slashing and time-locks
//
// Bond buys shares of a validator's bonded stake; Unbond sells them into
// an entry locked for Params.UnbondingPeriod of consensus time; Withdraw
// releases it after that ("locked until T" before). Slash, from
// equivocation evidence, removes Params.SlashFraction of the bonded stake
// and jails the validator, once per evidence digest. VestingTransfer locks
// native tokens that vest linearly between Start+Cliff and
// Start+Duration (Duration 0: a plain time-lock until Start); the
// beneficiary claims the vested part with VestingClaim.
//
// # Content
//
// RegisterContent records a CID with the erasure-coding parameters and a
// quorum certificate of the genesis committee over AvailabilityStatement,
// verified with crypto's committee aggregate verification (quorum by
// stake). The statement binds the chain id and the committee epoch
// (Params.CommitteeEpoch); the CID must name the manifest, so it commits
// to every shard hash; N/K and N are bounded (MaxContentExpansion,
// MaxShardsPerValidator); the fee covers the stored bytes, Size*N/K, at
// Params.ContentBytePrice (ContentMinFee).
//
// # Room to grow
//
// Operation codes from 112 are reserved for rewards, governance and user
// contracts (OpType); Params will grow with them. Fees are burnt today;
// receipts carry them so a reward scheme can redistribute them per commit
// without a global key every transaction would conflict on.
package contracts
