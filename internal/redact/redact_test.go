package redact

import "testing"

func TestIsSecret(t *testing.T) {
	tests := []struct {
		name string
		want bool
	}{
		{"api_key", true},
		{"apiKey", true},
		{"API-KEY", true},
		{"api key", true},
		{"apikey", true},
		{"password", true},
		{"db_password", true},
		{"clientSecret", true},
		{"X-Auth-Token", true},
		{"access_token", true},
		{"private_key", true},
		{"Authorization", true},
		{"page_token", false},
		{"next_key", false},
		{"continuationToken", false},
		{"cursor", false},
		{"limit", false},
		{"offset", false},
		{"base_url", false},
		{"monkey", false},
		{"keyboard", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := IsSecret(tt.name); got != tt.want {
			t.Errorf("IsSecret(%q) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestValue(t *testing.T) {
	if got := Value("api_key", "abc"); got != Mask {
		t.Errorf("Value(api_key, abc) = %q, want %q", got, Mask)
	}
	if got := Value("region", "eu"); got != "eu" {
		t.Errorf("Value(region, eu) = %q, want eu", got)
	}
	if got := Value("password", ""); got != "" {
		t.Errorf("Value(password, \"\") = %q, want empty", got)
	}
}

func TestURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://api.example.com/users?limit=10&api_key=s3cret&offset=5",
			"https://api.example.com/users?limit=10&api_key=REDACTED&offset=5"},
		{"https://bob:hunter2@example.com/x", "https://bob:REDACTED@example.com/x"},
		{"https://example.com/x?page_token=abc", "https://example.com/x?page_token=abc"},
		{"https://example.com/x?access%5Ftoken=abc", "https://example.com/x?access%5Ftoken=REDACTED"},
		{"opaque-token", "opaque-token"},
		{"%zz?key=1", "%zz?key=REDACTED"}, // net/url refuses it; redacted all the same
		{"https://x/y?q=100%&token=abc#frag", "https://x/y?q=100%&token=REDACTED#frag"},
		{"https://bob:pw@x/a@b?c=1", "https://bob:REDACTED@x/a@b?c=1"},
		{"https://x/y?$expand=a(b;c)&api%5Fkey=k", "https://x/y?$expand=a(b;c)&api%5Fkey=REDACTED"},
	}
	for _, tt := range tests {
		if got := URL(tt.in); got != tt.want {
			t.Errorf("URL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// The one list of secret names, checked on the names real APIs use.
func TestIsSecretAPINames(t *testing.T) {
	for _, name := range []string{"hapikey", "x-api-key", "client_secret", "refresh_token", "X-Shopify-Access-Token", "apiKey"} {
		if !IsSecret(name) {
			t.Errorf("IsSecret(%q) = false, want true", name)
		}
	}
	if got := URL("https://api.hubapi.com/crm/v3/objects?hapikey=s3cret&after=5"); got != "https://api.hubapi.com/crm/v3/objects?hapikey=REDACTED&after=5" {
		t.Errorf("URL(hapikey) = %q, want the key redacted", got)
	}
}
