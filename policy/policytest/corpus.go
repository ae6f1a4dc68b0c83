// Package policytest holds test helpers for validation benchmarks: a generated corpus of
// rendered objects shaped like a real environment, and its YAML form for tools that read files.
package policytest

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/gitops-agent/gitops-agent/render"
)

// namespaces is how many team namespaces the applications are spread over.
const namespaces = 40

// Corpus returns n objects shaped like the environment of a large organisation: the
// CustomResourceDefinitions of its platform, one Namespace per team, and applications, each a
// Deployment (about two in three), StatefulSet, Job or CronJob with the Service selecting it,
// its ConfigMap, Secret and ServiceAccount, and for long-running ones an Ingress,
// HorizontalPodAutoscaler or PodDisruptionBudget; about one object in thirty is a custom
// resource (a Database or a FeatureFlag).
//
// Every object is valid for the Kubernetes API, and most follow the best-practice policies;
// a few break one, as in real repositories: an untagged image, a literal password in env or in
// a ConfigMap, a sidecar without memory limit or probes, a privileged container, a hostPath
// volume, a Service targetPort no container declares.
//
// The result is deterministic, and Corpus(n) is a prefix of Corpus(m) for n < m.
func Corpus(n int) []render.Object {
	g := &generator{rnd: rand.New(rand.NewPCG(20_000, 2)), want: max(n, 0)}
	g.add("platform/crds/databases.yaml", databaseCRD())
	g.add("platform/crds/featureflags.yaml", featureFlagCRD())
	for app := 0; len(g.out) < g.want; app++ {
		g.app(app)
	}
	return g.out
}

// generator accumulates the corpus.
type generator struct {
	rnd  *rand.Rand
	want int
	out  []render.Object
}

func (g *generator) add(source string, obj map[string]any) {
	if len(g.out) < g.want {
		g.out = append(g.out, render.Object{Obj: &unstructured.Unstructured{Object: obj}, Source: source})
	}
}

// chance is true once in every n calls on average.
func (g *generator) chance(n int) bool { return g.rnd.IntN(n) == 0 }

// appNames are the services of a web shop; an application's name is one of them and its index.
var appNames = []string{
	"checkout", "cart", "catalog", "search", "payments", "orders", "accounts", "inventory",
	"shipping", "reviews", "recommendations", "notifications", "pricing", "media", "gateway",
}

// app adds application number i and everything that belongs to it.
func (g *generator) app(i int) {
	ns := fmt.Sprintf("team-%02d", i%namespaces)
	if i < namespaces {
		g.add("platform/namespaces/"+ns+".yaml", namespace(ns))
	}
	a := application{
		ns:   ns,
		name: fmt.Sprintf("%s-%d", appNames[i%len(appNames)], i),
		kind: workloadKind(i),
	}
	dir := fmt.Sprintf("apps/%s/%s/", a.ns, a.name)
	file := func(kind string) string { return dir + strings.ToLower(kind) + ".yaml" }

	g.add(file(a.kind), g.workload(a))
	switch a.kind {
	case "Deployment":
		g.add(file("Service"), g.service(a, false))
		g.add(file("ConfigMap"), g.configMap(a))
		g.add(file("Secret"), secret(a))
		g.add(file("ServiceAccount"), serviceAccount(a))
		if i%3 != 2 {
			g.add(file("Ingress"), ingress(a))
		}
		if i%4 != 3 {
			g.add(file("HorizontalPodAutoscaler"), hpa(a))
		}
		if i%2 == 0 {
			g.add(file("PodDisruptionBudget"), pdb(a))
		}
		if i%10 == 0 {
			g.add(file("FeatureFlag"), featureFlag(a, i))
		}
	case "StatefulSet":
		g.add(file("Service"), g.service(a, true))
		g.add(file("ConfigMap"), g.configMap(a))
		g.add(file("Secret"), secret(a))
		g.add(file("ServiceAccount"), serviceAccount(a))
		g.add(file("PodDisruptionBudget"), pdb(a))
		if i%2 == 1 {
			g.add(file("Database"), database(a, i))
		}
	default: // Job, CronJob
		g.add(file("ConfigMap"), g.configMap(a))
		g.add(file("ServiceAccount"), serviceAccount(a))
	}
}

// workloadKind spreads the kinds: 13 Deployments, 3 StatefulSets, 2 Jobs and 2 CronJobs in
// every 20 applications.
func workloadKind(i int) string {
	switch r := i % 20; {
	case r < 13:
		return "Deployment"
	case r < 16:
		return "StatefulSet"
	case r < 18:
		return "Job"
	default:
		return "CronJob"
	}
}

// application is what the objects of one application share.
type application struct {
	ns, name, kind string
}

// labels are the application's recommended labels.
func (a application) labels() map[string]any {
	return map[string]any{
		"app.kubernetes.io/name":       a.name,
		"app.kubernetes.io/part-of":    "shop",
		"app.kubernetes.io/managed-by": "gitops-agent",
	}
}

// selector is what the Service and the workload select the pods by.
func (a application) selector() map[string]any {
	return map[string]any{"app.kubernetes.io/name": a.name}
}

func (a application) meta(name string) map[string]any {
	return map[string]any{"name": name, "namespace": a.ns, "labels": a.labels()}
}

func namespace(name string) map[string]any {
	return map[string]any{
		"apiVersion": "v1",
		"kind":       "Namespace",
		"metadata": map[string]any{
			"name":   name,
			"labels": map[string]any{"pod-security.kubernetes.io/enforce": "restricted"},
		},
	}
}
