package pgtest

import "testing"

func TestWithDatabase(t *testing.T) {
	tests := []struct {
		name, dsn, want string
	}{
		{"keyword/value", "host=/tmp/pg port=5432 user=postgres dbname=postgres sslmode=disable",
			"host=/tmp/pg port=5432 user=postgres dbname=postgres sslmode=disable dbname=verzet_test_x"},
		{"url", "postgres://u:p@localhost:5432/postgres?sslmode=disable",
			"postgres://u:p@localhost:5432/verzet_test_x?sslmode=disable"},
		{"url without database", "postgresql://localhost?host=/tmp/pg",
			"postgresql://localhost/verzet_test_x?host=%2Ftmp%2Fpg"},
		{"url with dbname parameter", "postgres://localhost/?dbname=postgres&sslmode=disable",
			"postgres://localhost/verzet_test_x?sslmode=disable"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := withDatabase(tc.dsn, "verzet_test_x")
			if err != nil || got != tc.want {
				t.Fatalf("withDatabase = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}
