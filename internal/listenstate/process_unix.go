//go:build unix

package listenstate

import (
	"errors"
	"syscall"
)

// gone reports whether no process has the id pid any more.
func gone(pid int) bool {
	return pid > 0 && errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}

// refused reports a connection refused: nothing listens there.
func refused(err error) bool { return errors.Is(err, syscall.ECONNREFUSED) }
