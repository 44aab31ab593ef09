package registry

import (
	"errors"
	"strings"
	"testing"
)

func TestProgressBar(t *testing.T) {
	var term, plain strings.Builder
	for _, tc := range []struct {
		b    *strings.Builder
		tty  bool
		err  error
		want []string
	}{
		{&term, true, nil, []string{"\racme/x 1.0.0 [", "] 100% 2.0 kB/2.0 kB\n"}},
		{&plain, false, errors.New("boom"), []string{"Downloading acme/x 1.0.0 (2.0 kB)\n", "Download of acme/x 1.0.0 failed after 1.0 kB\n"}},
	} {
		bar := newProgressBar(tc.b, tc.tty, "acme/x 1.0.0")
		bar.start(2048)
		bar.Write(make([]byte, 1024))
		if tc.err == nil {
			bar.Write(make([]byte, 1024))
		}
		bar.done(tc.err)
		for _, w := range tc.want {
			if !strings.Contains(tc.b.String(), w) {
				t.Errorf("terminal=%v: output %q lacks %q", tc.tty, tc.b.String(), w)
			}
		}
	}
	if strings.Contains(plain.String(), "\r") {
		t.Errorf("plain output has carriage returns: %q", plain.String())
	}
	var nilBar *progressBar
	nilBar.start(1)
	nilBar.Write([]byte("x"))
	nilBar.done(nil)
}
