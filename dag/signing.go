package dag

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
