// Package cronjob owns the CronJob controller: it creates a Job for each
// activation of a CronJob's schedule (in spec.timeZone), named
// <cronjob>-<scheduled minutes since the epoch>, honours
// concurrencyPolicy, startingDeadlineSeconds and suspend, keeps
// status.active, lastScheduleTime and lastSuccessfulTime, and prunes
// finished Jobs beyond the history limits. It wakes exactly at the next
// activation instead of polling.
//
// It creates and deletes Jobs and writes CronJob status; it never touches
// pods (the Job controller and garbage collector do).
package cronjob
