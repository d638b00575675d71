package content

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dagd/dagd/engine/store"
)

// The local registry of availability certificates.
//
// Besides registering a certificate in the ledger (content_ledger.go), the
// source of truth, a node records certificates in a local registry
// (pebble, certPrefix): the uploader records the certificate it aggregated
// and sends it to every validator (a register frame), each verifies it
// against the committee's BLS keys before it stores it, and every audit
// round a node pulls one page of another validator's registry (a registry
// request). It is a hint that travels faster than a commit, so that a node
// that was down during a put learns of it, and the only registry where the
// ledger cannot be used (a node that does not execute, a chain without a
// committee in its state, an uploader without a funded account). The
// registry is append-only: the first verified certificate of a CID stays.

// register decodes, verifies and stores a certificate; it returns the
// registered certificate of its CID (which may be an earlier one).
func (s *Service) register(b []byte) (*Certificate, error) {
	c, err := DecodeCertificate(b)
	if err != nil {
		return nil, err
	}
	if old, err := s.store.certificate(c.CID); err == nil {
		return old, nil
	}
	if _, err := s.ledger.record(c.CID); errors.Is(err, ErrExpired) {
		return nil, fmt.Errorf("certificate of %s: %w", c.CID, err) // collected: not taken back
	}
	if err := c.Verify(s.comm, s.cfg.ChainID, s.cfg.Epoch); err != nil {
		return nil, fmt.Errorf("certificate of %s: %w", c.CID, err)
	}
	reg, fresh, err := s.store.putCertificate(c)
	if err != nil {
		return nil, err
	}
	if fresh {
		s.m.registered.Inc()
		s.log.Debug("registered", "cid", c.CID.String(), "size", c.Size, "k", c.K, "n", c.N, "signers", c.Signers.Indices())
		s.hs.notify(c)
	}
	return reg, nil
}

// announce sends a certificate to every other validator.
func (s *Service) announce(c *Certificate) {
	frame := (&registerMsg{Cert: c.Encode()}).encode()
	for i := 0; i < s.v; i++ {
		if i == s.self {
			continue
		}
		if err := s.send(s.ctx, i, frame, time.Now().Add(time.Second)); err != nil {
			s.log.Debug("certificate not announced", "to", i, "err", err)
		}
	}
}

// serveRegistry answers a page of the local registry.
func (s *Service) serveRegistry(from int, r *registryRequest) {
	var certs [][]byte
	size := 0
	err := s.store.scan(store.CertPrefix, r.After, int(r.Limit), func(_, v []byte) bool {
		if size+len(v)+4 > maxFrameSize-1024 {
			return false
		}
		certs = append(certs, bytes.Clone(v))
		size += len(v) + 4
		return true
	})
	if err != nil {
		s.respond(from, r.ID, statusError, []byte(truncate(err.Error(), maxReasonLen)))
		return
	}
	s.respond(from, r.ID, statusOK, encodeRegistryPage(certs))
}

// pullRegistry asks one peer for the next page of its registry after
// cursor and registers what is new. It returns the cursor to continue
// from (nil once the peer's registry is exhausted).
func (s *Service) pullRegistry(ctx context.Context, peer int, cursor []byte, limit int) ([]byte, error) {
	id := s.nextRequestID()
	resp, err := s.request(ctx, peer, id, (&registryRequest{ID: id, After: cursor, Limit: uint16(limit)}).encode())
	if err != nil {
		return cursor, err
	}
	if resp.Status != statusOK {
		return cursor, fmt.Errorf("content: registry of validator %d: status %d: %s", peer, resp.Status, truncate(string(resp.Body), 200))
	}
	page, err := decodeRegistryPage(resp.Body)
	if err != nil {
		return cursor, fmt.Errorf("content: registry of validator %d: %w", peer, err)
	}
	var last []byte
	for _, b := range page {
		c, err := DecodeCertificate(b)
		if err != nil {
			s.scoreBad(peer)
			return nil, fmt.Errorf("content: registry of validator %d: %w", peer, err)
		}
		last = c.CID.Bytes()
		if _, err := s.register(b); err != nil {
			s.log.Warn("registry entry refused", "from", peer, "err", err)
			s.scoreBad(peer)
		}
	}
	if len(page) < limit || last == nil {
		return nil, nil
	}
	return last, nil
}
