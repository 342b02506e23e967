package reindex

import (
	"fmt"
	"strings"
	"unicode"
)

// CheckIndexName reports why name cannot be the one concrete index a reindex works on:
// Elasticsearch's naming rules (lowercase; none of \ / * ? " < > | space , # :; not "." or
// ".."; not starting with - _ +; at most 255 bytes), plus what this workflow refuses on
// purpose: wildcards, _all, system or hidden names starting with ".", and '%'.
func CheckIndexName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("index name is empty")
	case name == "_all":
		return fmt.Errorf("index name %q means every index; name one index", name)
	case name == "." || name == "..":
		return fmt.Errorf("index name %q is not allowed", name)
	case len(name) > 255:
		return fmt.Errorf("index name %.40q... is %d bytes, over 255", name, len(name))
	case strings.HasPrefix(name, "."):
		return fmt.Errorf("index name %q starts with '.': system and hidden indices are refused", name)
	case strings.ContainsAny(name[:1], "-_+"):
		return fmt.Errorf("index name %q must not start with '-', '_' or '+'", name)
	}
	if i := strings.IndexAny(name, "*?"); i >= 0 {
		return fmt.Errorf("index name %q contains the wildcard %q: name one index", name, name[i])
	}
	if i := strings.IndexAny(name, "\\/\"<>| ,#:"); i >= 0 {
		return fmt.Errorf("index name %q contains %q, which Elasticsearch does not allow", name, name[i])
	}
	// Elasticsearch allows '%', but the request path is percent-decoded: "x%61" would
	// address the index "xa". Refused so every step acts on the index the request names.
	if strings.Contains(name, "%") {
		return fmt.Errorf("index name %q contains '%%', which a request URL decodes into another name", name)
	}
	for _, r := range name {
		// Title-case letters (U+01C5) are not IsUpper, but Elasticsearch refuses any name
		// that lower-casing changes.
		if unicode.IsUpper(r) || unicode.IsTitle(r) {
			return fmt.Errorf("index name %q has upper-case letters; index names are lowercase", name)
		}
		if r == unicode.ReplacementChar || unicode.IsControl(r) {
			return fmt.Errorf("index name %q has a control character or invalid UTF-8", name)
		}
	}
	return nil
}

// checkRunID keeps run ids usable inside index names and _meta.
func checkRunID(id string) error {
	if id == "" || len(id) > 64 {
		return fmt.Errorf("run id %q must be 1 to 64 characters", id)
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') || i == 0 && (c == '-' || c == '_') {
			return fmt.Errorf("run id %q: use lowercase letters, digits, '-' and '_' (not first)", id)
		}
	}
	return nil
}
