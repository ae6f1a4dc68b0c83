// Package policy validates rendered objects before anything is applied: an offline schema check
// (built-in kinds through client-go's embedded OpenAPI models, custom resources through their
// CRDs' schemas, optionally a server-side dry-run) and the OPA/Rego best-practice policies kept
// in the repository's policies/ folder. Both report Findings.
package policy
