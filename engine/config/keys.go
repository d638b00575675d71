package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/dagd/dagd/crypto"
)

// Errors of the key files.
var (
	// ErrWrongPassword: the password does not open the keystore.
	ErrWrongPassword = errors.New("wrong keystore password")
	// ErrBadKeystore: the keystore file is truncated, corrupt or not a
	// keystore this node reads.
	ErrBadKeystore = errors.New("keystore file is damaged or unsupported")
	// ErrNoPassword: neither keys.password_file nor the variable
	// keys.password_env gives a password.
	ErrNoPassword = errors.New("no keystore password")
)

// maxPasswordFile bounds the size of a password file read.
const maxPasswordFile = 4096

// Keys are a validator's private keys.
type Keys struct {
	// BLS signs headers, votes and availability attestations.
	BLS *crypto.BLSPrivateKey
	// Network is the validator's TLS identity on the transport.
	Network *crypto.NetworkKey
	// Account is the node's own ledger account (engine.Options.AccountKey),
	// nil when the home has none.
	Account *crypto.AccountPrivateKey
}

// GenerateKeys makes a fresh BLS key and network key from rand
// (crypto/rand when nil).
func GenerateKeys(rand io.Reader) (*Keys, error) {
	bk, err := crypto.GenerateBLSKey(rand)
	if err != nil {
		return nil, fmt.Errorf("config: generate BLS key: %w", err)
	}
	nk, err := crypto.GenerateNetworkKey(rand)
	if err != nil {
		return nil, fmt.Errorf("config: generate network key: %w", err)
	}
	ak, err := crypto.GenerateAccountKey(rand)
	if err != nil {
		return nil, fmt.Errorf("config: generate account key: %w", err)
	}
	return &Keys{BLS: bk, Network: nk, Account: ak}, nil
}

// Member returns the public committee entry of these keys.
func (k *Keys) Member(name, address string, stake uint64) *Member {
	return &Member{Name: name, BLSPublicKey: k.BLS.PublicKey().Bytes(), ProofOfPossession: k.BLS.ProofOfPossession(),
		NetworkKey: HexBytes(k.Network.Public()), Address: address, Stake: stake}
}

// WriteKeystores encrypts k under password into the keystore files that c
// names (mode 0600, in directories of mode 0700), with the scrypt cost of
// ko (zero: EIP-2335's); the account keystore only when k has an account
// and keys.account_keystore is set. Existing files are replaced only when
// overwrite is set.
func WriteKeystores(c *Config, k *Keys, password []byte, ko crypto.KeystoreOptions, rand io.Reader, overwrite bool) error {
	if len(password) == 0 {
		return fmt.Errorf("config: write keystores: %w: the password is empty", ErrNoPassword)
	}
	files := []struct {
		key, path, desc string
		secret, pub     []byte
	}{
		{"keys.bls_keystore", c.Path(c.Keys.BLSKeystore), "dagd validator BLS12-381 key (min-sig)", k.BLS.Bytes(), k.BLS.PublicKey().Bytes()},
		{"keys.network_keystore", c.Path(c.Keys.NetworkKeystore), "dagd validator Ed25519 network key", k.Network.Bytes(), k.Network.Public()},
	}
	if k.Account != nil && c.Keys.AccountKeystore != "" {
		seed, pub := k.Account.Seed(), k.Account.Public()
		files = append(files, struct {
			key, path, desc string
			secret, pub     []byte
		}{"keys.account_keystore", c.Path(c.Keys.AccountKeystore), "dagd node Ed25519 ledger account key (seed)", seed[:], pub[:]})
	}
	for _, f := range files {
		data, err := crypto.EncryptKeystoreWithOptions(f.secret, password, f.desc, f.pub, rand, ko)
		if err != nil {
			return fmt.Errorf("config: %s: %w", f.key, err)
		}
		if err := os.MkdirAll(filepath.Dir(f.path), 0o700); err != nil {
			return fmt.Errorf("config: %s: %w", f.key, err)
		}
		if !overwrite {
			if _, err := os.Lstat(f.path); err == nil {
				return fmt.Errorf("config: %s: %s exists", f.key, f.path)
			}
		}
		if err := writeFileAtomic(f.path, data, 0o600); err != nil {
			return fmt.Errorf("config: %s: %w", f.key, err)
		}
	}
	return nil
}

// LoadKeys decrypts the keystores c names with password. A wrong
// password is ErrWrongPassword; a truncated, corrupt or unsupported file
// is ErrBadKeystore; both errors name the file.
func LoadKeys(c *Config, password []byte) (*Keys, error) {
	var pub []byte
	bpath, npath := c.Path(c.Keys.BLSKeystore), c.Path(c.Keys.NetworkKeystore)
	bs, err := readKeystore("keys.bls_keystore", bpath, password, &pub)
	if err != nil {
		return nil, err
	}
	defer clear(bs)
	bk, err := crypto.ParseBLSPrivateKey(bs)
	if err != nil {
		return nil, fmt.Errorf("config: keys.bls_keystore %s: not a BLS key: %w: %w", bpath, ErrBadKeystore, err)
	}
	if err := checkPubkey("keys.bls_keystore", bpath, pub, bk.PublicKey().Bytes()); err != nil {
		return nil, err
	}
	ns, err := readKeystore("keys.network_keystore", npath, password, &pub)
	if err != nil {
		return nil, err
	}
	defer clear(ns)
	nk, err := crypto.ParseNetworkKey(ns)
	if err != nil {
		return nil, fmt.Errorf("config: keys.network_keystore %s: not a network key: %w: %w", npath, ErrBadKeystore, err)
	}
	if err := checkPubkey("keys.network_keystore", npath, pub, nk.Public()); err != nil {
		return nil, err
	}
	keys := &Keys{BLS: bk, Network: nk}
	apath := c.Path(c.Keys.AccountKeystore)
	if apath == "" {
		return keys, nil
	}
	if _, err := os.Stat(apath); errors.Is(err, os.ErrNotExist) {
		return keys, nil // a home written before accounts: the node has none
	}
	as, err := readKeystore("keys.account_keystore", apath, password, &pub)
	if err != nil {
		return nil, err
	}
	defer clear(as)
	if len(as) != crypto.AccountSeedSize {
		return nil, fmt.Errorf("config: keys.account_keystore %s: not an account key seed (%d bytes): %w", apath, len(as), ErrBadKeystore)
	}
	keys.Account = crypto.AccountKeyFromSeed([crypto.AccountSeedSize]byte(as))
	apub := keys.Account.Public()
	if err := checkPubkey("keys.account_keystore", apath, pub, apub[:]); err != nil {
		return nil, err
	}
	return keys, nil
}

// readKeystore decrypts the keystore at path; pubkey receives the public
// key the file declares (hex "pubkey", possibly empty).
func readKeystore(key, path string, password []byte, pubkey *[]byte) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("config: %s: %w", key, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, crypto.MaxKeystoreSize+1))
	if err != nil {
		return nil, fmt.Errorf("config: %s: read %s: %w", key, path, err)
	}
	secret, err := crypto.DecryptKeystore(data, password)
	switch {
	case errors.Is(err, crypto.ErrWrongPassword):
		return nil, fmt.Errorf("config: %s %s: %w", key, path, ErrWrongPassword)
	case err != nil:
		return nil, fmt.Errorf("config: %s %s: %w: %w", key, path, ErrBadKeystore, err)
	}
	var decl struct {
		Pubkey HexBytes `json:"pubkey"`
	}
	if err := json.Unmarshal(data, &decl); err != nil {
		clear(secret)
		return nil, fmt.Errorf("config: %s %s: pubkey: %w: %w", key, path, ErrBadKeystore, err)
	}
	*pubkey = decl.Pubkey
	return secret, nil
}

// checkPubkey compares the public key of a decrypted secret with the one
// its keystore declares (when it declares one): a mismatch is a keystore
// swapped with another.
func checkPubkey(key, path string, declared, actual []byte) error {
	if len(declared) > 0 && !bytes.Equal(declared, actual) {
		return fmt.Errorf("config: %s %s: the key does not match the file's pubkey (the other keystore?): %w", key, path, ErrBadKeystore)
	}
	return nil
}

// Password returns the keystore password: the first line of
// keys.password_file when it is set, else the value of the environment
// variable keys.password_env (looked up with getenv). It reports
// ErrNoPassword when neither gives one (a terminal may then prompt).
func (c *Config) Password(getenv func(string) string) ([]byte, error) {
	if c.Keys.PasswordFile != "" {
		return ReadPasswordFile(c.Path(c.Keys.PasswordFile))
	}
	if c.Keys.PasswordEnv != "" {
		if pw := getenv(c.Keys.PasswordEnv); pw != "" {
			return []byte(pw), nil
		}
		return nil, fmt.Errorf("config: %w: keys.password_file is empty and $%s is not set", ErrNoPassword, c.Keys.PasswordEnv)
	}
	return nil, fmt.Errorf("config: %w: keys.password_file and keys.password_env are empty", ErrNoPassword)
}

// ReadPasswordFile returns the first line of a password file, without
// its line ending. An empty password is ErrNoPassword.
func ReadPasswordFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("config: password file: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxPasswordFile+1))
	if err != nil {
		return nil, fmt.Errorf("config: password file %s: %w", path, err)
	}
	if len(data) > maxPasswordFile {
		return nil, fmt.Errorf("config: password file %s exceeds %d bytes", path, maxPasswordFile)
	}
	line, _, _ := bytes.Cut(data, []byte("\n"))
	line = bytes.TrimSuffix(line, []byte("\r"))
	if len(line) == 0 {
		return nil, fmt.Errorf("config: %w: password file %s is empty", ErrNoPassword, path)
	}
	return bytes.Clone(line), nil
}
