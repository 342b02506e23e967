//go:build !linux

package motoserver

import "syscall"

func sysProcAttr(detach bool) *syscall.SysProcAttr { return nil }
