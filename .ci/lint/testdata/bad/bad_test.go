package bad

import (
	"os"
	"testing"
)

func TestBad(t *testing.T) {
	os.Chdir("/")     // excluded in tests: errcheck
	t.Log("seperate") // misspell still applies
}
