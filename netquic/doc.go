// Package netquic is the transport between validators: QUIC connections
// (quic-go) with mutual TLS 1.3 whose identities are the validators' Ed25519
// network keys, carrying opaque, length-prefixed frames. It knows nothing of
// the protocol above it: a frame is a byte string that the node encodes and
// decodes.
//
// # Identity
//
// Each Transport builds a self-signed X.509 certificate from its Ed25519
// key at startup. Certificates are not checked against any authority:
// both sides verify the peer's certificate themselves
// (tls.Config.VerifyPeerCertificate) and pin its public key to the
// committee given in Options.Peers. A dialer accepts a server only if the
// server's key is the committee key of the validator it dialled; an
// acceptor accepts a client only if the client's key belongs to some other
// committee member. TLS 1.3 only, session tickets disabled (every
// connection presents and proves its certificate), and the ALPN "dagd/1".
//
// With TLS 1.3 client authentication the client finishes its handshake
// before the server has checked the client's certificate, so a dial whose
// certificate the server refuses still "succeeds". A peer therefore counts
// as connected only after a first authenticated exchange: the dialer sends
// a hello naming the chain, itself and the validator it means to reach;
// the acceptor checks that the hello's sender is the validator whose key
// the certificate carries, that the chain matches and that the hello is
// addressed to it, and only then answers with an ack. The dialer reports
// the peer connected when the ack arrives. A refused hello closes the
// connection with an application error whose message is the reason; both
// sides log it.
//
// # Topology
//
// Every node dials every other committee member and sends only on the
// connection it dialled; it receives only on the connections it accepted.
// There is never a choice between two connections to the same peer. An
// acceptor keeps at most one connection per peer: a newer authenticated
// connection from the same validator replaces the older one.
//
// # Wire format
//
// All integers are big-endian. On the first bidirectional stream of a
// connection the dialer sends
//
//	hello: "DQHL" | version u8 (1) | from u16 | to u16 | len u8 | chain id (len bytes, 1..255)
//
// the acceptor answers
//
//	ack:   "DQAK" | version u8 (1) | from u16
//
// and from then on the dialer sends frames, and nothing else, until the
// connection ends:
//
//	frame: length u32 | length bytes
//
// When Options.BulkFrame is set, the dialer then opens a second stream for
// bulk frames (the frames BulkFrame selects: content shards, for the node),
// which starts with a tag and carries frames in the same form:
//
//	bulk:  "DQBK" | frame...
//
// Each stream has its own send queue (SendQueueLen and SendQueueBytes,
// BulkQueueLen and BulkQueueBytes) and its own writer, and QUIC gives each
// its own flow control, so a large transfer neither waits behind the other
// frames nor delays them. Frames of one stream arrive in order; the two
// streams are not ordered with each other. Both deliver into the one
// inbox. An acceptor always takes a bulk stream, whatever its own options;
// a second stream without the tag closes the connection.
//
// The acceptor checks a frame's length against Options.MaxFrameSize before
// it allocates anything for the frame. An oversize length, a stream that
// ends inside a frame or a malformed hello closes the connection with a
// logged reason; no partial frame is ever delivered.
//
// # Flow control and memory
//
// Send never blocks. Each peer has a send queue bounded both in frames
// (SendQueueLen) and in bytes (SendQueueBytes), and a bulk queue likewise
// when BulkFrame is set; when a queue is full, Send returns ErrQueueFull
// and the caller decides what to drop. Frames stay
// queued while the peer is unreachable and go out once it reconnects;
// frames already handed to a connection that then breaks may be lost, which
// is why the node re-sends its state when OnPeer reports a reconnect.
//
// Received frames go to one inbox channel bounded both in frames (InboxLen)
// and in bytes (InboxBytes). When the consumer falls behind, the readers
// stop reading their streams and QUIC flow control stops the senders: no
// buffer grows with what peers send. The memory that peers can make a
// Transport hold is bounded by InboxBytes + MaxFrameSize for the inbox plus,
// per committee member and stream (two with a bulk stream), one partially
// read frame (at most MaxFrameSize) and a 64 KiB read buffer, and per
// connection quic-go's receive windows (15 MB by default).
//
// # Liveness
//
// Outgoing connections are redialled with exponential backoff and jitter
// (DialBackoffMin to DialBackoffMax); an authenticated inbound connection
// from a peer we cannot reach cuts the wait short, so a restarted peer is
// redialled as soon as it dials us. QUIC keep-alives (KeepAlivePeriod)
// keep idle links open; a peer silent for MaxIdleTimeout is dropped and
// redialled. The QUIC stateless-reset key is derived from the validator key,
// so a node that restarts with the same key can reset the connections its
// previous process left open at its peers, and they redial at once.
//
// Datagrams that are not QUIC, or that no connection can use, are dropped
// by the QUIC layer; the Transport counts them (Stats.DroppedDatagrams) and
// logs their reason at a limited rate.
package netquic
