// Package comparebench measures gitops-agent's validation (policy.Validator: the offline schema
// check and the Rego policies) on a generated corpus of 10,000 objects
// (policytest.Corpus), and compares it with kubeconform and conftest on the same corpus.
//
// It holds only tests and benchmarks:
//
//	go test -run '^$' -bench . -benchtime 1x ./policy/comparebench/
//
// BenchmarkValidate needs nothing; BenchmarkCompare and the tests that check the tools need
// the tools, which `make bench` installs (deploy/local/build-bench-tools.sh) and passes in the
// environment: KUBECONFORM and CONFTEST name the binaries, KUBECONFORM_SCHEMAS the directory of
// kubeconform's schemas of the built-in kinds.
package comparebench
