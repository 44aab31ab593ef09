package main

import (
	"fmt"

	"github.com/hashicorp/go-hclog"
)

// kitLogger writes the log lines of windows_exporter's collectors, which
// log with go-kit's log package, to the plugin's logger: it has go-kit's
// log.Logger method. The level (go-kit's "level" key) picks hclog's level,
// "msg" is the message and the other pairs are its fields.
type kitLogger struct{ l hclog.Logger }

// Log implements go-kit's log.Logger.
func (k kitLogger) Log(keyvals ...any) error {
	level, msg := hclog.Info, ""
	var fields []any
	for i := 0; i < len(keyvals); i += 2 {
		key := fmt.Sprint(keyvals[i])
		var value any = "(missing)"
		if i+1 < len(keyvals) {
			value = keyvals[i+1]
		}
		switch key {
		case "level":
			// go-kit's level values print as debug, info, warn or error.
			if l := hclog.LevelFromString(fmt.Sprint(value)); l != hclog.NoLevel {
				level = l
			}
		case "msg":
			msg = fmt.Sprint(value)
		default:
			if err, ok := value.(error); ok {
				value = err.Error()
			}
			fields = append(fields, key, value)
		}
	}
	k.l.Log(level, msg, fields...)
	return nil
}
