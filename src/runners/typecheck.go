// The type checker behind `gob check`, built by gob with the workspace's own go (stdlib only).
//
// Usage: typecheck GOARCH LIST EXPORT [RESULTS]
//
// LIST is `go list -e -compiled -test -deps -json` of the suites' packages, EXPORT is
// `go list -e -export -json` of every plain package LIST names. go compiles the plain
// packages for EXPORT (their export data is needed by everything that imports them); this
// program type-checks what only tests use, with go/types (the checker cmd/compile is built
// on): each test binary's packages whose ID carries " [P.test]" (P with its _test.go files,
// P's external test package, and every package between them, recompiled by go for the
// test) from source, against the export data of everything else. Nothing is linked.
//
// It prints errors as go does ("# ID" and "file:line:col: message" lines) and exits 1 when
// there were any, 2 when its input cannot be read.
//
// RESULTS, when given, is a JSON file of the test binaries that were clean when last checked
// (ID -> key): a binary whose key is the same is not checked again. The key is a hash of
// everything its check reads: the source files of its test-only packages (with their import
// maps and Go versions) and the export files of the rest, which go names by their content.
package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/scanner"
	"go/token"
	"go/types"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
)

// maxErrors is how many errors of one package are printed, as the compiler does.
const maxErrors = 10

// listError is go list's PackageError: the importing packages, where the import is, and
// what is wrong.
type listError struct {
	ImportStack []string
	Pos         string
	Err         string
}

type pkg struct {
	ImportPath      string
	Dir             string
	Name            string
	Export          string
	CompiledGoFiles []string
	Imports         []string
	ImportMap       map[string]string
	Deps            []string
	Module          *struct{ GoVersion string }
	Error           *listError
}

func main() {
	if len(os.Args) != 4 && len(os.Args) != 5 {
		fmt.Fprintln(os.Stderr, "usage: typecheck GOARCH LIST EXPORT [RESULTS]")
		os.Exit(2)
	}
	results := ""
	if len(os.Args) == 5 {
		results = os.Args[4]
	}
	listed, err := decode(os.Args[2])
	if err == nil {
		var exported []*pkg
		if exported, err = decode(os.Args[3]); err == nil {
			os.Exit(check(os.Args[1], listed, exported, results))
		}
	}
	fmt.Fprintln(os.Stderr, "typecheck:", err)
	os.Exit(2)
}

func decode(path string) ([]*pkg, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	dec := json.NewDecoder(f)
	var out []*pkg
	for {
		p := new(pkg)
		if err := dec.Decode(p); err == io.EOF {
			return out, nil
		} else if err != nil {
			return nil, fmt.Errorf("%s: %v", path, err)
		}
		out = append(out, p)
	}
}

// isTestOnly says whether go builds the package with ID id only for a test binary.
func isTestOnly(id string) bool { return strings.Contains(id, " [") }

// isTestMain says whether p is the main package go generates for a test binary ("P.test").
func isTestMain(p *pkg) bool { return p.Name == "main" && strings.HasSuffix(p.ImportPath, ".test") }

func check(goarch string, listed, exported []*pkg, results string) int {
	failed := map[string]bool{} // IDs that cannot be used: they have errors of their own
	exports := map[string]string{}
	var reports []string
	all := map[string]*pkg{}
	for _, p := range listed {
		all[p.ImportPath] = p
	}
	for _, p := range exported {
		exports[p.ImportPath] = p.Export
		if p.Error != nil {
			failed[p.ImportPath] = true
			// The listing's error says where the package is imported (the export step
			// names it on the command line, where it has no importer).
			if l := all[p.ImportPath]; l != nil && l.Error != nil {
				p = l
			}
			reports = append(reports, goError(p))
		}
	}
	var binaries []*pkg
	for _, p := range listed {
		if isTestOnly(p.ImportPath) || isTestMain(p) {
			if p.Error != nil {
				failed[p.ImportPath] = true
				reports = append(reports, goError(p))
			}
			if isTestMain(p) {
				binaries = append(binaries, p)
			}
		}
	}
	sizes := types.SizesFor("gc", goarch)
	clean := readResults(results)
	var mu sync.Mutex
	work := make(chan *pkg)
	var wg sync.WaitGroup
	for i := 0; i < runtime.GOMAXPROCS(0); i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range work {
				key := binaryKey(goarch, b, all, exports)
				mu.Lock()
				same := key != "" && clean[b.ImportPath] == key
				mu.Unlock()
				if same {
					continue
				}
				found := checkBinary(b, all, exports, sizes)
				mu.Lock()
				reports = append(reports, found...)
				if len(found) == 0 && key != "" {
					clean[b.ImportPath] = key
				} else {
					delete(clean, b.ImportPath)
				}
				mu.Unlock()
			}
		}()
	}
	for _, b := range binaries {
		if usable(b, failed, exports) {
			work <- b
		} else {
			delete(clean, b.ImportPath)
		}
	}
	close(work)
	wg.Wait()
	writeResults(results, clean)
	sort.Strings(reports)
	for _, r := range reports {
		fmt.Print(r)
	}
	if len(reports) > 0 {
		return 1
	}
	return 0
}

// usable says whether every package binary b needs is there: none failed, and every plain
// one has export data (a package whose dependency failed has none, and go reported why).
func usable(b *pkg, failed map[string]bool, exports map[string]string) bool {
	if failed[b.ImportPath] {
		return false
	}
	for _, dep := range b.Deps {
		if failed[dep] {
			return false
		}
		if !isTestOnly(dep) && dep != "unsafe" && dep != "C" && exports[dep] == "" {
			return false
		}
	}
	return true
}

// readResults reads the binaries that were clean (ID -> key); none when there is no file or
// it cannot be read.
func readResults(path string) map[string]string {
	clean := map[string]string{}
	if path == "" {
		return clean
	}
	if data, err := os.ReadFile(path); err == nil {
		if json.Unmarshal(data, &clean) != nil {
			clean = map[string]string{}
		}
	}
	return clean
}

// writeResults replaces the file at path with clean, by a rename (a failure only costs the
// next run a check).
func writeResults(path string, clean map[string]string) {
	if path == "" {
		return
	}
	data, err := json.Marshal(clean)
	if err != nil {
		return
	}
	tmp := fmt.Sprintf("%s.%d.tmp", path, os.Getpid())
	if os.WriteFile(tmp, data, 0o644) == nil && os.Rename(tmp, path) != nil {
		os.Remove(tmp)
	}
}

// binaryKey hashes everything checking binary b reads; "" when a file cannot be read (the
// binary is then checked, and its result not kept).
func binaryKey(goarch string, b *pkg, all map[string]*pkg, exports map[string]string) string {
	h := sha256.New()
	fmt.Fprintf(h, "typecheck 1\n%s\n%s\n%s\n%q\n", runtime.Version(), goarch, b.ImportPath, b.Imports)
	for _, dep := range b.Deps {
		p := all[dep]
		if !isTestOnly(dep) || p == nil {
			fmt.Fprintf(h, "export %s %s\n", dep, exports[dep])
			continue
		}
		goVersion := ""
		if p.Module != nil {
			goVersion = p.Module.GoVersion
		}
		keys := make([]string, 0, len(p.ImportMap))
		for k := range p.ImportMap {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		fmt.Fprintf(h, "source %s %s %s\n", dep, p.Dir, goVersion)
		for _, k := range keys {
			fmt.Fprintf(h, "map %s %s\n", k, p.ImportMap[k])
		}
		for _, name := range p.CompiledGoFiles {
			if !filepath.IsAbs(name) {
				name = filepath.Join(p.Dir, name)
			}
			data, err := os.ReadFile(name)
			if err != nil {
				return ""
			}
			sum := sha256.Sum256(data)
			fmt.Fprintf(h, "file %s %x\n", name, sum)
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// goError is a package error of go list, as go test prints it (cmd/go's
// PackageError.Error): at its position when it has one, under the package whose file it is
// in (an import's error belongs to the importer); else with the import stack.
func goError(p *pkg) string {
	e := p.Error
	text := strings.TrimRight(e.Err, "\n") + "\n"
	if strings.HasPrefix(text, "# ") {
		return text
	}
	header := p.ImportPath
	switch {
	case e.Pos != "":
		text = e.Pos + ": " + text
		if len(e.ImportStack) > 0 {
			header = e.ImportStack[len(e.ImportStack)-1]
		}
	case len(e.ImportStack) > 0:
		text = "package " + strings.Join(e.ImportStack, "\n\timports ") + ": " + text
	}
	return "# " + header + "\n" + text
}

// checkBinary type-checks the test-only packages of test binary b and returns its errors,
// one report per package.
func checkBinary(b *pkg, all map[string]*pkg, exports map[string]string, sizes types.Sizes) []string {
	fset := token.NewFileSet()
	fromExport := importer.ForCompiler(fset, "gc", func(path string) (io.ReadCloser, error) {
		file := exports[path]
		if file == "" {
			return nil, fmt.Errorf("no export data for %s", path)
		}
		return os.Open(file)
	})
	checked := map[string]*types.Package{}
	var reports []string
	var load func(id string) (*types.Package, error)
	load = func(id string) (*types.Package, error) {
		if id == "unsafe" {
			return types.Unsafe, nil
		}
		if done, ok := checked[id]; ok {
			return done, nil
		}
		p := all[id]
		if p == nil || !isTestOnly(id) {
			return fromExport.Import(id)
		}
		var errs []string
		files := parse(fset, p, &errs)
		conf := types.Config{
			Importer: importerFunc(func(path string) (*types.Package, error) {
				if mapped, ok := p.ImportMap[path]; ok {
					path = mapped
				}
				return load(path)
			}),
			Sizes: sizes,
			Error: func(err error) { errs = append(errs, describe(err)) },
		}
		if p.Module != nil && p.Module.GoVersion != "" {
			conf.GoVersion = "go" + p.Module.GoVersion
		}
		path := id[:strings.Index(id, " [")]
		checkedPkg, _ := conf.Check(path, fset, files, nil)
		checked[id] = checkedPkg
		if len(errs) > maxErrors {
			errs = append(errs[:maxErrors], "too many errors")
		}
		if len(errs) > 0 {
			reports = append(reports, "# "+id+"\n"+strings.Join(errs, "\n")+"\n")
		}
		return checkedPkg, nil
	}
	for _, id := range b.Imports {
		if isTestOnly(id) {
			load(id)
		}
	}
	return reports
}

// parse reads p's Go files (after cgo, as go list -compiled gives them).
func parse(fset *token.FileSet, p *pkg, errs *[]string) []*ast.File {
	var files []*ast.File
	for _, name := range p.CompiledGoFiles {
		if !filepath.IsAbs(name) {
			name = filepath.Join(p.Dir, name)
		}
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution|parser.ParseComments)
		if list, ok := err.(scanner.ErrorList); ok {
			for _, e := range list {
				*errs = append(*errs, describe(e))
			}
		} else if err != nil {
			*errs = append(*errs, describe(err))
		}
		if f != nil {
			files = append(files, f)
		}
	}
	return files
}

// describe formats an error as the compiler does, with the file relative to the working dir.
func describe(err error) string {
	text := err.Error()
	if wd, werr := os.Getwd(); werr == nil {
		if prefix := wd + string(filepath.Separator); strings.HasPrefix(text, prefix) {
			return text[len(prefix):]
		}
	}
	return text
}

type importerFunc func(string) (*types.Package, error)

func (f importerFunc) Import(path string) (*types.Package, error) { return f(path) }
