// Package cron parses the standard five-field cron schedules used by
// CronJobs (minute, hour, day of month, month, day of week; ranges, steps,
// lists and month/weekday names, plus the @yearly, @monthly, @weekly,
// @daily, @hourly and "@every <duration>" shorthands) and computes their
// next activation time.
//
// It knows nothing of the API: time zones come from the caller (a CronJob's
// spec.timeZone), except for a legacy "TZ=" or "CRON_TZ=" prefix, which is
// honoured when present. The package links the IANA time zone database so
// zone names resolve the same on every host.
package cron

import _ "time/tzdata" // zone names must not depend on the host's /usr/share/zoneinfo
