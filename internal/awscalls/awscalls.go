// Package awscalls finds, by static analysis, the AWS operations a Go program can call:
// the methods of the AWS SDK v2 service clients reachable from its main function, called
// on a client or through an interface that a client satisfies.
//
// The module's own packages are analysed from source; every other package (the SDK, the
// standard library) is known by its types alone, so the analysis is fast and a call into
// the SDK is where it stops. Reachability is a call graph built by Rapid Type Analysis
// over SSA (golang.org/x/tools/go/callgraph/rta) and walked from main along its edges:
// an interface call reaches the methods of the types that reachable code converts to an
// interface, so a method of a shared package counts only for the programs that call it.
// (RTA's own reachable set is not used: it counts every exported method of every type
// converted to an interface, since reflection might call it, which would charge a
// program with every operation of a store it uses one method of.)
//
// Code outside the module can call back into it, and the walk allows for that: a
// function whose value reachable code takes (a handler given to lambda.Start) is taken as
// called, and so is a method of a type converted to an interface declared outside the
// module (ServeHTTP, or MarshalJSON on the type of a field encoding/json walks) when the
// method's signature names no type of the module, as such an interface's methods cannot.
//
// What it cannot see: methods called through reflection by name (text/template); a
// generic function outside the module calling a module type's methods through its
// constraint; a value converted to one of the module's interfaces and then handed on
// as an interface of another package; and SDK helpers that drive a client themselves
// (paginators, waiters, presigners), which Analyze refuses rather than miss. The
// resource a call names at run time (which table, which parameter) is not known; the
// index a DynamoDB Query names is, when it is a constant.
package awscalls

import (
	"fmt"
	"go/constant"
	"go/token"
	"go/types"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/tools/go/callgraph"
	"golang.org/x/tools/go/callgraph/rta"
	"golang.org/x/tools/go/packages"
	"golang.org/x/tools/go/ssa"
)

// servicePrefix is where the AWS SDK v2 keeps its service clients.
const servicePrefix = "github.com/aws/aws-sdk-go-v2/service/"

// Call is one AWS operation a program can call, at one call site.
type Call struct {
	// Service is the SDK's package name for the service, e.g. "dynamodb".
	Service string
	// Operation is the client method, e.g. "GetItem".
	Operation string
	// Site is where the module's code calls it.
	Site token.Position
	// Via is the interface method called at Site, e.g. "persona.DynamoDB.GetItem",
	// or empty when Site calls the client itself.
	Via string
	// Input holds the fields of the operation's input that decide its permissions
	// (a Query's IndexName, a GetParameter's WithDecryption) and the constant each is
	// set to at Site; a field left unset is absent.
	Input map[string]string
}

func (c Call) String() string {
	s := c.Service + "." + c.Operation
	for _, k := range sortedKeys(c.Input) {
		s += fmt.Sprintf(" %s=%s", k, c.Input[k])
	}
	if c.Via != "" {
		s += " through " + c.Via
	}
	return s + " at " + c.Site.String()
}

// Analyze loads the main packages named by patterns (directories such as
// "./lambdas/list", relative to dir, or import paths) and returns, for each pattern,
// the AWS operations reachable from that program's main function.
func Analyze(dir string, patterns ...string) (map[string][]Call, error) {
	mains, local, err := mainPackages(dir, patterns)
	if err != nil {
		return nil, err
	}
	// The module's packages from source, everything else from its export data.
	pkgs, err := packages.Load(&packages.Config{
		Dir:  dir,
		Mode: packages.NeedName | packages.NeedTypes | packages.NeedSyntax | packages.NeedTypesInfo | packages.NeedImports,
	}, local...)
	if err != nil {
		return nil, fmt.Errorf("loading %s: %w", strings.Join(local, ", "), err)
	}
	if err := loadErrors(pkgs); err != nil {
		return nil, err
	}
	prog, byPath := buildSSA(pkgs)

	out := map[string][]Call{}
	for _, pattern := range patterns {
		main := byPath[mains[pattern]]
		if main == nil || main.Func("main") == nil {
			return nil, fmt.Errorf("%s is not a main package", pattern)
		}
		calls, err := analyzeMain(prog, main, byPath)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", pattern, err)
		}
		out[pattern] = calls
	}
	return out, nil
}

// mainPackages resolves patterns to import paths and lists the module's packages the
// programs import, which the analysis reads from source.
func mainPackages(dir string, patterns []string) (mains map[string]string, local []string, err error) {
	if len(patterns) == 0 {
		return nil, nil, fmt.Errorf("no main package to analyse: name one, e.g. ./lambdas/list")
	}
	graph, err := packages.Load(&packages.Config{
		Dir:  dir,
		Mode: packages.NeedName | packages.NeedFiles | packages.NeedImports | packages.NeedDeps | packages.NeedModule,
	}, patterns...)
	if err != nil {
		return nil, nil, fmt.Errorf("listing %s: %w", strings.Join(patterns, ", "), err)
	}
	if err := loadErrors(graph); err != nil {
		return nil, nil, err
	}
	absDir, err := filepath.Abs(dir)
	if err != nil {
		return nil, nil, err
	}
	mains = map[string]string{}
	for _, pattern := range patterns {
		for _, p := range graph {
			if p.PkgPath == pattern || (len(p.GoFiles) > 0 && filepath.Dir(p.GoFiles[0]) == filepath.Join(absDir, pattern)) {
				mains[pattern] = p.PkgPath
			}
		}
		if mains[pattern] == "" {
			return nil, nil, fmt.Errorf("%s names no package", pattern)
		}
	}
	packages.Visit(graph, nil, func(p *packages.Package) {
		if p.Module != nil && p.Module.Main {
			local = append(local, p.PkgPath)
		}
	})
	sort.Strings(local)
	return mains, local, nil
}

func loadErrors(pkgs []*packages.Package) error {
	var msgs []string
	packages.Visit(pkgs, nil, func(p *packages.Package) {
		for _, e := range p.Errors {
			msgs = append(msgs, e.Error())
		}
	})
	if len(msgs) > 0 {
		return fmt.Errorf("the programs do not load: %s", strings.Join(msgs, "; "))
	}
	return nil
}

// buildSSA builds the module's packages and creates every package they refer to,
// from its types alone: such functions have no body, so the call graph ends at them.
func buildSSA(pkgs []*packages.Package) (*ssa.Program, map[string]*ssa.Package) {
	prog := ssa.NewProgram(pkgs[0].Fset, ssa.InstantiateGenerics)
	byPath := map[string]*ssa.Package{}
	created := map[*types.Package]bool{}
	for _, p := range pkgs {
		byPath[p.PkgPath] = prog.CreatePackage(p.Types, p.Syntax, p.TypesInfo, true)
		created[p.Types] = true
	}
	var createImports func(*types.Package)
	createImports = func(tp *types.Package) {
		for _, imp := range tp.Imports() {
			if !created[imp] {
				created[imp] = true
				prog.CreatePackage(imp, nil, nil, true)
				createImports(imp)
			}
		}
	}
	for _, p := range pkgs {
		createImports(p.Types)
	}
	prog.Build()
	return prog, byPath
}

// analyzeMain lists the AWS calls reachable from main's main and init.
func analyzeMain(prog *ssa.Program, main *ssa.Package, byPath map[string]*ssa.Package) ([]Call, error) {
	inModule := func(tp *types.Package) bool { return tp != nil && byPath[tp.Path()] != nil }
	// RTA builds edges only out of the functions it finds reachable; the walk finds
	// more (a handler given to code outside the module), so those become roots of
	// the next round until a round finds nothing new.
	roots := []*ssa.Function{main.Func("main"), main.Func("init")}
	var res *rta.Result
	var reached map[*ssa.Function]bool
	for {
		res = rta.Analyze(roots, true)
		reached = reach(prog, res, roots, inModule)
		n := len(roots)
		for fn := range reached {
			if _, ok := res.Reachable[fn]; !ok {
				roots = append(roots, fn)
			}
		}
		if len(roots) == n {
			break
		}
	}

	var calls []Call
	var problems []string
	for fn := range reached {
		node := res.CallGraph.Nodes[fn]
		if node == nil || len(fn.Blocks) == 0 {
			continue
		}
		for _, edge := range node.Out {
			if edge.Site == nil {
				continue
			}
			call, ok, err := classify(prog, edge)
			if err != nil {
				problems = append(problems, fmt.Sprintf("%s: %v", prog.Fset.Position(edge.Site.Pos()), err))
				continue
			}
			if ok {
				calls = append(calls, call)
			}
		}
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return nil, fmt.Errorf("cannot tell every AWS operation the program calls:\n%s", strings.Join(problems, "\n"))
	}
	sort.Slice(calls, func(i, j int) bool { return calls[i].String() < calls[j].String() })
	return dedupe(calls), nil
}

// reach walks the call graph from roots. Beyond its edges, code outside the module
// may call two kinds of functions: one whose value reachable code takes (lambda.Start
// calls its handler), and a method of a type that reachable code converts to an
// interface declared outside the module (net/http calls ServeHTTP; encoding/json finds
// MarshalJSON by reflection, also on the types of fields), when the method's signature
// names no type of the module. A value converted to one of the module's own interfaces
// (the store behind persona's personaStore) exposes nothing: only the module's code
// can call through that interface, and the call graph has those edges.
func reach(prog *ssa.Program, res *rta.Result, roots []*ssa.Function, inModule func(*types.Package) bool) map[*ssa.Function]bool {
	reached := map[*ssa.Function]bool{}
	work := append([]*ssa.Function(nil), roots...)
	push := func(fn *ssa.Function) {
		if fn != nil && !reached[fn] {
			work = append(work, fn)
		}
	}
	exposed := map[types.Type]bool{}
	var expose func(t types.Type)
	expose = func(t types.Type) {
		if exposed[t] {
			return
		}
		exposed[t] = true
		if _, isInterface := t.Underlying().(*types.Interface); isInterface {
			return
		}
		receivers := []types.Type{t}
		if _, isPointer := t.(*types.Pointer); !isPointer {
			receivers = append(receivers, types.NewPointer(t))
		}
		for _, recv := range receivers {
			mset := prog.MethodSets.MethodSet(recv)
			for i := range mset.Len() {
				fn := prog.MethodValue(mset.At(i))
				if fn != nil && fn.Object() != nil && inModule(fn.Object().Pkg()) && !namesModuleType(fn.Signature, inModule) {
					push(fn)
				}
			}
		}
		switch u := t.Underlying().(type) {
		case *types.Pointer:
			expose(u.Elem())
		case *types.Slice:
			expose(u.Elem())
		case *types.Array:
			expose(u.Elem())
		case *types.Chan:
			expose(u.Elem())
		case *types.Map:
			expose(u.Key())
			expose(u.Elem())
		case *types.Struct:
			for i := range u.NumFields() {
				expose(u.Field(i).Type())
			}
		}
	}
	for len(work) > 0 {
		fn := work[len(work)-1]
		work = work[:len(work)-1]
		if reached[fn] {
			continue
		}
		reached[fn] = true
		if node := res.CallGraph.Nodes[fn]; node != nil {
			for _, e := range node.Out {
				push(e.Callee.Func)
			}
		}
		for _, b := range fn.Blocks {
			for _, instr := range b.Instrs {
				if mi, ok := instr.(*ssa.MakeInterface); ok && !declaredIn(mi.Type(), inModule) {
					expose(mi.X.Type())
				}
				var callee ssa.Value
				if c, ok := instr.(ssa.CallInstruction); ok {
					callee = c.Common().Value
				}
				for _, op := range instr.Operands(nil) {
					if f, ok := (*op).(*ssa.Function); ok && *op != callee {
						push(f) // its value is taken: whoever receives it may call it
					}
				}
			}
		}
	}
	return reached
}

// declaredIn reports whether t is a named type of the module.
func declaredIn(t types.Type, inModule func(*types.Package) bool) bool {
	named, ok := types.Unalias(t).(*types.Named)
	return ok && inModule(named.Obj().Pkg())
}

// namesModuleType reports whether a signature mentions a named type of the module.
func namesModuleType(sig *types.Signature, inModule func(*types.Package) bool) bool {
	found := false
	var visit func(t types.Type)
	seen := map[types.Type]bool{}
	visit = func(t types.Type) {
		if found || seen[t] {
			return
		}
		seen[t] = true
		switch t := t.(type) {
		case *types.Named:
			if inModule(t.Obj().Pkg()) {
				found = true
				return
			}
			if args := t.TypeArgs(); args != nil {
				for i := range args.Len() {
					visit(args.At(i))
				}
			}
		case *types.Alias:
			visit(types.Unalias(t))
		case *types.Pointer:
			visit(t.Elem())
		case *types.Slice:
			visit(t.Elem())
		case *types.Array:
			visit(t.Elem())
		case *types.Map:
			visit(t.Key())
			visit(t.Elem())
		case *types.Chan:
			visit(t.Elem())
		case *types.Signature:
			for i := range t.Params().Len() {
				visit(t.Params().At(i).Type())
			}
			for i := range t.Results().Len() {
				visit(t.Results().At(i).Type())
			}
		case *types.Struct:
			for i := range t.NumFields() {
				visit(t.Field(i).Type())
			}
		case *types.Interface:
			for i := range t.NumMethods() {
				visit(t.Method(i).Type())
			}
		}
	}
	for i := range sig.Params().Len() {
		visit(sig.Params().At(i).Type())
	}
	for i := range sig.Results().Len() {
		visit(sig.Results().At(i).Type())
	}
	return found
}

// classify tells whether a call edge is an AWS operation, and refuses a call that
// hands a client to SDK code that would call operations the analysis cannot see.
func classify(prog *ssa.Program, edge *callgraph.Edge) (Call, bool, error) {
	callee := edge.Callee.Func
	obj, _ := callee.Object().(*types.Func)
	if obj == nil || obj.Pkg() == nil || !strings.HasPrefix(obj.Pkg().Path(), servicePrefix) {
		return Call{}, false, nil
	}
	sig := obj.Type().(*types.Signature)
	client := clientOf(obj.Pkg())
	if recv := sig.Recv(); recv != nil && client != nil && types.Identical(recv.Type(), types.NewPointer(client)) {
		if !isOperation(obj.Name(), sig) {
			return Call{}, false, nil // Options() and the like
		}
		common := edge.Site.Common()
		call := Call{
			Service:   obj.Pkg().Name(),
			Operation: obj.Name(),
			Site:      prog.Fset.Position(edge.Site.Pos()),
		}
		input := common.Args[len(common.Args)-2] // (ctx, input, optFns...) after any receiver
		if common.IsInvoke() {
			call.Via = interfaceName(common.Value.Type()) + "." + common.Method.Name()
		}
		for _, field := range permissionFields[call.Service+"."+call.Operation] {
			v, set, err := constantField(input, field)
			if err != nil {
				return Call{}, false, fmt.Errorf("%s.%s: %s %w", call.Service, call.Operation, field, err)
			}
			if set {
				if call.Input == nil {
					call.Input = map[string]string{}
				}
				call.Input[field] = v
			}
		}
		return call, true, nil
	}
	if client != nil && (obj.Name() == "New" || obj.Name() == "NewFromConfig") {
		return Call{}, false, nil
	}
	if client != nil && takesClient(sig, client) {
		return Call{}, false, fmt.Errorf("%s.%s is given a %s client and calls its operations itself, out of the analysis' sight: call the client's operations directly, or teach awscalls which operations it calls",
			obj.Pkg().Name(), obj.Name(), obj.Pkg().Name())
	}
	return Call{}, false, nil
}

// clientOf returns a service package's Client type.
func clientOf(pkg *types.Package) *types.Named {
	if tn, ok := pkg.Scope().Lookup("Client").(*types.TypeName); ok {
		if named, ok := tn.Type().(*types.Named); ok {
			return named
		}
	}
	return nil
}

// isOperation reports whether a client method has an operation's shape:
// Name(context.Context, *NameInput, ...func(*Options)) (*NameOutput, error).
func isOperation(name string, sig *types.Signature) bool {
	if sig.Params().Len() != 3 || sig.Results().Len() != 2 {
		return false
	}
	in, ok := sig.Params().At(1).Type().(*types.Pointer)
	if !ok {
		return false
	}
	named, ok := in.Elem().(*types.Named)
	return ok && named.Obj().Name() == name+"Input"
}

// takesClient reports whether a function takes the client, or an interface it satisfies.
func takesClient(sig *types.Signature, client *types.Named) bool {
	ptr := types.NewPointer(client)
	for i := range sig.Params().Len() {
		t := sig.Params().At(i).Type()
		if types.Identical(t, ptr) {
			return true
		}
		if iface, ok := t.Underlying().(*types.Interface); ok && iface.NumMethods() > 0 && types.Implements(ptr, iface) {
			return true
		}
	}
	return false
}

func interfaceName(t types.Type) string {
	if named, ok := t.(*types.Named); ok {
		return named.Obj().Pkg().Name() + "." + named.Obj().Name()
	}
	return t.String()
}

// constantField finds what a field of an operation's input is set to, following the
// input pointer to the struct literal it was made from: set is false when the field is
// never set. A value that is not a constant (or aws.String/aws.Bool of one) is an error:
// the permission it decides would be a guess.
func constantField(input ssa.Value, field string) (value string, set bool, err error) {
	alloc, ok := input.(*ssa.Alloc)
	if !ok {
		if c, ok := input.(*ssa.Const); ok && c.IsNil() {
			return "", false, nil
		}
		return "", false, fmt.Errorf("cannot be read: the input does not come from a struct literal in the calling function")
	}
	var values []string
	for _, ref := range *alloc.Referrers() {
		fa, ok := ref.(*ssa.FieldAddr)
		if !ok || fa.X != alloc {
			continue
		}
		st := alloc.Type().Underlying().(*types.Pointer).Elem().Underlying().(*types.Struct)
		if st.Field(fa.Field).Name() != field {
			continue
		}
		for _, use := range *fa.Referrers() {
			store, ok := use.(*ssa.Store)
			if !ok || store.Addr != fa {
				continue
			}
			v, isSet, err := constantValue(store.Val)
			if err != nil {
				return "", false, err
			}
			if isSet {
				values = append(values, v)
			}
		}
	}
	switch {
	case len(values) == 0:
		return "", false, nil
	case len(dedupeStrings(values)) > 1:
		return "", false, fmt.Errorf("is set to %s at different points: the analysis takes one constant", strings.Join(values, " and "))
	}
	return values[0], true, nil
}

// constantValue reads a constant, or aws.String / aws.Bool of one.
func constantValue(v ssa.Value) (string, bool, error) {
	if call, ok := v.(*ssa.Call); ok {
		if fn, ok := call.Call.Value.(*ssa.Function); ok && fn.Pkg != nil && fn.Pkg.Pkg.Path() == "github.com/aws/aws-sdk-go-v2/aws" &&
			(fn.Name() == "String" || fn.Name() == "Bool") && len(call.Call.Args) == 1 {
			v = call.Call.Args[0]
		}
	}
	c, ok := v.(*ssa.Const)
	if !ok {
		return "", false, fmt.Errorf("is not a constant (%s): name it with a constant, or aws.String/aws.Bool of one", v)
	}
	if c.IsNil() {
		return "", false, nil
	}
	switch c.Value.Kind() {
	case constant.String:
		return constant.StringVal(c.Value), true, nil
	case constant.Bool:
		return fmt.Sprint(constant.BoolVal(c.Value)), true, nil
	}
	return c.Value.ExactString(), true, nil
}

func dedupe(calls []Call) []Call {
	var out []Call
	for i, c := range calls {
		if i == 0 || c.String() != calls[i-1].String() {
			out = append(out, c)
		}
	}
	return out
}

func dedupeStrings(s []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, v := range s {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
