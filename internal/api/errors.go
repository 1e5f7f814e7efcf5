package api

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"syscall"
	"time"
)

// Kind classifies an API failure.
type Kind int

const (
	KindAPI       Kind = iota // the API said no, with a reason
	KindAuth                  // 401: the key is wrong
	KindForbidden             // 403: the key lacks rights
	KindNotFound              // 404
	KindBusy                  // 429 or 5xx after retries
	KindNetwork               // no answer
	KindMalformed             // an answer that is not the documented JSON
	KindBadURL                // the API URL itself is wrong
	KindRedirect              // a redirect to another origin, not followed
)

// Error is a failed API call. Its text never contains the API key.
type Error struct {
	Kind    Kind
	Host    string
	Status  int
	Message string // the API's own message, when it sent one
	Err     error  // the transport error, for KindNetwork
	// Resource names what was asked for, e.g. "webhook wh_123", for 404s.
	Resource string
	// RetryAfter is how long the API asked to wait, when it said.
	RetryAfter time.Duration
	// Provider names the API's provider as --provider takes it; "" is
	// Jasni's, whose dashboard and login the messages can point to.
	Provider string
}

func (e *Error) Unwrap() error { return e.Err }

func (e *Error) Error() string {
	switch e.Kind {
	case KindAuth:
		if e.Provider != "" {
			return fmt.Sprintf("the API rejected the key (401)%s. Pass a key of the %s API with --api-key or JASNI_API_KEY", suffix(e.Message), e.Provider)
		}
		return fmt.Sprintf("the API rejected the key (401)%s. Run \"jasni login\" or set JASNI_API_KEY", suffix(e.Message))
	case KindForbidden:
		if e.Provider != "" {
			return fmt.Sprintf("the key is not allowed to do this (403)%s. Check its permissions with the provider, or pass another with --api-key", suffix(e.Message))
		}
		return fmt.Sprintf("the key is not allowed to do this (403)%s. Check its permissions in the Jasni dashboard, or log in with another key", suffix(e.Message))
	case KindNotFound:
		what := e.Resource
		if what == "" {
			what = "the resource"
		}
		list := "jasni webhooks list"
		if e.Provider != "" {
			list += " --provider " + e.Provider
		}
		return fmt.Sprintf("%s was not found (404). List them with \"%s\"", what, list)
	case KindBusy:
		when := "in a moment"
		if e.RetryAfter > 0 {
			when = "in " + e.RetryAfter.Round(time.Second).String() + ", as it asked (Retry-After)"
		}
		return fmt.Sprintf("the API at %s is unavailable (%d %s)%s; try again %s", e.Host, e.Status, http.StatusText(e.Status), suffix(e.Message), when)
	case KindNetwork:
		return networkMessage(e)
	case KindMalformed:
		return fmt.Sprintf("unexpected answer from %s (%d): %s", e.Host, e.Status, e.Message)
	case KindRedirect:
		return fmt.Sprintf("%v. If the API moved, set --api-url or JASNI_API_URL to its new address", e.Err)
	case KindBadURL:
		example := DefaultBaseURL
		if e.Provider != "" {
			example = "https://api.example.com"
		}
		return fmt.Sprintf("the API URL %q is not valid: set --api-url or JASNI_API_URL to something like %s", e.Host, example)
	}
	if e.Message != "" {
		return fmt.Sprintf("the API refused (%d): %s", e.Status, e.Message)
	}
	return fmt.Sprintf("the API answered %d %s", e.Status, http.StatusText(e.Status))
}

// MayHaveArrived reports whether the request may have reached the API:
// not when the connection was refused or the name did not resolve.
func (e *Error) MayHaveArrived() bool {
	var dnsErr *net.DNSError
	return e.Kind != KindNetwork || !errors.Is(e.Err, syscall.ECONNREFUSED) && !errors.As(e.Err, &dnsErr)
}

func networkMessage(e *Error) string {
	var dnsErr *net.DNSError
	switch {
	case errors.Is(e.Err, context.DeadlineExceeded) || isTimeout(e.Err):
		return fmt.Sprintf("%s did not answer in time; check your connection, or try again", e.Host)
	case errors.Is(e.Err, syscall.ECONNREFUSED):
		return fmt.Sprintf("could not reach %s (connection refused); check --api-url / JASNI_API_URL", e.Host)
	case errors.As(e.Err, &dnsErr):
		return fmt.Sprintf("could not reach %s: the name does not resolve (offline, or a wrong --api-url?)", e.Host)
	}
	return fmt.Sprintf("could not reach %s: %v", e.Host, e.Err)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func suffix(msg string) string {
	if msg == "" {
		return ""
	}
	return ": " + msg
}

func kindForStatus(status int) Kind {
	switch {
	case status == http.StatusUnauthorized:
		return KindAuth
	case status == http.StatusForbidden:
		return KindForbidden
	case status == http.StatusNotFound:
		return KindNotFound
	case status == http.StatusTooManyRequests || status >= 500:
		return KindBusy
	}
	return KindAPI
}
