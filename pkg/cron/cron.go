package cron

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Schedule is a parsed cron schedule.
type Schedule struct {
	minute, hour, dom, month, dow uint64
	// anyDay is true when day of month or day of week is "*" or "?": the
	// day must then match both fields; otherwise it matches either.
	anyDay bool
	// every is the interval of an "@every" schedule (zero otherwise).
	every time.Duration
	// loc is the zone of a "TZ=" prefix, nil to use the caller's.
	loc *time.Location
}

type fieldRange struct {
	name     string
	min, max uint
	names    map[string]uint
}

var (
	minutes  = fieldRange{name: "minute", min: 0, max: 59}
	hours    = fieldRange{name: "hour", min: 0, max: 23}
	days     = fieldRange{name: "day of month", min: 1, max: 31}
	months   = fieldRange{name: "month", min: 1, max: 12, names: map[string]uint{"jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12}}
	weekdays = fieldRange{name: "day of week", min: 0, max: 6, names: map[string]uint{"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6}}
)

// shorthands are the named schedules and their five-field equivalents.
var shorthands = map[string]string{
	"@yearly":   "0 0 1 1 *",
	"@annually": "0 0 1 1 *",
	"@monthly":  "0 0 1 * *",
	"@weekly":   "0 0 * * 0",
	"@daily":    "0 0 * * *",
	"@midnight": "0 0 * * *",
	"@hourly":   "0 * * * *",
}

// Parse parses a standard cron schedule such as "*/5 * * * *",
// "0 9 * * mon-fri", "@daily" or "@every 90m", optionally prefixed with
// "TZ=<zone> " or "CRON_TZ=<zone> ".
func Parse(spec string) (Schedule, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return Schedule{}, fmt.Errorf("empty spec string")
	}
	var loc *time.Location
	if strings.HasPrefix(spec, "TZ=") || strings.HasPrefix(spec, "CRON_TZ=") {
		zone, rest, _ := strings.Cut(spec, " ")
		_, name, _ := strings.Cut(zone, "=")
		l, err := time.LoadLocation(name)
		if err != nil {
			return Schedule{}, fmt.Errorf("provided bad location %s: %w", name, err)
		}
		loc, spec = l, strings.TrimSpace(rest)
	}
	s, err := parseSchedule(spec)
	if err != nil {
		return Schedule{}, err
	}
	s.loc = loc
	return s, nil
}

func parseSchedule(spec string) (Schedule, error) {
	if strings.HasPrefix(spec, "@every ") {
		d, err := time.ParseDuration(strings.TrimSpace(strings.TrimPrefix(spec, "@every ")))
		if err != nil {
			return Schedule{}, fmt.Errorf("failed to parse duration %s: %w", spec, err)
		}
		if d < time.Second {
			d = time.Second
		}
		return Schedule{every: d - d%time.Second}, nil
	}
	if strings.HasPrefix(spec, "@") {
		expanded, ok := shorthands[spec]
		if !ok {
			return Schedule{}, fmt.Errorf("unrecognized descriptor: %s", spec)
		}
		spec = expanded
	}
	f := strings.Fields(spec)
	if len(f) != 5 {
		return Schedule{}, fmt.Errorf("expected exactly 5 fields, found %d: %s", len(f), spec)
	}
	var s Schedule
	var err error
	var domAny, dowAny bool
	if s.minute, _, err = parseField(f[0], minutes); err != nil {
		return Schedule{}, err
	}
	if s.hour, _, err = parseField(f[1], hours); err != nil {
		return Schedule{}, err
	}
	if s.dom, domAny, err = parseField(f[2], days); err != nil {
		return Schedule{}, err
	}
	if s.month, _, err = parseField(f[3], months); err != nil {
		return Schedule{}, err
	}
	if s.dow, dowAny, err = parseField(f[4], weekdays); err != nil {
		return Schedule{}, err
	}
	s.anyDay = domAny || dowAny
	return s, nil
}

// parseField parses a comma-separated list of ranges into a bit set. any
// reports a bare "*" or "?" (a step above 1 makes the field specific).
func parseField(field string, r fieldRange) (set uint64, any bool, err error) {
	for _, part := range strings.Split(field, ",") {
		bitsOf, wild, err := parseRange(part, r)
		if err != nil {
			return 0, false, err
		}
		set |= bitsOf
		any = any || wild
	}
	return set, any, nil
}

// parseRange parses "*", "?", "N", "N-M", "name", each optionally with
// "/step"; "N/step" runs from N to the field's maximum.
func parseRange(expr string, r fieldRange) (uint64, bool, error) {
	rangePart, stepPart, hasStep := strings.Cut(expr, "/")
	var start, end uint
	wild := false
	if rangePart == "*" || rangePart == "?" {
		start, end, wild = r.min, r.max, true
	} else {
		lowStr, highStr, isRange := strings.Cut(rangePart, "-")
		var err error
		if start, err = parseValue(lowStr, r); err != nil {
			return 0, false, err
		}
		end = start
		if isRange {
			if strings.Contains(highStr, "-") {
				return 0, false, fmt.Errorf("too many hyphens: %s", expr)
			}
			if end, err = parseValue(highStr, r); err != nil {
				return 0, false, err
			}
		} else if hasStep {
			end = r.max
		}
	}
	step := uint(1)
	if hasStep {
		if strings.Contains(stepPart, "/") {
			return 0, false, fmt.Errorf("too many slashes: %s", expr)
		}
		n, err := strconv.ParseUint(stepPart, 10, 32)
		if err != nil {
			return 0, false, fmt.Errorf("failed to parse int from %s: %w", stepPart, err)
		}
		if n == 0 {
			return 0, false, fmt.Errorf("step of range should be a positive number: %s", expr)
		}
		step = uint(n)
		if step > 1 {
			wild = false
		}
	}
	switch {
	case start < r.min:
		return 0, false, fmt.Errorf("beginning of range (%d) below minimum (%d): %s", start, r.min, expr)
	case end > r.max:
		return 0, false, fmt.Errorf("end of range (%d) above maximum (%d): %s", end, r.max, expr)
	case start > end:
		return 0, false, fmt.Errorf("beginning of range (%d) beyond end of range (%d): %s", start, end, expr)
	}
	var set uint64
	for v := start; v <= end; v += step {
		set |= 1 << v
	}
	return set, wild, nil
}

func parseValue(s string, r fieldRange) (uint, error) {
	if v, ok := r.names[strings.ToLower(s)]; ok {
		return v, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("failed to parse int from %s: %w", s, err)
	}
	if n < 0 {
		return 0, fmt.Errorf("negative number (%d) not allowed: %s", n, s)
	}
	return uint(n), nil
}

// searchYears bounds Next for schedules that never fire ("0 0 30 2 *").
const searchYears = 5

// Next returns the first activation strictly after t, in t's location (or
// the schedule's own "TZ=" zone). It returns the zero time when the
// schedule never fires. When a daylight-saving change repeats an hour,
// times in it may fire in both occurrences; times skipped by the change
// do not fire.
func (s Schedule) Next(t time.Time) time.Time {
	if s.every > 0 {
		return t.Add(s.every - time.Duration(t.Nanosecond()))
	}
	if s.loc != nil {
		t = t.In(s.loc)
	}
	loc := t.Location()
	// Start at the next whole minute.
	t = t.Add(time.Minute - time.Duration(t.Second())*time.Second - time.Duration(t.Nanosecond()))
	limit := t.Year() + searchYears

	for t.Year() <= limit {
		if !has(s.month, int(t.Month())) {
			t = later(t, time.Date(t.Year(), t.Month()+1, 1, 0, 0, 0, 0, loc))
			continue
		}
		if !s.dayMatches(t) {
			t = later(t, time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, loc))
			continue
		}
		if !has(s.hour, t.Hour()) {
			t = t.Add(time.Hour - time.Duration(t.Minute())*time.Minute)
			continue
		}
		if !has(s.minute, t.Minute()) {
			t = t.Add(time.Minute)
			continue
		}
		return t
	}
	return time.Time{}
}

// later returns next, or the hour after it when a zone change at midnight
// made it land at or before t, so the search always moves forward.
func later(t, next time.Time) time.Time {
	for !next.After(t) {
		next = next.Add(time.Hour)
	}
	return next
}

func (s Schedule) dayMatches(t time.Time) bool {
	dom := has(s.dom, t.Day())
	dow := has(s.dow, int(t.Weekday()))
	if s.anyDay {
		return dom && dow
	}
	return dom || dow
}

func has(set uint64, v int) bool { return set&(1<<uint(v)) != 0 }
