package sdk

import "errors"

// TargetError is the error of an exporter's target, as opposed to the
// exporter itself: the system it collects (a database server, a web
// server's status page, the target of a multi-target collection) is
// down, too slow or answers garbage. Upstream exporters report that in
// a metric of their own, e.g. mysqld_exporter's mysql_up 0, and still
// answer the scrape; an exporter plugin does the same and returns its
// families together with TargetDown(err):
//
//	if err := db.PingContext(ctx); err != nil {
//		return []*dto.MetricFamily{upGauge(0)}, sdk.TargetDown(err)
//	}
//
// The host keeps the families (so alerts on the plugin's own up metric
// keep working) and reports the target down with the error: up 0, the
// error in /api/v1/targets, and a failed scrape in the scrape metrics.
// Any other error from Collect or CollectTarget fails the collection
// and its families are dropped.
type TargetError struct {
	// Err is what went wrong with the target.
	Err error
}

// Error says that the target is down, and why.
func (e *TargetError) Error() string {
	if e.Err == nil {
		return "target down"
	}
	return "target down: " + e.Err.Error()
}

// Unwrap returns the target's error.
func (e *TargetError) Unwrap() error { return e.Err }

// TargetDown marks err as the error of the exporter's target: see
// TargetError. It returns nil when err is nil.
func TargetDown(err error) error {
	if err == nil {
		return nil
	}
	var te *TargetError
	if errors.As(err, &te) {
		return err
	}
	return &TargetError{Err: err}
}

// AsTargetError returns the TargetError in err's chain, or nil when err
// is not the error of an exporter's target.
func AsTargetError(err error) *TargetError {
	var te *TargetError
	if errors.As(err, &te) {
		return te
	}
	return nil
}
