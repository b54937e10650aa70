package ops

import (
	"errors"
	"strings"
	"unicode/utf8"
)

// maxTableNameLen bounds a table name of a [Dir], so that
// "<table>.jsonl" and the temporary files beside it fit the 255-byte
// file name limit of common file systems.
const maxTableNameLen = 200

// checkFileName reports whether the table name can be used as the base
// of a file name on every common file system: not empty, not "." or
// "..", not starting with a dot (hidden files, and the temporary files of
// atomic writes), no path separator, no character Windows forbids
// (<>:"/\|?*), no control character, valid UTF-8, no trailing space or
// dot, and at most maxTableNameLen bytes.
func checkFileName(name string) error {
	switch {
	case name == "":
		return errors.New("empty table name")
	case len(name) > maxTableNameLen:
		return errors.New("table name longer than 200 bytes cannot be a file name")
	case name[0] == '.':
		return errors.New("a table name starting with '.' cannot be a file name")
	case strings.HasSuffix(name, " ") || strings.HasSuffix(name, "."):
		return errors.New("a table name ending with a space or '.' cannot be a file name")
	case !utf8.ValidString(name):
		return errors.New("table name is not valid UTF-8")
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f {
			return errors.New("a table name with a control character cannot be a file name")
		}
		if strings.ContainsRune(`<>:"/\|?*`, r) {
			return errors.New(`a table name with one of <>:"/\|?* cannot be a file name`)
		}
	}
	return nil
}
