package provider

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"path/filepath"
	"sort"
	"strings"

	"github.com/jasni/jasni-cli/internal/jsonpeek"
)

// Provider is a spec with its sample events.
type Provider struct {
	*Spec
	// Folder is the absolute path of the folder it was loaded from; ""
	// for a built-in.
	Folder string
	events []Event
}

// Event is one event type's sample payload, as stored.
type Event struct {
	Name        string
	Description string
	JSON        []byte
}

// loadEvents reads every <event>.json: the event type is the file name and
// must match the type inside. Events listed in provider.toml come first, in
// that order, with their descriptions; the rest follow by name.
func (p *Provider) loadEvents(fsys fs.FS, where string) error {
	files, err := fs.Glob(fsys, "*.json")
	if err != nil {
		return err
	}
	byName := map[string]Event{}
	// An event whose name cannot be a file name lives in the file its
	// spec names.
	named := map[string]string{}
	for _, e := range p.Spec.Events {
		if e.File != "" {
			named[e.File] = e.Name
		}
	}
	for _, f := range files {
		data, err := fs.ReadFile(fsys, f)
		if err != nil {
			return fmt.Errorf("provider %s: %s: %w", where, f, err)
		}
		name := strings.TrimSuffix(f, ".json")
		if n, ok := named[name]; ok {
			name = n
		}
		if !json.Valid(data) {
			return fmt.Errorf("provider %s: %s is not valid JSON", where, filepath.Join(where, f))
		}
		if !p.Form() && !bytes.HasPrefix(bytes.TrimSpace(data), []byte("{")) {
			return fmt.Errorf("provider %s: %s is not a JSON object: an event file holds one event (a file that is not an event does not belong beside provider.toml)", where, filepath.Join(where, f))
		}
		if p.Envelope.Event != "" {
			got, found := jsonpeek.String(data, splitPath(p.Envelope.Event)...)
			switch {
			case !found:
				return fmt.Errorf("provider %s: %s has no %q, where envelope.event says the event type is", where, filepath.Join(where, f), p.Envelope.Event)
			case got != name:
				return fmt.Errorf("provider %s: %s says its event type (%s) is %q; the file name says %q", where, filepath.Join(where, f), p.Envelope.Event, got, name)
			}
		}
		if p.Envelope.EventCode != "" {
			if got := p.eventOfCode(data); got != name {
				return fmt.Errorf("provider %s: %s has a %q that envelope.event_codes names %q; the file name says %q", where, filepath.Join(where, f), p.Envelope.EventCode, got, name)
			}
		}
		byName[name] = Event{Name: name, JSON: data}
	}
	if len(byName) == 0 {
		return fmt.Errorf("provider %s: no event files (<event type>.json) beside provider.toml", where)
	}
	for _, e := range p.Spec.Events {
		if e.File != "" {
			if _, err := fs.Stat(fsys, e.File+".json"); err != nil {
				return fmt.Errorf("provider %s: provider.toml says the event %q is in %s.json, but there is no such file", where, e.Name, e.File)
			}
		}
		ev, ok := byName[e.Name]
		if !ok {
			file := e.File
			if file == "" {
				file = e.Name
			}
			return fmt.Errorf("provider %s: provider.toml lists the event %q, but there is no %s.json", where, e.Name, file)
		}
		ev.Description = e.Description
		p.events = append(p.events, ev)
		delete(byName, e.Name)
	}
	rest := make([]string, 0, len(byName))
	for name := range byName {
		rest = append(rest, name)
	}
	sort.Strings(rest)
	for _, name := range rest {
		p.events = append(p.events, byName[name])
	}
	return nil
}

// Events returns every sample event, in the provider's order.
func (p *Provider) Events() []Event { return p.events }

// EventNames returns the event types.
func (p *Provider) EventNames() []string {
	names := make([]string, len(p.events))
	for i, e := range p.events {
		names[i] = e.Name
	}
	return names
}

// Event returns the sample of one event type.
func (p *Provider) Event(name string) (Event, bool) {
	for _, e := range p.events {
		if e.Name == name {
			return e, true
		}
	}
	return Event{}, false
}

// EventType reads a delivery's event type: from the body, which is signed,
// and only when the body has none, from the event header.
func (p *Provider) EventType(h http.Header, body []byte) string {
	if p.Envelope.Event != "" {
		if e, ok := jsonpeek.String(body, splitPath(p.Envelope.Event)...); ok {
			return e
		}
	}
	if p.Headers.Event != "" {
		return h.Get(p.Headers.Event)
	}
	return p.eventOfCode(body)
}

// eventOfCode is the event type envelope.event_codes names for the number
// at envelope.event_code, or "".
func (p *Provider) eventOfCode(body []byte) string {
	if p.Envelope.EventCode == "" {
		return ""
	}
	raw := jsonpeek.Find(body, splitPath(p.Envelope.EventCode))[0]
	return p.Envelope.EventCodes[string(bytes.Trim(raw, `"`))]
}

// DedupKey is what the provider's docs say identifies one event across
// retries, or "" when the delivery lacks part of it.
func (p *Provider) DedupKey(h http.Header, body []byte) string {
	var paths [][]string
	for _, d := range p.Envelope.Dedup {
		if d != "header:id" {
			paths = append(paths, splitPath(d))
		}
	}
	found := jsonpeek.Find(body, paths...)
	var parts []string
	i := 0
	for _, d := range p.Envelope.Dedup {
		var v string
		if d == "header:id" {
			v = h.Get(p.Headers.ID)
		} else {
			v = string(found[i])
			i++
		}
		if v == "" {
			return ""
		}
		parts = append(parts, v)
	}
	return strings.Join(parts, "|")
}

func splitPath(p string) []string { return strings.Split(p, ".") }
