//go:build !unix && !windows

package listenstate

// gone cannot tell here; the address alone says whether a listen runs.
func gone(int) bool { return false }

// refused cannot tell here: a file whose listen is gone stays, unused.
func refused(error) bool { return false }
