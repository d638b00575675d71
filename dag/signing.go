package dag

import (
	"encoding/binary"

	"github.com/dagd/dagd/crypto"
)

// Signer signs messages with the local validator's key.
type Signer interface {
	// Sign returns the local validator's signature over msg.
	Sign(msg []byte) []byte
}

// Verifier checks signatures of committee members. The node uses BLS
// (crypto.BLSCommittee); the simulator may use a cheaper scheme in which
// a validator still cannot sign for another.
type Verifier interface {
	// VerifySignature checks one validator's signature over msg.
	VerifySignature(signer ValidatorID, msg, sig []byte) error
	// Aggregate combines signatures over one message into one.
	Aggregate(sigs [][]byte) ([]byte, error)
	// VerifyAggregate checks an aggregate signature of signers over msg.
	// It need not check stake; the core does.
	VerifyAggregate(msg []byte, signers []ValidatorID, sig []byte) error
	// VerifyAggregates checks several aggregates at once. It returns nil
	// only if all are valid; on error the caller checks them one by one.
	VerifyAggregates(items []AggregateItem) error
}

// AggregateItem is one aggregate signature to check in a batch.
type AggregateItem struct {
	Msg       []byte
	Signers   []ValidatorID
	Signature []byte
}

// signingDomain tags every message a validator signs in the core.
const signingDomain = "dagd/dag/sig/v1"

// SigningMessage returns the bytes a validator signs for the header (or
// the vote on it) of digest d: the header digest bound to the chain id and
// the epoch, so that no signature made for one chain or epoch counts in
// another (a header digest covers the epoch but not the chain). The
// encoding is canonical: a domain tag, the chain id's length and bytes,
// the epoch, the digest.
func SigningMessage(chainID string, epoch uint64, d crypto.Digest) []byte {
	b := make([]byte, 0, len(signingDomain)+2+len(chainID)+8+crypto.DigestSize)
	b = append(b, signingDomain...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(chainID)))
	b = append(b, chainID...)
	b = binary.BigEndian.AppendUint64(b, epoch)
	return append(b, d[:]...)
}
