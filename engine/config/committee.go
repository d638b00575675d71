package config

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/dagd/dagd/crypto"
	"github.com/dagd/dagd/dag"
	"github.com/dagd/dagd/engine"
)

// maxCommitteeFile bounds the size of a committee file read (1024
// validators of about 500 bytes each fit).
const maxCommitteeFile = 4 << 20

// HexBytes is a byte string written in JSON as lower-case hex.
type HexBytes []byte

// MarshalText encodes b as hex.
func (b HexBytes) MarshalText() ([]byte, error) {
	return []byte(hex.EncodeToString(b)), nil
}

// UnmarshalText decodes hex (an optional "0x" prefix is allowed).
func (b *HexBytes) UnmarshalText(t []byte) error {
	t = bytes.TrimPrefix(t, []byte("0x"))
	out := make([]byte, hex.DecodedLen(len(t)))
	if _, err := hex.Decode(out, t); err != nil {
		return fmt.Errorf("not hex: %w", err)
	}
	*b = out
	return nil
}

// Member is one validator in the committee file; `dagd init` writes a
// home's own as validator.json.
type Member struct {
	// Name identifies the validator to operators (letters, digits, '.',
	// '_', '-'; not a number).
	Name string `json:"name"`
	// BLSPublicKey is the 96-byte BLS12-381 (min-sig) public key.
	BLSPublicKey HexBytes `json:"bls_public_key"`
	// ProofOfPossession is the 48-byte proof for BLSPublicKey.
	ProofOfPossession HexBytes `json:"proof_of_possession"`
	// NetworkKey is the 32-byte Ed25519 public key of the transport.
	NetworkKey HexBytes `json:"network_key"`
	// Address is the QUIC (UDP) address peers dial, host:port.
	Address string `json:"address"`
	// Stake weighs the validator in quorums; positive.
	Stake uint64 `json:"stake"`
}

// Committee is the committee (genesis) file: the validators of one epoch
// of one chain, in index order.
type Committee struct {
	// ChainID separates networks.
	ChainID string `json:"chain_id"`
	// Epoch of this committee.
	Epoch uint64 `json:"epoch"`
	// Validators in index order.
	Validators []Member `json:"validators"`
}

// Validate checks the committee: names and addresses unique and well
// formed, keys of the right sizes and distinct, every proof of
// possession valid, stakes positive. Errors name the validator.
func (c *Committee) Validate() error {
	var errs []error
	if c.ChainID == "" || len(c.ChainID) > 64 || !printableASCII(c.ChainID) {
		errs = append(errs, fmt.Errorf("chain_id %q: want 1 to 64 printable ASCII characters", c.ChainID))
	}
	if len(c.Validators) == 0 {
		errs = append(errs, errors.New("no validators"))
	}
	if len(c.Validators) > dag.MaxCommitteeSize {
		errs = append(errs, fmt.Errorf("%d validators exceed %d", len(c.Validators), dag.MaxCommitteeSize))
	}
	names, addrs, netKeys := map[string]int{}, map[string]int{}, map[string]int{}
	for i, m := range c.Validators {
		bad := func(format string, args ...any) {
			errs = append(errs, fmt.Errorf("validator %d (%q): %s", i, m.Name, fmt.Sprintf(format, args...)))
		}
		if err := checkName(m.Name, false); err != nil {
			bad("name: %v", err)
		} else if j, dup := names[m.Name]; dup {
			bad("name also used by validator %d", j)
		} else {
			names[m.Name] = i
		}
		if len(m.BLSPublicKey) != crypto.BLSPublicKeySize {
			bad("bls_public_key of %d bytes, want %d", len(m.BLSPublicKey), crypto.BLSPublicKeySize)
		}
		if len(m.ProofOfPossession) != crypto.BLSSignatureSize {
			bad("proof_of_possession of %d bytes, want %d", len(m.ProofOfPossession), crypto.BLSSignatureSize)
		}
		if len(m.NetworkKey) != ed25519.PublicKeySize {
			bad("network_key of %d bytes, want %d", len(m.NetworkKey), ed25519.PublicKeySize)
		} else if j, dup := netKeys[string(m.NetworkKey)]; dup {
			bad("network_key also used by validator %d", j)
		} else {
			netKeys[string(m.NetworkKey)] = i
		}
		if err := checkHostPort(m.Address, false); err != nil {
			bad("address: %v", err)
		} else if j, dup := addrs[m.Address]; dup {
			bad("address also used by validator %d", j)
		} else {
			addrs[m.Address] = i
		}
		if m.Stake == 0 {
			bad("stake must be positive")
		}
	}
	if len(errs) == 0 {
		// Parses every BLS key and checks every proof of possession,
		// distinct keys and the total stake.
		if _, _, err := engine.BuildBLSCommittee(c.Epoch, c.EngineValidators()); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("committee: %w", err)
	}
	return nil
}

// EngineValidators returns the committee as engine.Options.Committee.
func (c *Committee) EngineValidators() []engine.Validator {
	out := make([]engine.Validator, len(c.Validators))
	for i, m := range c.Validators {
		out[i] = engine.Validator{BLSPublicKey: bytes.Clone(m.BLSPublicKey), ProofOfPossession: bytes.Clone(m.ProofOfPossession),
			Stake: m.Stake, NetworkKey: ed25519.PublicKey(bytes.Clone(m.NetworkKey)), Address: m.Address}
	}
	return out
}

// Find returns the index of the validator ref names: a name, or an index
// in decimal. With ref "", it finds the validator whose BLS public key is
// blsKey.
func (c *Committee) Find(ref string, blsKey []byte) (dag.ValidatorID, error) {
	if ref == "" {
		for i, m := range c.Validators {
			if bytes.Equal(m.BLSPublicKey, blsKey) {
				return dag.ValidatorID(i), nil
			}
		}
		return 0, fmt.Errorf("committee: no validator has this node's BLS key %x...", blsKey[:min(8, len(blsKey))])
	}
	for i, m := range c.Validators {
		if m.Name == ref {
			return dag.ValidatorID(i), nil
		}
	}
	if i, err := strconv.ParseUint(ref, 10, 16); err == nil {
		if i >= uint64(len(c.Validators)) {
			return 0, fmt.Errorf("committee: validator index %d outside a committee of %d", i, len(c.Validators))
		}
		return dag.ValidatorID(i), nil
	}
	return 0, fmt.Errorf("committee: no validator named %q", ref)
}

// LoadCommittee reads and validates a committee file.
func LoadCommittee(path string) (*Committee, error) {
	var c Committee
	if err := readJSONFile(path, maxCommitteeFile, &c); err != nil {
		return nil, fmt.Errorf("committee file: %w", err)
	}
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &c, nil
}

// LoadMember reads a validator's public entry (validator.json) and checks
// its keys and proof of possession.
func LoadMember(path string) (*Member, error) {
	var m Member
	if err := readJSONFile(path, 64<<10, &m); err != nil {
		return nil, fmt.Errorf("validator file: %w", err)
	}
	// A committee of one checks everything a member can get wrong.
	c := Committee{ChainID: "check", Validators: []Member{m}}
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &m, nil
}

// AssembleCommittee builds and validates the committee of chainID and
// epoch from the validators' entries, in the order given.
func AssembleCommittee(chainID string, epoch uint64, members []Member) (*Committee, error) {
	c := &Committee{ChainID: chainID, Epoch: epoch, Validators: members}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// WriteFile writes c as indented JSON to path, mode 0644 (the committee is
// public), replacing the file atomically.
func (c *Committee) WriteFile(path string) error { return writeJSONFile(path, c, 0o644) }

// WriteFile writes m as indented JSON to path, mode 0644.
func (m *Member) WriteFile(path string) error { return writeJSONFile(path, m, 0o644) }

func writeJSONFile(path string, v any, perm os.FileMode) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	if err := writeFileAtomic(path, append(b, '\n'), perm); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	return nil
}

// readJSONFile decodes one JSON value from path strictly: no unknown
// fields, nothing after the value, at most limit bytes.
func readJSONFile(path string, limit int64, v any) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	if int64(len(data)) > limit {
		return fmt.Errorf("%s exceeds %d bytes", path, limit)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if dec.More() {
		return fmt.Errorf("%s: data after the JSON value", path)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("%s: data after the JSON value", path)
	}
	return nil
}
