//go:build !unix && !windows

package store

import "os"

// Where files cannot be locked, one process at a time is trusted to write.
func tryLock(*os.File) (bool, error) { return false, nil }
func unlock(*os.File) error          { return nil }

func openFile(path string, flag int, perm os.FileMode) (*os.File, error) {
	return os.OpenFile(path, flag, perm)
}
