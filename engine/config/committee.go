package config

import (
	"bytes"
	"crypto/ed25519"
	"fmt"
	"os"

	"github.com/dagd/dagd/dag"
	"github.com/dagd/dagd/engine"
	"github.com/dagd/dagd/engine/committeefile"
)

// The committee file's format lives in engine/committeefile (cgo-free, so
// light clients read the same file); these aliases keep engine/config's
// names.

// HexBytes is a byte string written in JSON as lower-case hex.
type HexBytes = committeefile.HexBytes

// Member is one validator in the committee file; `dagd init` writes a
// home's own as validator.json.
type Member = committeefile.Member

// Committee is the committee (genesis) file: the validators of one epoch
// of one chain, in index order.
type Committee = committeefile.Committee

// EngineValidators returns the committee as engine.Options.Committee.
func EngineValidators(c *Committee) []engine.Validator {
	out := make([]engine.Validator, len(c.Validators))
	for i, m := range c.Validators {
		out[i] = engine.Validator{BLSPublicKey: bytes.Clone(m.BLSPublicKey), ProofOfPossession: bytes.Clone(m.ProofOfPossession),
			Stake: m.Stake, NetworkKey: ed25519.PublicKey(bytes.Clone(m.NetworkKey)), Address: m.Address}
	}
	return out
}

// findValidator returns the index of the validator ref names in c, as
// committeefile's Find does, as a dag.ValidatorID.
func findValidator(c *Committee, ref string, blsKey []byte) (dag.ValidatorID, error) {
	i, err := c.Find(ref, blsKey)
	if err != nil {
		return 0, err
	}
	if i >= dag.MaxCommitteeSize {
		return 0, fmt.Errorf("committee: validator index %d exceeds %d", i, dag.MaxCommitteeSize)
	}
	return dag.ValidatorID(i), nil
}

// LoadCommittee reads and validates a committee file.
func LoadCommittee(path string) (*Committee, error) { return committeefile.Load(path) }

// LoadMember reads a validator's public entry (validator.json) and checks
// its keys and proof of possession.
func LoadMember(path string) (*Member, error) { return committeefile.LoadMember(path) }

// AssembleCommittee builds and validates the committee of chainID and
// epoch from the validators' entries, in the order given.
func AssembleCommittee(chainID string, epoch uint64, members []Member) (*Committee, error) {
	return committeefile.Assemble(chainID, epoch, members)
}

func writeJSONFile(path string, v any, perm os.FileMode) error {
	return committeefile.WriteJSONFile(path, v, perm)
}

// readJSONFile decodes one JSON value from path strictly: no unknown
// fields, nothing after the value, at most limit bytes.
func readJSONFile(path string, limit int64, v any) error {
	return committeefile.ReadJSONFile(path, limit, v)
}

func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	return committeefile.WriteFileAtomic(path, data, perm)
}

func printableASCII(s string) bool { return committeefile.PrintableASCII(s) }

func checkName(s string, allowIndex bool) error { return committeefile.CheckName(s, allowIndex) }

func checkHostPort(addr string, allowZero bool) error {
	return committeefile.CheckAddress(addr, allowZero)
}
