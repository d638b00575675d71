package contracts

import (
	"fmt"

	"github.com/dagd/dagd/crypto"
)

// Reader reads state: a Store without the writes. Queries use it.
type Reader interface {
	// Get returns the value of key, or nil when key is absent.
	Get(key []byte) ([]byte, error)
}

// Read returns the value under key decoded with decode (DecodeToken,
// DecodeNFT, ...), or nil when key is absent.
func Read[T any](st Reader, key []byte, decode func([]byte) (*T, error)) (*T, error) {
	v, err := st.Get(key)
	if err != nil {
		return nil, fmt.Errorf("contracts: read %s: %w", describe(key), err)
	}
	if len(v) == 0 {
		return nil, nil
	}
	t, err := decode(v)
	if err != nil {
		return nil, fmt.Errorf("contracts: %s: %w", describe(key), err)
	}
	return t, nil
}

// ReadAccount returns pk's account: the nonce its next transaction must
// carry and its native balance (zero for an unknown account).
func ReadAccount(st Reader, pk crypto.AccountPublicKey) (Account, error) {
	a, err := Read(st, AccountKey(pk), DecodeAccount)
	if err != nil || a == nil {
		return Account{}, err
	}
	return *a, nil
}

// ReadAmount returns the amount under an amount key (BalanceKey,
// AllowanceKey, ClassBalanceKey, DelegationKey): 0 when absent.
func ReadAmount(st Reader, key []byte) (uint64, error) {
	v, err := st.Get(key)
	if err != nil {
		return 0, fmt.Errorf("contracts: read %s: %w", describe(key), err)
	}
	if len(v) == 0 {
		return 0, nil
	}
	a, err := DecodeAmount(v)
	if err != nil {
		return 0, fmt.Errorf("contracts: %s: %w", describe(key), err)
	}
	return a, nil
}
