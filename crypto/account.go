package crypto

import (
	stded25519 "crypto/ed25519"
	cryptorand "crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"runtime"
	"sync"

	"github.com/oasisprotocol/curve25519-voi/primitives/ed25519"
)

// Sizes of Ed25519 account keys and signatures.
const (
	// AccountPublicKeySize is the length of an account's public key.
	AccountPublicKeySize = 32
	// AccountSeedSize is the length of an account key's seed (its RFC 8032
	// private key).
	AccountSeedSize = 32
	// AccountSignatureSize is the length of an account signature.
	AccountSignatureSize = 64
)

// AccountPublicKey is an account's Ed25519 public key. Any 32 bytes are a
// value of this type; whether they verify anything is decided by
// VerifyAccount under ZIP-215, which refuses small-order keys (SmallOrder).
type AccountPublicKey [AccountPublicKeySize]byte

// smallOrderY are the y coordinates of edwards25519's eight points of
// order dividing 8, as 32-byte little-endian encodings with the sign bit
// clear, including the non-canonical y >= p that ZIP-215 decodes to them:
// 1 (identity), p-1 (order 2), 0 (order 4), the two y of the four points
// of order 8, p (= 0) and p+1 (= 1). Every other y >= p reduces to a y of
// no small-order point.
var smallOrderY = [...][AccountPublicKeySize]byte{
	{0x01},
	{0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
	{},
	{0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67, 0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03, 0x7a},
	{0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98, 0xf0, 0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53, 0xfc, 0x05},
	{0xed, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
	{0xee, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
}

// SmallOrder reports whether pk encodes a point of small order (its order
// divides 8), canonically or not. ZIP-215 accepts such keys, and for them
// R = identity, S = 0 verifies for any message: anyone can sign as them,
// so they are refused as account keys (VerifyAccount, VerifyAccountBatch)
// and as recipients. The all-zero key is one of them. The test costs a
// few comparisons, no curve arithmetic.
func (pk AccountPublicKey) SmallOrder() bool {
	y := pk
	y[AccountPublicKeySize-1] &= 0x7f // the sign of x: both signs are small-order
	for i := range smallOrderY {
		if y == smallOrderY[i] {
			return true
		}
	}
	return false
}

// CheckAccountPublicKey returns an error wrapping ErrInvalidKey when pk
// may not hold or send funds: a small-order key (SmallOrder), whose
// signatures anyone can forge.
func CheckAccountPublicKey(pk AccountPublicKey) error {
	if pk.SmallOrder() {
		return fmt.Errorf("crypto: account key %s is of small order: anyone can sign for it: %w", pk, ErrInvalidKey)
	}
	return nil
}

// String returns the lower-case hex form of pk.
func (pk AccountPublicKey) String() string { return hex.EncodeToString(pk[:]) }

// ParseAccountPublicKey copies a 32-byte public key.
func ParseAccountPublicKey(b []byte) (AccountPublicKey, error) {
	var pk AccountPublicKey
	if len(b) != AccountPublicKeySize {
		return pk, fmt.Errorf("crypto: account public key must be %d bytes, got %d: %w", AccountPublicKeySize, len(b), ErrMalformed)
	}
	copy(pk[:], b)
	return pk, nil
}

// AccountPrivateKey is an account's Ed25519 signing key. It is safe for
// concurrent use.
type AccountPrivateKey struct {
	key stded25519.PrivateKey
	pub AccountPublicKey
}

// GenerateAccountKey creates a key from 32 bytes of rand (crypto/rand when
// rand is nil).
func GenerateAccountKey(rand io.Reader) (*AccountPrivateKey, error) {
	if rand == nil {
		rand = cryptorand.Reader
	}
	var seed [AccountSeedSize]byte
	defer clear(seed[:])
	if _, err := io.ReadFull(rand, seed[:]); err != nil {
		return nil, fmt.Errorf("crypto: generate account key: read randomness: %w", err)
	}
	return AccountKeyFromSeed(seed), nil
}

// AccountKeyFromSeed derives the key of an RFC 8032 seed.
func AccountKeyFromSeed(seed [AccountSeedSize]byte) *AccountPrivateKey {
	k := &AccountPrivateKey{key: stded25519.NewKeyFromSeed(seed[:])}
	copy(k.pub[:], k.key[AccountSeedSize:])
	return k
}

// Sign returns the 64-byte Ed25519 signature of msg (deterministic, RFC
// 8032).
func (k *AccountPrivateKey) Sign(msg []byte) []byte { return stded25519.Sign(k.key, msg) }

// Public returns the public key of k.
func (k *AccountPrivateKey) Public() AccountPublicKey { return k.pub }

// Seed returns the 32-byte seed of k. Keep it secret.
func (k *AccountPrivateKey) Seed() [AccountSeedSize]byte {
	var s [AccountSeedSize]byte
	copy(s[:], k.key.Seed())
	return s
}

// zip215 returns the verification options used for every account
// signature, single or batched.
func zip215() *ed25519.Options { return &ed25519.Options{Verify: ed25519.VerifyOptionsZIP_215} }

// VerifyAccount reports whether sig is a valid signature of msg by pk under
// the ZIP-215 rules (cofactored equation; non-canonical A and R and
// small-order R accepted; S must be reduced) with one more: a small-order
// A (AccountPublicKey.SmallOrder) is refused, since with R = identity and
// S = 0 it verifies any message. These are the same rules as
// VerifyAccountBatch.
func VerifyAccount(pk AccountPublicKey, msg, sig []byte) bool {
	if len(sig) != AccountSignatureSize || pk.SmallOrder() {
		return false
	}
	return ed25519.VerifyWithOptions(pk[:], msg, sig, zip215())
}

// AccountSig is one account signature to verify in a batch.
type AccountSig struct {
	// PublicKey is the claimed signer.
	PublicKey AccountPublicKey
	// Msg is the signed message.
	Msg []byte
	// Sig is the 64-byte signature.
	Sig []byte
}

// minBatchPerWorker is the smallest share of a batch worth a goroutine of
// its own; below it the random-linear-combination gains little.
const minBatchPerWorker = 32

// VerifyAccountBatch verifies items with ZIP-215 batch verification (random
// linear combination over all signatures) split across workers goroutines
// (GOMAXPROCS when workers <= 0). valid[i] reports whether items[i] is valid
// and allValid whether all are. When a share's batch passes, every item in
// it is valid without further work; when it fails, its items are verified
// one by one to find the invalid ones. The result is always the same as
// calling VerifyAccount on each item.
func VerifyAccountBatch(items []AccountSig, workers int) (valid []bool, allValid bool) {
	valid = make([]bool, len(items))
	if len(items) == 0 {
		return valid, true
	}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = max(1, min(workers, len(items)/minBatchPerWorker))
	if workers == 1 {
		return valid, verifyAccountShare(items, valid)
	}
	oks := make([]bool, workers)
	per, extra := len(items)/workers, len(items)%workers
	var wg sync.WaitGroup
	lo := 0
	for w := range workers {
		hi := lo + per
		if w < extra {
			hi++
		}
		wg.Add(1)
		go func(w, lo, hi int) {
			defer wg.Done()
			oks[w] = verifyAccountShare(items[lo:hi], valid[lo:hi])
		}(w, lo, hi)
		lo = hi
	}
	wg.Wait()
	allValid = true
	for _, ok := range oks {
		allValid = allValid && ok
	}
	return valid, allValid
}

// verifyAccountShare batch-verifies items into valid, falling back to
// one-by-one verification on failure. An item with a small-order key is
// invalid without entering the batch, as in VerifyAccount.
func verifyAccountShare(items []AccountSig, valid []bool) bool {
	if len(items) == 1 {
		valid[0] = VerifyAccount(items[0].PublicKey, items[0].Msg, items[0].Sig)
		return valid[0]
	}
	opts := zip215()
	bv := ed25519.NewBatchVerifierWithCapacity(len(items))
	var at []int // at[j]: the item of the batch's j-th entry, once one is left out
	allOK := true
	for i := range items {
		it := &items[i]
		if it.PublicKey.SmallOrder() {
			if at == nil {
				at = make([]int, 0, len(items))
				for j := range i {
					at = append(at, j)
				}
			}
			valid[i], allOK = false, false
			continue
		}
		if at != nil {
			at = append(at, i)
		}
		bv.AddWithOptions(it.PublicKey[:], it.Msg, it.Sig, opts)
	}
	if at == nil {
		ok, v := bv.Verify(nil) // nil: weights from crypto/rand
		copy(valid, v)
		return ok
	}
	if len(at) == 0 {
		return false
	}
	ok, v := bv.Verify(nil)
	for j, i := range at {
		valid[i] = v[j]
	}
	return ok && allOK
}

// NetworkKey is a node's Ed25519 identity on the network: the key of its
// TLS certificates, which peers pin. It is safe for concurrent use.
type NetworkKey struct {
	key stded25519.PrivateKey
}

// NetworkKeySize is the length of NetworkKey.Bytes: the RFC 8032 seed.
const NetworkKeySize = stded25519.SeedSize

// GenerateNetworkKey creates a network key from rand (crypto/rand when rand
// is nil).
func GenerateNetworkKey(rand io.Reader) (*NetworkKey, error) {
	if rand == nil {
		rand = cryptorand.Reader
	}
	seed := make([]byte, NetworkKeySize)
	defer clear(seed)
	if _, err := io.ReadFull(rand, seed); err != nil {
		return nil, fmt.Errorf("crypto: generate network key: read randomness: %w", err)
	}
	return NetworkKeyFromSeed(seed)
}

// NetworkKeyFromSeed derives the network key of a 32-byte RFC 8032 seed.
func NetworkKeyFromSeed(seed []byte) (*NetworkKey, error) {
	if len(seed) != NetworkKeySize {
		return nil, fmt.Errorf("crypto: network key seed must be %d bytes, got %d: %w", NetworkKeySize, len(seed), ErrMalformed)
	}
	return &NetworkKey{key: stded25519.NewKeyFromSeed(seed)}, nil
}

// ParseNetworkKey decodes the 32-byte form produced by Bytes.
func ParseNetworkKey(b []byte) (*NetworkKey, error) { return NetworkKeyFromSeed(b) }

// Bytes returns the 32-byte seed of k. Keep it secret.
func (k *NetworkKey) Bytes() []byte { return k.key.Seed() }

// Public returns the public key that identifies the node.
func (k *NetworkKey) Public() stded25519.PublicKey {
	return k.key.Public().(stded25519.PublicKey)
}

// PrivateKey returns the key as the standard library's type, for
// tls.Certificate.PrivateKey. Callers must not modify it.
func (k *NetworkKey) PrivateKey() stded25519.PrivateKey { return k.key }
