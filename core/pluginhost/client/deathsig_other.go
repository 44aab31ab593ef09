//go:build !linux

package client

import "os/exec"

// endWithParent does nothing where the kernel has no parent-death
// signal: there the SDK's Serve ends a plugin whose host is gone.
func endWithParent(*exec.Cmd) {}
