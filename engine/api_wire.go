package engine

import "github.com/dagd/dagd/engine/client"

// The wire types of the public JSON API are defined once, in package
// client (engine/client), which programs outside the node import without
// the node's dependencies (pebble, quic-go, blst). The handlers serve them
// as defined there; these aliases only keep the node's Go API (Status,
// StatContent...) readable.
type (
	// Status is a snapshot of a node's progress, served by /v1/status.
	Status = client.Status
	// CommitInfo is a commit as the commit endpoints serve it.
	CommitInfo = client.CommitInfo
	// CommitRange is the answer of GET /v1/commits.
	CommitRange = client.CommitRange
	// CommitExecution is the execution record of a commit, as served.
	CommitExecution = client.CommitExecution
	// SubmitResponse is the answer of POST /v1/transactions.
	SubmitResponse = client.SubmitResponse
	// ReceiptInfo is the answer of GET /v1/receipts/{tx}.
	ReceiptInfo = client.ReceiptInfo
	// ReceiptEvent is an event of a receipt.
	ReceiptEvent = client.ReceiptEvent
	// StateValue is the answer of GET /v1/state/{key}.
	StateValue = client.StateValue
	// AccountInfo is the answer of GET /v1/accounts/{pubkey}.
	AccountInfo = client.AccountInfo
	// ContentPutResponse is the answer of a put.
	ContentPutResponse = client.ContentPutResponse
	// ContentStat describes a stored object.
	ContentStat = client.ContentStat
	// ContentHolder is one validator holding shards of an object.
	ContentHolder = client.ContentHolder
	// ContentRegistration says whether and how the ledger records a
	// content.
	ContentRegistration = client.ContentRegistration
	// ContentParams is what a client needs to pay for a put itself.
	ContentParams = client.ContentParams

	apiError   = client.ErrorBody
	submitJSON = client.SubmitJSON
)

// Names of the public API the handlers use, defined in package client.
const (
	// MaxCommitsPerRequest bounds GET /v1/commits?limit=.
	MaxCommitsPerRequest = client.MaxCommitsPerRequest
	// ContentTypeJSON is the JSON content type of POST /v1/transactions.
	ContentTypeJSON = client.ContentTypeJSON
	// ContentTypeBinary is the binary content type of POST
	// /v1/transactions.
	ContentTypeBinary = client.ContentTypeBinary
	// ContentPaymentHeader carries a paid put's registration transaction.
	ContentPaymentHeader = client.ContentPaymentHeader
	// HeaderManifestDigest and the other headers of GET /v1/content/{cid}.
	HeaderManifestDigest = client.HeaderManifestDigest
	// HeaderContentK is the k of the served content.
	HeaderContentK = client.HeaderContentK
	// HeaderContentN is the n of the served content.
	HeaderContentN = client.HeaderContentN
	// HeaderChunkSize is the chunk size of the served content.
	HeaderChunkSize = client.HeaderChunkSize

	// ReasonMalformedCID and the following are the content endpoints'
	// refusals (client.Reason*).
	ReasonMalformedCID    = client.ReasonMalformedCID
	ReasonContentNotFound = client.ReasonContentNotFound
	ReasonBadParams       = client.ReasonBadParams
	ReasonTruncated       = client.ReasonTruncated
	ReasonTooLarge        = client.ReasonTooLarge
	ReasonNoQuorum        = client.ReasonNoQuorum
	ReasonBusy            = client.ReasonBusy
	ReasonRetrieval       = client.ReasonRetrieval
	ReasonPaymentRequired = client.ReasonPaymentRequired
	ReasonPaymentRefused  = client.ReasonPaymentRefused
	ReasonBodyTooSlow     = client.ReasonBodyTooSlow
)
