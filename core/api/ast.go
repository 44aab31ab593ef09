package api

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/util/annotations"
)

// parseQuery answers /api/v1/parse_query: the expression's syntax tree in
// the JSON shape Prometheus's own UI and PromLens read.
func (a *API) parseQuery(r *http.Request) (any, annotations.Annotations, *apiError) {
	expr, done, apiErr := a.parseExpr(r)
	if apiErr != nil {
		return nil, nil, apiErr
	}
	defer done()
	node, err := astNode(expr)
	if err != nil {
		return nil, nil, &apiError{errorInternal, err}
	}
	return node, nil, nil
}

// The node types below are the JSON objects of the tree. Each carries a
// "type" naming its kind; durations are in milliseconds.

type aggregationNode struct {
	Type     string   `json:"type"`
	Op       string   `json:"op"`
	Expr     any      `json:"expr"`
	Param    any      `json:"param"`
	Grouping []string `json:"grouping"`
	Without  bool     `json:"without"`
}

type binaryNode struct {
	Type     string        `json:"type"`
	Op       string        `json:"op"`
	LHS      any           `json:"lhs"`
	RHS      any           `json:"rhs"`
	Matching *matchingNode `json:"matching"`
	Bool     bool          `json:"bool"`
}

type matchingNode struct {
	Card       string              `json:"card"`
	Labels     []string            `json:"labels"`
	On         bool                `json:"on"`
	Include    []string            `json:"include"`
	FillValues map[string]*float64 `json:"fillValues"`
}

type callNode struct {
	Type string   `json:"type"`
	Func funcNode `json:"func"`
	Args []any    `json:"args"`
}

type funcNode struct {
	Name       string             `json:"name"`
	ArgTypes   []parser.ValueType `json:"argTypes"`
	Variadic   int                `json:"variadic"`
	ReturnType parser.ValueType   `json:"returnType"`
}

type selectorNode struct {
	Type       string        `json:"type"`
	Name       string        `json:"name"`
	Offset     int64         `json:"offset"`
	OffsetExpr any           `json:"offsetExpr"`
	Matchers   []matcherNode `json:"matchers"`
	Timestamp  *int64        `json:"timestamp"`
	StartOrEnd *string       `json:"startOrEnd"`
	Anchored   bool          `json:"anchored"`
	Smoothed   bool          `json:"smoothed"`
}

// matrixNode is a selector with a range; its fields join the selector's.
type matrixNode struct {
	selectorNode
	Range     int64 `json:"range"`
	RangeExpr any   `json:"rangeExpr"`
}

type matcherNode struct {
	Name  string `json:"name"`
	Value string `json:"value"`
	Type  string `json:"type"`
}

type subqueryNode struct {
	Type       string  `json:"type"`
	Expr       any     `json:"expr"`
	Range      int64   `json:"range"`
	RangeExpr  any     `json:"rangeExpr"`
	Offset     int64   `json:"offset"`
	OffsetExpr any     `json:"offsetExpr"`
	Step       int64   `json:"step"`
	StepExpr   any     `json:"stepExpr"`
	Timestamp  *int64  `json:"timestamp"`
	StartOrEnd *string `json:"startOrEnd"`
}

type durationNode struct {
	Type    string `json:"type"`
	Op      string `json:"op"`
	LHS     any    `json:"lhs"`
	RHS     any    `json:"rhs"`
	Wrapped bool   `json:"wrapped"`
}

type numberNode struct {
	Type string `json:"type"`
	Val  string `json:"val"`
}

// durationNumberNode is a number inside a duration expression; it says
// whether it was written as a duration ("5m") or as seconds.
type durationNumberNode struct {
	Type     string `json:"type"`
	Val      string `json:"val"`
	Duration bool   `json:"duration"`
}

type wrapperNode struct {
	Type string `json:"type"`
	Op   string `json:"op,omitempty"`
	Expr any    `json:"expr"`
}

type stringNode struct {
	Type string `json:"type"`
	Val  string `json:"val"`
}

// astNode translates one node of a parsed expression, and its children.
func astNode(e parser.Expr) (any, error) {
	if e == nil {
		return nil, nil
	}
	switch n := e.(type) {
	case *parser.AggregateExpr:
		expr, err := astNode(n.Expr)
		if err != nil {
			return nil, err
		}
		param, err := astNode(n.Param)
		if err != nil {
			return nil, err
		}
		return aggregationNode{"aggregation", n.Op.String(), expr, param, nonNil(n.Grouping), n.Without}, nil
	case *parser.BinaryExpr:
		lhs, err := astNode(n.LHS)
		if err != nil {
			return nil, err
		}
		rhs, err := astNode(n.RHS)
		if err != nil {
			return nil, err
		}
		out := binaryNode{Type: "binaryExpr", Op: n.Op.String(), LHS: lhs, RHS: rhs, Bool: n.ReturnBool}
		if m := n.VectorMatching; m != nil {
			out.Matching = &matchingNode{
				Card:       m.Card.String(),
				Labels:     nonNil(m.MatchingLabels),
				On:         m.On,
				Include:    nonNil(m.Include),
				FillValues: map[string]*float64{"lhs": m.FillValues.LHS, "rhs": m.FillValues.RHS},
			}
		}
		return out, nil
	case *parser.Call:
		out := callNode{Type: "call", Args: []any{}, Func: funcNode{
			Name:       n.Func.Name,
			ArgTypes:   n.Func.ArgTypes,
			Variadic:   n.Func.Variadic,
			ReturnType: n.Func.ReturnType,
		}}
		for _, arg := range n.Args {
			v, err := astNode(arg)
			if err != nil {
				return nil, err
			}
			out.Args = append(out.Args, v)
		}
		return out, nil
	case *parser.MatrixSelector:
		vs, ok := n.VectorSelector.(*parser.VectorSelector)
		if !ok {
			return nil, fmt.Errorf("matrix selector over %T", n.VectorSelector)
		}
		sel, err := vectorSelectorNode(vs)
		if err != nil {
			return nil, err
		}
		sel.Type = "matrixSelector"
		out := matrixNode{selectorNode: sel, Range: n.Range.Milliseconds()}
		if out.RangeExpr, err = durationExprNode(n.RangeExpr); err != nil {
			return nil, err
		}
		return out, nil
	case *parser.VectorSelector:
		return vectorSelectorNode(n)
	case *parser.SubqueryExpr:
		expr, err := astNode(n.Expr)
		if err != nil {
			return nil, err
		}
		out := subqueryNode{
			Type:       "subquery",
			Expr:       expr,
			Range:      n.Range.Milliseconds(),
			Offset:     n.OriginalOffset.Milliseconds(),
			Step:       n.Step.Milliseconds(),
			Timestamp:  n.Timestamp,
			StartOrEnd: startOrEnd(n.StartOrEnd),
		}
		for _, d := range []struct {
			dst *any
			src parser.Expr
		}{{&out.RangeExpr, n.RangeExpr}, {&out.OffsetExpr, n.OriginalOffsetExpr}, {&out.StepExpr, n.StepExpr}} {
			if *d.dst, err = durationExprNode(d.src); err != nil {
				return nil, err
			}
		}
		return out, nil
	case *parser.DurationExpr:
		return durationExprNode(n)
	case *parser.NumberLiteral:
		return numberNode{"numberLiteral", formatNumber(n.Val)}, nil
	case *parser.ParenExpr:
		expr, err := astNode(n.Expr)
		if err != nil {
			return nil, err
		}
		return wrapperNode{Type: "parenExpr", Expr: expr}, nil
	case *parser.UnaryExpr:
		expr, err := astNode(n.Expr)
		if err != nil {
			return nil, err
		}
		return wrapperNode{Type: "unaryExpr", Op: n.Op.String(), Expr: expr}, nil
	case *parser.StringLiteral:
		return stringNode{"stringLiteral", n.Val}, nil
	}
	return nil, fmt.Errorf("cannot translate expression node %T", e)
}

// vectorSelectorNode translates a vector selector, the inner part of a
// matrix selector too.
func vectorSelectorNode(vs *parser.VectorSelector) (selectorNode, error) {
	offsetExpr, err := durationExprNode(vs.OriginalOffsetExpr)
	if err != nil {
		return selectorNode{}, err
	}
	out := selectorNode{
		Type:       "vectorSelector",
		Name:       vs.Name,
		Offset:     vs.OriginalOffset.Milliseconds(),
		OffsetExpr: offsetExpr,
		Matchers:   matcherNodes(vs.LabelMatchers),
		Timestamp:  vs.Timestamp,
		StartOrEnd: startOrEnd(vs.StartOrEnd),
		Anchored:   vs.Anchored,
		Smoothed:   vs.Smoothed,
	}
	return out, nil
}

// durationExprNode translates the expression of a computed duration
// (`rate(x[5m * 2])`); numbers in it say whether they were written as a
// duration.
func durationExprNode(e parser.Expr) (any, error) {
	switch n := e.(type) {
	case nil:
		return nil, nil
	case *parser.DurationExpr:
		if n == nil {
			return nil, nil
		}
		lhs, err := durationExprNode(n.LHS)
		if err != nil {
			return nil, err
		}
		rhs, err := durationExprNode(n.RHS)
		if err != nil {
			return nil, err
		}
		return durationNode{"durationExpr", n.Op.String(), lhs, rhs, n.Wrapped}, nil
	case *parser.NumberLiteral:
		if n == nil {
			return nil, nil
		}
		return durationNumberNode{"numberLiteral", formatNumber(n.Val), n.Duration}, nil
	}
	return astNode(e)
}

func matcherNodes(ms []*labels.Matcher) []matcherNode {
	out := make([]matcherNode, 0, len(ms))
	for _, m := range ms {
		out = append(out, matcherNode{m.Name, m.Value, m.Type.String()})
	}
	return out
}

// startOrEnd names the @ start() or @ end() modifier, or is nil.
func startOrEnd(t parser.ItemType) *string {
	if t == 0 {
		return nil
	}
	s := t.String()
	return &s
}

func formatNumber(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
