package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"slices"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"

	"github.com/gitops-agent/gitops-agent/drift"
	"github.com/gitops-agent/gitops-agent/promote"
	"github.com/gitops-agent/gitops-agent/render"
	"github.com/gitops-agent/gitops-agent/sync/apply"
	"github.com/gitops-agent/gitops-agent/sync/reconcile"
)

// diffConfig is what `gitops-agent diff` was asked to do.
type diffConfig struct {
	kube      kubeFlags
	namespace string
	env       string
	repo      string
	output    string
}

// runDiff compares each environment's applied commit with the live cluster, as the agent's
// drift detection does: only the fields the agent applies, with the environment's ignore
// rules, Secret values redacted. Exit 0: no drift; 1: drift; 2: error.
func runDiff(ctx context.Context, c *cli, args []string) int {
	var dc diffConfig
	fs := flag.NewFlagSet("diff", flag.ContinueOnError)
	dc.kube.register(fs)
	fs.StringVar(&dc.namespace, "namespace", "gitops-agent", "the agent's namespace")
	fs.StringVar(&dc.env, "env", "", "only this environment (default: every environment)")
	fs.StringVar(&dc.repo, "repo", ".", "a clone of the deployments repository that holds the applied commits")
	fs.StringVar(&dc.output, "o", "text", "output format: text (unified diff) or json")
	fs.Usage = func() {
		fmt.Fprintf(c.stderr, "usage: gitops-agent diff [--env ENV] [--repo DIR] [-o text|json]\n\n"+
			"Shows how the live objects differ from each environment's applied commit.\n"+
			"Exit status: 0 no drift, 1 drift, 2 error.\n\n")
		fs.PrintDefaults()
	}
	if ok, code := parseFlags(fs, c, args); !ok {
		return code
	}
	if dc.output != "text" && dc.output != "json" {
		fmt.Fprintf(c.stderr, "diff: -o %q: want text or json\n", dc.output)
		return exitError
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return exitError
	}
	reports, err := diffEnvironments(ctx, dc, c.stderr)
	if err != nil {
		fmt.Fprintf(c.stderr, "diff: %v\n", err)
		return exitError
	}
	drifted := 0
	for _, r := range reports {
		drifted += len(r.Objects)
	}
	if dc.output == "json" {
		enc := json.NewEncoder(c.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(reports); err != nil {
			return exitError
		}
	} else {
		for _, r := range reports {
			for _, o := range r.Objects {
				fmt.Fprint(c.stdout, o.Diff)
			}
		}
		fmt.Fprintf(c.stdout, "%d object(s) drifted in %d environment(s)\n", drifted, len(reports))
	}
	if drifted > 0 {
		return exitFinding
	}
	return exitOK
}

// envDiff is the drift of one environment at its applied commit.
type envDiff struct {
	Env     string       `json:"env"`
	Commit  string       `json:"commit"`
	Objects []objectDiff `json:"objects"`
}

// objectDiff is one drifted object: what differs, and the unified diff showing it.
type objectDiff struct {
	drift.ObjectDrift
	Diff string `json:"diff"`
}

func diffEnvironments(ctx context.Context, dc diffConfig, stderr io.Writer) ([]envDiff, error) {
	store, err := statusStore(dc.kube, dc.namespace)
	if err != nil {
		return nil, err
	}
	envs, err := store.ListObjects(ctx)
	if err != nil {
		return nil, err
	}
	if dc.env != "" {
		envs = slices.DeleteFunc(envs, func(e reconcile.EnvironmentObject) bool { return e.Status.Name != dc.env })
		if len(envs) == 0 {
			return nil, fmt.Errorf("no environment %q in namespace %s", dc.env, dc.namespace)
		}
	}
	repo, err := git.PlainOpenWithOptions(dc.repo, &git.PlainOpenOptions{DetectDotGit: true})
	if err != nil {
		return nil, fmt.Errorf("open the deployments repository at %s: %w", dc.repo, err)
	}
	cfg, err := dc.kube.restConfig()
	if err != nil {
		return nil, err
	}
	clients, err := newClusterClients(cfg)
	if err != nil {
		return nil, err
	}
	renderer := render.New(render.DefaultOptions())
	var out []envDiff
	for _, e := range envs {
		if e.Status.LastApplied == nil {
			fmt.Fprintf(stderr, "diff: %s: nothing applied yet\n", e.Status.Name)
			continue
		}
		d, err := diffEnvironment(ctx, repo, renderer, clients.dynamic, clients.mapper, e)
		if err != nil {
			return nil, fmt.Errorf("environment %s: %w", e.Status.Name, err)
		}
		out = append(out, d)
	}
	return out, nil
}

func diffEnvironment(ctx context.Context, repo *git.Repository, renderer *render.Renderer, dyn dynamic.Interface, mapper meta.RESTMapper, e reconcile.EnvironmentObject) (envDiff, error) {
	name, commit := e.Status.Name, e.Status.LastApplied.Commit
	if _, err := repo.CommitObject(plumbing.NewHash(commit)); err != nil {
		return envDiff{}, fmt.Errorf("the applied commit %s is not in the repository: fetch it (git fetch) and retry: %w", e.Status.LastApplied.ShortCommit, err)
	}
	rendered, err := renderer.RenderCommit(ctx, repo, plumbing.NewHash(commit), e.Spec.Path)
	if err != nil {
		return envDiff{}, fmt.Errorf("render %s at %s: %w", e.Spec.Path, e.Status.LastApplied.ShortCommit, err)
	}
	spec := drift.EnvSpec{IgnoreHPAReplicas: true}
	if d := e.Spec.Drift; d != nil {
		spec = drift.EnvSpec{SelfHeal: d.SelfHeal, IgnoreHPAReplicas: d.IgnoreHPAReplicas, Ignore: d.Ignore}
	}
	objs := make([]*unstructured.Unstructured, len(rendered.Objects))
	for i, o := range rendered.Objects {
		objs[i] = o.Obj
	}
	if p := e.Status.Promotion; e.Spec.Promotion != nil && p != nil && p.Live != nil {
		// What runs is the live colour of the commit, as the agent's drift detection sees it.
		if objs, err = liveColor(rendered.Objects, p.Live.Color, e.Spec.Promotion.Routers); err != nil {
			return envDiff{}, err
		}
	}
	desired := make([]*unstructured.Unstructured, 0, len(objs))
	for _, o := range objs {
		obj, err := apply.AsApplied(o, name)
		if err != nil {
			return envDiff{}, fmt.Errorf("%s: %w", render.RefOf(o), err)
		}
		desired = append(desired, obj)
	}
	d := envDiff{Env: name, Commit: commit, Objects: []objectDiff{}}
	for _, want := range desired {
		ref := render.RefOf(want)
		mapping, err := mapper.RESTMapping(want.GroupVersionKind().GroupKind(), want.GroupVersionKind().Version)
		if err != nil {
			return d, fmt.Errorf("%s: %w", ref, err)
		}
		client := dynamic.ResourceInterface(dyn.Resource(mapping.Resource))
		if mapping.Scope.Name() == meta.RESTScopeNameNamespace {
			client = dyn.Resource(mapping.Resource).Namespace(want.GetNamespace())
		} else {
			want.SetNamespace("")
		}
		live, err := client.Get(ctx, want.GetName(), metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			live = nil
		} else if err != nil {
			return d, fmt.Errorf("read %s: %w", ref, err)
		}
		ignore := drift.IgnoreFor(spec, desired, want)
		od := drift.Compare(want, live, ignore)
		if od.Type == "" {
			continue
		}
		d.Objects = append(d.Objects, objectDiff{ObjectDrift: od, Diff: drift.UnifiedDiff(want, live, ignore)})
	}
	return d, nil
}

// liveColor returns a promoted environment's objects as its live colour runs them.
func liveColor(objs []render.Object, live promote.Color, routers []string) ([]*unstructured.Unstructured, error) {
	refs, err := reconcile.RouterRefs(routers)
	if err != nil {
		return nil, err
	}
	plan, err := promote.Split(objs, live, "", refs)
	if err != nil {
		return nil, err
	}
	return slices.Concat(plan.Shared, plan.Colored, plan.Routers), nil
}
