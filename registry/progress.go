package registry

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// progressBar shows a download's progress on a writer (stderr): a bar
// redrawn in place on a terminal, or one line when it starts and one when
// it ends otherwise. A nil *progressBar shows nothing.
type progressBar struct {
	w        io.Writer
	terminal bool
	label    string
	total    int64
	n        int64
	last     time.Time
}

// newProgressBar is a bar on w; nil when w is nil.
func newProgressBar(w io.Writer, terminal bool, label string) *progressBar {
	if w == nil {
		return nil
	}
	return &progressBar{w: w, terminal: terminal, label: label}
}

// start begins the bar; total is -1 when not known.
func (b *progressBar) start(total int64) {
	if b == nil {
		return
	}
	b.total = total
	if b.terminal {
		b.draw()
		return
	}
	if total >= 0 {
		fmt.Fprintf(b.w, "Downloading %s (%s)\n", b.label, humanBytes(total))
	} else {
		fmt.Fprintf(b.w, "Downloading %s\n", b.label)
	}
}

// Write counts bytes and redraws the bar at most ten times a second.
func (b *progressBar) Write(p []byte) (int, error) {
	if b == nil {
		return len(p), nil
	}
	b.n += int64(len(p))
	if b.terminal && time.Since(b.last) > 100*time.Millisecond {
		b.draw()
	}
	return len(p), nil
}

// draw redraws the bar in place.
func (b *progressBar) draw() {
	b.last = time.Now()
	const width = 30
	if b.total > 0 {
		filled := int(int64(width) * min(b.n, b.total) / b.total)
		fmt.Fprintf(b.w, "\r%s [%s%s] %3d%% %s/%s", b.label, strings.Repeat("=", filled), strings.Repeat(" ", width-filled),
			100*min(b.n, b.total)/b.total, humanBytes(b.n), humanBytes(b.total))
		return
	}
	fmt.Fprintf(b.w, "\r%s %s", b.label, humanBytes(b.n))
}

// done ends the bar, saying whether the download failed.
func (b *progressBar) done(err error) {
	if b == nil {
		return
	}
	if b.terminal {
		b.draw()
		fmt.Fprintln(b.w)
	}
	if err != nil {
		fmt.Fprintf(b.w, "Download of %s failed after %s\n", b.label, humanBytes(b.n))
	} else if !b.terminal {
		fmt.Fprintf(b.w, "Downloaded %s (%s)\n", b.label, humanBytes(b.n))
	}
}

// humanBytes is a byte count in B, kB or MB.
func humanBytes(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f kB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
