//go:build windows

package listenstate

import (
	"errors"

	"golang.org/x/sys/windows"
)

// stillActive is the exit code GetExitCodeProcess gives a process that
// runs (STILL_ACTIVE, STATUS_PENDING).
const stillActive = 259

// gone reports whether no process has the id pid any more (or it has
// exited, its handle still held somewhere).
func gone(pid int) bool {
	if pid <= 0 {
		return false
	}
	h, err := windows.OpenProcess(windows.PROCESS_QUERY_LIMITED_INFORMATION, false, uint32(pid))
	if err != nil {
		// No such process; access denied means one runs.
		return errors.Is(err, windows.ERROR_INVALID_PARAMETER)
	}
	defer windows.CloseHandle(h)
	var code uint32
	if err := windows.GetExitCodeProcess(h, &code); err != nil {
		return false
	}
	return code != stillActive
}

// refused reports a connection refused: nothing listens there. Windows
// says so with its own code, which syscall.ECONNREFUSED is not.
func refused(err error) bool { return errors.Is(err, windows.WSAECONNREFUSED) }
