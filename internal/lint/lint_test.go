package lint

import (
	"bytes"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

const module = "github.com/dagd/dagd"

// allowed lists, for each top-level directory, the other top-level
// directories its packages may import (DESIGN §1). A directory may always
// import its own sub-packages and internal/.
var allowed = map[string][]string{
	"crypto":    {},
	"erasure":   {},
	"zk":        {"crypto"},
	"contracts": {"crypto", "zk"},
	"dag":       {"crypto"},
	"state":     {"crypto", "contracts"},
	"netquic":   {"crypto"},
	"shard":     {"crypto", "state", "contracts"},
	"heal":      {"crypto", "erasure"},
	"engine":    {"crypto", "erasure", "zk", "contracts", "dag", "state", "netquic", "shard", "heal"},
	"loadtest":  {"crypto", "erasure", "zk", "contracts", "dag", "state", "netquic", "shard", "heal", "engine"},
	"bench":     {"crypto", "erasure", "zk", "contracts", "dag", "state", "netquic", "shard", "heal", "engine", "loadtest"},
	"cmd":       {"crypto", "erasure", "zk", "contracts", "dag", "state", "netquic", "shard", "heal", "engine", "loadtest", "bench"},
	"internal":  {},
}

type goPackage struct {
	ImportPath   string
	Dir          string
	Name         string
	Imports      []string
	TestImports  []string
	XTestImports []string
	GoFiles      []string
}

func listPackages(t *testing.T) []goPackage {
	t.Helper()
	cmd := exec.Command("go", "list", "-json", module+"/...")
	cmd.Dir = "../.."
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	var pkgs []goPackage
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var p goPackage
		if err := dec.Decode(&p); err != nil {
			t.Fatalf("decode go list output: %v", err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) == 0 {
		t.Fatal("go list found no packages")
	}
	return pkgs
}

// topDir returns the top-level directory of an import path inside the
// module, or "" for packages outside it.
func topDir(importPath string) string {
	if importPath == module {
		return "."
	}
	rest, ok := strings.CutPrefix(importPath, module+"/")
	if !ok {
		return ""
	}
	top, _, _ := strings.Cut(rest, "/")
	return top
}

func TestImportsPointDown(t *testing.T) {
	for _, p := range listPackages(t) {
		from := topDir(p.ImportPath)
		ok, known := allowed[from]
		if !known {
			t.Errorf("%s: top-level directory %q is not in the layer table of DESIGN §1", p.ImportPath, from)
			continue
		}
		check := func(imports []string, what string) {
			for _, imp := range imports {
				to := topDir(imp)
				if to == "" || to == from || to == "internal" {
					continue
				}
				if !contains(ok, to) {
					t.Errorf("%s %s %s: %s may not depend on %s (DESIGN §1)", p.ImportPath, what, imp, from, to)
				}
			}
		}
		check(p.Imports, "imports")
		// Tests may reach down further only through the same rule.
		check(p.TestImports, "test imports")
	}
}

// forbiddenInCore are the standard packages the pure consensus core may not
// import: the clock, the network, the disk, randomness and concurrency all
// enter through Step and Tick instead.
var forbiddenInCore = []string{
	"time", "net", "os", "os/exec", "io/fs", "io/ioutil", "syscall",
	"math/rand", "math/rand/v2", "crypto/rand", "sync", "sync/atomic", "unsafe",
	"log", "log/slog",
}

// coreExempt are sub-directories of dag/ that drive the core rather than
// being it: the simulator owns a seeded PRNG and a virtual clock.
var coreExempt = []string{"dagsim"}

func TestConsensusCoreIsPure(t *testing.T) {
	checked := 0
	for _, p := range listPackages(t) {
		if topDir(p.ImportPath) != "dag" {
			continue
		}
		rest := strings.TrimPrefix(p.ImportPath, module+"/dag")
		rest = strings.TrimPrefix(rest, "/")
		sub, _, _ := strings.Cut(rest, "/")
		if contains(coreExempt, sub) {
			continue
		}
		for _, imp := range p.Imports {
			if contains(forbiddenInCore, imp) || strings.HasPrefix(imp, "net/") {
				t.Errorf("%s imports %s: the consensus core must stay pure (DESIGN §1)", p.ImportPath, imp)
			}
		}
		fset := token.NewFileSet()
		for _, name := range p.GoFiles {
			f, err := parser.ParseFile(fset, filepath.Join(p.Dir, name), nil, 0)
			if err != nil {
				t.Fatalf("parse %s: %v", name, err)
			}
			checked++
			ast.Inspect(f, func(n ast.Node) bool {
				if g, ok := n.(*ast.GoStmt); ok {
					t.Errorf("%s: go statement in the consensus core", fset.Position(g.Pos()))
				}
				return true
			})
		}
	}
	if checked == 0 {
		t.Fatal("no consensus core files were checked")
	}
}

func TestNoGrabBagPackages(t *testing.T) {
	for _, p := range listPackages(t) {
		if strings.Contains(p.ImportPath, "/internal/") {
			continue
		}
		switch p.Name {
		case "util", "utils", "common", "helpers", "misc":
			t.Errorf("%s: package name %q says nothing; name it after its one job", p.ImportPath, p.Name)
		}
	}
}

func TestEveryPackageHasAComment(t *testing.T) {
	for _, p := range listPackages(t) {
		fset := token.NewFileSet()
		found := false
		for _, name := range p.GoFiles {
			f, err := parser.ParseFile(fset, filepath.Join(p.Dir, name), nil, parser.ParseComments|parser.PackageClauseOnly)
			if err != nil {
				t.Fatalf("parse %s: %v", name, err)
			}
			if f.Doc != nil && strings.TrimSpace(f.Doc.Text()) != "" {
				found = true
				break
			}
		}
		if !found && len(p.GoFiles) > 0 {
			t.Errorf("%s has no package comment", p.ImportPath)
		}
	}
}

func TestExportedNamesHaveDocComments(t *testing.T) {
	var missing []string
	for _, p := range listPackages(t) {
		fset := token.NewFileSet()
		for _, name := range p.GoFiles {
			if strings.HasSuffix(name, ".pb.go") || strings.HasSuffix(name, ".connect.go") {
				continue // generated code
			}
			f, err := parser.ParseFile(fset, filepath.Join(p.Dir, name), nil, parser.ParseComments)
			if err != nil {
				t.Fatalf("parse %s: %v", name, err)
			}
			for _, d := range f.Decls {
				switch d := d.(type) {
				case *ast.FuncDecl:
					if d.Name.IsExported() && d.Doc == nil && receiverExported(d) {
						missing = append(missing, fset.Position(d.Pos()).String()+" "+d.Name.Name)
					}
				case *ast.GenDecl:
					for _, s := range d.Specs {
						switch s := s.(type) {
						case *ast.TypeSpec:
							if s.Name.IsExported() && d.Doc == nil && s.Doc == nil {
								missing = append(missing, fset.Position(s.Pos()).String()+" "+s.Name.Name)
							}
						case *ast.ValueSpec:
							for _, n := range s.Names {
								if n.IsExported() && d.Doc == nil && s.Doc == nil && s.Comment == nil {
									missing = append(missing, fset.Position(n.Pos()).String()+" "+n.Name)
								}
							}
						}
					}
				}
			}
		}
	}
	sort.Strings(missing)
	for _, m := range missing {
		t.Errorf("exported name without a doc comment: %s", m)
	}
}

func receiverExported(d *ast.FuncDecl) bool {
	if d.Recv == nil || len(d.Recv.List) == 0 {
		return true
	}
	typ := d.Recv.List[0].Type
	if s, ok := typ.(*ast.StarExpr); ok {
		typ = s.X
	}
	if ix, ok := typ.(*ast.IndexExpr); ok {
		typ = ix.X
	}
	if id, ok := typ.(*ast.Ident); ok {
		return id.IsExported()
	}
	return true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
