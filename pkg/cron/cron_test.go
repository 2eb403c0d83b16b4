package cron

import (
	"strings"
	"testing"
	"time"
)

func mustLoad(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("LoadLocation(%q): %v", name, err)
	}
	return loc
}

func TestNext(t *testing.T) {
	utc := time.UTC
	at := func(s string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04:05", s, utc)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	cases := []struct {
		spec, from, want string
	}{
		{"* * * * *", "2024-03-01 10:00:00", "2024-03-01 10:01:00"},
		{"* * * * *", "2024-03-01 10:00:30", "2024-03-01 10:01:00"},
		{"*/15 * * * *", "2024-03-01 10:07:00", "2024-03-01 10:15:00"},
		{"*/15 * * * *", "2024-03-01 10:45:00", "2024-03-01 11:00:00"},
		{"5/20 * * * *", "2024-03-01 10:26:00", "2024-03-01 10:45:00"},
		{"0 9 * * mon-fri", "2024-03-01 09:00:00", "2024-03-04 09:00:00"}, // Friday -> Monday
		{"0 9 * * MON,wed", "2024-03-04 10:00:00", "2024-03-06 09:00:00"},
		{"30 2 1 * *", "2024-01-15 00:00:00", "2024-02-01 02:30:00"},
		{"0 0 1 jan *", "2024-03-01 00:00:00", "2025-01-01 00:00:00"},
		{"0 0 29 2 *", "2024-03-01 00:00:00", "2028-02-29 00:00:00"},
		{"0 0 31 * *", "2024-04-01 00:00:00", "2024-05-31 00:00:00"},
		{"0 12 1-7 * 1", "2024-03-01 00:00:00", "2024-03-01 12:00:00"}, // dom OR dow
		{"0 12 * * 1", "2024-03-01 00:00:00", "2024-03-04 12:00:00"},   // any dom: dow only
		{"0 12 ? * 1", "2024-03-01 00:00:00", "2024-03-04 12:00:00"},
		{"0 0 */2 * 1", "2024-03-01 00:00:00", "2024-03-03 00:00:00"}, // stepped dom is specific: OR
		{"0 10-12/2 * * *", "2024-03-01 10:00:00", "2024-03-01 12:00:00"},
		{"@hourly", "2024-03-01 10:59:59", "2024-03-01 11:00:00"},
		{"@daily", "2024-03-01 10:00:00", "2024-03-02 00:00:00"},
		{"@midnight", "2024-03-01 10:00:00", "2024-03-02 00:00:00"},
		{"@weekly", "2024-03-01 10:00:00", "2024-03-03 00:00:00"},
		{"@monthly", "2024-03-01 10:00:00", "2024-04-01 00:00:00"},
		{"@yearly", "2024-03-01 10:00:00", "2025-01-01 00:00:00"},
		{"@annually", "2024-03-01 10:00:00", "2025-01-01 00:00:00"},
		{"@every 90m", "2024-03-01 10:00:00", "2024-03-01 11:30:00"},
		{"  0  9  *  *  *  ", "2024-03-01 10:00:00", "2024-03-02 09:00:00"},
	}
	for _, c := range cases {
		s, err := Parse(c.spec)
		if err != nil {
			t.Errorf("Parse(%q): %v", c.spec, err)
			continue
		}
		if got := s.Next(at(c.from)); !got.Equal(at(c.want)) {
			t.Errorf("Parse(%q).Next(%s) = %s, want %s", c.spec, c.from, got, c.want)
		}
	}
}

func TestNextNever(t *testing.T) {
	s, err := Parse("0 0 30 2 *")
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Next(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)); !got.IsZero() {
		t.Errorf("Next = %s, want zero time for a schedule that never fires", got)
	}
}

func TestNextInLocation(t *testing.T) {
	ny := mustLoad(t, "America/New_York")
	s, err := Parse("0 9 * * *")
	if err != nil {
		t.Fatal(err)
	}
	// The caller's zone decides: 12:00 UTC is 07:00 in New York.
	got := s.Next(time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC))
	if want := time.Date(2024, 3, 2, 9, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("Next in UTC = %s, want %s", got, want)
	}
	if got := s.Next(time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC).In(ny)); !got.Equal(time.Date(2024, 3, 1, 9, 0, 0, 0, ny)) {
		t.Errorf("Next in New York = %s, want 09:00 New York the same day", got)
	}
	india := mustLoad(t, "Asia/Kolkata") // +05:30
	got = s.Next(time.Date(2024, 3, 1, 8, 59, 0, 0, india))
	if want := time.Date(2024, 3, 1, 9, 0, 0, 0, india); !got.Equal(want) {
		t.Errorf("Next in Kolkata = %s, want %s", got, want)
	}
}

func TestNextTZPrefix(t *testing.T) {
	tokyo := mustLoad(t, "Asia/Tokyo")
	for _, prefix := range []string{"TZ=Asia/Tokyo", "CRON_TZ=Asia/Tokyo"} {
		s, err := Parse(prefix + " 0 9 * * *")
		if err != nil {
			t.Fatalf("Parse: %v", err)
		}
		got := s.Next(time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)) // 09:00 in Tokyo
		if want := time.Date(2024, 3, 2, 9, 0, 0, 0, tokyo); !got.Equal(want) {
			t.Errorf("%s: Next = %s, want %s", prefix, got, want)
		}
	}
	if _, err := Parse("TZ=Nowhere/Land 0 9 * * *"); err == nil {
		t.Error("Parse with an unknown zone succeeded")
	}
}

func TestNextDaylightSaving(t *testing.T) {
	ny := mustLoad(t, "America/New_York")
	s, err := Parse("30 2 * * *")
	if err != nil {
		t.Fatal(err)
	}
	// 2024-03-10 02:30 does not exist in New York: the next run is a day later.
	got := s.Next(time.Date(2024, 3, 10, 0, 0, 0, 0, ny))
	if want := time.Date(2024, 3, 11, 2, 30, 0, 0, ny); !got.Equal(want) {
		t.Errorf("Next over spring-forward = %s, want %s", got, want)
	}
	// Every run is strictly later than the previous one across fall-back.
	s, err = Parse("*/30 * * * *")
	if err != nil {
		t.Fatal(err)
	}
	prev := time.Date(2024, 11, 3, 0, 0, 0, 0, ny)
	for i := 0; i < 12; i++ {
		next := s.Next(prev)
		if !next.After(prev) || next.Sub(prev) > 30*time.Minute {
			t.Fatalf("run %d: Next(%s) = %s", i, prev, next)
		}
		prev = next
	}
}

func TestParseErrors(t *testing.T) {
	cases := map[string]string{
		"":                "empty spec string",
		"* * * *":         "expected exactly 5 fields, found 4",
		"* * * * * *":     "expected exactly 5 fields, found 6",
		"60 * * * *":      "end of range (60) above maximum (59)",
		"* 24 * * *":      "end of range (24) above maximum (23)",
		"* * 0 * *":       "beginning of range (0) below minimum (1)",
		"* * 32 * *":      "end of range (32) above maximum (31)",
		"* * * 13 *":      "end of range (13) above maximum (12)",
		"* * * * 7":       "end of range (7) above maximum (6)",
		"5-1 * * * *":     "beginning of range (5) beyond end of range (1)",
		"*/0 * * * *":     "step of range should be a positive number",
		"1-2-3 * * * *":   "too many hyphens",
		"*/2/3 * * * *":   "too many slashes",
		"x * * * *":       "failed to parse int from x",
		"* * * foo *":     "failed to parse int from foo",
		"@fortnightly":    "unrecognized descriptor: @fortnightly",
		"@every 1 minute": "failed to parse duration",
	}
	for spec, want := range cases {
		_, err := Parse(spec)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%q) error = %v, want containing %q", spec, err, want)
		}
	}
}
