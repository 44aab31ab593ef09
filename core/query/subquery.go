package query

import (
	"fmt"
	"time"

	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
)

// MaxSubquerySteps bounds the steps the subqueries of one query evaluate,
// all together.
//
// The engine allocates 16 bytes of statistics for every step of a
// subquery before it reads a sample, so up[1y:1ms] asks for 500 GB at
// once and the process dies out of memory: neither max_samples nor the
// timeout can stop it. Five million steps (80 MB) leave room for
// max_over_time(rate(x[5m])[2y:]) and for a subquery with a step of one
// second over a month.
const MaxSubquerySteps = 5_000_000

// defaultSubqueryStep is the step of a subquery that gives none, as
// NewEngine sets it.
const defaultSubqueryStep = time.Minute

// CheckSubqueries refuses a query whose subqueries would evaluate more
// than MaxSubquerySteps steps in all, before it runs. A subquery's steps
// cover its range, widened by the ranges of the subqueries around it
// and by the span of a range query.
func CheckSubqueries(q promql.Query) error {
	stmt, ok := q.Statement().(*parser.EvalStmt)
	if !ok {
		return nil
	}
	// Floats: ranges of centuries, added, would overflow a Duration.
	span := float64(stmt.End.Sub(stmt.Start))
	total := 0.0
	parser.Inspect(stmt.Expr, func(node parser.Node, path []parser.Node) error {
		sq, ok := node.(*parser.SubqueryExpr)
		if !ok {
			return nil
		}
		width := span + float64(sq.Range)
		for _, outer := range path {
			if o, ok := outer.(*parser.SubqueryExpr); ok && o != sq {
				width += float64(o.Range)
			}
		}
		step := sq.Step
		if step <= 0 {
			step = defaultSubqueryStep
		}
		total += width/float64(step) + 1
		return nil
	})
	if total > MaxSubquerySteps {
		return fmt.Errorf("the subqueries of the query would evaluate %.3g steps, more than the %d allowed: give them a larger step or a shorter range", total, MaxSubquerySteps)
	}
	return nil
}
