package netquic

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/quic-go/quic-go"
)

// alpn names the protocol in the TLS handshake; a peer offering anything
// else is refused by TLS itself.
const alpn = "dagd/1"

// certValidity is how long the self-signed certificate claims to be valid.
// Nobody checks it (keys are pinned), but it should look sane.
const certValidity = 10 * 365 * 24 * time.Hour

// newCertificate builds a self-signed X.509 certificate for key.
func newCertificate(key ed25519.PrivateKey) (tls.Certificate, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("netquic: certificate serial number: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "dagd validator"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(certValidity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("netquic: creating the certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("netquic: parsing the new certificate: %w", err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, nil
}

// certificateKey returns the Ed25519 key of the single certificate a peer
// presented. TLS itself has checked that the peer holds the private key
// (CertificateVerify); what remains is to pin the key.
func certificateKey(rawCerts [][]byte) (ed25519.PublicKey, error) {
	if len(rawCerts) != 1 {
		return nil, fmt.Errorf("peer presented %d certificates, want exactly 1", len(rawCerts))
	}
	cert, err := x509.ParseCertificate(rawCerts[0])
	if err != nil {
		return nil, fmt.Errorf("parsing the peer certificate: %w", err)
	}
	key, ok := cert.PublicKey.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("peer certificate holds a %T key, want Ed25519", cert.PublicKey)
	}
	return key, nil
}

// errNotInCommittee is the reason an acceptor refuses a client key.
var errNotInCommittee = errors.New("key is not in the committee")

// baseTLS is what client and server configurations share.
func baseTLS(cert tls.Certificate) *tls.Config {
	return &tls.Config{
		MinVersion:             tls.VersionTLS13,
		MaxVersion:             tls.VersionTLS13,
		Certificates:           []tls.Certificate{cert},
		NextProtos:             []string{alpn},
		SessionTicketsDisabled: true, // every connection proves its certificate
	}
}

// clientTLS is the configuration to dial validator id, whose key is want.
// The server must present exactly that key.
func clientTLS(cert tls.Certificate, id PeerID, want ed25519.PublicKey) *tls.Config {
	c := baseTLS(cert)
	c.ServerName = fmt.Sprintf("validator-%d.dagd", id)
	// Certificates are self-signed: no chain to verify, the key is pinned
	// below instead.
	c.InsecureSkipVerify = true
	c.VerifyPeerCertificate = func(rawCerts [][]byte, _ [][]*x509.Certificate) error {
		key, err := certificateKey(rawCerts)
		if err != nil {
			return fmt.Errorf("netquic: validator %d: %w", id, err)
		}
		if !key.Equal(want) {
			return fmt.Errorf("netquic: validator %d presented key %x, the committee says %x", id, []byte(key), []byte(want))
		}
		return nil
	}
	return c
}

// serverTLS is the acceptor's configuration. check decides whether a
// client key may connect; it runs once per handshake, with the client's
// address for the logs.
func serverTLS(cert tls.Certificate, check func(remote string, rawCerts [][]byte) error) *tls.Config {
	base := baseTLS(cert)
	// RequestClientCert rather than RequireAnyClientCert: TLS then hands
	// every handshake, one without a certificate too, to
	// VerifyPeerCertificate, which refuses anything but exactly one
	// certificate with a committee key, and logs why.
	base.ClientAuth = tls.RequestClientCert
	base.GetConfigForClient = func(hi *tls.ClientHelloInfo) (*tls.Config, error) {
		remote := "unknown"
		if hi.Conn != nil && hi.Conn.RemoteAddr() != nil {
			remote = hi.Conn.RemoteAddr().String()
		}
		c := baseTLS(cert)
		c.ClientAuth = tls.RequestClientCert
		c.VerifyPeerCertificate = func(rawCerts [][]byte, _ [][]*x509.Certificate) error {
			return check(remote, rawCerts)
		}
		return c, nil
	}
	// Never used: GetConfigForClient answers every handshake. Kept strict in
	// case it is bypassed.
	base.VerifyPeerCertificate = func(rawCerts [][]byte, _ [][]*x509.Certificate) error {
		return check("unknown", rawCerts)
	}
	return base
}

// statelessResetKey derives the QUIC stateless-reset key from the validator
// key, so that the same validator restarted can reset connections of its
// previous process (RFC 9000 §10.3). The derivation is one-way.
func statelessResetKey(key ed25519.PrivateKey) *quic.StatelessResetKey {
	h := sha256.New()
	h.Write([]byte("dagd/netquic stateless reset key v1\x00"))
	h.Write(key.Seed())
	var k quic.StatelessResetKey
	copy(k[:], h.Sum(nil))
	return &k
}
