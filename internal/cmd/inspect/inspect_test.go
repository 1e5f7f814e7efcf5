package inspect_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/jasni/jasni-cli/internal/clitest"
)

func TestBadUse(t *testing.T) {
	history := filepath.Join(t.TempDir(), "none.db")
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--inspect=false"}, 2, "jasni inspect is the inspector"},
		{[]string{"--inspect", "0.0.0.0:4040"}, 2, "loopback only"},
		{[]string{"--forward", "ftp://x"}, 2, "--forward"},
		{[]string{"--timeout", "0s"}, 2, "--timeout must be more than 0"},
		{nil, 1, "no history at " + history + " yet: start \"jasni listen\""},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			res := clitest.Run(t, clitest.Options{Env: map[string]string{"JASNI_HISTORY": history}}, append([]string{"inspect"}, tt.args...)...)
			if int(res.Code) != tt.code || !strings.Contains(res.Stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", res.Code, res.Stderr, tt.code, tt.want)
			}
		})
	}
}
