package esnode

import "syscall"

// sysProcAttr ties an attached JVM's life to this process: Pdeathsig sends SIGTERM (the JVM's
// shutdown hook then closes the node and, for ephemeral nodes, deletes its data) when the
// parent dies, even by SIGKILL. A detached node gets its own session instead.
func sysProcAttr(detach bool) *syscall.SysProcAttr {
	if detach {
		return &syscall.SysProcAttr{Setsid: true}
	}
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM, Setpgid: true}
}
