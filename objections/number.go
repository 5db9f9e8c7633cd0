package objections

import (
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// DefaultRegion is the region used to read national numbers when none is configured.
const DefaultRegion = "NL"

// Numbers normalises phone numbers to E.164. The zero value reads national
// numbers as Dutch.
type Numbers struct {
	// Region is the ISO 3166 region for numbers written without a country code.
	Region string
}

// NewNumbers returns a normaliser for region; an unknown region is EINVALID.
func NewNumbers(region string) (Numbers, error) {
	region = strings.ToUpper(strings.TrimSpace(region))
	if region == "" {
		region = DefaultRegion
	}
	if !phonenumbers.GetSupportedRegions()[region] {
		return Numbers{}, Invalid("region", region, "not a supported ISO 3166 region code")
	}
	return Numbers{Region: region}, nil
}

// Normalize returns raw as an E.164 number (+31612345678). `06 1234 5678`,
// `0031612345678`, `+31 (0)6-12345678` are one number in region NL. It returns
// EINVALID naming field "number" and the input when raw is empty, cannot be
// parsed, or is not a valid number.
func (n Numbers) Normalize(raw string) (string, error) {
	region := n.Region
	if region == "" {
		region = DefaultRegion
	}
	in := strings.TrimSpace(raw)
	if in == "" {
		return "", Invalid("number", raw, "is empty")
	}
	if len(in) > 64 {
		return "", Invalid("number", raw[:64]+"…", "is longer than 64 characters")
	}
	// "+31 (0)6…" is common Dutch notation: the (0) is the trunk prefix and must go.
	in = strings.Replace(in, "(0)", "", 1)
	pn, err := phonenumbers.Parse(in, region)
	if err != nil {
		return "", Invalid("number", raw, "is not a phone number (%v)", err)
	}
	if !phonenumbers.IsValidNumber(pn) {
		return "", Invalid("number", raw, "is not a valid phone number")
	}
	return phonenumbers.Format(pn, phonenumbers.E164), nil
}

// MaskNumber hides all but the country code and the last two digits of an
// E.164 number, for info logs: +31612345678 → +31*******78.
func MaskNumber(e164 string) string {
	if len(e164) < 6 {
		return strings.Repeat("*", len(e164))
	}
	return e164[:3] + strings.Repeat("*", len(e164)-5) + e164[len(e164)-2:]
}

// DefaultNumbers reads national numbers as Dutch.
func DefaultNumbers() Numbers { return Numbers{Region: DefaultRegion} }
