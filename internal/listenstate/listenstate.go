// Package listenstate tells other jasni commands where the `jasni listen`
// processes on this machine receive, and what they verify with: each
// listen writes a file of its own beside the history when it is up and
// removes it when it stops, and trigger, with no --url and no trigger_url,
// sends to the newest one that fits. A file left by a listen that was
// killed is recognised by its process being gone or its address no longer
// answering, and removed.
package listenstate

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// State is a running listen.
type State struct {
	// URL is where deliveries go: the public URL, or the local one.
	URL string `json:"url"`
	// Addr is listen's local address, which answers while it runs.
	Addr     string `json:"addr"`
	Provider string `json:"provider"`
	// Paths are the paths listen accepts ("*": any); none (a file of an
	// earlier version) means URL's alone.
	Paths []string `json:"paths,omitempty"`
	// Profile is listen's profile.
	Profile string    `json:"profile"`
	PID     int       `json:"pid"`
	Started time.Time `json:"started"`
	// Secrets are what listen verifies with (from --secret, the
	// environment or the profile), for trigger to sign with when it sends
	// there. The file is 0600, as the profile that holds secrets is.
	Secrets []string `json:"secrets,omitempty"`
}

// Dir is where the listens of the history at historyPath say they run.
func Dir(historyPath string) string {
	return filepath.Join(filepath.Dir(historyPath), "listen")
}

func file(dir string, pid int) string { return filepath.Join(dir, strconv.Itoa(pid)+".json") }

// Save writes s (0600) as this listen's file in dir.
func Save(dir string, s State) error {
	data, err := json.Marshal(s)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	path := file(dir, s.PID)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// Remove removes the file Save wrote for s, if it is still s's.
func Remove(dir string, s State) {
	path := file(dir, s.PID)
	if cur, err := read(path); err == nil && cur.Addr == s.Addr && cur.Started.Equal(s.Started) {
		_ = os.Remove(path)
	}
}

// Running lists the listens that are up, newest first: those whose
// process runs (where that can be told) and whose address answers. The
// files of listens that are gone are removed.
func Running(dir string) []State {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var out []State
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		path := filepath.Join(dir, e.Name())
		s, err := read(path)
		if err != nil || s.URL == "" || s.Addr == "" {
			continue
		}
		if gone(s.PID) {
			// Killed: whatever answers at its address now is not it.
			_ = os.Remove(path)
			continue
		}
		d := net.Dialer{Timeout: 300 * time.Millisecond}
		conn, err := d.DialContext(context.Background(), "tcp", s.Addr)
		if err != nil {
			// Refused: gone (killed, or the machine restarted), and its
			// file goes too, with the secrets in it. A timeout may be a
			// busy listen: its file stays.
			if refused(err) {
				_ = os.Remove(path)
			}
			continue
		}
		conn.Close()
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b State) int { return b.Started.Compare(a.Started) })
	return out
}

func read(path string) (State, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return State{}, err
	}
	if len(data) > 64<<10 {
		return State{}, errors.New("too large")
	}
	var s State
	err = json.Unmarshal(data, &s)
	return s, err
}

// Receives reports whether a delivery sent to rawURL reaches s: the same
// scheme, host and port (localhost, 127.0.0.1 and [::1] alike, a default
// port written or not), and a path it accepts (a trailing slash or not; a
// query does not route).
func (s State) Receives(rawURL string) bool {
	a, errA := url.Parse(s.URL)
	b, errB := url.Parse(rawURL)
	if errA != nil || errB != nil || !strings.EqualFold(a.Scheme, b.Scheme) || !sameHost(a, b) {
		return false
	}
	paths := s.Paths
	if len(paths) == 0 {
		paths = []string{a.Path}
	}
	want := strings.TrimSuffix(b.Path, "/")
	return slices.ContainsFunc(paths, func(p string) bool { return p == "*" || strings.TrimSuffix(p, "/") == want })
}

func sameHost(a, b *url.URL) bool {
	port := func(u *url.URL) string {
		if p := u.Port(); p != "" {
			return p
		}
		if strings.EqualFold(u.Scheme, "https") {
			return "443"
		}
		return "80"
	}
	if port(a) != port(b) {
		return false
	}
	ha, hb := strings.ToLower(a.Hostname()), strings.ToLower(b.Hostname())
	return ha == hb || loopback(ha) && loopback(hb)
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
