package suggest

import "testing"

var events = []string{
	"email.received", "email.sent", "email.delivered", "email.bounced",
	"email.spam", "email.rejected", "email.deleted", "domain.verified",
}

func TestClosest(t *testing.T) {
	tests := []struct {
		input, want string
	}{
		{"email.recieved", "email.received"}, // swapped letters
		{"email.receivd", "email.received"},  // dropped letter
		{"Email.Received", "email.received"}, // case
		{"received", "email.received"},       // short form
		{"bounced", "email.bounced"},         // short form
		{"email.bounce", "email.bounced"},    // missing suffix
		{"domain.verify", "domain.verified"}, // near
		{"email_sent", "email.sent"},         // wrong separator
		{"verified", "domain.verified"},      // short form
		{"deliver", "email.delivered"},       // substring
		{"payment.succeeded", ""},            // another system's event
		{"zzz", ""},                          // nothing near
		{"", ""},                             // empty
	}
	for _, tt := range tests {
		t.Run(tt.input, func(t *testing.T) {
			if got := Closest(tt.input, events); got != tt.want {
				t.Errorf("Closest(%q) = %q, want %q", tt.input, got, tt.want)
			}
		})
	}
}

func TestDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"a", "", 1}, {"", "ab", 2}, {"kitten", "sitting", 3},
		{"ab", "ba", 1}, {"recieved", "received", 1}, {"same", "same", 0},
	}
	for _, tt := range tests {
		if got := distance(tt.a, tt.b); got != tt.want {
			t.Errorf("distance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}
