package netquic

import (
	"errors"

	"github.com/quic-go/quic-go"
)

// Errors returned by Send and by the frame and hello decoders. They are
// wrapped with details; test for them with errors.Is.
var (
	// ErrQueueFull is returned by Send when the peer's send queue holds
	// SendQueueLen frames or SendQueueBytes bytes already.
	ErrQueueFull = errors.New("netquic: send queue full")
	// ErrUnknownPeer is returned by Send for a PeerID outside the committee
	// (or for the node's own PeerID).
	ErrUnknownPeer = errors.New("netquic: unknown peer")
	// ErrFrameTooLarge is returned by Send for a frame above MaxFrameSize,
	// and is the reason a connection announcing such a frame is closed.
	ErrFrameTooLarge = errors.New("netquic: frame too large")
	// ErrTruncatedFrame is the reason a connection whose stream ends (or
	// breaks) inside a frame is closed.
	ErrTruncatedFrame = errors.New("netquic: truncated frame")
	// ErrBadHello is the reason a connection whose first exchange is
	// malformed or not acceptable is closed.
	ErrBadHello = errors.New("netquic: bad hello")
	// ErrClosed is returned by Send after Close.
	ErrClosed = errors.New("netquic: transport closed")
)

// Application error codes that close a QUIC connection. The error message
// that goes with them carries the reason in words.
const (
	codeShutdown      quic.ApplicationErrorCode = 0x0 // closing normally: shutdown, link reset, given up
	codeHelloRejected quic.ApplicationErrorCode = 0x1 // the first exchange was refused
	codeBadFrame      quic.ApplicationErrorCode = 0x2 // oversize or truncated frame
	codeReplaced      quic.ApplicationErrorCode = 0x3 // a newer connection from the same peer
	codeBusy          quic.ApplicationErrorCode = 0x4 // too many handshakes in progress
	codeStreamEnded   quic.ApplicationErrorCode = 0x5 // the peer ended its stream
)
