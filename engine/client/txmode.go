package client

import "fmt"

// TxMode says which committed transactions a commit carries.
type TxMode uint8

// Transaction modes of a commit subscription or of the txs= of a commit
// request.
const (
	// TxNone carries batch digests, authors and counts, no transactions.
	TxNone TxMode = iota
	// TxOwn carries the transactions of the batches the node authored:
	// those submitted to it. Cheap, and enough to follow one's own
	// submissions.
	TxOwn
	// TxAll carries every committed transaction.
	TxAll
)

// String names the mode as the API spells it.
func (m TxMode) String() string {
	switch m {
	case TxOwn:
		return "own"
	case TxAll:
		return "all"
	}
	return "none"
}

// ParseTxMode parses "none", "own" or "all" ("" is none).
func ParseTxMode(s string) (TxMode, error) {
	switch s {
	case "", "none":
		return TxNone, nil
	case "own":
		return TxOwn, nil
	case "all":
		return TxAll, nil
	}
	return TxNone, fmt.Errorf("client: transaction mode %q: want none, own or all", s)
}
