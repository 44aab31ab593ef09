package badgerlog

import (
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
)

// formatted records whether it was formatted into a line.
type formatted struct{ done bool }

func (f *formatted) String() string {
	f.done = true
	return "value"
}

// TestLevels checks that badger's lines go to the levels of hclog they
// map to, and that a line below the logger's level is not even
// formatted: badger writes a debug line at every write.
func TestLevels(t *testing.T) {
	for _, tc := range []struct {
		level             hclog.Level
		wantInfo, wantDbg bool
	}{
		{hclog.Info, false, false},
		{hclog.Debug, true, false},
		{hclog.Trace, true, true},
	} {
		var out strings.Builder
		b := New(hclog.New(&hclog.LoggerOptions{Output: &out, Level: tc.level}))
		info, debug := &formatted{}, &formatted{}
		b.Infof("info %v\n", info)
		b.Debugf("debug %v\n", debug)
		b.Warningf("warning %d\n", 1)
		text := out.String()
		if info.done != tc.wantInfo || strings.Contains(text, "[DEBUG] info value") != tc.wantInfo {
			t.Errorf("at %s: info line formatted %v, in the log %q; want %v", tc.level, info.done, text, tc.wantInfo)
		}
		if debug.done != tc.wantDbg || strings.Contains(text, "[TRACE] debug value") != tc.wantDbg {
			t.Errorf("at %s: debug line formatted %v, in the log %q; want %v", tc.level, debug.done, text, tc.wantDbg)
		}
		if !strings.Contains(text, "[WARN]  warning 1\n") {
			t.Errorf("at %s: the warning is not logged as a warning in one line: %q", tc.level, text)
		}
	}
}
