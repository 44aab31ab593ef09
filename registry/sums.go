package registry

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
)

// Sums is the content of a SHA256SUMS file: file name to hex SHA-256.
// The file is in sha256sum's format, one "HEX  NAME" line per file,
// sorted by name.
type Sums map[string]string

// ParseSums parses a SHA256SUMS file; what names it for error messages.
func ParseSums(b []byte, what string) (Sums, error) {
	s := Sums{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.TrimSpace(line) == "" {
			continue
		}
		sum, name, ok := strings.Cut(line, "  ")
		if !ok || !isHexSHA256(sum) || name == "" {
			return nil, fmt.Errorf("%s line %d is not \"SHA256  NAME\": %q", what, n, abbreviate(line))
		}
		if _, dup := s[name]; dup {
			return nil, fmt.Errorf("%s line %d: %q is listed twice", what, n, name)
		}
		s[name] = strings.ToLower(sum)
	}
	return s, nil
}

// Bytes is the file's content.
func (s Sums) Bytes() []byte {
	names := make([]string, 0, len(s))
	for n := range s {
		names = append(names, n)
	}
	slices.Sort(names)
	var b bytes.Buffer
	for _, n := range names {
		fmt.Fprintf(&b, "%s  %s\n", s[n], n)
	}
	return b.Bytes()
}

// isHexSHA256 says whether s is 64 hex digits.
func isHexSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}
