package objections

import (
	"strings"
	"unicode/utf8"
)

// ValidText refuses a text value that is not valid UTF-8 or holds a NUL
// byte: PostgreSQL refuses both (SQLSTATE 22021) where SQLite keeps them,
// so the domain refuses them before either store sees them, and both
// answer alike. It returns EINVALID naming field, with the value made
// printable.
func ValidText(field, v string) error {
	if utf8.ValidString(v) && !strings.Contains(v, "\x00") {
		return nil
	}
	shown := v
	if len(shown) > 32 {
		shown = shown[:32] + "…"
	}
	shown = strings.ReplaceAll(strings.ToValidUTF8(shown, "\uFFFD"), "\x00", "\uFFFD")
	return Invalid(field, shown, "is not valid UTF-8 text (or holds a NUL byte)")
}

// validTexts is ValidText over name, value pairs; the first bad one is
// named.
func validTexts(pairs ...string) error {
	for i := 0; i+1 < len(pairs); i += 2 {
		if err := ValidText(pairs[i], pairs[i+1]); err != nil {
			return err
		}
	}
	return nil
}
