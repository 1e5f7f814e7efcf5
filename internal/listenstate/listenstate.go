// Package listenstate tells other jasni commands where a running `jasni
// listen` receives: listen writes its URL beside the history when it is
// up and removes it when it stops, and trigger, with no --url and no
// trigger_url, sends there. A file left by a listen that was killed is
// recognised by its address no longer answering.
package listenstate

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"path/filepath"
	"time"
)

// State is a running listen.
type State struct {
	// URL is where deliveries go: the public URL, or the local one.
	URL string `json:"url"`
	// Addr is listen's local address, which answers while it runs.
	Addr     string `json:"addr"`
	Provider string `json:"provider"`
	// Profile is listen's profile: its secret is the one to sign with.
	Profile string `json:"profile"`
	PID     int    `json:"pid"`
}

// Path is the state file beside the history at historyPath.
func Path(historyPath string) string {
	return filepath.Join(filepath.Dir(historyPath), "listen.json")
}

// Save writes s to path (0600), replacing an earlier listen's.
func Save(path string, s State) error {
	data, err := json.Marshal(s)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// Remove deletes path if it is still s's: a later listen's stays.
func Remove(path string, s State) {
	if cur, err := read(path); err == nil && cur == s {
		_ = os.Remove(path)
	}
}

// Running returns the listen that wrote path, if its address still
// answers.
func Running(path string) (State, bool) {
	s, err := read(path)
	if err != nil || s.URL == "" || s.Addr == "" {
		return State{}, false
	}
	d := net.Dialer{Timeout: 300 * time.Millisecond}
	conn, err := d.DialContext(context.Background(), "tcp", s.Addr)
	if err != nil {
		return State{}, false
	}
	conn.Close()
	return s, true
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
