package connector

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/connectkit/connector/internal/redact"
)

// Config is a connector's configuration: string keys to string values, as
// in Fivetran's configuration.json. Values whose keys look secret (api_key,
// password, clientSecret, X-Auth-Token, ...) never reach a log: String,
// GoString and LogValue redact them.
type Config map[string]string

// Get returns the value of key, or def when key is absent or empty.
func (c Config) Get(key, def string) string {
	if v, ok := c[key]; ok && v != "" {
		return v
	}
	return def
}

// Require returns an error naming every key in keys that is absent or
// empty.
func (c Config) Require(keys ...string) error {
	var missing []string
	for _, k := range keys {
		if c[k] == "" {
			missing = append(missing, strconv.Quote(k))
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("connector: configuration is missing %s", strings.Join(missing, ", "))
	}
	return nil
}

// Int returns the value of key as an int, or def when key is absent or
// empty.
func (c Config) Int(key string, def int) (int, error) {
	v := c[key]
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil {
		return def, fmt.Errorf("connector: configuration %q: %q is not an integer", key, redact.Value(key, v))
	}
	return n, nil
}

// Duration returns the value of key parsed by time.ParseDuration ("90s",
// "1h30m"), or def when key is absent or empty.
func (c Config) Duration(key string, def time.Duration) (time.Duration, error) {
	v := c[key]
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(strings.TrimSpace(v))
	if err != nil {
		return def, fmt.Errorf("connector: configuration %q: %q is not a duration", key, redact.Value(key, v))
	}
	return d, nil
}

// Bool returns the value of key parsed by strconv.ParseBool, or def when
// key is absent or empty.
func (c Config) Bool(key string, def bool) (bool, error) {
	v := c[key]
	if v == "" {
		return def, nil
	}
	b, err := strconv.ParseBool(strings.TrimSpace(v))
	if err != nil {
		return def, fmt.Errorf("connector: configuration %q: %q is not a boolean", key, redact.Value(key, v))
	}
	return b, nil
}

// Redacted returns a copy of c with secret-looking values replaced.
func (c Config) Redacted() map[string]string {
	out := make(map[string]string, len(c))
	for k, v := range c {
		out[k] = redact.Value(k, v)
	}
	return out
}

// String formats c with secret-looking values redacted, keys sorted.
func (c Config) String() string {
	r := c.Redacted()
	var b strings.Builder
	b.WriteString("map[")
	for i, k := range slices.Sorted(maps.Keys(r)) {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(k + ":" + r[k])
	}
	b.WriteString("]")
	return b.String()
}

// MarshalJSON encodes c as a JSON object with secret-looking values
// redacted, so that json.Marshal of a Config, in a log or a report, never
// prints a secret. (Decoding a configuration file into a Config works as
// for any map[string]string.)
func (c Config) MarshalJSON() ([]byte, error) { return json.Marshal(c.Redacted()) }

// GoString is String, so that %#v does not print secrets either.
func (c Config) GoString() string { return "connector.Config" + c.String() }

// LogValue makes slog log c as a group with secret-looking values
// redacted.
func (c Config) LogValue() slog.Value {
	r := c.Redacted()
	attrs := make([]slog.Attr, 0, len(r))
	for _, k := range slices.Sorted(maps.Keys(r)) {
		attrs = append(attrs, slog.String(k, r[k]))
	}
	return slog.GroupValue(attrs...)
}
