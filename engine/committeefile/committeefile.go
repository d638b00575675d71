package committeefile

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/dagd/dagd/crypto/blsverify"
)

// Bounds of the format.
const (
	// MaxFileSize bounds the size of a committee file read (1024
	// validators of about 500 bytes each fit).
	MaxFileSize = 4 << 20
	// MaxMemberFileSize bounds the size of a validator.json read.
	MaxMemberFileSize = 64 << 10
	// MaxValidators bounds a committee's size; it equals
	// dag.MaxCommitteeSize (engine/config's tests hold them equal).
	MaxValidators = 1024
	// MaxTotalStake bounds a committee's total stake as dag bounds it, so
	// that quorum arithmetic never overflows.
	MaxTotalStake = 1 << 60
	// MaxChainIDSize bounds the chain id in bytes.
	MaxChainIDSize = 64
	// MaxNameSize bounds a validator's name in bytes.
	MaxNameSize = 64
)

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
// formed, keys of the right sizes and distinct, every BLS key a valid
// point with a valid proof of possession, stakes positive and their total
// bounded. Errors name the validator.
func (c *Committee) Validate() error {
	var errs []error
	if !ValidChainID(c.ChainID) {
		errs = append(errs, fmt.Errorf("chain_id %q: want 1 to %d printable ASCII characters", c.ChainID, MaxChainIDSize))
	}
	if len(c.Validators) == 0 {
		errs = append(errs, errors.New("no validators"))
	}
	if len(c.Validators) > MaxValidators {
		errs = append(errs, fmt.Errorf("%d validators exceed %d", len(c.Validators), MaxValidators))
	}
	names, addrs, netKeys, blsKeys := map[string]int{}, map[string]int{}, map[string]int{}, map[string]int{}
	var total uint64
	for i, m := range c.Validators {
		bad := func(format string, args ...any) {
			errs = append(errs, fmt.Errorf("validator %d (%q): %w", i, m.Name, fmt.Errorf(format, args...)))
		}
		if err := CheckName(m.Name, false); err != nil {
			bad("name: %w", err)
		} else if j, dup := names[m.Name]; dup {
			bad("name also used by validator %d", j)
		} else {
			names[m.Name] = i
		}
		keyOK := len(m.BLSPublicKey) == blsverify.PublicKeySize
		if !keyOK {
			bad("bls_public_key of %d bytes, want %d", len(m.BLSPublicKey), blsverify.PublicKeySize)
		} else if j, dup := blsKeys[string(m.BLSPublicKey)]; dup {
			bad("bls_public_key also used by validator %d", j)
			keyOK = false
		} else {
			blsKeys[string(m.BLSPublicKey)] = i
		}
		popOK := len(m.ProofOfPossession) == blsverify.SignatureSize
		if !popOK {
			bad("proof_of_possession of %d bytes, want %d", len(m.ProofOfPossession), blsverify.SignatureSize)
		}
		if keyOK && popOK {
			if err := checkProofOfPossession(m.BLSPublicKey, m.ProofOfPossession); err != nil {
				bad("%w", err)
			}
		}
		if len(m.NetworkKey) != ed25519.PublicKeySize {
			bad("network_key of %d bytes, want %d", len(m.NetworkKey), ed25519.PublicKeySize)
		} else if j, dup := netKeys[string(m.NetworkKey)]; dup {
			bad("network_key also used by validator %d", j)
		} else {
			netKeys[string(m.NetworkKey)] = i
		}
		if err := CheckAddress(m.Address, false); err != nil {
			bad("address: %w", err)
		} else if j, dup := addrs[m.Address]; dup {
			bad("address also used by validator %d", j)
		} else {
			addrs[m.Address] = i
		}
		switch {
		case m.Stake == 0:
			bad("stake must be positive")
		case m.Stake > MaxTotalStake || total+m.Stake > MaxTotalStake:
			bad("total stake exceeds %d", uint64(MaxTotalStake))
			total = MaxTotalStake + 1 // report the overflow once
		default:
			total += m.Stake
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("committee: %w", err)
	}
	return nil
}

// checkProofOfPossession parses a BLS public key and its proof of
// possession and verifies the proof with the cgo-free verifier.
func checkProofOfPossession(key, proof []byte) error {
	pk, err := blsverify.ParsePublicKey(key)
	if err != nil {
		return fmt.Errorf("bls_public_key: %w", err)
	}
	pop, err := blsverify.ParseSignature(proof)
	if err != nil {
		return fmt.Errorf("proof of possession: %w", err)
	}
	if err := blsverify.VerifyProofOfPossession(pk, pop); err != nil {
		return fmt.Errorf("proof of possession does not verify: %w", err)
	}
	return nil
}

// Find returns the index of the validator ref names: a name, or an index
// in decimal. With ref "", it finds the validator whose BLS public key is
// blsKey.
func (c *Committee) Find(ref string, blsKey []byte) (int, error) {
	if ref == "" {
		for i, m := range c.Validators {
			if bytes.Equal(m.BLSPublicKey, blsKey) {
				return i, nil
			}
		}
		return 0, fmt.Errorf("committee: no validator has this node's BLS key %x...", blsKey[:min(8, len(blsKey))])
	}
	for i, m := range c.Validators {
		if m.Name == ref {
			return i, nil
		}
	}
	if i, err := strconv.ParseUint(ref, 10, 16); err == nil {
		if i >= uint64(len(c.Validators)) {
			return 0, fmt.Errorf("committee: validator index %d outside a committee of %d", i, len(c.Validators))
		}
		return int(i), nil
	}
	return 0, fmt.Errorf("committee: no validator named %q", ref)
}

// Decode decodes a committee file's bytes strictly (no unknown fields,
// nothing after the value, at most MaxFileSize bytes) without validating
// the committee.
func Decode(data []byte) (*Committee, error) {
	var c Committee
	if err := DecodeJSON(data, MaxFileSize, &c); err != nil {
		return nil, fmt.Errorf("committee file: %w", err)
	}
	return &c, nil
}

// Parse decodes a committee file's bytes as Decode does and validates the
// committee.
func Parse(data []byte) (*Committee, error) {
	c, err := Decode(data)
	if err != nil {
		return nil, err
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// Load reads and validates a committee file.
func Load(path string) (*Committee, error) {
	var c Committee
	if err := ReadJSONFile(path, MaxFileSize, &c); err != nil {
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
	if err := ReadJSONFile(path, MaxMemberFileSize, &m); err != nil {
		return nil, fmt.Errorf("validator file: %w", err)
	}
	// A committee of one checks everything a member can get wrong.
	c := Committee{ChainID: "check", Validators: []Member{m}}
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &m, nil
}

// Assemble builds and validates the committee of chainID and epoch from
// the validators' entries, in the order given.
func Assemble(chainID string, epoch uint64, members []Member) (*Committee, error) {
	c := &Committee{ChainID: chainID, Epoch: epoch, Validators: members}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// Marshal returns c as the committee file's bytes: indented JSON and a
// final newline, what WriteFile writes.
func (c *Committee) Marshal() ([]byte, error) { return marshal(c) }

// WriteFile writes c as indented JSON to path, mode 0644 (the committee is
// public), replacing the file atomically.
func (c *Committee) WriteFile(path string) error { return WriteJSONFile(path, c, 0o644) }

// WriteFile writes m as indented JSON to path, mode 0644.
func (m *Member) WriteFile(path string) error { return WriteJSONFile(path, m, 0o644) }

func marshal(v any) ([]byte, error) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("committeefile: %w", err)
	}
	return append(b, '\n'), nil
}

// WriteJSONFile writes v as indented JSON with a final newline to path,
// replacing the file atomically with mode perm.
func WriteJSONFile(path string, v any, perm os.FileMode) error {
	b, err := marshal(v)
	if err != nil {
		return err
	}
	if err := WriteFileAtomic(path, b, perm); err != nil {
		return fmt.Errorf("committeefile: %w", err)
	}
	return nil
}

// ReadJSONFile decodes one JSON value from path strictly, as DecodeJSON
// does, reading at most limit+1 bytes.
func ReadJSONFile(path string, limit int64, v any) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	if err := DecodeJSON(data, limit, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// errTrailing reports bytes after the JSON value.
var errTrailing = errors.New("data after the JSON value")

// DecodeJSON decodes one JSON value from data strictly: no unknown
// fields, nothing after the value, at most limit bytes.
func DecodeJSON(data []byte, limit int64, v any) error {
	if int64(len(data)) > limit {
		return fmt.Errorf("exceeds %d bytes", limit)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errTrailing
	}
	if _, err := dec.Token(); err != io.EOF {
		return errTrailing
	}
	return nil
}

// WriteFileAtomic writes data to a temporary file beside path, syncs it
// and renames it over path.
func WriteFileAtomic(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	name := tmp.Name()
	ok := false
	defer func() {
		if !ok {
			_ = tmp.Close()
			_ = os.Remove(name)
		}
	}()
	if err := tmp.Chmod(perm); err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(name, path); err != nil {
		return err
	}
	ok = true
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}

// ValidChainID reports whether s is a valid chain id: 1 to MaxChainIDSize
// printable ASCII characters, no space.
func ValidChainID(s string) bool {
	return s != "" && len(s) <= MaxChainIDSize && PrintableASCII(s)
}

// PrintableASCII reports whether every byte of s is printable ASCII other
// than space (0x21 to 0x7e).
func PrintableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// CheckName checks a validator name: 1 to 64 letters, digits, '.', '_'
// or '-', not all digits (a decimal string is an index). With
// allowIndex, a decimal index is accepted too.
func CheckName(s string, allowIndex bool) error {
	if s == "" || len(s) > MaxNameSize {
		return fmt.Errorf("%q: want 1 to %d characters", s, MaxNameSize)
	}
	digits := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '.', c == '_', c == '-':
			digits = false
		default:
			return fmt.Errorf("%q: a name has only letters, digits, '.', '_' and '-'", s)
		}
	}
	if digits && !allowIndex {
		return fmt.Errorf("%q: a name must not be a number (numbers are indexes)", s)
	}
	if digits {
		if _, err := strconv.ParseUint(s, 10, 16); err != nil {
			return fmt.Errorf("%q: index out of range", s)
		}
	}
	return nil
}

// CheckAddress checks a host:port listen or dial address. Port 0 (any
// free port) is allowed only when allowZero.
func CheckAddress(addr string, allowZero bool) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q: want host:port: %w", addr, err)
	}
	if strings.ContainsAny(host, " \t/") {
		return fmt.Errorf("%q: bad host %q", addr, host)
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return fmt.Errorf("%q: port %q: want 0..65535", addr, port)
	}
	if p == 0 && !allowZero {
		return fmt.Errorf("%q: port 0: a fixed port is needed (peers dial it)", addr)
	}
	return nil
}
