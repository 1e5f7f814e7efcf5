// Package bad holds one finding of each kind .golangci.yml asks for, and
// some that its exclusions drop: .ci/lint/selftest checks that the driver
// reports exactly want.txt (a driver that found nothing would pass CI).
package bad

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
)

// Recieve is misspelt.
func Recieve(w http.ResponseWriter) {
	os.Chdir("/")            // errcheck
	os.Remove("x")           // excluded: std-error-handling
	fmt.Fprintf(w, "x")      // excluded: exclude-functions
	resp, _ := http.Get("u") // noctx and bodyclose
	_ = resp
	fmt.Printf("%d\n", "s")            // govet's printf
	if strings.Index("a", "b") != -1 { // staticcheck's S1003
		return
	}
}

// Excluded is what the exclusions drop.
func Excluded(a, b bool) (net.Listener, bool) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0") // noctx, excluded by its text
	return ln, !(a && b)                      // QF1001, turned off in checks
}
