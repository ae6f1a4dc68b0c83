package policy

import (
	"context"
	"fmt"

	"golang.org/x/sync/errgroup"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/utils/ptr"

	"github.com/gitops-agent/gitops-agent/render"
)

// RuleServerDryRun: the API server rejected the object in a server-side apply dry-run.
const RuleServerDryRun = "server-dry-run"

const (
	// dryRunFieldManager is the field manager of the agent's applies; the dry-run uses the
	// same so that it sees what the real apply will.
	dryRunFieldManager = "gitops-agent"
	// dryRunConcurrency bounds the dry-run requests in flight.
	dryRunConcurrency = 8
	// dryRunQPS and dryRunBurst replace client-go's default of 5 requests per second, which
	// would make the dry-run of a large environment take minutes.
	dryRunQPS, dryRunBurst = 50, 100
)

// DryRunClients builds the clients DryRun needs from a rest.Config: a dynamic client and a
// RESTMapper backed by cached discovery. When cfg sets no rate limit, they allow 50 requests
// per second (burst 100).
func DryRunClients(cfg *rest.Config) (dynamic.Interface, meta.RESTMapper, error) {
	cfg = rest.CopyConfig(cfg)
	if cfg.QPS == 0 && cfg.RateLimiter == nil {
		cfg.QPS, cfg.Burst = dryRunQPS, dryRunBurst
	}
	httpClient, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("dry-run clients for %s: %w", cfg.Host, err)
	}
	dyn, err := dynamic.NewForConfigAndClient(cfg, httpClient)
	if err != nil {
		return nil, nil, fmt.Errorf("dry-run dynamic client for %s: %w", cfg.Host, err)
	}
	dc, err := discovery.NewDiscoveryClientForConfigAndClient(cfg, httpClient)
	if err != nil {
		return nil, nil, fmt.Errorf("dry-run discovery client for %s: %w", cfg.Host, err)
	}
	return dyn, restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc)), nil
}

// DryRun asks the API server to validate objs: one server-side apply per object with
// dryRun=All, field manager "gitops-agent", forced ownership (conflicts are the apply's
// business, not validation's) and strict field validation. Every rejection the server explains
// becomes RuleServerDryRun findings, one per cause with its field path where the server gives
// causes. The error is for what is not the objects' fault: ctx ended, the server could not be
// reached, refused the credentials, or was overloaded; the findings are then incomplete.
//
// Objects of a render often depend on Namespaces and CRDs of the same render that the cluster
// does not have yet. A dry-run persists nothing, so applying those first, in any order, would
// not make the server know them. Such objects are therefore skipped without a finding: an
// object whose namespace the server reports missing while the render creates it, and a custom
// resource whose kind the server does not serve while the render holds its CRD. The offline
// schema check has validated them against the render's own CRDs; the Namespaces and CRDs are
// dry-run like any other object. A custom resource whose kind the server serves while the render
// also holds its CRD is dry-run, but its findings are warnings: the server judges it by the CRD
// it has, which the render may be about to change. A namespaced object without a namespace is dry-run in
// "default", as kubectl would apply it. A mapper that can be reset is reset first, so that CRDs
// installed since the last call are found.
func DryRun(ctx context.Context, dyn dynamic.Interface, mapper meta.RESTMapper, objs []render.Object) ([]Finding, error) {
	if r, ok := mapper.(meta.ResettableRESTMapper); ok {
		r.Reset()
	}
	created := renderCreates(objs)
	perObject := make([][]Finding, len(objs))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(dryRunConcurrency)
	for i, o := range objs {
		if gctx.Err() != nil {
			break
		}
		g.Go(func() error {
			findings, err := dryRunObject(gctx, dyn, mapper, o, created)
			perObject[i] = findings
			return err
		})
	}
	err := g.Wait()
	if err == nil {
		err = ctx.Err()
	}
	var findings []Finding
	for _, f := range perObject {
		findings = append(findings, f...)
	}
	if err != nil {
		return findings, fmt.Errorf("server-side dry-run of %d objects: %w", len(objs), err)
	}
	return findings, nil
}

// created lists what a render creates that other objects of it may depend on.
type created struct {
	namespaces map[string]bool
	kinds      map[schema.GroupKind]bool // kinds defined by the render's CRDs
}

func renderCreates(objs []render.Object) created {
	c := created{namespaces: map[string]bool{}, kinds: map[schema.GroupKind]bool{}}
	for _, o := range objs {
		if o.Obj == nil {
			continue
		}
		switch o.Obj.GroupVersionKind().GroupKind() {
		case schema.GroupKind{Kind: "Namespace"}:
			c.namespaces[o.Obj.GetName()] = true
		case crdKind:
			group, _, _ := unstructured.NestedString(o.Obj.Object, "spec", "group")
			kind, _, _ := unstructured.NestedString(o.Obj.Object, "spec", "names", "kind")
			c.kinds[schema.GroupKind{Group: group, Kind: kind}] = true
		}
	}
	return c
}

func dryRunObject(ctx context.Context, dyn dynamic.Interface, mapper meta.RESTMapper, o render.Object, c created) ([]Finding, error) {
	if o.Obj == nil || o.Obj.GetName() == "" || o.Obj.GetKind() == "" {
		return nil, nil // the offline check reports objects that cannot even be addressed
	}
	ref := o.Ref()
	gvk := o.Obj.GroupVersionKind()
	mapping, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if meta.IsNoMatchError(err) {
		if c.kinds[gvk.GroupKind()] {
			return nil, nil
		}
		return []Finding{dryRunFinding(o, "", fmt.Sprintf("the cluster does not serve %s at apiVersion %s; install the CRD that defines it first, or correct apiVersion and kind",
			gvk.Kind, gvk.GroupVersion()))}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s: finding its resource: %w", ref, err)
	}
	var target dynamic.ResourceInterface = dyn.Resource(mapping.Resource)
	ns := ""
	if mapping.Scope.Name() == meta.RESTScopeNameNamespace {
		ns = o.Obj.GetNamespace()
		if ns == "" {
			ns = metav1.NamespaceDefault
		}
		target = dyn.Resource(mapping.Resource).Namespace(ns)
	}
	data, err := o.Obj.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("%s: encoding: %w", ref, err)
	}
	_, err = target.Patch(ctx, o.Obj.GetName(), types.ApplyPatchType, data, metav1.PatchOptions{
		DryRun:          []string{metav1.DryRunAll},
		FieldManager:    dryRunFieldManager,
		Force:           ptr.To(true),
		FieldValidation: metav1.FieldValidationStrict,
	})
	if err == nil {
		return nil, nil
	}
	if missingNamespace(err, ns) && c.namespaces[ns] {
		return nil, nil
	}
	findings, err := dryRunFindings(o, err)
	if c.kinds[gvk.GroupKind()] {
		// The server judged the object by the CRD it has now, which this render replaces: a
		// field the new CRD adds would be rejected wrongly. Report without blocking; the offline
		// check has judged the object by the render's CRD.
		for i := range findings {
			findings[i].Severity = Warn
			findings[i].Message += "; not blocking, because this render also applies the CRD of " + gvk.Kind +
				" and the server checked against the CRD it has now"
		}
	}
	return findings, err
}
