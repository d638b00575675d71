package client

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// MaxCommitsPerRequest bounds GET /v1/commits?limit=.
const MaxCommitsPerRequest = 1000

// MaxEvidencePerRequest bounds GET /v1/evidence?limit= (and is its
// default).
const MaxEvidencePerRequest = 100

// Content types of POST /v1/transactions.
const (
	// ContentTypeJSON: {"transactions": ["base64", ...]}.
	ContentTypeJSON = "application/json"
	// ContentTypeBinary: transactions one after another, each a 4-byte
	// big-endian length then that many bytes (AppendBinaryTx).
	ContentTypeBinary = "application/octet-stream"
)

// AppendBinaryTx appends tx to a binary submission body.
func AppendBinaryTx(body, tx []byte) []byte {
	body = binary.BigEndian.AppendUint32(body, uint32(len(tx)))
	return append(body, tx...)
}

// ErrorBody is the JSON body of every refusal of the API (but the
// submission endpoint's, a SubmitResponse with the same two fields).
type ErrorBody struct {
	// Error says what went wrong, naming the limit that refused.
	Error string `json:"error"`
	// Reason is a stable, machine-readable code (the Reason* constants).
	Reason string `json:"reason"`
}

// Reasons of refusals (the "reason" field of ErrorBody and
// SubmitResponse).
const (
	// ReasonQueueFull: the node's submission queue is full (retry).
	ReasonQueueFull = "queue_full"
	// ReasonNodeBusy: the node is catching up or overloaded (retry).
	ReasonNodeBusy = "node_busy"
	// ReasonTooManyRequests: a per-client or per-node limit (retry).
	ReasonTooManyRequests = "too_many_requests"
	// ReasonTxTooLarge: a transaction exceeds the node's size limit.
	ReasonTxTooLarge = "tx_too_large"
	// ReasonEmptyTx: an empty transaction.
	ReasonEmptyTx = "empty_tx"
	// ReasonTooManyTxs: too many transactions in one request.
	ReasonTooManyTxs = "too_many_txs"
	// ReasonNoTxs: a request without transactions.
	ReasonNoTxs = "no_txs"
	// ReasonBodyTooLarge: the request body exceeds the node's limit.
	ReasonBodyTooLarge = "body_too_large"
	// ReasonBodyTimeout: the request body did not arrive in time.
	ReasonBodyTimeout = "body_timeout"
	// ReasonBadRequest: the request does not parse.
	ReasonBadRequest = "bad_request"
	// ReasonStopped: the node is stopping.
	ReasonStopped = "stopped"
	// ReasonInvalidTx: a transaction failed the node's admission checks.
	ReasonInvalidTx = "invalid_tx"
	// ReasonUnknownTx: no receipt for the transaction (not executed yet,
	// dropped, or never committed).
	ReasonUnknownTx = "unknown_tx"

	// ReasonMalformedCID: the path does not hold a dagd CID.
	ReasonMalformedCID = "malformed_cid"
	// ReasonContentNotFound: no holder has the object.
	ReasonContentNotFound = "content_not_found"
	// ReasonBadParams: k or n cannot be used.
	ReasonBadParams = "bad_params"
	// ReasonTruncated: the upload ended before its Content-Length.
	ReasonTruncated = "truncated"
	// ReasonTooLarge: the upload exceeds the node's limit.
	ReasonTooLarge = "too_large"
	// ReasonNoQuorum: too few holders signed.
	ReasonNoQuorum = "no_quorum"
	// ReasonBusy: too many content requests at once (retry).
	ReasonBusy = "busy"
	// ReasonRetrieval: the content could not be rebuilt.
	ReasonRetrieval = "retrieval_failed"
	// ReasonPaymentRequired: a put without a payment (the
	// ContentPaymentHeader) on a node that does not pay for its clients.
	ReasonPaymentRequired = "payment_required"
	// ReasonPaymentRefused: the put's payment does not pay for it (see the
	// error: chain, size, fee, balance, signature, content).
	ReasonPaymentRefused = "payment_refused"
	// ReasonBodyTooSlow: the put's body came slower than the node's
	// minimum upload rate.
	ReasonBodyTooSlow = "body_too_slow"
)

// Status is the answer of GET /v1/status: the node's progress.
type Status struct {
	// ChainID is the chain the node runs; clients sign transactions for
	// it.
	ChainID            string    `json:"chain_id,omitempty"`
	Validator          int       `json:"validator"`
	CommitteeSize      int       `json:"committee_size"`
	Round              uint64    `json:"round"`
	LastCommittedRound uint64    `json:"last_committed_round"`
	LastCommittedSeq   uint64    `json:"last_committed_seq"`
	CommitDigest       string    `json:"commit_digest"`
	PeersConnected     int       `json:"peers_connected"`
	QuorumConnected    bool      `json:"quorum_connected"`
	CommittedTxs       uint64    `json:"committed_txs"`
	LastCommitAt       time.Time `json:"last_commit_at,omitzero"`
	PendingCerts       int       `json:"pending_certs"`
	PendingCommits     int       `json:"pending_commits"`
	// ReproposedBatches counts own batches proposed again because their
	// certificate missed every commit (since the node started).
	ReproposedBatches uint64 `json:"reproposed_batches"`
	WorkerLoad        int    `json:"worker_load"`
	SubmitQueue       int    `json:"submit_queue"`
	InboxQueue        int    `json:"inbox_queue"`
	// RequestedBatches counts batches asked of peers and not received.
	RequestedBatches int `json:"requested_batches"`
	// PeersBanned counts the bans imposed on faulty peers since the node
	// started.
	PeersBanned uint64 `json:"peers_banned"`
	// Execution: the last executed commit, the state root after it, the
	// transactions that got a receipt since the node started, and why
	// execution stopped, if it did.
	LastExecutedSeq uint64 `json:"last_executed_seq"`
	StateRoot       string `json:"state_root,omitempty"`
	ExecutedTxs     uint64 `json:"executed_txs"`
	ExecutionError  string `json:"execution_error,omitempty"`
}

// CommitInfo is a commit as GET /v1/commits/{seq} and GET /v1/commits
// serve it.
type CommitInfo struct {
	Seq          uint64 `json:"seq"`
	Digest       string `json:"digest"`
	LeaderRound  uint64 `json:"leader_round"`
	Timestamp    uint64 `json:"timestamp_ms"`
	Certificates int    `json:"certificates"`
	// TxCount and Batches are known when the engine indexed the commit.
	TxCount *int `json:"tx_count,omitempty"`
	Batches *int `json:"batches,omitempty"`
	// Transactions are the requested transactions (or their first
	// tx_prefix bytes), base64 in JSON.
	Transactions [][]byte `json:"transactions,omitempty"`
	// Pruned says the requested transactions are no longer stored.
	Pruned bool `json:"pruned,omitempty"`
	// TxOffset is the position of the first of Transactions among the
	// commit's requested transactions (the request's tx_offset).
	TxOffset int `json:"tx_offset,omitempty"`
	// NextTxOffset, when set, says Transactions stop short of the
	// commit's requested transactions (the node's response size limit):
	// GET /v1/commits/{seq}?tx_offset=NextTxOffset continues them.
	NextTxOffset *int `json:"next_tx_offset,omitempty"`
	// The execution record (state_root, tx_root, receipts_root...) once
	// the commit is executed.
	*CommitExecution
}

// CommitExecution is what the executor recorded of a commit, as the
// commit endpoints serve it.
type CommitExecution struct {
	StateRoot    string     `json:"state_root"`
	TxRoot       string     `json:"tx_root"`
	ReceiptsRoot string     `json:"receipts_root"`
	Time         uint64     `json:"exec_time_ms"`
	Counts       ExecCounts `json:"exec_counts"`
}

// ExecCounts counts what execution did with a commit's transactions (the
// JSON form of shard.Counts, which converts to it field by field).
type ExecCounts struct {
	// Received is the number of transactions the commit carried.
	Received uint32 `json:"received"`
	// Malformed did not decode: dropped.
	Malformed uint32 `json:"malformed"`
	// Duplicate had the digest of a transaction executed before: dropped.
	Duplicate uint32 `json:"duplicate"`
	// Expired had an expiry before the commit's time: dropped.
	Expired uint32 `json:"expired"`
	// TooFar had an expiry too far after the commit's time: dropped.
	TooFar uint32 `json:"too_far"`
	// Receipts is the number of transactions that got a receipt.
	Receipts uint32 `json:"receipts"`
	// BadSignature had a signature that does not verify: dropped, without
	// a receipt.
	BadSignature uint32 `json:"bad_signature"`
	// Applied were applied by the state machine (whatever their outcome).
	Applied uint32 `json:"applied"`
	// OK got a receipt that says so.
	OK uint32 `json:"ok"`
	// Unpaid were applied but paid nothing: dropped, without a receipt.
	Unpaid uint32 `json:"unpaid"`
}

// CommitRange is the answer of GET /v1/commits.
type CommitRange struct {
	Commits          []*CommitInfo `json:"commits"`
	LastCommittedSeq uint64        `json:"last_committed_seq"`
	// More says the answer stopped before limit at a commit that did not
	// fit (the node's response size limit, or its read budget) and
	// NextSeq is where to continue. A first commit too large alone comes
	// with its transactions cut (its NextTxOffset set).
	More    bool   `json:"more,omitempty"`
	NextSeq uint64 `json:"next_seq,omitempty"`
}

// EvidenceInfo is one record of equivocation evidence as GET /v1/evidence
// serves it: two headers one author signed for one round and epoch.
type EvidenceInfo struct {
	Epoch  uint64 `json:"epoch"`
	Round  uint64 `json:"round"`
	Author uint16 `json:"author"`
	// Digests are the two headers' digests, hex, in ascending order.
	Digests [2]string `json:"digests"`
	// Encoding is the evidence's canonical encoding (dag.Evidence.Encode;
	// base64 in JSON), the headers with their signatures: one who does
	// not trust the node decodes it (dag.DecodeEvidence) and checks it
	// (dag.Evidence.Check) against the epoch's committee.
	Encoding []byte `json:"encoding"`
}

// EvidencePage is the answer of GET /v1/evidence: records oldest first
// (by epoch, then round, then author).
type EvidencePage struct {
	Evidence []*EvidenceInfo `json:"evidence"`
	// NextCursor, when set, says there may be more records:
	// GET /v1/evidence?cursor=NextCursor continues after this page.
	NextCursor string `json:"next_cursor,omitempty"`
}

// EvidenceCursor is where a page of GET /v1/evidence starts: the first
// record at or after this epoch, round and author. Its text form
// (String, ParseEvidenceCursor) is the cursor= parameter.
type EvidenceCursor struct {
	Epoch  uint64
	Round  uint64
	Author uint16
}

// String returns the cursor's text form, epoch.round.author.
func (c EvidenceCursor) String() string {
	return strconv.FormatUint(c.Epoch, 10) + "." + strconv.FormatUint(c.Round, 10) + "." + strconv.FormatUint(uint64(c.Author), 10)
}

// ParseEvidenceCursor parses a cursor's text form (EvidenceCursor.String).
func ParseEvidenceCursor(s string) (EvidenceCursor, error) {
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return EvidenceCursor{}, fmt.Errorf("cursor %.40q: want epoch.round.author", s)
	}
	e, err1 := strconv.ParseUint(parts[0], 10, 64)
	r, err2 := strconv.ParseUint(parts[1], 10, 64)
	a, err3 := strconv.ParseUint(parts[2], 10, 16)
	if err := errors.Join(err1, err2, err3); err != nil {
		return EvidenceCursor{}, fmt.Errorf("cursor %.40q: want epoch.round.author: %w", s, err)
	}
	return EvidenceCursor{Epoch: e, Round: r, Author: uint16(a)}, nil
}

// SubmitResponse is the answer of POST /v1/transactions, accepted or not.
type SubmitResponse struct {
	Accepted int    `json:"accepted"`
	Rejected int    `json:"rejected"`
	Reason   string `json:"reason,omitempty"`
	Error    string `json:"error,omitempty"`
	// Index is the offending transaction of an invalid request.
	Index *int `json:"index,omitempty"`
}

// SubmitJSON is the JSON body of POST /v1/transactions
// (ContentTypeJSON).
type SubmitJSON struct {
	// Transactions are the encoded transactions, base64 in JSON.
	Transactions [][]byte `json:"transactions"`
}

// ReceiptInfo is the answer of GET /v1/receipts/{tx}.
type ReceiptInfo struct {
	Tx       string `json:"tx"`
	Seq      uint64 `json:"seq"`
	Index    uint32 `json:"index"`
	Code     uint16 `json:"code"`
	CodeName string `json:"code_name"`
	OK       bool   `json:"ok"`
	Reason   string `json:"reason,omitempty"`
	// Fee is the native amount charged, in decimal.
	Fee    string         `json:"fee"`
	Events []ReceiptEvent `json:"events,omitempty"`
	// Receipt is the canonical encoding (hex) that the commit's receipts
	// root commits to at leaf Index.
	Receipt      string `json:"receipt"`
	TxRoot       string `json:"tx_root,omitempty"`
	ReceiptsRoot string `json:"receipts_root,omitempty"`
}

// ReceiptEvent is an event of a receipt.
type ReceiptEvent struct {
	Type  string            `json:"type"`
	Attrs map[string]string `json:"attrs,omitempty"`
}

// StateValue is the answer of GET /v1/state/{key}: the value of a key at
// an executed commit and the proof of it against that commit's state root.
type StateValue struct {
	Key       string `json:"key"`
	Seq       uint64 `json:"seq"`
	StateRoot string `json:"state_root"`
	Exists    bool   `json:"exists"`
	Value     string `json:"value,omitempty"`
	// Proof is the hex of the proof's binary encoding (package
	// state/proof: Unmarshal, then VerifyProof(state_root, key, value)),
	// an inclusion proof when Exists, else a non-inclusion proof.
	Proof string `json:"proof,omitempty"`
}

// AccountInfo is the answer of GET /v1/accounts/{pubkey}.
type AccountInfo struct {
	PublicKey string `json:"public_key"`
	Exists    bool   `json:"exists"`
	Nonce     uint64 `json:"nonce"`
	// Balance is the native balance in decimal.
	Balance string `json:"balance"`
	// State is the account's key and value with their proof (the proof
	// only with ?proof=1).
	State StateValue `json:"state"`
}

// ContentPaymentHeader carries a paid put's registration transaction: the
// hex of the payer's signed contracts.Tx (a RegisterContent without its
// certificate).
const ContentPaymentHeader = "Dagd-Content-Payment"

// Response headers of GET /v1/content/{cid}.
const (
	HeaderManifestDigest = "X-Dagd-Manifest-Digest"
	HeaderContentK       = "X-Dagd-K"
	HeaderContentN       = "X-Dagd-N"
	HeaderChunkSize      = "X-Dagd-Chunk-Size"
)

// ContentPutResponse is the answer of a put (POST or PUT /v1/content).
type ContentPutResponse struct {
	// CID names the content (base32 CIDv1, BLAKE3 multihash).
	CID string `json:"cid"`
	// Size is the content's length in bytes.
	Size uint64 `json:"size"`
	// Chunks is the number of chunks, of ChunkSize bytes (the last may be
	// shorter).
	Chunks    int `json:"chunks"`
	ChunkSize int `json:"chunk_size"`
	// K of N shards rebuild each chunk.
	K int `json:"k"`
	N int `json:"n"`
	// Overhead is N/K: bytes stored per content byte.
	Overhead float64 `json:"overhead"`
	// ManifestDigest is the hex BLAKE3 hash of the manifest.
	ManifestDigest string `json:"manifest_digest"`
	// Signers are the validators whose signatures the certificate holds.
	Signers []int `json:"signers"`
	// Unconfirmed are the holders that did not sign this put.
	Unconfirmed []int `json:"unconfirmed,omitempty"`
	// AlreadyRegistered says the CID was registered before this put.
	AlreadyRegistered bool `json:"already_registered,omitempty"`
	// Certificate is the hex of the certificate's canonical encoding.
	Certificate string `json:"certificate"`
	// Registration says how the ledger records the content (see
	// ContentRegistration): usually pending when the put returns.
	Registration *ContentRegistration `json:"registration,omitempty"`
}

// ContentStat is the answer of GET /v1/content/{cid}/stat.
type ContentStat struct {
	// CID names the content.
	CID string `json:"cid"`
	// Size is the content's length in bytes.
	Size uint64 `json:"size"`
	// Chunks is the number of chunks of ChunkSize bytes.
	Chunks    int `json:"chunks"`
	ChunkSize int `json:"chunk_size"`
	// K of N shards rebuild each chunk; Overhead is N/K.
	K        int     `json:"k"`
	N        int     `json:"n"`
	Overhead float64 `json:"overhead"`
	// ManifestDigest is the hex BLAKE3 hash of the manifest.
	ManifestDigest string `json:"manifest_digest"`
	// Registered says this node has a certificate for the CID in its
	// local registry.
	Registered bool `json:"registered"`
	// Ledger says whether the ledger records the content (the commit and
	// transaction that registered it), or why not.
	Ledger *ContentRegistration `json:"ledger"`
	// Holders are the validators assigned shards (shard j to validator
	// j mod committee size).
	Holders []ContentHolder `json:"holders"`
	// Signers are the validators whose signatures the certificate holds,
	// with their stake, against the quorum.
	Signers     []int  `json:"signers"`
	SignerStake uint64 `json:"signer_stake"`
	QuorumStake uint64 `json:"quorum_stake"`
	// Certificate is the hex of the certificate's canonical encoding.
	Certificate string `json:"certificate,omitempty"`
}

// ContentHolder is one validator holding shards of an object.
type ContentHolder struct {
	// Validator is the holder's index in the committee.
	Validator int `json:"validator"`
	// Shards are the shard indices it holds of every chunk.
	Shards []int `json:"shards"`
	// Signed says its signature is in the certificate.
	Signed bool `json:"signed"`
	// Connected says the answering node reaches it now.
	Connected bool `json:"connected"`
}

// ContentRegistration says whether and how the ledger records a content.
type ContentRegistration struct {
	// Registered says the executed state of the answering node holds the
	// content's record.
	Registered bool `json:"registered"`
	// Seq is the commit that executed the registration.
	Seq uint64 `json:"seq,omitempty"`
	// Tx is the hex digest of the registering transaction, when the
	// answering node knows it.
	Tx string `json:"tx,omitempty"`
	// Registrant is the hex account key that sent it.
	Registrant string `json:"registrant,omitempty"`
	// Expiry is the consensus time (unix ms) until which the content is
	// paid for (RenewContent extends it); then its holders delete it.
	Expiry uint64 `json:"expiry,omitempty"`
	// Pending says this node submitted a registration that has not
	// executed yet.
	Pending bool `json:"pending,omitempty"`
	// Reason says why the content is not registered (only when
	// Registered is false).
	Reason string `json:"reason,omitempty"`
}

// String describes the registration in one line.
func (r *ContentRegistration) String() string {
	switch {
	case r == nil:
		return "unknown"
	case r.Registered && r.Tx != "":
		return fmt.Sprintf("yes, commit %d, tx %s, paid until %s", r.Seq, r.Tx, time.UnixMilli(int64(r.Expiry)).UTC().Format(time.RFC3339))
	case r.Registered:
		return fmt.Sprintf("yes, commit %d, paid until %s", r.Seq, time.UnixMilli(int64(r.Expiry)).UTC().Format(time.RFC3339))
	default:
		return fmt.Sprintf("no (%s)", r.Reason)
	}
}

// ContentParams is the answer of GET /v1/content/params: what a client
// needs to pay for a put itself (the chain and epoch to sign for, the
// coding that gives the content its CID, and the prices).
type ContentParams struct {
	// ChainID and Epoch are the chain and committee epoch a registration
	// is signed for.
	ChainID string `json:"chain_id"`
	Epoch   uint64 `json:"epoch"`
	// CommitteeSize bounds n (contracts.MaxShardsPerValidator per
	// validator).
	CommitteeSize int `json:"committee_size"`
	// ChunkSize is the network's chunk size: the CID depends on it.
	ChunkSize int `json:"chunk_size"`
	// K and N are the node's default coding.
	K int `json:"k"`
	N int `json:"n"`
	// MaxContentSize bounds one object.
	MaxContentSize int64 `json:"max_content_size"`
	// Fees are the token module's rules the fee is computed by.
	MinFee               uint64 `json:"min_fee"`
	FeePerByte           uint64 `json:"fee_per_byte"`
	ContentFee           uint64 `json:"content_fee"`
	ContentBytePrice     uint64 `json:"content_byte_price"`
	ContentRetentionUnit uint64 `json:"content_retention_unit_ms"`
	MaxContentRetention  uint64 `json:"max_content_retention_ms"`
}
