package crypto

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/pbkdf2"
	cryptorand "crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"

	"golang.org/x/crypto/scrypt"
	"golang.org/x/text/unicode/norm"
)

// Keystore format constants (EIP-2335).
const (
	// KeystoreVersion is the only keystore version read and written.
	KeystoreVersion = 4
	// DefaultKeystoreScryptN is EIP-2335's scrypt cost N (2^18): 256 MiB
	// of memory with r = 8, about a second of work.
	DefaultKeystoreScryptN = 1 << 18
	// DefaultKeystoreScryptR is EIP-2335's scrypt block size r.
	DefaultKeystoreScryptR = 8
	// DefaultKeystoreScryptP is EIP-2335's scrypt parallelism p.
	DefaultKeystoreScryptP = 1
	// MaxKeystoreSize bounds the size of a keystore file read.
	MaxKeystoreSize = 64 << 10
	// MaxKeystoreSecretSize bounds the size of the secret in a keystore.
	MaxKeystoreSecretSize = 1 << 10
	// MaxKeystoreScryptMemory bounds the memory scrypt allocates,
	// 128·r·(N+p+2) bytes, in a file read: 257 MiB, just above what the
	// EIP-2335 defaults need (256 MiB), so that a hostile file cannot make
	// a node allocate gigabytes.
	MaxKeystoreScryptMemory = 257 << 20
	// MaxKeystoreScryptP bounds scrypt's parallelism p, which multiplies
	// its running time.
	MaxKeystoreScryptP = 4
	// MaxKeystorePBKDF2Iterations bounds PBKDF2's iteration count c (the
	// EIP-2335 default is 2^18).
	MaxKeystorePBKDF2Iterations = 1 << 21
)

const (
	keystoreDKLen   = 32
	keystoreIVLen   = aes.BlockSize
	keystoreSaltMin = 16
	keystoreSaltMax = 1024
)

// KeystoreOptions are the key-derivation parameters of EncryptKeystoreWithOptions.
// The zero value means EIP-2335's defaults.
type KeystoreOptions struct {
	// ScryptN is scrypt's cost parameter, a power of two of at least 2.
	// Default DefaultKeystoreScryptN (2^18). Tests may use small values
	// such as 1<<10 to run fast; such files protect nothing.
	ScryptN int
	// ScryptR is scrypt's block size. Default DefaultKeystoreScryptR (8).
	ScryptR int
	// ScryptP is scrypt's parallelism. Default DefaultKeystoreScryptP (1).
	ScryptP int
}

// EnsureDefaults fills zero fields with EIP-2335's defaults.
func (o *KeystoreOptions) EnsureDefaults() {
	if o.ScryptN == 0 {
		o.ScryptN = DefaultKeystoreScryptN
	}
	if o.ScryptR == 0 {
		o.ScryptR = DefaultKeystoreScryptR
	}
	if o.ScryptP == 0 {
		o.ScryptP = DefaultKeystoreScryptP
	}
}

// Validate checks that the parameters are ones DecryptKeystore accepts.
func (o *KeystoreOptions) Validate() error {
	return checkScryptParams(uint64(max(o.ScryptN, 0)), uint64(max(o.ScryptR, 0)), uint64(max(o.ScryptP, 0)), defaultKeystoreLimits())
}

// keystoreLimits are the bounds applied when reading a keystore; fuzzing
// lowers them to keep each run fast.
type keystoreLimits struct {
	maxScryptMemory uint64
	maxScryptP      uint64
	maxPBKDF2Iter   uint64
}

func defaultKeystoreLimits() keystoreLimits {
	return keystoreLimits{
		maxScryptMemory: MaxKeystoreScryptMemory,
		maxScryptP:      MaxKeystoreScryptP,
		maxPBKDF2Iter:   MaxKeystorePBKDF2Iterations,
	}
}

func checkScryptParams(n, r, p uint64, lim keystoreLimits) error {
	switch {
	case n < 2 || n&(n-1) != 0:
		return fmt.Errorf("scrypt n = %d is not a power of two of at least 2: %w", n, ErrMalformed)
	case r < 1 || p < 1:
		return fmt.Errorf("scrypt r = %d and p = %d must be positive: %w", r, p, ErrMalformed)
	case p > lim.maxScryptP:
		return fmt.Errorf("scrypt p = %d exceeds the limit of %d: %w", p, lim.maxScryptP, ErrMalformed)
	case r > lim.maxScryptMemory/128 || n > lim.maxScryptMemory/(128*r) || n+p+2 > lim.maxScryptMemory/(128*r):
		// scrypt allocates 128·r·N bytes for V, 128·r·p for B and
		// 256·r for XY.
		return fmt.Errorf("scrypt n = %d, r = %d, p = %d needs more than the %d MiB allowed: %w", n, r, p, lim.maxScryptMemory>>20, ErrMalformed)
	}
	return nil
}

// The JSON layout of an EIP-2335 keystore.
type keystoreJSON struct {
	Crypto      keystoreCrypto `json:"crypto"`
	Description string         `json:"description"`
	Pubkey      string         `json:"pubkey"`
	Path        string         `json:"path"`
	UUID        string         `json:"uuid"`
	Version     int            `json:"version"`
}

type keystoreCrypto struct {
	KDF      keystoreModule `json:"kdf"`
	Checksum keystoreModule `json:"checksum"`
	Cipher   keystoreModule `json:"cipher"`
}

type keystoreModule struct {
	Function string          `json:"function"`
	Params   json.RawMessage `json:"params"`
	Message  string          `json:"message"`
}

type scryptParams struct {
	DKLen uint64 `json:"dklen"`
	N     uint64 `json:"n"`
	P     uint64 `json:"p"`
	R     uint64 `json:"r"`
	Salt  string `json:"salt"`
}

type pbkdf2Params struct {
	DKLen uint64 `json:"dklen"`
	C     uint64 `json:"c"`
	PRF   string `json:"prf"`
	Salt  string `json:"salt"`
}

type cipherParams struct {
	IV string `json:"iv"`
}

// EncryptKeystore encrypts secret (for a validator, BLSPrivateKey.Bytes) under
// password into an EIP-2335 keystore with the default scrypt parameters.
// description and pubkey (hex-encoded into the file; may be empty) are
// stored in clear. Salt, IV and UUID come from rand (crypto/rand when nil).
func EncryptKeystore(secret, password []byte, description string, pubkey []byte, rand io.Reader) ([]byte, error) {
	return EncryptKeystoreWithOptions(secret, password, description, pubkey, rand, KeystoreOptions{})
}

// EncryptKeystoreWithOptions is EncryptKeystore with explicit scrypt
// parameters. It reads the 32-byte salt, then the 16-byte IV, then the
// 16 bytes of the version-4 UUID from rand.
func EncryptKeystoreWithOptions(secret, password []byte, description string, pubkey []byte, rand io.Reader, opts KeystoreOptions) ([]byte, error) {
	opts.EnsureDefaults()
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("crypto: encrypt keystore: %w", err)
	}
	if len(secret) == 0 || len(secret) > MaxKeystoreSecretSize {
		return nil, fmt.Errorf("crypto: encrypt keystore: secret of %d bytes, want 1 to %d: %w", len(secret), MaxKeystoreSecretSize, ErrMalformed)
	}
	pw, err := normalizeKeystorePassword(password)
	if err != nil {
		return nil, fmt.Errorf("crypto: encrypt keystore: %w", err)
	}
	defer clear(pw)
	if rand == nil {
		rand = cryptorand.Reader
	}
	var salt [32]byte
	var iv [keystoreIVLen]byte
	var id [16]byte
	for _, b := range [][]byte{salt[:], iv[:], id[:]} {
		if _, err := io.ReadFull(rand, b); err != nil {
			return nil, fmt.Errorf("crypto: encrypt keystore: read randomness: %w", err)
		}
	}
	dk, err := scrypt.Key(pw, salt[:], opts.ScryptN, opts.ScryptR, opts.ScryptP, keystoreDKLen)
	if err != nil {
		return nil, fmt.Errorf("crypto: encrypt keystore: scrypt: %w", err)
	}
	defer clear(dk)
	ct, err := aes128CTR(dk[:16], iv[:], secret)
	if err != nil {
		return nil, fmt.Errorf("crypto: encrypt keystore: %w", err)
	}
	sum := keystoreChecksum(dk, ct)

	kdfParams, err := json.Marshal(scryptParams{DKLen: keystoreDKLen, N: uint64(opts.ScryptN), P: uint64(opts.ScryptP), R: uint64(opts.ScryptR), Salt: hex.EncodeToString(salt[:])})
	if err != nil {
		return nil, fmt.Errorf("crypto: encrypt keystore: %w", err)
	}
	cipherParamsJSON, err := json.Marshal(cipherParams{IV: hex.EncodeToString(iv[:])})
	if err != nil {
		return nil, fmt.Errorf("crypto: encrypt keystore: %w", err)
	}
	id[6] = id[6]&0x0f | 0x40 // version 4
	id[8] = id[8]&0x3f | 0x80 // RFC 4122 variant
	ks := keystoreJSON{
		Crypto: keystoreCrypto{
			KDF:      keystoreModule{Function: "scrypt", Params: kdfParams, Message: ""},
			Checksum: keystoreModule{Function: "sha256", Params: json.RawMessage("{}"), Message: hex.EncodeToString(sum[:])},
			Cipher:   keystoreModule{Function: "aes-128-ctr", Params: cipherParamsJSON, Message: hex.EncodeToString(ct)},
		},
		Description: description,
		Pubkey:      hex.EncodeToString(pubkey),
		Path:        "",
		UUID:        fmt.Sprintf("%x-%x-%x-%x-%x", id[0:4], id[4:6], id[6:8], id[8:10], id[10:16]),
		Version:     KeystoreVersion,
	}
	out, err := json.MarshalIndent(ks, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("crypto: encrypt keystore: %w", err)
	}
	if len(out) > MaxKeystoreSize {
		return nil, fmt.Errorf("crypto: encrypt keystore: file of %d bytes exceeds %d (description too long?): %w", len(out), MaxKeystoreSize, ErrMalformed)
	}
	return out, nil
}

// DecryptKeystore returns the secret of an EIP-2335 keystore (scrypt or
// PBKDF2-HMAC-SHA256, AES-128-CTR, SHA-256 checksum). A wrong password is
// reported as ErrWrongPassword; a truncated, malformed or oversized file, a
// parameter outside the limits (MaxKeystoreScryptMemory,
// MaxKeystoreScryptP, MaxKeystorePBKDF2Iterations) as ErrMalformed; an
// unknown version, KDF, PRF, checksum or cipher as errors.ErrUnsupported.
func DecryptKeystore(data, password []byte) ([]byte, error) {
	out, err := decryptKeystore(data, password, defaultKeystoreLimits())
	if err != nil {
		return nil, fmt.Errorf("crypto: decrypt keystore: %w", err)
	}
	return out, nil
}

func decryptKeystore(data, password []byte, lim keystoreLimits) ([]byte, error) {
	if len(data) > MaxKeystoreSize {
		return nil, fmt.Errorf("file of %d bytes exceeds %d: %w", len(data), MaxKeystoreSize, ErrMalformed)
	}
	var ks keystoreJSON
	if err := json.Unmarshal(data, &ks); err != nil {
		return nil, fmt.Errorf("not a keystore JSON document: %v: %w", err, ErrMalformed)
	}
	if ks.Version != KeystoreVersion {
		return nil, fmt.Errorf("version %d, want %d: %w", ks.Version, KeystoreVersion, errors.ErrUnsupported)
	}
	c := &ks.Crypto
	if c.Checksum.Function != "sha256" {
		return nil, fmt.Errorf("checksum function %q: %w", c.Checksum.Function, errors.ErrUnsupported)
	}
	if c.Cipher.Function != "aes-128-ctr" {
		return nil, fmt.Errorf("cipher %q: %w", c.Cipher.Function, errors.ErrUnsupported)
	}
	if c.KDF.Function != "scrypt" && c.KDF.Function != "pbkdf2" {
		return nil, fmt.Errorf("kdf %q: %w", c.KDF.Function, errors.ErrUnsupported)
	}
	wantSum, err := decodeHexField("checksum message", c.Checksum.Message, sha256.Size, sha256.Size)
	if err != nil {
		return nil, err
	}
	var cp cipherParams
	if err := unmarshalParams("cipher", c.Cipher.Params, &cp); err != nil {
		return nil, err
	}
	iv, err := decodeHexField("cipher iv", cp.IV, keystoreIVLen, keystoreIVLen)
	if err != nil {
		return nil, err
	}
	ct, err := decodeHexField("cipher message", c.Cipher.Message, 1, MaxKeystoreSecretSize)
	if err != nil {
		return nil, err
	}
	pw, err := normalizeKeystorePassword(password)
	if err != nil {
		return nil, err
	}
	defer clear(pw)

	var dk []byte
	switch c.KDF.Function {
	case "scrypt":
		var p scryptParams
		if err := unmarshalParams("kdf", c.KDF.Params, &p); err != nil {
			return nil, err
		}
		if p.DKLen != keystoreDKLen {
			return nil, fmt.Errorf("kdf dklen %d, want %d: %w", p.DKLen, keystoreDKLen, ErrMalformed)
		}
		if err := checkScryptParams(p.N, p.R, p.P, lim); err != nil {
			return nil, err
		}
		salt, err := decodeHexField("kdf salt", p.Salt, keystoreSaltMin, keystoreSaltMax)
		if err != nil {
			return nil, err
		}
		dk, err = scrypt.Key(pw, salt, int(p.N), int(p.R), int(p.P), keystoreDKLen)
		if err != nil {
			return nil, fmt.Errorf("scrypt: %v: %w", err, ErrMalformed)
		}
	case "pbkdf2":
		var p pbkdf2Params
		if err := unmarshalParams("kdf", c.KDF.Params, &p); err != nil {
			return nil, err
		}
		if p.DKLen != keystoreDKLen {
			return nil, fmt.Errorf("kdf dklen %d, want %d: %w", p.DKLen, keystoreDKLen, ErrMalformed)
		}
		if p.PRF != "hmac-sha256" {
			return nil, fmt.Errorf("pbkdf2 prf %q: %w", p.PRF, errors.ErrUnsupported)
		}
		if p.C < 1 || p.C > lim.maxPBKDF2Iter {
			return nil, fmt.Errorf("pbkdf2 c = %d outside [1, %d]: %w", p.C, lim.maxPBKDF2Iter, ErrMalformed)
		}
		salt, err := decodeHexField("kdf salt", p.Salt, keystoreSaltMin, keystoreSaltMax)
		if err != nil {
			return nil, err
		}
		dk, err = pbkdf2.Key(sha256.New, string(pw), salt, int(p.C), keystoreDKLen)
		if err != nil {
			return nil, fmt.Errorf("pbkdf2: %v: %w", err, ErrMalformed)
		}
	}
	defer clear(dk)
	sum := keystoreChecksum(dk, ct)
	if subtle.ConstantTimeCompare(sum[:], wantSum) != 1 {
		return nil, fmt.Errorf("checksum mismatch: %w", ErrWrongPassword)
	}
	return aes128CTR(dk[:16], iv, ct)
}

// keystoreChecksum is SHA-256(dk[16:32] || ciphertext).
func keystoreChecksum(dk, ct []byte) [sha256.Size]byte {
	h := sha256.New()
	h.Write(dk[16:32])
	h.Write(ct)
	var out [sha256.Size]byte
	h.Sum(out[:0])
	return out
}

func aes128CTR(key, iv, in []byte) ([]byte, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("aes: %w", err)
	}
	out := make([]byte, len(in))
	cipher.NewCTR(block, iv).XORKeyStream(out, in)
	return out, nil
}

func unmarshalParams(what string, raw json.RawMessage, v any) error {
	if len(raw) == 0 {
		return fmt.Errorf("%s params missing: %w", what, ErrMalformed)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("%s params: %v: %w", what, err, ErrMalformed)
	}
	return nil
}

func decodeHexField(what, s string, minLen, maxLen int) ([]byte, error) {
	if len(s) > 2*maxLen || len(s) < 2*minLen {
		return nil, fmt.Errorf("%s has %d hex characters, want %d to %d: %w", what, len(s), 2*minLen, 2*maxLen, ErrMalformed)
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%s: %v: %w", what, err, ErrMalformed)
	}
	return b, nil
}

// normalizeKeystorePassword applies EIP-2335's password rules: the UTF-8
// password is NFKD-normalized, then the C0 (U+0000–U+001F) and C1
// (U+0080–U+009F) control codes and DEL (U+007F) are removed.
func normalizeKeystorePassword(password []byte) ([]byte, error) {
	if !utf8.Valid(password) {
		return nil, fmt.Errorf("password is not valid UTF-8: %w", ErrMalformed)
	}
	n := norm.NFKD.Bytes(password) // may be password itself: do not write into it
	out := make([]byte, 0, len(n))
	for i := 0; i < len(n); {
		r, size := utf8.DecodeRune(n[i:])
		if !(r <= 0x1f || (r >= 0x7f && r <= 0x9f)) {
			out = append(out, n[i:i+size]...)
		}
		i += size
	}
	return out, nil
}
