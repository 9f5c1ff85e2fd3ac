package trust_test

import (
	"go/ast"
	"go/constant"
	"go/parser"
	"go/token"
	"go/types"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mailtrust/mailtrust/trust"
)

// TestEveryProblemHasASignal ties package message's vocabulary to the signal
// table: every From and envelope Problem that Evaluate reports as a reason
// must weigh something by default, or a new Problem would silently weigh 0.
// The constants are read from message's source, so that a new one cannot be
// forgotten in a list kept here. Address problems (other fields) are not
// reasons and are not required.
func TestEveryProblemHasASignal(t *testing.T) {
	fset := token.NewFileSet()
	files, err := filepath.Glob(filepath.Join("..", "message", "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	var parsed []*ast.File
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		parsed = append(parsed, af)
	}
	// Type-check only for the constant values; imports are not needed.
	conf := types.Config{Importer: nil, Error: func(error) {}}
	info := &types.Info{Defs: map[*ast.Ident]types.Object{}}
	_, _ = conf.Check("message", fset, parsed, info) // errors from unresolved imports are expected

	table := map[trust.Code]trust.Signal{}
	for _, s := range trust.Signals() {
		table[s.Code] = s
	}
	n := 0
	for id, obj := range info.Defs {
		c, ok := obj.(*types.Const)
		if !ok || c.Type().String() != "message.Problem" {
			continue
		}
		if !strings.HasPrefix(id.Name, "From") && !strings.HasPrefix(id.Name, "Envelope") {
			continue
		}
		n++
		code := trust.Code(constant.StringVal(c.Val()))
		s, ok := table[code]
		switch {
		case !ok:
			t.Errorf("message.%s (%q) has no signal in trust.Signals()", id.Name, code)
		case s.Weight == 0:
			t.Errorf("message.%s (%q) weighs 0 by default", id.Name, code)
		}
	}
	if n < 18 {
		t.Fatalf("found %d From/envelope problems in package message, want at least 18: is the source still there?", n)
	}
}
