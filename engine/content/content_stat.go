package content

import (
	"context"
	"encoding/hex"
	"log/slog"

	"github.com/ipfs/go-cid"

	"github.com/dagd/dagd/engine/client"
	"github.com/dagd/dagd/heal"
)

// Stat describes the object named by id: its coding, its holders, the
// certificate of this node's local registry, and its registration in the
// ledger.
func (s *Service) Stat(ctx context.Context, id cid.Cid) (*client.ContentStat, error) {
	obj, err := s.Open(ctx, id)
	if err != nil {
		return nil, err
	}
	m := obj.Manifest
	p := m.Params()
	st := &client.ContentStat{CID: id.String(), Size: m.ContentSize(), Chunks: m.NumChunks(), ChunkSize: p.ChunkSize, K: p.DataShards,
		N: p.TotalShards(), Overhead: float64(p.TotalShards()) / float64(p.DataShards), ManifestDigest: m.Digest().String(),
		Signers: []int{}, QuorumStake: s.comm.QuorumStake()}
	if c := obj.Certificate; c != nil && c.ManifestDigest == m.Digest() {
		st.Registered = true
		st.Signers = c.Signers.Indices()
		for _, i := range st.Signers {
			st.SignerStake += s.comm.Stake(i)
		}
		st.Certificate = hex.EncodeToString(c.Encode())
	}
	st.Ledger = s.registration(id)
	conn := s.connected()
	for _, v := range heal.Holders(p.TotalShards(), s.v) {
		hd := client.ContentHolder{Validator: v, Shards: heal.ShardsOf(v, p.TotalShards(), s.v), Connected: v == s.self || conn[v]}
		if st.Registered {
			hd.Signed = obj.Certificate.Signers.Has(v)
		}
		st.Holders = append(st.Holders, hd)
	}
	return st, nil
}

// Logger returns the service's logger.
func (s *Service) Logger() *slog.Logger { return s.log }
