// Package hclfuncs holds the functions Vigil's HCL files may call, env and
// file, for every package that reads such files: the configuration
// (hclconfig) and the registry blocks (registry). Start with EvalContext.
package hclfuncs

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

// EvalContext offers env(NAME) and file(PATH) to expressions; relative
// paths given to file start at baseDir.
func EvalContext(baseDir string) *hcl.EvalContext {
	return &hcl.EvalContext{Functions: map[string]function.Function{"env": Env, "file": File(baseDir)}}
}

// Env is env(NAME): the value of an environment variable; an unset one
// is an error.
var Env = function.New(&function.Spec{
	Params: []function.Parameter{{Name: "name", Type: cty.String}},
	Type:   function.StaticReturnType(cty.String),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		name := args[0].AsString()
		v, ok := os.LookupEnv(name)
		if !ok {
			return cty.NilVal, fmt.Errorf("environment variable %s is not set", name)
		}
		return cty.StringVal(v), nil
	},
})

// File is file(PATH): the content of a file without its trailing
// newlines; a relative path starts at baseDir.
func File(baseDir string) function.Function {
	return function.New(&function.Spec{
		Params: []function.Parameter{{Name: "path", Type: cty.String}},
		Type:   function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			path := args[0].AsString()
			if !filepath.IsAbs(path) {
				path = filepath.Join(baseDir, path)
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return cty.NilVal, fmt.Errorf("cannot read %q: %w", path, err)
			}
			return cty.StringVal(strings.TrimRight(string(b), "\r\n")), nil
		},
	})
}
