package motoserver

import "syscall"

// sysProcAttr ties an attached server's life to this process (Pdeathsig, even when this
// process is killed); a detached one gets its own session.
func sysProcAttr(detach bool) *syscall.SysProcAttr {
	if detach {
		return &syscall.SysProcAttr{Setsid: true}
	}
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
}
