package ops

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/connectkit/connector/schema"
)

// The files of a Dir.
const (
	schemaFileName = "schema.json"
	logExt         = ".jsonl"
)

// schemaVersion is the format version of schema.json.
const schemaVersion = 1

// schemaDoc is the content of schema.json: every table declared in the
// directory, sorted by name.
type schemaDoc struct {
	Version int            `json:"version"`
	Tables  []schema.Table `json:"tables"`
}

// encodeSchema returns the schema.json of c: indented, with a trailing
// newline, the same bytes for the same tables.
func encodeSchema(c catalog) ([]byte, error) {
	doc := schemaDoc{Version: schemaVersion, Tables: make([]schema.Table, 0, len(c))}
	for _, name := range c.sortedNames() {
		doc.Tables = append(doc.Tables, c[name].Table())
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// readSchema reads and checks the schema.json at path. A missing file is
// an empty catalog with nil data. Errors for content wrap ErrCorrupt.
func readSchema(path string) (catalog, []byte, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return catalog{}, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	c, err := decodeSchema(data)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w: %w", path, ErrCorrupt, err)
	}
	return c, data, nil
}

// decodeSchema decodes a schema.json strictly: valid tables, unique
// names safe as file names, nothing unknown.
func decodeSchema(data []byte) (catalog, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var doc schemaDoc
	if err := dec.Decode(&doc); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the JSON document")
	}
	if doc.Version != schemaVersion {
		return nil, fmt.Errorf("unsupported version %d (this library reads %d)", doc.Version, schemaVersion)
	}
	c := make(catalog, len(doc.Tables))
	for i := range doc.Tables {
		t := &doc.Tables[i]
		if err := checkFileName(t.Name); err != nil {
			return nil, fmt.Errorf("table %q: %w", t.Name, err)
		}
		if c[t.Name] != nil {
			return nil, fmt.Errorf("table %q: declared twice", t.Name)
		}
		ct, err := t.Compile()
		if err != nil {
			return nil, err
		}
		c[t.Name] = ct
	}
	return c, nil
}
