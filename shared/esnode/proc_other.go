//go:build !linux

package esnode

import "syscall"

// sysProcAttr: without Pdeathsig, an attached JVM relies on EOF on its stdin (--watch-stdin)
// to notice that this process died.
func sysProcAttr(detach bool) *syscall.SysProcAttr {
	if detach {
		return &syscall.SysProcAttr{Setsid: true}
	}
	return &syscall.SysProcAttr{Setpgid: true}
}
