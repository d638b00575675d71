package config

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/dagd/dagd/dag"
	"github.com/dagd/dagd/engine"
	"github.com/dagd/dagd/engine/checkpoint"
	"github.com/dagd/dagd/engine/committeefile"
)

// TestCheckpointCommitteeFromTestnet: the committee file that `dagd
// testnet` writes (GenerateTestnet, through engine/config's own writer)
// builds, from its bytes alone and without cgo, the light client's
// checkpoint committee, and that committee agrees with the one the node
// builds from the same file (keys, stakes, total and quorum), so the
// node's reading and the light client's never drift.
func TestCheckpointCommitteeFromTestnet(t *testing.T) {
	dir := t.TempDir()
	if _, err := GenerateTestnet(TestnetOptions{Dir: dir, Validators: 4, Keystore: fastKDF, ChainID: "tn-ckpt"}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, CommitteeFileName)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	chainID, light, err := checkpoint.ReadCommitteeFile(data)
	if err != nil {
		t.Fatalf("ReadCommitteeFile: %v", err)
	}
	com, err := LoadCommittee(path)
	if err != nil {
		t.Fatal(err)
	}
	bc, dc, err := engine.BuildBLSCommittee(com.Epoch, EngineValidators(com))
	if err != nil {
		t.Fatal(err)
	}
	if chainID != com.ChainID || light.Epoch() != com.Epoch || light.Size() != len(com.Validators) {
		t.Fatalf("light client read chain %q epoch %d size %d, node %q %d %d", chainID, light.Epoch(), light.Size(), com.ChainID, com.Epoch, len(com.Validators))
	}
	if light.TotalStake() != bc.TotalStake() || light.QuorumStake() != bc.QuorumStake() || light.QuorumStake() != dc.QuorumThreshold() {
		t.Errorf("stake %d quorum %d, node: %d %d (dag %d)", light.TotalStake(), light.QuorumStake(), bc.TotalStake(), bc.QuorumStake(), dc.QuorumThreshold())
	}
	for i, m := range light.Members() {
		v := com.Validators[i]
		if string(m.PublicKey[:]) != string(v.BLSPublicKey) || m.Stake != v.Stake {
			t.Errorf("member %d: key %x stake %d, file %x %d", i, m.PublicKey[:8], m.Stake, v.BLSPublicKey[:8], v.Stake)
		}
	}
}

// TestCommitteeFileBoundsAreDags: the cgo-free committee file refuses
// what dag refuses.
func TestCommitteeFileBoundsAreDags(t *testing.T) {
	if committeefile.MaxValidators != dag.MaxCommitteeSize {
		t.Errorf("committeefile.MaxValidators %d, dag.MaxCommitteeSize %d", committeefile.MaxValidators, dag.MaxCommitteeSize)
	}
	if _, err := dag.NewCommittee(0, []uint64{committeefile.MaxTotalStake}); err != nil {
		t.Errorf("dag refuses the committee file's largest total stake: %v", err)
	}
	if _, err := dag.NewCommittee(0, []uint64{committeefile.MaxTotalStake, 1}); err == nil {
		t.Error("dag accepts more stake than the committee file")
	}
}
