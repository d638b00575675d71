package lint

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// architectureDoc is the design of the repository, at its root.
const architectureDoc = "ARCHITECTURE.md"

// docPath is a repository path named in a document, with its line.
type docPath struct {
	line int
	path string
}

// codeSpan matches a Markdown inline code span of single backticks.
var codeSpan = regexp.MustCompile("`([^`\n]+)`")

// docPaths returns the repository paths doc names: every inline code
// span outside fenced code blocks that holds no space and either contains
// a slash or ends in .go or .md. A span that starts with a slash is a URL
// path of the API (/v1/status), not a file, and one with "://" a URL;
// neither is returned. Names such as dag.Node.Restore (no slash, no file
// suffix) are not paths.
func docPaths(doc string) []docPath {
	var out []docPath
	for _, sp := range docSpans(doc) {
		s := sp.path
		if strings.ContainsAny(s, " \t") || strings.HasPrefix(s, "/") || strings.Contains(s, "://") {
			continue
		}
		if strings.Contains(s, "/") || strings.HasSuffix(s, ".go") || strings.HasSuffix(s, ".md") {
			out = append(out, sp)
		}
	}
	return out
}

// docSpans returns the inline code spans of doc outside fenced blocks,
// each with its line.
func docSpans(doc string) []docPath {
	var out []docPath
	fenced := false
	for i, line := range strings.Split(doc, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			fenced = !fenced
			continue
		}
		if fenced {
			continue
		}
		for _, m := range codeSpan.FindAllStringSubmatch(line, -1) {
			out = append(out, docPath{line: i + 1, path: m[1]})
		}
	}
	return out
}

// missingDocPaths returns the paths of doc (docPaths) that name nothing
// under root, each with its line and why. A path with a glob pattern
// (engine/content_*.go) must match at least one file.
func missingDocPaths(root, doc string) []string {
	var missing []string
	for _, p := range docPaths(doc) {
		rel := filepath.Clean(filepath.FromSlash(p.path))
		if filepath.IsAbs(rel) || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			missing = append(missing, lineMsg(p, "is outside the repository"))
			continue
		}
		full := filepath.Join(root, rel)
		if strings.ContainsAny(rel, "*?[") {
			matches, err := filepath.Glob(full)
			if err != nil || len(matches) == 0 {
				missing = append(missing, lineMsg(p, "matches no file"))
			}
			continue
		}
		fi, err := os.Stat(full)
		switch {
		case err != nil:
			missing = append(missing, lineMsg(p, "does not exist"))
		case strings.HasSuffix(p.path, "/") && !fi.IsDir():
			missing = append(missing, lineMsg(p, "is not a directory"))
		}
	}
	return missing
}

func lineMsg(p docPath, what string) string {
	return architectureDoc + ":" + strconv.Itoa(p.line) + ": `" + p.path + "` " + what
}

// testName matches the name of a test, fuzz target or benchmark.
var testName = regexp.MustCompile(`^(Test|Fuzz|Benchmark)[A-Z0-9_][A-Za-z0-9_]*$`)

// testDecl matches the declaration of one in a _test.go file.
var testDecl = regexp.MustCompile(`(?m)^func ((?:Test|Fuzz|Benchmark)[A-Za-z0-9_]*)\(`)

// missingDocTests returns the tests doc names (inline code spans outside
// fenced blocks that are a test's name, TestX) that declared lacks.
func missingDocTests(doc string, declared map[string]bool) []string {
	var missing []string
	for _, sp := range docSpans(doc) {
		if testName.MatchString(sp.path) && !declared[sp.path] {
			missing = append(missing, lineMsg(sp, "is declared in no _test.go file"))
		}
	}
	return missing
}

// declaredTests returns the names of the tests, fuzz targets and
// benchmarks declared in the _test.go files under root.
func declaredTests(t *testing.T, root string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(d.Name(), "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range testDecl.FindAllStringSubmatch(string(src), -1) {
			out[m[1]] = true
		}
		return nil
	})
	if err != nil {
		t.Fatalf("list the repository's tests: %v", err)
	}
	return out
}

// TestArchitecturePathsExist keeps ARCHITECTURE.md true to the tree:
// every repository path it names (in backticks) must exist, every test it
// names (in backticks) must be declared, and every package of the module
// must be named in it (as its directory), so that a new room is described
// where the rooms are.
func TestArchitecturePathsExist(t *testing.T) {
	root := filepath.Join("..", "..")
	raw, err := os.ReadFile(filepath.Join(root, architectureDoc))
	if err != nil {
		t.Fatalf("the design of the repository must be at its root: %v", err)
	}
	doc := string(raw)
	paths := docPaths(doc)
	if len(paths) == 0 {
		t.Fatalf("%s names no repository path: the checker found nothing to check", architectureDoc)
	}
	for _, m := range missingDocPaths(root, doc) {
		t.Error(m)
	}
	for _, m := range missingDocTests(doc, declaredTests(t, root)) {
		t.Error(m)
	}
	named := map[string]bool{}
	for _, p := range paths {
		named[strings.TrimSuffix(p.path, "/")] = true
	}
	for _, p := range listPackages(t) {
		rel, ok := strings.CutPrefix(p.ImportPath, module+"/")
		if !ok {
			continue
		}
		if !named[rel] {
			t.Errorf("package %s is not named in %s: add `%s/` where the rooms are described", p.ImportPath, architectureDoc, rel)
		}
	}
}

// TestArchitecturePathCheck checks the checker: it must report a path
// that does not exist and a glob that matches nothing, and pass over API
// paths, URLs, spans with spaces, Go names and fenced code blocks.
func TestArchitecturePathCheck(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "engine"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "engine", "node.go"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	doc := strings.Join([]string{
		"The node is `engine/node.go` in `engine/`; see `README.md` and `engine/*.go`.",
		"It serves `/v1/status` at `http://127.0.0.1:8080/v1/status`; run `go test ./engine/`.",
		"`dag.Node.Restore` restores; `engine/node.go` is not a directory: `engine/node.go/`.",
		"```",
		"`fenced/away.go`",
		"```",
		"Gone: `engine/gone.go`, `dag/` and `heal/*.go`, and `../outside.md`.",
	}, "\n")
	got := missingDocPaths(root, doc)
	want := []string{
		"ARCHITECTURE.md:1: `README.md` does not exist",
		"ARCHITECTURE.md:3: `engine/node.go/` is not a directory",
		"ARCHITECTURE.md:7: `engine/gone.go` does not exist",
		"ARCHITECTURE.md:7: `dag/` does not exist",
		"ARCHITECTURE.md:7: `heal/*.go` matches no file",
		"ARCHITECTURE.md:7: `../outside.md` is outside the repository",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("missing paths:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	tests := "`TestKept` and `FuzzKept` stay; `TestGone` went; `Tests` and `TestingT` are no tests' names.\n```\n`TestFenced`\n```"
	got = missingDocTests(tests, map[string]bool{"TestKept": true, "FuzzKept": true})
	want = []string{"ARCHITECTURE.md:1: `TestGone` is declared in no _test.go file"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("missing tests:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
