package rest

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/connectkit/connector/internal/redact"
)

// Auth adds credentials to a request. A [Client] applies it only to
// requests to the origins it trusts (see [Client.BaseURL]), at the time of
// each attempt, so that credentials never enter a next URL, a cursor, a log
// or an error message. Build one with [Bearer], [Basic], [APIKeyHeader],
// [APIKeyQuery] or [OAuth2]; every Auth of this package prints as
// "REDACTED" with fmt and encoding/json.
type Auth interface {
	// Authorize adds the credentials to req, which goes to a trusted
	// origin. It must not keep req.
	Authorize(ctx context.Context, req *http.Request) error
}

// secret is embedded by the Auths of this package so that fmt (%v, %+v,
// %#v) and encoding/json never show their fields.
type secret struct{}

func (secret) String() string               { return redact.Mask }
func (secret) GoString() string             { return redact.Mask }
func (secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redact.Mask + `"`), nil }

type headerAuth struct {
	secret
	name, value string
}

func (a *headerAuth) Authorize(_ context.Context, req *http.Request) error {
	req.Header.Set(a.name, a.value)
	return nil
}
func (a *headerAuth) String() string   { return "rest.Auth(" + a.name + ": " + redact.Mask + ")" }
func (a *headerAuth) GoString() string { return a.String() }

// Bearer sends "Authorization: Bearer token".
func Bearer(token string) Auth { return &headerAuth{name: "Authorization", value: "Bearer " + token} }

// Basic sends HTTP basic authentication (RFC 7617).
func Basic(user, password string) Auth {
	return &headerAuth{name: "Authorization", value: "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password))}
}

// APIKeyHeader sends key in the header name, as in X-Api-Key.
func APIKeyHeader(name, key string) Auth {
	return &headerAuth{name: http.CanonicalHeaderKey(name), value: key}
}

type queryAuth struct {
	secret
	param, key string
}

func (a *queryAuth) Authorize(_ context.Context, req *http.Request) error {
	req.URL.RawQuery = setParam(req.URL.RawQuery, a.param, a.key)
	return nil
}
func (a *queryAuth) String() string   { return "rest.Auth(?" + a.param + "=" + redact.Mask + ")" }
func (a *queryAuth) GoString() string { return a.String() }

// APIKeyQuery sends key in the query parameter param, as in
// ?api_key=... or HubSpot's legacy ?hapikey=.... The parameter is removed
// from next URLs before they reach [paginate.Page.Next] (and so from
// checkpointed cursors) and added again to each request to a trusted
// origin.
func APIKeyQuery(param, key string) Auth { return &queryAuth{param: param, key: key} }

type tokenAuth struct {
	secret
	ts oauth2.TokenSource
}

func (a *tokenAuth) Authorize(_ context.Context, req *http.Request) error {
	tok, err := a.ts.Token()
	if err != nil {
		return &authError{err: err}
	}
	tok.SetAuthHeader(req)
	return nil
}
func (a *tokenAuth) String() string   { return "rest.Auth(oauth2: " + redact.Mask + ")" }
func (a *tokenAuth) GoString() string { return a.String() }

// authError reports a failure to obtain credentials, without the token
// endpoint's URL or form (which hold the client secret).
type authError struct{ err error }

func (e *authError) Error() string {
	var re *oauth2.RetrieveError
	if errors.As(e.err, &re) && re.Response != nil {
		msg := re.Response.Status
		if re.ErrorCode != "" {
			msg += ": " + re.ErrorCode
		}
		return "getting an OAuth2 token: " + msg
	}
	var ue *url.Error
	if errors.As(e.err, &ue) {
		return "getting an OAuth2 token: " + ue.Err.Error()
	}
	return "getting an OAuth2 token: " + e.err.Error()
}

func (e *authError) Unwrap() error { return e.err }

// OAuth2 sends the access tokens of ts (golang.org/x/oauth2), which
// should cache and refresh them, as oauth2.ReuseTokenSource does. See
// [ClientCredentials] and [RefreshToken] for the two usual grants.
func OAuth2(ts oauth2.TokenSource) Auth { return &tokenAuth{ts: ts} }

// ClientCredentials returns the OAuth2 client credentials grant
// (RFC 6749 section 4.4) of cfg: tokens are fetched from cfg.TokenURL when
// needed and cached until they expire. hc sends the token requests; nil
// means http.DefaultClient.
func ClientCredentials(cfg *clientcredentials.Config, hc *http.Client) Auth {
	return OAuth2(cfg.TokenSource(oauthContext(hc)))
}

// RefreshToken returns the OAuth2 refresh token grant (RFC 6749 section
// 6) of cfg for refreshToken: an access token is fetched from cfg's token
// endpoint when needed and cached until it expires. hc sends the token
// requests; nil means http.DefaultClient.
func RefreshToken(cfg *oauth2.Config, refreshToken string, hc *http.Client) Auth {
	return OAuth2(cfg.TokenSource(oauthContext(hc), &oauth2.Token{RefreshToken: refreshToken}))
}

func oauthContext(hc *http.Client) context.Context {
	ctx := context.Background()
	if hc != nil {
		ctx = context.WithValue(ctx, oauth2.HTTPClient, hc)
	}
	return ctx
}

var _ fmt.Stringer = (*headerAuth)(nil)
