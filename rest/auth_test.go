package rest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// The two OAuth2 grants fetch a token once, send it as a bearer token, and
// keep the client secret out of errors.
func TestOAuth2Grants(t *testing.T) {
	var tokens atomic.Int32
	tokenSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			t.Errorf("ParseForm() = %v", err)
		}
		id, secret, _ := r.BasicAuth()
		if secret == "" {
			id, secret = r.Form.Get("client_id"), r.Form.Get("client_secret")
		}
		if id != "app" || secret != "s3cret" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"error":"invalid_client"}`)
			return
		}
		grant := r.Form.Get("grant_type")
		if grant == "refresh_token" && r.Form.Get("refresh_token") != "r1" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		tokens.Add(1)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"access_token":"at-%s","token_type":"Bearer","expires_in":3600}`, grant)
	}))
	defer tokenSrv.Close()
	var got []string
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.Header.Get("Authorization"))
		fmt.Fprint(w, `{}`)
	}))
	defer api.Close()

	tests := []struct {
		name string
		auth Auth
		want string
	}{
		{"client credentials", ClientCredentials(&clientcredentials.Config{ClientID: "app", ClientSecret: "s3cret", TokenURL: tokenSrv.URL}, tokenSrv.Client()), "Bearer at-client_credentials"},
		{"refresh token", RefreshToken(&oauth2.Config{ClientID: "app", ClientSecret: "s3cret", Endpoint: oauth2.Endpoint{TokenURL: tokenSrv.URL}}, "r1", tokenSrv.Client()), "Bearer at-refresh_token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got = nil
			n0 := tokens.Load()
			c := &Client{BaseURL: api.URL, Auth: tt.auth}
			for range 3 {
				if _, err := c.Get(context.Background(), "/x"); err != nil {
					t.Fatal(err)
				}
			}
			if len(got) != 3 || got[0] != tt.want || got[2] != tt.want {
				t.Errorf("Authorization headers = %q, want %q three times", got, tt.want)
			}
			if n := tokens.Load() - n0; n != 1 {
				t.Errorf("token requests = %d, want 1 (cached)", n)
			}
		})
	}

	bad := ClientCredentials(&clientcredentials.Config{ClientID: "app", ClientSecret: "wr0ng-s3cret", TokenURL: tokenSrv.URL}, tokenSrv.Client())
	c := &Client{BaseURL: api.URL, Auth: bad}
	_, err := c.Get(context.Background(), "/x")
	var ae *authError
	if err == nil || !errors.As(err, &ae) || strings.Contains(err.Error(), "wr0ng") || !strings.Contains(err.Error(), "invalid_client") {
		t.Errorf("Get() with a wrong client secret = %v, want an OAuth2 error naming invalid_client without the secret", err)
	}
}

func TestNewSourceBadDeclarations(t *testing.T) {
	tests := []struct {
		name string
		e    Endpoint
		want string
	}{
		{"no base URL", Endpoint{Paging: OffsetPaging{}}, "BaseURL is empty"},
		{"not http", Endpoint{BaseURL: "ftp://x", Paging: OffsetPaging{}}, "not http"},
		{"no paging", Endpoint{BaseURL: "https://x"}, "Paging is nil"},
		{"page without size", Endpoint{BaseURL: "https://x", Paging: PagePaging{}}, "PageSize"},
		{"cursor without field", Endpoint{BaseURL: "https://x", Paging: CursorPaging{}}, "CursorPaging.Next"},
		{"next URL without field", Endpoint{BaseURL: "https://x", Paging: NextURLPaging{}}, "NextURLPaging.Next"},
		{"keyset without param", Endpoint{BaseURL: "https://x", Paging: KeysetPaging{Field: "id"}}, "KeysetPaging"},
		{"path with a host", Endpoint{BaseURL: "https://x", Path: "https://y/z", Paging: OffsetPaging{}}, "want a path"},
		{"negative page size", Endpoint{BaseURL: "https://x", Paging: OffsetPaging{}, PageSize: -1}, "negative"},
	}
	for _, tt := range tests {
		if _, err := NewSource[int](tt.e); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("NewSource(%s) = %v, want an error containing %q", tt.name, err, tt.want)
		}
	}
}
