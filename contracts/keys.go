package contracts

import (
	"bytes"
	"encoding/binary"
	"slices"

	"github.com/dagd/dagd/crypto"
)

// Key prefixes. Every state key starts with one of these bytes, followed by
// fixed-width fields (32-byte keys and digests, big-endian integers), so a
// key's prefix says what it holds and its length is fixed per prefix. The
// shard executor treats keys as opaque bytes; the prefixes keep them
// readable and let a store or an index range over one kind.
const (
	// PrefixAccount: 'a' | account (32). Value: Account.
	PrefixAccount byte = 'a'
	// PrefixGenesis: 'g'. Value: GenesisRecord.
	PrefixGenesis byte = 'g'
	// PrefixCommittee: 'k'. Value: Committee (BLS keys, proofs of
	// possession and stakes of the genesis validators).
	PrefixCommittee byte = 'k'
	// PrefixValidator: 'v' | index (u32). Value: Validator.
	PrefixValidator byte = 'v'
	// PrefixEvidence: 'e' | index (u32). Value: EvidenceLog.
	PrefixEvidence byte = 'e'
	// PrefixDelegation: 'd' | index (u32) | delegator (32). Value: Delegation.
	PrefixDelegation byte = 'd'
	// PrefixUnbonding: 'u' | delegator (32) | nonce of the unbond tx (u64).
	// Value: Unbonding.
	PrefixUnbonding byte = 'u'
	// PrefixToken: 't' | token (32). Value: Token.
	PrefixToken byte = 't'
	// PrefixBalance: 'b' | token (32) | owner (32). Value: u64 amount.
	PrefixBalance byte = 'b'
	// PrefixAllowance: 'l' | token (32) | owner (32) | spender (32). Value:
	// u64 amount.
	PrefixAllowance byte = 'l'
	// PrefixCollection: 'c' | collection (32). Value: Collection.
	PrefixCollection byte = 'c'
	// PrefixNFT: 'n' | collection (32) | index (u64). Value: NFT.
	PrefixNFT byte = 'n'
	// PrefixClass: 's' | class (32). Value: Class (a semi-fungible class).
	PrefixClass byte = 's'
	// PrefixClassBalance: 'f' | class (32) | id (u64) | owner (32). Value:
	// u64 amount.
	PrefixClassBalance byte = 'f'
	// PrefixVesting: 'w' | schedule (32). Value: Vesting.
	PrefixVesting byte = 'w'
	// PrefixContent: 'r' | BLAKE3("dagd/contracts/v1/content-key" || CID
	// bytes) (32). Value: Content.
	PrefixContent byte = 'r'
)

// GenesisKey is the key of the GenesisRecord.
func GenesisKey() []byte { return []byte{PrefixGenesis} }

// CommitteeKey is the key of the genesis Committee.
func CommitteeKey() []byte { return []byte{PrefixCommittee} }

// AccountKey is the key of an account's nonce and native balance.
func AccountKey(pk crypto.AccountPublicKey) []byte {
	return append([]byte{PrefixAccount}, pk[:]...)
}

// ValidatorKey is the key of validator index's staking record.
func ValidatorKey(index uint32) []byte {
	return binary.BigEndian.AppendUint32([]byte{PrefixValidator}, index)
}

// EvidenceKey is the key of the evidence already applied to validator
// index.
func EvidenceKey(index uint32) []byte {
	return binary.BigEndian.AppendUint32([]byte{PrefixEvidence}, index)
}

// DelegationKey is the key of delegator's shares of validator index.
func DelegationKey(index uint32, delegator crypto.AccountPublicKey) []byte {
	k := append(make([]byte, 0, 37), PrefixDelegation)
	k = binary.BigEndian.AppendUint32(k, index)
	return append(k, delegator[:]...)
}

// UnbondingKey is the key of the unbonding entry made by delegator's
// Unbond transaction of nonce id.
func UnbondingKey(delegator crypto.AccountPublicKey, id uint64) []byte {
	k := append(make([]byte, 0, 41), PrefixUnbonding)
	k = append(k, delegator[:]...)
	return binary.BigEndian.AppendUint64(k, id)
}

// TokenKey is the key of a fungible token's definition and supply.
func TokenKey(token crypto.Digest) []byte {
	return append([]byte{PrefixToken}, token[:]...)
}

// BalanceKey is the key of owner's balance of a fungible token.
func BalanceKey(token crypto.Digest, owner crypto.AccountPublicKey) []byte {
	k := append(make([]byte, 0, 65), PrefixBalance)
	k = append(k, token[:]...)
	return append(k, owner[:]...)
}

// AllowanceKey is the key of what spender may move of owner's balance of a
// fungible token.
func AllowanceKey(token crypto.Digest, owner, spender crypto.AccountPublicKey) []byte {
	k := append(make([]byte, 0, 97), PrefixAllowance)
	k = append(k, token[:]...)
	k = append(k, owner[:]...)
	return append(k, spender[:]...)
}

// CollectionKey is the key of a non-fungible collection.
func CollectionKey(collection crypto.Digest) []byte {
	return append([]byte{PrefixCollection}, collection[:]...)
}

// NFTKey is the key of a non-fungible token.
func NFTKey(id NFTID) []byte {
	k := append(make([]byte, 0, 41), PrefixNFT)
	k = append(k, id.Collection[:]...)
	return binary.BigEndian.AppendUint64(k, id.Index)
}

// ClassKey is the key of a semi-fungible class.
func ClassKey(class crypto.Digest) []byte {
	return append([]byte{PrefixClass}, class[:]...)
}

// ClassBalanceKey is the key of owner's balance of id in a semi-fungible
// class.
func ClassBalanceKey(class crypto.Digest, id uint64, owner crypto.AccountPublicKey) []byte {
	k := append(make([]byte, 0, 73), PrefixClassBalance)
	k = append(k, class[:]...)
	k = binary.BigEndian.AppendUint64(k, id)
	return append(k, owner[:]...)
}

// VestingKey is the key of a vesting schedule.
func VestingKey(schedule crypto.Digest) []byte {
	return append([]byte{PrefixVesting}, schedule[:]...)
}

// ContentKey is the key of the registration of the content named by cid
// (the CID's binary form): 'r' followed by
// BLAKE3("dagd/contracts/v1/content-key" || cid), a fixed-width key for
// CIDs of any length.
func ContentKey(cid []byte) []byte {
	h := crypto.Hash([]byte(domainContentKey), cid)
	return append([]byte{PrefixContent}, h[:]...)
}

// Domains of the identifiers derived below; each is distinct, so that no
// two kinds of object can share an identifier.
const (
	domainToken      = "dagd/contracts/v1/token"
	domainCollection = "dagd/contracts/v1/collection"
	domainClass      = "dagd/contracts/v1/class"
	domainVesting    = "dagd/contracts/v1/vesting"
	domainContentKey = "dagd/contracts/v1/content-key"
)

// deriveID is BLAKE3(domain || creator || nonce), the identifier of the
// object created by creator's transaction of that nonce. Nonces never
// repeat, so neither do identifiers.
func deriveID(domain string, creator crypto.AccountPublicKey, nonce uint64) crypto.Digest {
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], nonce)
	return crypto.Hash([]byte(domain), creator[:], n[:])
}

// TokenID is the identifier of the fungible token created by creator's
// TokenCreate transaction of the given nonce.
func TokenID(creator crypto.AccountPublicKey, nonce uint64) crypto.Digest {
	return deriveID(domainToken, creator, nonce)
}

// CollectionID is the identifier of the collection created by creator's
// CollectionCreate transaction of the given nonce.
func CollectionID(creator crypto.AccountPublicKey, nonce uint64) crypto.Digest {
	return deriveID(domainCollection, creator, nonce)
}

// ClassID is the identifier of the semi-fungible class created by creator's
// ClassCreate transaction of the given nonce.
func ClassID(creator crypto.AccountPublicKey, nonce uint64) crypto.Digest {
	return deriveID(domainClass, creator, nonce)
}

// VestingID is the identifier of the schedule created by creator's
// VestingTransfer transaction of the given nonce.
func VestingID(creator crypto.AccountPublicKey, nonce uint64) crypto.Digest {
	return deriveID(domainVesting, creator, nonce)
}

// keySet collects keys; sorted returns them sorted and deduplicated.
type keySet [][]byte

// add appends k.
func (s *keySet) add(k []byte) { *s = append(*s, k) }

// sorted sorts s in place, drops duplicates and returns it.
func (s keySet) sorted() [][]byte {
	slices.SortFunc(s, bytes.Compare)
	return slices.CompactFunc(s, bytes.Equal)
}
