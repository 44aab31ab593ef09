//go:build linux

package main

import (
	"fmt"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sys/unix"
)

var unameInfo = newFamily("node_uname_info", "Labeled system information as provided by the uname system call.",
	prometheus.GaugeValue, "sysname", "release", "version", "machine", "nodename", "domainname")

// unameCollector reports what the uname system call says about the
// kernel and host.
type unameCollector struct{}

func newUnameCollector(*config, hclog.Logger) (collector, error) { return unameCollector{}, nil }

func (unameCollector) update(s *sink) error {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return fmt.Errorf("uname: %w", err)
	}
	s.send(unameInfo, 1,
		unix.ByteSliceToString(u.Sysname[:]),
		unix.ByteSliceToString(u.Release[:]),
		unix.ByteSliceToString(u.Version[:]),
		unix.ByteSliceToString(u.Machine[:]),
		unix.ByteSliceToString(u.Nodename[:]),
		unix.ByteSliceToString(u.Domainname[:]),
	)
	return nil
}
