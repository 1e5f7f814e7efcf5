package iostreams

import "testing"

func TestColorDecision(t *testing.T) {
	tests := []struct {
		name            string
		tty, disable    bool
		forced          bool
		wantOut, wantEr bool
	}{
		{"terminal", true, false, false, true, true},
		{"pipe", false, false, false, false, false},
		{"no-color on a terminal", true, true, false, false, false},
		{"forced into a pipe", false, false, true, true, true},
		{"no-color beats forced", false, true, true, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, _, _ := Test()
			ios.SetTTY(tt.tty)
			ios.colorForced = tt.forced
			if tt.disable {
				ios.DisableColor()
			}
			if ios.ColorEnabled() != tt.wantOut || ios.ErrColorEnabled() != tt.wantEr {
				t.Errorf("ColorEnabled %v ErrColorEnabled %v, want %v %v", ios.ColorEnabled(), ios.ErrColorEnabled(), tt.wantOut, tt.wantEr)
			}
		})
	}
}

func TestWriteJSONIsOneLineWithoutHTMLEscapes(t *testing.T) {
	ios, _, out, _ := Test()
	if err := ios.WriteJSON(map[string]string{"a": "<b>"}); err != nil {
		t.Fatal(err)
	}
	if out.String() != "{\"a\":\"<b>\"}\n" {
		t.Errorf("got %q", out.String())
	}
}

func TestColorConventions(t *testing.T) {
	tests := []struct {
		env            map[string]string
		disabled, forc bool
	}{
		{map[string]string{}, false, false},
		{map[string]string{"NO_COLOR": "yes"}, true, false},
		{map[string]string{"NO_COLOR": "0"}, true, false},
		{map[string]string{"CLICOLOR": "0"}, true, false},
		{map[string]string{"CLICOLOR": "1"}, false, false},
		{map[string]string{"TERM": "dumb"}, true, false},
		{map[string]string{"CLICOLOR_FORCE": "1"}, false, true},
		{map[string]string{"CLICOLOR_FORCE": "0"}, false, false},
	}
	for _, tt := range tests {
		ios, _, _, _ := Test()
		ios.ApplyColorEnv(func(k string) string { return tt.env[k] })
		if ios.colorDisabled != tt.disabled || ios.colorForced != tt.forc {
			t.Errorf("%v: disabled %v forced %v", tt.env, ios.colorDisabled, ios.colorForced)
		}
	}
}
