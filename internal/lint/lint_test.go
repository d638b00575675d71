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

// layers are the rooms of the repository, lowest first. A package belongs
// to the longest layer that prefixes its import path (engine/client is a
// layer of its own, engine/config belongs to engine). internal/ stands
// apart: any package may import it.
var layers = []string{
	"crypto", "erasure", "zk", "contracts", "dag", "state", "netquic", "shard", "heal",
	"engine/api", "engine/client", "engine/committeefile", "engine/checkpoint", "engine/client/contentpay", "engine/store", "engine/execution", "engine/content", "engine/apiserver", "engine",
	"loadtest", "loadtest/inproc", "bench", "cmd",
	"internal",
}

// edges lists, for each layer, the layers its packages (and their tests)
// import: only the edges that exist, each to a lower layer. A new import
// across layers fails TestImportsPointDown until its edge is added here,
// which TestLayerTable allows only downwards; an edge no package uses any
// more fails TestLayerTable until it is removed.
//
// engine/client, the public API's Go client and wire types, sits below the
// node: the node serves its types, and loadtest and the dagd commands
// reach nodes through it without importing the node (nor cgo).
// engine/checkpoint, the certified checkpoint as data with its cgo-free
// verification, sits below the node beside engine/client: light clients
// import it, and it imports only crypto's cgo-free packages and
// engine/committeefile (its tests sign with package crypto).
// engine/committeefile, the committee (genesis) file's format, sits below
// engine/checkpoint: engine/config reads it for the node and light clients
// read it without cgo; it imports only crypto/blsverify (its tests make
// keys with package crypto).
// engine/client/contentpay holds the rules of a paid content put that
// client and node share, over the ledger's types.
// engine/store, the storage room, owns the node's pebble database and
// batch log under the node and its rooms.
// engine/execution, the execution room, runs committed transactions from
// the store and publishes executed commits; the node wires it.
// engine/apiserver, the API room, serves the HTTP/JSON and Connect API
// against a narrow interface of the node (Backend) and the store.
// engine/content, the content room, reaches the node only through the
// small interfaces it declares (engine/content/deps.go).
// loadtest/inproc is the one part of the load generator that drives an
// in-process devnet.
var edges = map[string][]string{
	"crypto":                   {},
	"erasure":                  {},
	"zk":                       {"crypto"},
	"contracts":                {"crypto"},
	"dag":                      {"crypto"},
	"state":                    {"crypto"},
	"netquic":                  {},
	"shard":                    {"crypto", "contracts", "state"},
	"heal":                     {"erasure"},
	"engine/api":               {},
	"engine/client":            {"erasure", "engine/api"},
	"engine/committeefile":     {"crypto"},
	"engine/checkpoint":        {"crypto", "engine/committeefile"},
	"engine/client/contentpay": {"crypto", "erasure", "contracts", "engine/client"},
	"engine/store":             {"crypto", "dag"},
	"engine/execution":         {"crypto", "contracts", "dag", "state", "shard", "engine/store"},
	"engine/content":           {"crypto", "erasure", "contracts", "dag", "state", "netquic", "shard", "heal", "engine/client", "engine/client/contentpay", "engine/store"},
	"engine/apiserver":         {"crypto", "dag", "engine/api", "engine/client", "engine/store"},
	"engine":                   {"crypto", "erasure", "contracts", "dag", "state", "netquic", "shard", "heal", "engine/api", "engine/client", "engine/committeefile", "engine/checkpoint", "engine/client/contentpay", "engine/store", "engine/execution", "engine/content", "engine/apiserver"},
	"loadtest":                 {"crypto", "erasure", "contracts", "engine/client"},
	"loadtest/inproc":          {"crypto", "contracts", "dag", "engine/client", "engine", "engine/execution", "loadtest"},
	"bench":                    {"dag", "engine", "engine/execution", "engine/content", "loadtest", "loadtest/inproc"},
	"cmd":                      {"crypto", "erasure", "zk", "contracts", "dag", "state", "engine", "engine/client", "engine/client/contentpay", "engine/execution", "loadtest", "loadtest/inproc", "bench"},
	"internal":                 {},
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

// layerOf returns the layer of an import path inside the module (the
// longest of layers that prefixes it), "?" for a module package in no
// layer, or "" for packages outside the module.
func layerOf(importPath string) string {
	rest, ok := strings.CutPrefix(importPath, module+"/")
	if !ok {
		return ""
	}
	best := "?"
	for _, l := range layers {
		if (rest == l || strings.HasPrefix(rest, l+"/")) && (best == "?" || len(l) > len(best)) {
			best = l
		}
	}
	return best
}

// layerEdges returns, for each pair of layers, the first import that
// crosses from one to the other (package, kind of import, imported path).
func layerEdges(pkgs []goPackage) map[[2]string]string {
	out := map[[2]string]string{}
	for _, p := range pkgs {
		from := layerOf(p.ImportPath)
		for _, list := range []struct {
			what    string
			imports []string
		}{{"imports", p.Imports}, {"test imports", p.TestImports}, {"external test imports", p.XTestImports}} {
			for _, imp := range list.imports {
				to := layerOf(imp)
				if to == "" || to == from || to == "internal" {
					continue
				}
				e := [2]string{from, to}
				if _, seen := out[e]; !seen {
					out[e] = p.ImportPath + " " + list.what + " " + imp
				}
			}
		}
	}
	return out
}

// TestImportsPointDown checks every import across layers (of packages and
// of their tests) against the edge table.
func TestImportsPointDown(t *testing.T) {
	pkgs := listPackages(t)
	for _, p := range pkgs {
		if l := layerOf(p.ImportPath); l == "?" {
			t.Errorf("%s is in no layer: add its directory to layers and edges", p.ImportPath)
		}
	}
	for e, where := range layerEdges(pkgs) {
		if e[0] == "?" || e[1] == "?" {
			continue
		}
		if !contains(edges[e[0]], e[1]) {
			t.Errorf("%s: %s may not depend on %s (no such edge in the layer table)", where, e[0], e[1])
		}
	}
}

// TestLayerTable checks that the edge table points down the layers and
// lists only edges that some import uses.
func TestLayerTable(t *testing.T) {
	rank := map[string]int{}
	for i, l := range layers {
		rank[l] = i
	}
	used := layerEdges(listPackages(t))
	for _, from := range layers {
		list, ok := edges[from]
		if !ok {
			t.Errorf("layer %s has no row in the edge table", from)
		}
		for _, to := range list {
			r, known := rank[to]
			switch {
			case !known:
				t.Errorf("edge %s -> %s: %s is not a layer", from, to, to)
			case r >= rank[from]:
				t.Errorf("edge %s -> %s points up or sideways: layers are ordered %v", from, to, layers)
			}
			if _, ok := used[[2]string{from, to}]; !ok {
				t.Errorf("edge %s -> %s: no package imports across it any more; remove it from the table", from, to)
			}
		}
	}
	for from := range edges {
		if _, ok := rank[from]; !ok {
			t.Errorf("edge table row %s is not a layer", from)
		}
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
				t.Errorf("%s imports %s: the consensus core must stay pure (ARCHITECTURE.md)", p.ImportPath, imp)
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

// cgoFree are the packages a light client imports, which must build
// without a C toolchain (scripts/test cross-builds them with cgo off).
var cgoFree = []string{module + "/engine/client", module + "/crypto/digest", module + "/crypto/blsverify", module + "/crypto/bitmap", module + "/engine/committeefile", module + "/engine/checkpoint", module + "/state/proof"}

// TestLightClientPackagesNeedNoCgo checks that no package outside the
// standard library that cgoFree packages depend on uses cgo (blst, pebble
// and the like); the standard library's own cgo (net's resolver) turns
// off with CGO_ENABLED=0.
func TestLightClientPackagesNeedNoCgo(t *testing.T) {
	args := append([]string{"list", "-deps", "-f", "{{if and .CgoFiles (not .Standard)}}{{.ImportPath}}{{end}}"}, cgoFree...)
	cmd := exec.Command("go", args...)
	cmd.Dir = "../.."
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	for _, p := range strings.Fields(string(out)) {
		t.Errorf("a light-client package (%s) depends on %s, which uses cgo", strings.Join(cgoFree, ", "), p)
	}
}
