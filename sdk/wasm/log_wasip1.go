//go:build wasip1

package wasm

import (
	"encoding/json"
	"sync"
	"unsafe"

	"github.com/hashicorp/go-hclog"
)

//go:wasmimport vigil log
func hostLog(level uint32, ptr unsafe.Pointer, size uint32)

var (
	loggerOnce sync.Once
	logger     hclog.Logger
)

// Logger returns the logger a plugin should use. In a module it logs
// through the host's log import, under the plugin's name; built for
// anything else it logs to stderr.
func Logger() hclog.Logger {
	loggerOnce.Do(func() {
		logger = hclog.New(&hclog.LoggerOptions{
			Output:      logWriter{},
			Level:       hclog.Trace,
			JSONFormat:  true,
			DisableTime: true,
		})
	})
	return logger
}

// logWriter hands each line hclog writes, a JSON object, to the log
// import at the line's level.
type logWriter struct{}

func (logWriter) Write(line []byte) (int, error) {
	var l struct {
		Level string `json:"@level"`
	}
	_ = json.Unmarshal(line, &l)
	level := hclog.LevelFromString(l.Level)
	if level == hclog.NoLevel {
		level = hclog.Info
	}
	n := len(line)
	for n > 0 && line[n-1] == '\n' {
		n--
	}
	if n > 0 {
		hostLog(uint32(level), unsafe.Pointer(unsafe.SliceData(line)), uint32(n))
	}
	return len(line), nil
}
