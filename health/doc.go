// Package health owns deciding whether live objects have reached the state they were applied
// for: a kstatus-like Status (Current, InProgress, Failed, Terminating, NotFound) with a
// message a person can act on.
//
// Compute reads one object's status fields. A Checker reads objects from the cluster and, for
// a workload still in progress, looks at the pods of its current revision, so that an image
// that cannot be pulled or a crash loop fails the workload at once instead of at its progress
// deadline. Checker.Wait polls a set of objects until all are Current, any has Failed, or the
// timeout passes.
package health
