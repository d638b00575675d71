package zk

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Names of the key files that WriteKeyFiles writes into a directory.
const (
	ProvingKeyFile   = "membership.pk"
	VerifyingKeyFile = "membership.vk"
)

// ReadFileLimited reads a whole file, refusing files larger than limit
// bytes before reading them into memory.
func ReadFileLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("zk: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("zk: read %s: %w", path, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("zk: %s is larger than %d bytes", path, limit)
	}
	return b, nil
}

// ReadVerifyingKeyFile reads and parses a verifying-key file.
func ReadVerifyingKeyFile(path string) (*VerifyingKey, error) {
	b, err := ReadFileLimited(path, VerifyingKeySize)
	if err != nil {
		return nil, err
	}
	vk, err := ParseVerifyingKey(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return vk, nil
}

// ReadProvingKeyFile reads and parses a proving-key file.
func ReadProvingKeyFile(path string) (*ProvingKey, error) {
	b, err := ReadFileLimited(path, MaxProvingKeySize)
	if err != nil {
		return nil, err
	}
	pk, err := ParseProvingKey(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return pk, nil
}

// ReadEnvelopeFile reads and parses a proof file.
func ReadEnvelopeFile(path string) (*Envelope, error) {
	b, err := ReadFileLimited(path, EnvelopeSize)
	if err != nil {
		return nil, err
	}
	var e Envelope
	if err := e.UnmarshalBinary(b); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &e, nil
}

// WriteFileAtomic writes data to path through a temporary file in the same
// directory and a rename, so that readers never see a partial file.
func WriteFileAtomic(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("zk: %w", err)
	}
	name := tmp.Name()
	_, werr := tmp.Write(data)
	if werr == nil {
		werr = tmp.Sync()
	}
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(name)
		return fmt.Errorf("zk: write %s: %w", path, err)
	}
	if err := os.Chmod(name, perm); err != nil {
		os.Remove(name)
		return fmt.Errorf("zk: %w", err)
	}
	if err := os.Rename(name, path); err != nil {
		os.Remove(name)
		return fmt.Errorf("zk: %w", err)
	}
	return nil
}

// WriteKeyFiles writes the proving and verifying keys of a setup into dir
// (created if missing) as ProvingKeyFile and VerifyingKeyFile, and returns
// their paths.
func WriteKeyFiles(dir string, res *SetupResult) (pkPath, vkPath string, err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", "", fmt.Errorf("zk: %w", err)
	}
	pkb, err := res.ProvingKey.MarshalBinary()
	if err != nil {
		return "", "", err
	}
	vkb, err := res.VerifyingKey.MarshalBinary()
	if err != nil {
		return "", "", err
	}
	pkPath = filepath.Join(dir, ProvingKeyFile)
	vkPath = filepath.Join(dir, VerifyingKeyFile)
	if err := WriteFileAtomic(pkPath, pkb, 0o644); err != nil {
		return "", "", err
	}
	if err := WriteFileAtomic(vkPath, vkb, 0o644); err != nil {
		return "", "", err
	}
	return pkPath, vkPath, nil
}
