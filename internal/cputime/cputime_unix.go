//go:build unix

// Package cputime reads the CPU time of the running process, for
// benchmarks that report work per operation on a machine whose cores
// other processes share.
package cputime

import (
	"syscall"
	"time"
)

// Process is the CPU time the process has used, user and system, all
// threads: unlike wall time, it does not grow when other processes take
// the machine's cores. ok is false when it cannot be read.
func Process() (d time.Duration, ok bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
