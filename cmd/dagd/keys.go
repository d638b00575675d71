package main

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/dagd/dagd/contracts"
	"github.com/dagd/dagd/crypto"
	"github.com/dagd/dagd/engine/config"
)

// Keyring defaults and limits.
const (
	// keyPasswordEnv names the variable that holds the keyring password
	// when --password-file is not given.
	keyPasswordEnv = "DAGD_KEY_PASSWORD"
	// keyringEnv names the variable that moves the default keyring.
	keyringEnv = "DAGD_KEYRING"
	// keyFileSuffix ends the name of every keystore file of a keyring.
	keyFileSuffix = ".keystore.json"
	// maxKeyNameLen bounds a key name.
	maxKeyNameLen = 64
	// keyDescription is the clear-text description of an account keystore.
	keyDescription = "dagd account Ed25519 key (seed)"
	// maxSeedInput bounds what keys add --recover reads from its input.
	maxSeedInput = 4096
)

// errWrongKeyPassword is reported when a password does not open a key: it
// is crypto's, so that errors.Is finds it either way.
var errWrongKeyPassword = crypto.ErrWrongPassword

// keyring is a directory of EIP-2335 keystores of account keys, one file
// NAME.keystore.json per key (mode 0600, directory mode 0700). The public
// key is in clear in each file (its "pubkey" field), so list and show need
// no password; signing decrypts the seed.
type keyring struct {
	dir string
}

// keyEntry is a key of a keyring as list and show print it.
type keyEntry struct {
	Name      string `json:"name"`
	PublicKey string `json:"public_key"`
	// Address is how the ledger names the account: its public key in hex
	// (accounts have no other address form).
	Address string `json:"address"`
	File    string `json:"file"`
}

// defaultKeyringDir is $DAGD_KEYRING, else ~/.dagd/keys.
func defaultKeyringDir() string {
	if d := os.Getenv(keyringEnv); d != "" {
		return d
	}
	home, err := os.UserHomeDir()
	if err != nil || home == "" {
		return filepath.Join(".dagd", "keys")
	}
	return filepath.Join(home, ".dagd", "keys")
}

// checkKeyName accepts 1..maxKeyNameLen of A-Z a-z 0-9 . - _, not starting
// with a dot or a dash: a name is a file name in the keyring.
func checkKeyName(name string) error {
	if name == "" || len(name) > maxKeyNameLen {
		return usageError("key name %q: want 1 to %d characters", name, maxKeyNameLen)
	}
	if name[0] == '.' || name[0] == '-' {
		return usageError("key name %q: must not start with %q", name, name[0])
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '.' || c == '-' || c == '_') {
			return usageError("key name %q: %q not allowed (A-Z a-z 0-9 . - _)", name, c)
		}
	}
	return nil
}

func (k keyring) path(name string) string { return filepath.Join(k.dir, name+keyFileSuffix) }

// add encrypts key under password as NAME, refusing to replace an existing
// key: the file is written beside its final name and linked into place,
// which fails when the name is taken.
func (k keyring) add(name string, key *crypto.AccountPrivateKey, password []byte, ko crypto.KeystoreOptions) (*keyEntry, error) {
	if err := checkKeyName(name); err != nil {
		return nil, err
	}
	path := k.path(name)
	if _, err := os.Lstat(path); err == nil {
		return nil, fmt.Errorf("key %q exists (%s): refusing to overwrite it", name, path)
	}
	seed, pub := key.Seed(), key.Public()
	defer clear(seed[:])
	data, err := crypto.EncryptKeystoreWithOptions(seed[:], password, keyDescription, pub[:], nil, ko)
	if err != nil {
		return nil, fmt.Errorf("key %q: %w", name, err)
	}
	if err := os.MkdirAll(k.dir, 0o700); err != nil {
		return nil, fmt.Errorf("keyring: %w", err)
	}
	tmp, err := os.CreateTemp(k.dir, "."+name+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("keyring: %w", err)
	}
	tmpName := tmp.Name()
	defer os.Remove(tmpName)
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("keyring: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("keyring: write %s: %w", tmpName, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("keyring: sync %s: %w", tmpName, err)
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("keyring: %w", err)
	}
	if err := os.Link(tmpName, path); err != nil {
		if errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("key %q exists (%s): refusing to overwrite it", name, path)
		}
		return nil, fmt.Errorf("keyring: %w", err)
	}
	return &keyEntry{Name: name, PublicKey: pub.String(), Address: pub.String(), File: path}, nil
}

// readFile reads the keystore of name, bounded.
func (k keyring) readFile(name string) ([]byte, error) {
	if err := checkKeyName(name); err != nil {
		return nil, err
	}
	path := k.path(name)
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("no key %q in keyring %s (see dagd keys list): %w", name, k.dir, err)
	}
	if err != nil {
		return nil, fmt.Errorf("keyring: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, crypto.MaxKeystoreSize+1))
	if err != nil {
		return nil, fmt.Errorf("keyring: read %s: %w", path, err)
	}
	if len(data) > crypto.MaxKeystoreSize {
		return nil, fmt.Errorf("keyring: %s exceeds %d bytes", path, crypto.MaxKeystoreSize)
	}
	return data, nil
}

// declaredPublic returns the public key a keystore declares in clear.
func declaredPublic(path string, data []byte) (crypto.AccountPublicKey, error) {
	var decl struct {
		Pubkey string `json:"pubkey"`
	}
	if err := json.Unmarshal(data, &decl); err != nil {
		return crypto.AccountPublicKey{}, fmt.Errorf("keyring: %s is not a keystore: %w", path, err)
	}
	raw, err := hex.DecodeString(decl.Pubkey)
	if err != nil {
		return crypto.AccountPublicKey{}, fmt.Errorf("keyring: %s: pubkey: %w", path, err)
	}
	pk, err := crypto.ParseAccountPublicKey(raw)
	if err != nil {
		return crypto.AccountPublicKey{}, fmt.Errorf("keyring: %s: not an account key: %w", path, err)
	}
	return pk, nil
}

// show returns the public entry of name, without the password.
func (k keyring) show(name string) (*keyEntry, error) {
	data, err := k.readFile(name)
	if err != nil {
		return nil, err
	}
	pk, err := declaredPublic(k.path(name), data)
	if err != nil {
		return nil, err
	}
	return &keyEntry{Name: name, PublicKey: pk.String(), Address: pk.String(), File: k.path(name)}, nil
}

// list returns the keys of the keyring by name; files that are not
// account keystores are reported in skipped.
func (k keyring) list() (keys []keyEntry, skipped []string, err error) {
	ents, err := os.ReadDir(k.dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("keyring: %w", err)
	}
	for _, e := range ents {
		name, ok := strings.CutSuffix(e.Name(), keyFileSuffix)
		if !ok || !e.Type().IsRegular() || checkKeyName(name) != nil {
			continue
		}
		ke, err := k.show(name)
		if err != nil {
			skipped = append(skipped, fmt.Sprintf("%s: %v", e.Name(), err))
			continue
		}
		keys = append(keys, *ke)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].Name < keys[j].Name })
	return keys, skipped, nil
}

// load decrypts the key name with password.
func (k keyring) load(name string, password []byte) (*crypto.AccountPrivateKey, error) {
	data, err := k.readFile(name)
	if err != nil {
		return nil, err
	}
	path := k.path(name)
	declared, err := declaredPublic(path, data)
	if err != nil {
		return nil, err
	}
	secret, err := crypto.DecryptKeystore(data, password)
	if errors.Is(err, crypto.ErrWrongPassword) {
		return nil, fmt.Errorf("key %q (%s): %w", name, path, errWrongKeyPassword)
	}
	if err != nil {
		return nil, fmt.Errorf("key %q (%s): %w", name, path, err)
	}
	defer clear(secret)
	if len(secret) != crypto.AccountSeedSize {
		return nil, fmt.Errorf("key %q (%s): not an account key seed (%d bytes)", name, path, len(secret))
	}
	key := crypto.AccountKeyFromSeed([crypto.AccountSeedSize]byte(secret))
	if key.Public() != declared {
		return nil, fmt.Errorf("key %q (%s): the seed does not match the file's pubkey", name, path)
	}
	return key, nil
}

// keyringFlags are the flags of every command that uses the keyring.
type keyringFlags struct {
	dir          string
	passwordFile string
}

func (f *keyringFlags) register(cmd *cobra.Command, password bool) {
	cmd.Flags().StringVar(&f.dir, "keyring", "", "the keyring directory (default $"+keyringEnv+", else ~/.dagd/keys)")
	if password {
		cmd.Flags().StringVar(&f.passwordFile, "password-file", "",
			"read the keyring password from the first line of this file (default: $"+keyPasswordEnv+", else a prompt on a terminal)")
	}
}

func (f *keyringFlags) keyring() keyring {
	if f.dir != "" {
		return keyring{dir: f.dir}
	}
	return keyring{dir: defaultKeyringDir()}
}

// password returns the keyring password: the first line of
// --password-file, else $DAGD_KEY_PASSWORD, else a prompt (not echoed)
// when standard input is a terminal; confirm asks twice.
func (f *keyringFlags) password(cmd *cobra.Command, confirm bool) ([]byte, error) {
	if f.passwordFile != "" {
		pw, err := config.ReadPasswordFile(f.passwordFile)
		if err != nil {
			return nil, fmt.Errorf("keyring password: %w", err)
		}
		return pw, nil
	}
	if pw := os.Getenv(keyPasswordEnv); pw != "" {
		return []byte(pw), nil
	}
	fd := int(os.Stdin.Fd())
	if cmd.InOrStdin() != io.Reader(os.Stdin) || !term.IsTerminal(fd) {
		return nil, usageError("no keyring password: give --password-file FILE or set $%s", keyPasswordEnv)
	}
	ask := func(prompt string) ([]byte, error) {
		fmt.Fprint(cmd.ErrOrStderr(), prompt)
		b, err := term.ReadPassword(fd)
		fmt.Fprintln(cmd.ErrOrStderr())
		if err != nil {
			return nil, fmt.Errorf("read password: %w", err)
		}
		return b, nil
	}
	pw, err := ask("Keyring password: ")
	if err != nil {
		return nil, err
	}
	if len(pw) == 0 {
		return nil, usageError("the password is empty")
	}
	if confirm {
		again, err := ask("Repeat the password: ")
		if err != nil {
			return nil, err
		}
		if !bytes.Equal(again, pw) {
			return nil, usageError("the passwords differ")
		}
	}
	return pw, nil
}

// readSeed reads the hex seed of keys add --recover: from a prompt (not
// echoed) on a terminal, else the first line of standard input.
func readSeed(cmd *cobra.Command) (*crypto.AccountPrivateKey, error) {
	var line []byte
	in := cmd.InOrStdin()
	if in == io.Reader(os.Stdin) && term.IsTerminal(int(os.Stdin.Fd())) {
		fmt.Fprint(cmd.ErrOrStderr(), "Account seed (64 hex characters): ")
		b, err := term.ReadPassword(int(os.Stdin.Fd()))
		fmt.Fprintln(cmd.ErrOrStderr())
		if err != nil {
			return nil, fmt.Errorf("read seed: %w", err)
		}
		line = b
	} else {
		r := bufio.NewReader(io.LimitReader(in, maxSeedInput))
		b, err := r.ReadBytes('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("read seed: %w", err)
		}
		line = b
	}
	defer clear(line)
	s := bytes.TrimSpace(line)
	seed := make([]byte, crypto.AccountSeedSize)
	defer clear(seed)
	if len(s) != 2*crypto.AccountSeedSize {
		return nil, usageError("seed: want %d hex characters, got %d", 2*crypto.AccountSeedSize, len(s))
	}
	if _, err := hex.Decode(seed, s); err != nil {
		return nil, usageError("seed: not hex")
	}
	return crypto.AccountKeyFromSeed([crypto.AccountSeedSize]byte(seed)), nil
}

// usageError is an error of the command line itself: exit status 2.
func usageError(format string, args ...any) error {
	return &exitError{code: 2, err: fmt.Errorf(format, args...)}
}

// printJSON writes v indented.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func printKey(w io.Writer, k *keyEntry) {
	fmt.Fprintf(w, "name:        %s\n", k.Name)
	fmt.Fprintf(w, "public key:  %s\n", k.PublicKey)
	fmt.Fprintf(w, "address:     %s (the ledger names an account by its public key)\n", k.Address)
	fmt.Fprintf(w, "file:        %s\n", k.File)
}

func newKeysCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "keys",
		Short: "Manage the account keys that sign transactions (add, list, show)",
		Long: `keys manages a keyring: a directory of account keys (Ed25519), each encrypted in
an EIP-2335 keystore NAME` + keyFileSuffix + ` (scrypt, AES-128-CTR; mode 0600) as the
validator keys are. The keyring is --keyring DIR, default $` + keyringEnv + `, else
~/.dagd/keys.

The password comes from --password-file FILE (its first line), else from the
environment variable ` + keyPasswordEnv + `, else from a prompt on a terminal; it is
never echoed and never taken on the command line. list and show read only the
public keys, which the files hold in clear, and need no password.

An account is named on the ledger by its public key, in hex (the form the API
and the genesis use); transactions (dagd tx) take a key NAME with --from.`,
	}
	cmd.AddCommand(newKeysAddCmd(), newKeysListCmd(), newKeysShowCmd())
	return cmd
}

func newKeysAddCmd() *cobra.Command {
	var (
		kf         keyringFlags
		fromSeed   bool
		devnetAcct int
		devnetSeed string
		scryptN    int
		asJSON     bool
	)
	cmd := &cobra.Command{
		Use:   "add NAME",
		Short: "Make a new account key (or --recover one from its seed) and store it encrypted",
		Long: `add makes a fresh Ed25519 account key, encrypts it under the keyring password
and stores it as NAME` + keyFileSuffix + ` (mode 0600). An existing key of that name is
never replaced. With --recover the key is the one of a 32-byte seed, read in hex
from a prompt on a terminal (not echoed) or from the first line of standard
input. With --devnet-account I the key is funded account I of a devnet's (or a
"dagd testnet --accounts" genesis's) whose keys derive from --devnet-seed:
anyone with the seed has those keys, so use them on local networks only.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			if err := checkKeyName(name); err != nil {
				return err
			}
			kr := kf.keyring()
			if _, err := os.Lstat(kr.path(name)); err == nil {
				return fmt.Errorf("key %q exists (%s): refusing to overwrite it", name, kr.path(name))
			}
			var (
				key *crypto.AccountPrivateKey
				err error
			)
			switch devnet := cmd.Flags().Changed("devnet-account"); {
			case devnet && fromSeed:
				return usageError("--recover and --devnet-account exclude each other")
			case devnet:
				if devnetAcct < 0 {
					return usageError("--devnet-account %d: want an account index", devnetAcct)
				}
				key = contracts.DevnetAccountKey(devnetSeed, devnetAcct)
			case fromSeed:
				key, err = readSeed(cmd)
			default:
				key, err = crypto.GenerateAccountKey(nil)
			}
			if err != nil {
				return err
			}
			pw, err := kf.password(cmd, true)
			if err != nil {
				return err
			}
			defer clear(pw)
			ke, err := kr.add(name, key, pw, crypto.KeystoreOptions{ScryptN: scryptN})
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), ke)
			}
			printKey(cmd.OutOrStdout(), ke)
			return nil
		},
	}
	kf.register(cmd, true)
	cmd.Flags().BoolVar(&fromSeed, "recover", false, "recover the key from its hex seed (prompt, or the first line of standard input)")
	cmd.Flags().IntVar(&devnetAcct, "devnet-account", 0, "take funded account I of a devnet's genesis (local networks only: its seed is public)")
	cmd.Flags().StringVar(&devnetSeed, "devnet-seed", "dagd-devnet", "the seed of --devnet-account (dagd devnet's; for dagd testnet, its --accounts-seed, default the chain id)")
	cmd.Flags().IntVar(&scryptN, "scrypt-n", crypto.DefaultKeystoreScryptN, "the keystore's scrypt cost N (EIP-2335's 2^18 needs 256 MiB and about a second to open)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the new key as JSON")
	return cmd
}

func newKeysListCmd() *cobra.Command {
	var (
		kf     keyringFlags
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the keyring's keys: name and public key",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			kr := kf.keyring()
			keys, skipped, err := kr.list()
			if err != nil {
				return err
			}
			for _, s := range skipped {
				fmt.Fprintf(cmd.ErrOrStderr(), "skipped %s\n", s)
			}
			if asJSON {
				if keys == nil {
					keys = []keyEntry{}
				}
				return printJSON(cmd.OutOrStdout(), keys)
			}
			if len(keys) == 0 {
				fmt.Fprintf(cmd.ErrOrStderr(), "no keys in %s (add one with dagd keys add NAME)\n", kr.dir)
				return nil
			}
			for _, k := range keys {
				fmt.Fprintf(cmd.OutOrStdout(), "%-20s %s\n", k.Name, k.PublicKey)
			}
			return nil
		},
	}
	kf.register(cmd, false)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the keys as JSON")
	return cmd
}

func newKeysShowCmd() *cobra.Command {
	var (
		kf     keyringFlags
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "show NAME",
		Short: "Show a key: name, public key (hex, as the API and genesis use) and address",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ke, err := kf.keyring().show(args[0])
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), ke)
			}
			printKey(cmd.OutOrStdout(), ke)
			return nil
		},
	}
	kf.register(cmd, false)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the key as JSON")
	return cmd
}
