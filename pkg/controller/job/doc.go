// Package job owns the Job controller: it runs a Job's pods to completion
// (completions, parallelism, NonIndexed and Indexed completion modes),
// counts finished pods exactly once through the batch.kubernetes.io/job-tracking
// pod finalizer and status.uncountedTerminatedPods, fails Jobs past their
// backoffLimit or activeDeadlineSeconds, applies podFailurePolicy,
// backoffLimitPerIndex/maxFailedIndexes and successPolicy, suspends and
// resumes Jobs, and deletes finished Jobs once their
// ttlSecondsAfterFinished has passed.
//
// It writes Job status, creates and deletes the Job's pods, and patches
// pods only to adopt, release or remove its finalizer; it never writes a
// pod's spec or status.
package job
