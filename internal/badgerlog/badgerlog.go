// Package badgerlog sends badger's log lines to go-hclog, the project's
// one logger. Start with New.
package badgerlog

import (
	"fmt"
	"strings"

	"github.com/hashicorp/go-hclog"
)

// Logger implements badger.Logger over an hclog.Logger. Badger's info
// lines are debug here and its debug lines trace: badger is chatty about
// its own housekeeping.
type Logger struct{ l hclog.Logger }

// New returns a badger logger that writes to l.
func New(l hclog.Logger) Logger { return Logger{l: l} }

// Errorf implements badger.Logger.
func (b Logger) Errorf(f string, a ...any) { b.l.Error(line(f, a)) }

// Warningf implements badger.Logger.
func (b Logger) Warningf(f string, a ...any) { b.l.Warn(line(f, a)) }

// Infof implements badger.Logger. The line is formatted only when l
// writes debug lines.
func (b Logger) Infof(f string, a ...any) {
	if b.l.IsDebug() {
		b.l.Debug(line(f, a))
	}
}

// Debugf implements badger.Logger. The line is formatted only when l
// writes trace lines: badger calls it at every write.
func (b Logger) Debugf(f string, a ...any) {
	if b.l.IsTrace() {
		b.l.Trace(line(f, a))
	}
}

func line(f string, a []any) string { return strings.TrimRight(fmt.Sprintf(f, a...), "\n") }
