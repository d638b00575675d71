package netquic

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"
)

// PeerID is a validator's index in the committee.
type PeerID uint16

// Peer is one committee member as the transport sees it.
type Peer struct {
	// ID is the validator's index in the committee.
	ID PeerID
	// Addr is the UDP address ("host:port") the validator listens on. It is
	// resolved again at every dial.
	Addr string
	// PublicKey is the validator's Ed25519 network key; its certificate must
	// carry exactly this key.
	PublicKey ed25519.PublicKey
}

// PeerEvent reports that the outgoing link to a peer came up or went down.
type PeerEvent struct {
	// ID is the peer.
	ID PeerID
	// Connected is true when the link was confirmed by the peer's ack, false
	// when it was lost.
	Connected bool
	// Err is why the link was lost (nil when Connected).
	Err error
}

// Limits of the wire format.
const (
	// MaxChainIDLen is the longest chain id a hello can carry.
	MaxChainIDLen = 255
	// MaxMaxFrameSize is the largest value Options.MaxFrameSize may take.
	MaxMaxFrameSize = 1 << 30
)

// Options configures a Transport. The zero value of a field means its
// default; New calls EnsureDefaults and then Validate.
type Options struct {
	// ListenAddr is the UDP address to listen on, e.g. "0.0.0.0:7000" or
	// "127.0.0.1:0". Default: the Addr of the Self entry of Peers. Ignored
	// when PacketConn is set.
	ListenAddr string
	// PacketConn, if set, is the UDP socket to use instead of binding
	// ListenAddr. The Transport takes it over and closes it on Close.
	// Default nil.
	PacketConn net.PacketConn
	// Self is this validator's PeerID; it must appear in Peers with the
	// public key of Key. Required.
	Self PeerID
	// Key is this validator's Ed25519 network key. Required.
	Key ed25519.PrivateKey
	// Peers is the committee, this validator included. IDs, keys and
	// addresses must be distinct. Required.
	Peers []Peer
	// ChainID names the network (1 to 255 bytes); nodes with different chain
	// ids refuse each other. Required.
	ChainID string

	// MaxFrameSize is the largest frame sent or accepted, in bytes, at most
	// MaxMaxFrameSize. Default 4 MiB.
	MaxFrameSize int
	// SendQueueLen bounds each peer's send queue in frames. Default 4096.
	SendQueueLen int
	// SendQueueBytes bounds each peer's send queue in bytes (frame payloads);
	// at least MaxFrameSize. Default 32 MiB.
	SendQueueBytes int
	// BulkFrame, when set, classifies the frames passed to Send: those for
	// which it returns true are bulk frames, which travel on a second
	// stream of the connection with their own send queue (BulkQueueLen,
	// BulkQueueBytes), so that large transfers neither wait behind the
	// other frames nor make them wait, in the queue or on the wire. It is
	// called on Send's goroutine and must be fast and safe for concurrent
	// use; it sees the frame and must not keep it. Received bulk frames
	// go to the same inbox. Default nil: every frame goes on one stream.
	BulkFrame func(frame []byte) bool
	// BulkQueueLen and BulkQueueBytes bound each peer's bulk send queue
	// as SendQueueLen and SendQueueBytes bound the other. Defaults: those
	// of the other queue.
	BulkQueueLen   int
	BulkQueueBytes int
	// InboxLen bounds the inbox channel in frames. Default 1024.
	InboxLen int
	// InboxBytes bounds the bytes of the frames waiting in the inbox; at
	// least MaxFrameSize. Default 64 MiB.
	InboxBytes int

	// KeepAlivePeriod is how often an idle connection sends a keep-alive;
	// below MaxIdleTimeout. Default 5 s.
	KeepAlivePeriod time.Duration
	// MaxIdleTimeout closes a connection that received nothing for this
	// long. Default 20 s.
	MaxIdleTimeout time.Duration
	// HandshakeTimeout bounds a connection attempt: the QUIC and TLS
	// handshake plus the hello and its ack, on both sides. Default 5 s.
	HandshakeTimeout time.Duration
	// DialBackoffMin is the first wait before redialling a peer; the wait
	// doubles with each failure, with jitter. Default 100 ms.
	DialBackoffMin time.Duration
	// DialBackoffMax caps the wait between dials; a link that stayed up this
	// long resets the backoff. Default 5 s.
	DialBackoffMax time.Duration

	// Logger receives the transport's logs. Default: logs are discarded.
	Logger *slog.Logger
	// OnPeer, if set, is called when the outgoing link to a peer is
	// confirmed (Connected) or lost. Calls for one peer are sequential and
	// alternate; calls for different peers may be concurrent. It runs on
	// the peer's connection goroutine and must not block (a non-blocking
	// channel send, say). It is not called once Close has begun, except for
	// a call already under way. Default nil.
	OnPeer func(PeerEvent)
}

// Defaults of Options.
const (
	DefaultMaxFrameSize     = 4 << 20
	DefaultSendQueueLen     = 4096
	DefaultSendQueueBytes   = 32 << 20
	DefaultInboxLen         = 1024
	DefaultInboxBytes       = 64 << 20
	DefaultKeepAlivePeriod  = 5 * time.Second
	DefaultMaxIdleTimeout   = 20 * time.Second
	DefaultHandshakeTimeout = 5 * time.Second
	DefaultDialBackoffMin   = 100 * time.Millisecond
	DefaultDialBackoffMax   = 5 * time.Second
)

// EnsureDefaults fills the zero fields of o with their defaults and
// returns o.
func (o *Options) EnsureDefaults() *Options {
	if o.ListenAddr == "" && o.PacketConn == nil {
		for _, p := range o.Peers {
			if p.ID == o.Self {
				o.ListenAddr = p.Addr
				break
			}
		}
	}
	setInt := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	setDur := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	setInt(&o.MaxFrameSize, DefaultMaxFrameSize)
	setInt(&o.SendQueueLen, DefaultSendQueueLen)
	setInt(&o.SendQueueBytes, DefaultSendQueueBytes)
	setInt(&o.BulkQueueLen, o.SendQueueLen)
	setInt(&o.BulkQueueBytes, o.SendQueueBytes)
	setInt(&o.InboxLen, DefaultInboxLen)
	setInt(&o.InboxBytes, DefaultInboxBytes)
	setDur(&o.KeepAlivePeriod, DefaultKeepAlivePeriod)
	setDur(&o.MaxIdleTimeout, DefaultMaxIdleTimeout)
	setDur(&o.HandshakeTimeout, DefaultHandshakeTimeout)
	setDur(&o.DialBackoffMin, DefaultDialBackoffMin)
	setDur(&o.DialBackoffMax, DefaultDialBackoffMax)
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Validate reports every problem of o (after EnsureDefaults) at once.
func (o *Options) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf(format, args...))
	}
	if o.ListenAddr == "" && o.PacketConn == nil {
		bad("ListenAddr is empty and there is no PacketConn")
	}
	if len(o.Key) != ed25519.PrivateKeySize {
		bad("Key has %d bytes, want an Ed25519 private key of %d", len(o.Key), ed25519.PrivateKeySize)
	}
	if o.ChainID == "" || len(o.ChainID) > MaxChainIDLen {
		bad("ChainID has %d bytes, want 1 to %d", len(o.ChainID), MaxChainIDLen)
	}
	if len(o.Peers) == 0 {
		bad("Peers is empty")
	}
	if len(o.Peers) > 1<<16 {
		bad("Peers has %d entries, at most %d fit a PeerID", len(o.Peers), 1<<16)
	}
	ids := make(map[PeerID]bool, len(o.Peers))
	keys := make(map[string]PeerID, len(o.Peers))
	addrs := make(map[string]PeerID, len(o.Peers))
	foundSelf := false
	for i, p := range o.Peers {
		if ids[p.ID] {
			bad("Peers[%d]: PeerID %d appears twice", i, p.ID)
		}
		ids[p.ID] = true
		if len(p.PublicKey) != ed25519.PublicKeySize {
			bad("Peers[%d] (validator %d): public key has %d bytes, want %d", i, p.ID, len(p.PublicKey), ed25519.PublicKeySize)
		} else {
			if other, dup := keys[string(p.PublicKey)]; dup {
				bad("Peers[%d]: validators %d and %d have the same key", i, other, p.ID)
			}
			keys[string(p.PublicKey)] = p.ID
		}
		if p.ID == o.Self {
			foundSelf = true
			if len(o.Key) == ed25519.PrivateKeySize && len(p.PublicKey) == ed25519.PublicKeySize &&
				!o.Key.Public().(ed25519.PublicKey).Equal(p.PublicKey) {
				bad("Peers[%d]: the key of Self (validator %d) is not the public key of Key", i, p.ID)
			}
			continue
		}
		if p.Addr == "" {
			bad("Peers[%d] (validator %d): Addr is empty", i, p.ID)
		} else {
			if other, dup := addrs[p.Addr]; dup {
				bad("Peers[%d]: validators %d and %d have the same address %q", i, other, p.ID, p.Addr)
			}
			addrs[p.Addr] = p.ID
		}
	}
	if len(o.Peers) > 0 && !foundSelf {
		bad("Self (validator %d) is not in Peers", o.Self)
	}
	if o.MaxFrameSize < 1 || o.MaxFrameSize > MaxMaxFrameSize {
		bad("MaxFrameSize %d is outside 1..%d", o.MaxFrameSize, MaxMaxFrameSize)
	}
	if o.SendQueueLen < 1 {
		bad("SendQueueLen %d is below 1", o.SendQueueLen)
	}
	if o.SendQueueBytes < o.MaxFrameSize {
		bad("SendQueueBytes %d is below MaxFrameSize %d", o.SendQueueBytes, o.MaxFrameSize)
	}
	if o.BulkQueueLen < 1 {
		bad("BulkQueueLen %d is below 1", o.BulkQueueLen)
	}
	if o.BulkQueueBytes < o.MaxFrameSize {
		bad("BulkQueueBytes %d is below MaxFrameSize %d", o.BulkQueueBytes, o.MaxFrameSize)
	}
	if o.InboxLen < 1 {
		bad("InboxLen %d is below 1", o.InboxLen)
	}
	if o.InboxBytes < o.MaxFrameSize {
		bad("InboxBytes %d is below MaxFrameSize %d", o.InboxBytes, o.MaxFrameSize)
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"KeepAlivePeriod", o.KeepAlivePeriod},
		{"MaxIdleTimeout", o.MaxIdleTimeout},
		{"HandshakeTimeout", o.HandshakeTimeout},
		{"DialBackoffMin", o.DialBackoffMin},
		{"DialBackoffMax", o.DialBackoffMax},
	} {
		if d.v <= 0 {
			bad("%s %v is not positive", d.name, d.v)
		}
	}
	if o.KeepAlivePeriod >= o.MaxIdleTimeout {
		bad("KeepAlivePeriod %v is not below MaxIdleTimeout %v", o.KeepAlivePeriod, o.MaxIdleTimeout)
	}
	if o.DialBackoffMin > o.DialBackoffMax {
		bad("DialBackoffMin %v is above DialBackoffMax %v", o.DialBackoffMin, o.DialBackoffMax)
	}
	if o.Logger == nil {
		bad("Logger is nil")
	}
	return errors.Join(errs...)
}
