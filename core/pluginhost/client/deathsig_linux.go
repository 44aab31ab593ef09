package client

import (
	"os/exec"
	"syscall"
)

// endWithParent makes the kernel kill the plugin process when the thread
// that starts it ends, which, as Start keeps that thread for the life of
// the plugin, is when the host process ends, however it ends: kill -9
// included.
func endWithParent(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
}
