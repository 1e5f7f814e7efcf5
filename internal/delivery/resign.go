package delivery

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/jasni/jasni-cli/internal/provider"
)

// Secret is one webhook secret and where it came from, for messages.
type Secret struct{ Value, Source string }

// Resigned says how a stored delivery was signed for sending again.
type Resigned struct {
	// Source is where the secret it was signed with came from; "" when the
	// original signature is sent as it was.
	Source string
	// Note explains a choice the user may not expect, or "".
	Note string
}

// ErrNoSecretVerifies is returned when no secret verifies the stored
// delivery and its original signature cannot be sent again either.
var ErrNoSecretVerifies = errors.New("no secret verifies the stored delivery")

// Resign signs a stored delivery again, as the provider's retry would: a
// fresh timestamp and the same delivery id. It never sends a signature it
// knows to be wrong:
//   - explicit secrets (--secret) are what the user asked for and are used,
//     with a note when none of them verifies the stored delivery;
//   - otherwise the first configured secret that verifies the stored
//     delivery signs it;
//   - when none does and the scheme signs the body alone, the original
//     signature is still right, so it is kept as it was;
//   - else it is an error that names the secrets tried.
//
// h holds the stored headers and is changed in place.
func Resign(h http.Header, body []byte, p *provider.Provider, explicit, configured []Secret, receivedAt, now time.Time) (Resigned, error) {
	verifies := func(s Secret) bool {
		k, err := p.ParseKey(s.Value)
		// The stored delivery is checked as of when it arrived: its
		// timestamp was fresh then.
		return err == nil && p.Verify([]provider.Key{k}, body, h, receivedAt) == nil
	}
	sign := func(secrets []Secret) error {
		keys := make([]provider.Key, 0, len(secrets))
		for _, s := range secrets {
			k, err := p.ParseKey(s.Value)
			if err != nil {
				return fmt.Errorf("the secret from %s: %w", s.Source, err)
			}
			keys = append(keys, k)
		}
		signing := Signing{Provider: p, Keys: keys, Timestamp: now}
		if p.Headers.ID != "" {
			signing.ID = h.Get(p.Headers.ID)
		}
		return Sign(h, body, signing)
	}

	if len(explicit) > 0 {
		r := Resigned{Source: explicit[0].Source}
		use := explicit
		if !p.MultiSignature() {
			// One signature per delivery: sign with the secret that verifies,
			// not merely the first given.
			use = explicit[:1]
			for _, s := range explicit {
				if verifies(s) {
					use = []Secret{s}
					break
				}
			}
		}
		if !anyOf(use, verifies) {
			r.Note = "the secret given does not verify the stored delivery (it was signed with another); signed with it as asked"
		}
		return r, sign(use)
	}
	for _, s := range configured {
		if verifies(s) {
			return Resigned{Source: s.Source}, sign([]Secret{s})
		}
	}
	if p.SignsBodyAlone() && p.CheckHeader(h) == nil {
		return Resigned{Note: "no configured secret verifies it, so the original signature is sent as it was (" + p.Title + " signs the body alone, so it is still valid)"}, nil
	}
	tried := make([]string, len(configured))
	for i, s := range configured {
		tried[i] = s.Source
	}
	what := "no secret is configured"
	if len(tried) > 0 {
		what = "none of the secrets configured (" + strings.Join(tried, ", ") + ") verifies it"
	}
	why := p.Title + " signs a timestamp, so its original signature would be refused as stale"
	if p.SignsBodyAlone() {
		why = "its own signature is missing or malformed"
	}
	return Resigned{}, fmt.Errorf("%w: %s, and %s. Pass the secret it was signed with (--secret), or --as-is to send it unchanged anyway", ErrNoSecretVerifies, what, why)
}

func anyOf(secrets []Secret, ok func(Secret) bool) bool {
	for _, s := range secrets {
		if ok(s) {
			return true
		}
	}
	return false
}
