package sdk

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// durationUnits are the units of a Prometheus duration, biggest first;
// a duration names each at most once, in this order.
var durationUnits = []struct {
	name string
	mult time.Duration
}{
	{"y", 365 * 24 * time.Hour},
	{"w", 7 * 24 * time.Hour},
	{"d", 24 * time.Hour},
	{"h", time.Hour},
	{"m", time.Minute},
	{"s", time.Second},
	{"ms", time.Millisecond},
}

// parseDuration parses a duration as Prometheus writes it: "0", or
// integers each followed by one of the units y, w, d, h, m, s and ms,
// biggest first and each at most once ("1h30m", "15d", "500ms"). It is
// what prometheus/common/model.ParseDuration accepts, kept here so the
// SDK does not require that module and all it requires; a test in Vigil's
// module compares the two.
func parseDuration(s string) (time.Duration, error) {
	switch s {
	case "0":
		return 0, nil
	case "":
		return 0, errors.New("empty duration string")
	}
	invalid := fmt.Errorf("not a valid duration string: %q", s)
	var total uint64
	next := 0 // the index in durationUnits of the smallest unit still allowed to come
	for rest := s; rest != ""; {
		i := 0
		for i < len(rest) && isDigit(rest[i]) {
			i++
		}
		if i == 0 {
			return 0, invalid
		}
		v, err := strconv.ParseUint(rest[:i], 10, 64)
		if err != nil {
			return 0, invalid
		}
		rest = rest[i:]
		j := 0
		for j < len(rest) && !isDigit(rest[j]) {
			j++
		}
		if j == 0 {
			return 0, invalid
		}
		unit := rest[:j]
		rest = rest[j:]
		k := -1
		for n, u := range durationUnits {
			if u.name == unit {
				k = n
				break
			}
		}
		if k < 0 {
			return 0, fmt.Errorf("unknown unit %q in duration %q", unit, s)
		}
		if k < next {
			return 0, invalid
		}
		next = k + 1
		mult := uint64(durationUnits[k].mult)
		if v > 1<<63/mult {
			return 0, errors.New("duration out of range")
		}
		total += v * mult
		if total > 1<<63-1 {
			return 0, errors.New("duration out of range")
		}
	}
	return time.Duration(total), nil
}

// formatDuration writes d as Prometheus does, to the millisecond: "0s",
// or its parts from days to milliseconds ("1d2h", "1m30s"), with years
// and weeks only when nothing smaller remains ("1y", "2w").
func formatDuration(d time.Duration) string {
	ms := int64(d / time.Millisecond)
	if ms == 0 {
		return "0s"
	}
	var b strings.Builder
	if ms < 0 {
		b.WriteByte('-')
		ms = -ms
	}
	for _, u := range durationUnits {
		mult := int64(u.mult / time.Millisecond)
		if (u.name == "y" || u.name == "w") && ms%mult != 0 {
			continue
		}
		if v := ms / mult; v > 0 {
			b.WriteString(strconv.FormatInt(v, 10))
			b.WriteString(u.name)
			ms -= v * mult
		}
	}
	return b.String()
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
