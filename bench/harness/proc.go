package harness

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// clockTicks is the unit of the CPU times in /proc/<pid>/stat (USER_HZ),
// 100 per second on Linux.
const clockTicks = 100

// ProcCPU returns the user+system CPU seconds of process pid so far, all
// its threads, from /proc/<pid>/stat (Linux only; 10 ms resolution).
func ProcCPU(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("read the CPU time of process %d: %w", pid, err)
	}
	// The command name, in parentheses, may hold spaces: the fields after
	// it are "state ppid ... utime stime", utime the 14th field of the
	// line.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("process %d: malformed /proc stat line", pid)
	}
	fields := strings.Fields(string(b[i+1:]))
	if len(fields) < 13 {
		return 0, fmt.Errorf("process %d: malformed /proc stat line", pid)
	}
	utime, err1 := strconv.ParseUint(fields[11], 10, 64)
	stime, err2 := strconv.ParseUint(fields[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("process %d: /proc stat line: %w", pid, err)
	}
	return float64(utime+stime) / clockTicks, nil
}

// ProcPeakRSS returns the peak resident set size of process pid in bytes,
// VmHWM of /proc/<pid>/status (Linux only).
func ProcPeakRSS(pid int) (int64, error) { return procStatusBytes(pid, "VmHWM") }

// ProcRSS returns the resident set size of process pid in bytes, VmRSS of
// /proc/<pid>/status (Linux only): what top and ps show a user.
func ProcRSS(pid int) (int64, error) { return procStatusBytes(pid, "VmRSS") }

// ProcFileRSS returns the part of the resident set of process pid that
// is pages of mapped files, RssFile of /proc/<pid>/status (Linux only):
// the kernel may drop them under memory pressure and read them again.
func ProcFileRSS(pid int) (int64, error) { return procStatusBytes(pid, "RssFile") }

// procStatusBytes returns the field of /proc/<pid>/status that is a size
// in kB, such as VmHWM, in bytes.
func procStatusBytes(pid int, field string) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("read the status of process %d: %w", pid, err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		rest, ok := strings.CutPrefix(line, field+":")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("process %d: malformed %s line %q", pid, field, line)
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("process %d: %s: %w", pid, field, err)
		}
		return kb << 10, nil
	}
	return 0, fmt.Errorf("process %d: no %s in /proc/%d/status", pid, field, pid)
}

// procChildren returns the process ids of the children of pid, from
// /proc/<pid>/task/*/children (Linux only), sorted.
func procChildren(pid int) ([]int, error) {
	files, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	if err != nil {
		return nil, fmt.Errorf("list the threads of process %d: %w", pid, err)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("process %d: no /proc/%d/task/*/children", pid, pid)
	}
	var out []int
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				continue // the thread ended
			}
			return nil, fmt.Errorf("read the children of process %d: %w", pid, err)
		}
		for _, s := range strings.Fields(string(b)) {
			child, err := strconv.Atoi(s)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", f, err)
			}
			out = append(out, child)
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// ProcDescendants returns the process ids of the children of pid, their
// children and so on, breadth first (Linux only).
func ProcDescendants(pid int) ([]int, error) {
	var out []int
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		children, err := procChildren(p)
		if err != nil {
			if p != pid {
				continue // a descendant that ended meanwhile
			}
			return nil, err
		}
		out = append(out, children...)
		queue = append(queue, children...)
	}
	return out, nil
}

// Usage is the CPU time and peak resident set of a process.
type Usage struct {
	// User and System are the CPU time spent in user and in kernel mode.
	User, System time.Duration
	// MaxRSS is the peak resident set in bytes.
	MaxRSS int64
}

// CPU returns the user plus system time.
func (u Usage) CPU() time.Duration { return u.User + u.System }

// SelfUsage returns the usage of this process so far (getrusage).
func SelfUsage() (Usage, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return Usage{}, fmt.Errorf("getrusage: %w", err)
	}
	return usageOf(&ru), nil
}

// UsageOf returns the usage of a process that has ended, as the kernel
// accounted it; zero where the system does not say.
func UsageOf(ps *os.ProcessState) Usage {
	ru, ok := ps.SysUsage().(*syscall.Rusage)
	if !ok {
		return Usage{}
	}
	return usageOf(ru)
}

// usageOf converts a rusage, whose ru_maxrss is in KiB on Linux and in
// bytes on macOS.
func usageOf(ru *syscall.Rusage) Usage {
	rss := int64(ru.Maxrss)
	if runtime.GOOS != "darwin" {
		rss *= 1024
	}
	return Usage{User: time.Duration(ru.Utime.Nano()), System: time.Duration(ru.Stime.Nano()), MaxRSS: rss}
}
