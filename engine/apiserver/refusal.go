package apiserver

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/dagd/dagd/engine/client"
)

// Refusal is implemented by the errors of refused submissions (the
// node's *engine.SubmitError): the server answers them with their reason
// instead of a generic failure.
type Refusal interface {
	error
	// Refusal returns the reason (a client.Reason* constant), the
	// transactions accepted before the refusal, and the offending
	// transaction's index (-1 when the refusal is not about one).
	Refusal() (reason string, accepted, index int)
}

// refusal is a refused submission as the server answers it: one the
// server refuses itself (limits, parsing), or the node's (err).
type refusal struct {
	Reason   string
	Accepted int
	Index    int
	Detail   string
	// err, when set, is the node's refusal: its message is the answer's.
	err error
}

func (e *refusal) Error() string {
	if e.err != nil {
		return e.err.Error()
	}
	if e.Index >= 0 {
		return fmt.Sprintf("apiserver: submission refused (%s) at transaction %d: %s", e.Reason, e.Index, e.Detail)
	}
	return fmt.Sprintf("apiserver: submission refused (%s) after %d accepted: %s", e.Reason, e.Accepted, e.Detail)
}

func (e *refusal) Unwrap() error { return e.err }

// Refusal implements Refusal.
func (e *refusal) Refusal() (string, int, int) { return e.Reason, e.Accepted, e.Index }

// refusalOf returns the refusal err carries, nil when it is no Refusal.
func refusalOf(err error) *refusal {
	var own *refusal
	if errors.As(err, &own) {
		return own
	}
	var r Refusal
	if !errors.As(err, &r) {
		return nil
	}
	reason, accepted, index := r.Refusal()
	return &refusal{Reason: reason, Accepted: accepted, Index: index, err: r}
}

// RetryableReason reports whether a submission refused for reason may
// succeed later: the node was busy, not the input wrong.
func RetryableReason(reason string) bool {
	switch reason {
	case client.ReasonQueueFull, client.ReasonNodeBusy, client.ReasonTooManyRequests:
		return true
	}
	return false
}

// ReasonStatus is the HTTP status the API answers a submission refused
// for reason with.
func ReasonStatus(reason string) int {
	switch reason {
	case client.ReasonQueueFull, client.ReasonNodeBusy, client.ReasonStopped:
		return http.StatusServiceUnavailable
	case client.ReasonTooManyRequests:
		return http.StatusTooManyRequests
	case client.ReasonTxTooLarge, client.ReasonBodyTooLarge, client.ReasonTooManyTxs:
		return http.StatusRequestEntityTooLarge
	case client.ReasonBodyTimeout:
		return http.StatusRequestTimeout
	}
	return http.StatusBadRequest
}
