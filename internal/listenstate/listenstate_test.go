package listenstate

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

func listener(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

// Each listen has a file of its own: a second listen that starts and stops
// leaves the first one findable (it had overwritten and then removed the
// one shared file); a listen that is gone is not listed, and its file,
// secrets included, is removed.
func TestRunning(t *testing.T) {
	dir := Dir(filepath.Join(t.TempDir(), "history.db"))
	first, second := listener(t), listener(t)
	now := time.Now()
	a := State{URL: "http://" + first.Addr().String() + "/webhooks/jasni", Addr: first.Addr().String(), Provider: "jasni", PID: os.Getpid(), Started: now, Secrets: []string{"whsec_demo"}}
	b := State{URL: "http://" + second.Addr().String() + "/webhooks/jasni", Addr: second.Addr().String(), Provider: "jasni", PID: os.Getppid(), Started: now.Add(time.Second)}
	if err := Save(dir, a); err != nil {
		t.Fatal(err)
	}
	if err := Save(dir, b); err != nil {
		t.Fatal(err)
	}
	firstFile := filepath.Join(dir, strconv.Itoa(a.PID)+".json")
	if st, _ := os.Stat(firstFile); st == nil || st.Mode().Perm() != 0o600 {
		t.Errorf("the state file: %v", st)
	}
	if got := Running(dir); len(got) != 2 || got[0].PID != b.PID || got[1].Secrets[0] != "whsec_demo" {
		t.Fatalf("running, newest first: %+v", got)
	}
	Remove(dir, b)
	if got := Running(dir); len(got) != 1 || got[0].PID != a.PID {
		t.Fatalf("after the second listen stopped: %+v", got)
	}
	first.Close()
	if got := Running(dir); len(got) != 0 {
		t.Errorf("a listen whose address no longer answers was taken for running: %+v", got)
	}
	if _, err := os.Stat(firstFile); !os.IsNotExist(err) {
		t.Errorf("the file of a listen that is gone stays: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "3.json"), []byte("{not json"), 0o600)
	if got := Running(dir); len(got) != 0 {
		t.Error("a damaged file was taken for a listen")
	}
}

// A listen that was killed, whose port something else took since, is not
// taken for running: trigger would send there, signed with its secret.
func TestRunningProcessGone(t *testing.T) {
	// A process that has ended: this test binary, asked to run no test.
	dir := Dir(filepath.Join(t.TempDir(), "history.db"))
	other := listener(t) // what took the port
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dead := exec.Command(self, "-test.run=^$")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	s := State{URL: "http://" + other.Addr().String() + "/webhooks/jasni", Addr: other.Addr().String(), Provider: "jasni", PID: dead.Process.Pid, Started: time.Now(), Secrets: []string{"whsec_demo"}}
	if err := Save(dir, s); err != nil {
		t.Fatal(err)
	}
	if got := Running(dir); len(got) != 0 {
		t.Errorf("a listen whose process is gone was taken for running: %+v", got)
	}
	if _, err := os.Stat(filepath.Join(dir, strconv.Itoa(s.PID)+".json")); !os.IsNotExist(err) {
		t.Errorf("its file, with its secret, stays: %v", err)
	}
}

func TestReceives(t *testing.T) {
	st := State{URL: "http://127.0.0.1:4000/webhooks/jasni"}
	tests := []struct {
		url  string
		want bool
	}{
		{"http://127.0.0.1:4000/webhooks/jasni", true},
		{"http://127.0.0.1:4000/webhooks/jasni/", true},
		{"http://localhost:4000/webhooks/jasni", true},
		{"HTTP://LocalHost:4000/webhooks/jasni", true},
		{"http://[::1]:4000/webhooks/jasni", true},
		{"http://127.0.0.1:4001/webhooks/jasni", false},
		{"http://127.0.0.1/webhooks/jasni", false},
		{"https://127.0.0.1:4000/webhooks/jasni", false},
		{"http://127.0.0.1:4000/webhooks/github", false},
		{"http://127.0.0.1:4000/webhooks/jasni?x=1", true},
		{"http://192.168.1.2:4000/webhooks/jasni", false},
		{"http://example.com:4000/webhooks/jasni", false},
		{"%zz", false},
	}
	for _, tt := range tests {
		if got := st.Receives(tt.url); got != tt.want {
			t.Errorf("Receives(%q) = %v, want %v", tt.url, got, tt.want)
		}
	}
	if !(State{URL: "https://abc.ngrok.app/hook"}).Receives("https://abc.ngrok.app:443/hook") {
		t.Error("a default port written out should match")
	}
	// A listen given several --path values, or --path '*'.
	several := State{URL: "http://127.0.0.1:4000/a", Paths: []string{"/a", "/b"}}
	if !several.Receives("http://127.0.0.1:4000/b") || several.Receives("http://127.0.0.1:4000/c") {
		t.Error("a listen's second --path: matched wrongly")
	}
	if !(State{URL: "http://127.0.0.1:4000/webhooks/jasni", Paths: []string{"*"}}).Receives("http://127.0.0.1:4000/anything") {
		t.Error("a listen that accepts any path did not match")
	}
}
