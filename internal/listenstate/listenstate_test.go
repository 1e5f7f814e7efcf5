package listenstate

import (
	"net"
	"os"
	"path/filepath"
	"testing"
)

// A listen's file is found while its address answers, and not once it
// stopped (killed, its file left behind); a later listen's file stays
// when an earlier one removes its own.
func TestRunning(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	path := Path(filepath.Join(t.TempDir(), "history.db"))
	s := State{URL: "http://" + ln.Addr().String() + "/webhooks/jasni", Addr: ln.Addr().String(), Provider: "jasni", PID: 1}
	if err := Save(path, s); err != nil {
		t.Fatal(err)
	}
	if got, ok := Running(path); !ok || got != s {
		t.Errorf("running: %+v %v", got, ok)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", st.Mode().Perm())
	}
	ln.Close()
	if _, ok := Running(path); ok {
		t.Error("a listen whose address no longer answers was taken for running")
	}
	later := s
	later.PID = 2
	Save(path, later)
	Remove(path, s)
	if _, err := os.Stat(path); err != nil {
		t.Error("an earlier listen removed a later one's file")
	}
	os.WriteFile(path, []byte("{not json"), 0o600)
	if _, ok := Running(path); ok {
		t.Error("a damaged file was taken for a listen")
	}
}
