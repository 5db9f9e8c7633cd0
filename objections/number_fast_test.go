package objections

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// sameAsNormalize fails t when NormalizeFast and Normalize disagree on raw.
func sameAsNormalize(t testing.TB, n Numbers, raw string) {
	want, wantErr := n.Normalize(raw)
	got, gotErr := n.NormalizeFast(raw)
	if got != want || fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
		t.Fatalf("region %q, %q: NormalizeFast = %q, %v; Normalize = %q, %v", n.Region, raw, got, gotErr, want, wantErr)
	}
}

func TestNormalizeFastSameAsNormalize(t *testing.T) {
	for _, raw := range []string{
		"+31612345678", "0031612345678", "0612345678", "06 1234 5678", "06-12345678", " 06-1234-5678 ",
		"020 123 4567", "+31201234567", "0201234567", "0800 1234", "08001234", "0900 123 4567", "0031 06 12345678",
		"+310612345678", "+31 6 12345678", "+ 31612345678", "06  12345678", "06--12345678", "0612345678-",
		"-0612345678", "061234567", "06123456789", "+3161234567", "+316123456789", "0612345678x",
		"+32470123456", "0032470123456", "+1 212 555 0123", "+31 (0)6 12345678", "(06) 12345678",
		"0101234567", "0111234567", "0191234567", "0661234567", "0851234567", "0971234567", "0691234567",
		"+31999999999", "0000000000", "", "   ", "+", "06", "abc", "06１２３４５６７８",
		"0612345678 ext 12", "+31612345678;ext=1", "tel:+31612345678",
	} {
		for _, region := range []string{"NL", "", "BE", "US"} {
			n, _ := NewNumbers(region)
			if region == "" {
				n = Numbers{}
			}
			sameAsNormalize(t, n, raw)
		}
	}
	// Every Dutch prefix: valid and invalid ranges alike.
	rng := rand.New(rand.NewPCG(1, 2))
	n := Numbers{Region: "NL"}
	for p := 100; p < 1000; p++ {
		for range 8 {
			nsn := fmt.Sprintf("%d%06d", p, rng.IntN(1000000))
			for _, raw := range []string{"0" + nsn, "+31" + nsn, "0031" + nsn} {
				sameAsNormalize(t, n, raw)
			}
		}
	}
}

func FuzzNormalizeFast(f *testing.F) {
	for _, s := range []string{"+31612345678", "0031612345678", "06 1234 5678", "06-12345678", "020 123 4567", "+32470123456", "0800 1234", ""} {
		f.Add(s, "NL")
	}
	f.Add("+31612345678", "BE")
	f.Fuzz(func(t *testing.T, raw, region string) {
		n, err := NewNumbers(region)
		if err != nil {
			return
		}
		sameAsNormalize(t, n, raw)
	})
}

func BenchmarkNormalize(b *testing.B) {
	n := Numbers{Region: "NL"}
	for _, tc := range []struct {
		name string
		f    func(string) (string, error)
	}{{"Normalize", n.Normalize}, {"NormalizeFast", n.NormalizeFast}} {
		b.Run(tc.name, func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				if _, err := tc.f(fmt.Sprintf("061%07d", i%10000000)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
