package contracts

import (
	"fmt"

	"github.com/dagd/dagd/crypto"
)

// DevnetAccountBalance is the genesis balance of each account of a
// devnet or testnet genesis: a billion transfers at the minimum fee, and
// room for 10^7 accounts within the uint64 supply.
const DevnetAccountBalance = 1 << 40

// DevnetAccountKey derives funded account i of a devnet or testnet
// genesis from seed: anyone with the seed has the keys, so use them for
// tests and local networks only. The node's devnet, the load generator
// and the dagd commands derive the same keys from the same seed.
func DevnetAccountKey(seed string, i int) *crypto.AccountPrivateKey {
	return crypto.AccountKeyFromSeed(crypto.Hash([]byte("dagd/devnet/account/v1"), []byte(seed), []byte(fmt.Sprint(i))))
}

// DevnetOperatorKey derives the operator account of validator i of a
// devnet genesis; the genesis funds it and bonds the validator's stake
// from it, and the node uses it as its own account.
func DevnetOperatorKey(seed string, i int) *crypto.AccountPrivateKey {
	return crypto.AccountKeyFromSeed(crypto.Hash([]byte("dagd/devnet/operator/v1"), []byte(seed), []byte(fmt.Sprint(i))))
}
