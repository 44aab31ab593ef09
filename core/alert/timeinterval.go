package alert

import (
	"time"

	"github.com/vigilmon/vigil/hclconfig"
)

// ContainsTime says whether t is in the time interval, with Alertmanager's
// semantics: t is read in the interval's location (UTC when it has none),
// and is in the interval when it is in one range of each field that is
// set. A negative day of the month counts from the end of t's month; a
// day range is clamped to the month.
func ContainsTime(ti *hclconfig.TimeInterval, t time.Time) bool {
	if ti.Location != nil {
		t = t.In(ti.Location)
	} else {
		t = t.UTC()
	}
	if len(ti.Times) > 0 {
		minute := t.Hour()*60 + t.Minute()
		if !anyRange(len(ti.Times), func(i int) bool {
			return minute >= ti.Times[i].StartMinute && minute < ti.Times[i].EndMinute
		}) {
			return false
		}
	}
	if len(ti.DaysOfMonth) > 0 && !inDaysOfMonth(ti.DaysOfMonth, t) {
		return false
	}
	for _, f := range []struct {
		ranges []hclconfig.InclusiveRange
		v      int
	}{
		{ti.Months, int(t.Month())},
		{ti.Weekdays, int(t.Weekday())},
		{ti.Years, t.Year()},
	} {
		if len(f.ranges) > 0 && !anyRange(len(f.ranges), func(i int) bool {
			return f.v >= f.ranges[i].Begin && f.v <= f.ranges[i].End
		}) {
			return false
		}
	}
	return true
}

func anyRange(n int, in func(i int) bool) bool {
	for i := range n {
		if in(i) {
			return true
		}
	}
	return false
}

func inDaysOfMonth(ranges []hclconfig.InclusiveRange, t time.Time) bool {
	days := time.Date(t.Year(), t.Month()+1, 0, 0, 0, 0, 0, t.Location()).Day()
	for _, r := range ranges {
		begin, end := r.Begin, r.End
		if begin < 0 {
			begin = days + begin + 1
		}
		if end < 0 {
			end = days + end + 1
		}
		if begin > days {
			continue
		}
		end = min(end, days)
		if t.Day() >= begin && t.Day() <= end {
			return true
		}
	}
	return false
}
