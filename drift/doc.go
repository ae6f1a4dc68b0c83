// Package drift owns drift detection: it watches the objects the agent applied, compares each
// live object against the form the agent applied (only the fields the agent set, judged by the
// server-side-apply managed fields), reports what differs and who changed it, and, when an
// environment asks for it, heals the difference by applying the object again.
//
// Compare and UnifiedDiff are the pure comparison, shared by the Detector and the `diff`
// command. The Detector keeps one label-filtered informer per resource the environments use
// and a work queue that compares an object whenever it changes, so that drift is known within
// a second of the change; it exports Prometheus metrics, emits Events on the Environment and
// never lets a Secret's value into a report, a log line, an Event, a metric or a diff.
package drift
