package dagdv1_test

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// repoRoot is the module root, seen from this package's directory.
const repoRoot = "../../../.."

// TestGeneratedCodeIsCurrent checks generated.sha256, written by
// scripts/genproto: the protos, the buf configs and the script (with its
// pinned tool versions) are those the code was generated from, and the
// generated files are as generated. It needs no tools and no network; when
// it fails, run scripts/genproto.
func TestGeneratedCodeIsCurrent(t *testing.T) {
	f, err := os.Open("generated.sha256")
	if err != nil {
		t.Fatalf("%v: run scripts/genproto", err)
	}
	defer f.Close()
	listed := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		sum, name, ok := strings.Cut(line, "  ")
		if !ok || len(sum) != 64 {
			t.Fatalf("generated.sha256: malformed line %q", line)
		}
		listed[name] = true
		b, err := os.ReadFile(filepath.Join(repoRoot, filepath.FromSlash(name)))
		if err != nil {
			t.Errorf("%s: %v (run scripts/genproto)", name, err)
			continue
		}
		got := sha256.Sum256(b)
		if hex.EncodeToString(got[:]) != sum {
			t.Errorf("%s changed since scripts/genproto last ran: run it (generated files must not be edited by hand)", name)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if !listed["scripts/genproto"] {
		t.Error("generated.sha256 does not cover scripts/genproto")
	}
	// Every input and output present must be covered.
	api := filepath.Join(repoRoot, "engine", "api")
	var found []string
	err = filepath.WalkDir(api, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		name := d.Name()
		if strings.HasSuffix(name, ".proto") || strings.HasSuffix(name, ".pb.go") || strings.HasSuffix(name, ".connect.go") ||
			name == "buf.yaml" || name == "buf.gen.yaml" {
			rel, err := filepath.Rel(repoRoot, path)
			if err != nil {
				return err
			}
			found = append(found, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(found) == 0 {
		t.Fatal("no proto or generated file found under engine/api")
	}
	slices.Sort(found)
	for _, name := range found {
		if !listed[name] {
			t.Errorf("%s is not in generated.sha256: run scripts/genproto", name)
		}
	}
}
