package reindex

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The invariant is kept by structure, and this test keeps the structure: index deletion
// (deleteIndex, remove_index) happens only in helpers that take the proof verifyCopy
// returns, in rollback, which deletes only the destination, and in deleteLock, which
// deletes only an index marked as this run's lock.
func TestOnlyVerifiedCopiesReplaceSources(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	callers := map[string][]string{} // "deleteIndex" / "remove_index" -> enclosing functions
	takesProof := map[string]bool{}
	checksLock := false
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range file.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Body == nil {
				continue
			}
			for _, p := range fn.Type.Params.List {
				if id, ok := p.Type.(*ast.Ident); ok && id.Name == "verified" {
					takesProof[fn.Name.Name] = true
				}
			}
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.CallExpr:
					if id, ok := n.Fun.(*ast.Ident); ok && id.Name == "isLock" && fn.Name.Name == "deleteLock" {
						checksLock = true
					}
					if id, ok := n.Fun.(*ast.Ident); ok && id.Name == "deleteIndex" {
						callers["deleteIndex"] = append(callers["deleteIndex"], fn.Name.Name)
						switch fn.Name.Name {
						case "rollbackClaimed":
							if sel, ok := n.Args[2].(*ast.SelectorExpr); !ok || sel.Sel.Name != "To" {
								t.Errorf("rollback deletes something other than st.To")
							}
						case "deleteLock":
							if id, ok := n.Args[2].(*ast.Ident); !ok || id.Name != "name" {
								t.Errorf("deleteLock deletes something other than the lock it checked")
							}
						}
					}
				case *ast.BasicLit:
					if strings.Contains(n.Value, "remove_index") {
						callers["remove_index"] = append(callers["remove_index"], fn.Name.Name)
					}
				case *ast.CompositeLit:
					if id, ok := n.Type.(*ast.Ident); ok && id.Name == "verified" && fn.Name.Name != "verifyCopy" {
						t.Errorf("%s makes a verified value; only verifyCopy may", fn.Name.Name)
					}
				}
				return true
			})
		}
	}
	for _, f := range callers["deleteIndex"] {
		if !takesProof[f] && f != "rollbackClaimed" && f != "deleteLock" {
			t.Errorf("%s deletes an index without taking a verified copy", f)
		}
	}
	for _, f := range callers["remove_index"] {
		if !takesProof[f] {
			t.Errorf("%s removes an index without taking a verified copy", f)
		}
	}
	if !checksLock {
		t.Error("deleteLock does not check that the index is this run's lock")
	}
	if !slices.Contains(callers["deleteIndex"], "rollbackClaimed") || !slices.Equal(callers["remove_index"], []string{"replaceWithAlias"}) {
		t.Errorf("the structure changed, update this test: %v", callers)
	}
}
