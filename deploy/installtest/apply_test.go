package installtest

import (
	"context"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"

	"github.com/gitops-agent/gitops-agent/render"
)

// installFieldManager applies the install, as kubectl's would: the agent's own field manager
// must not own these objects.
const installFieldManager = "installtest"

// applyInstall server-side applies objs as an administrator running `kubectl apply -k`: the CRDs
// first (waiting until they are served), then the Namespaces, then everything else.
func applyInstall(ctx context.Context, tb testing.TB, cfg *rest.Config, objs []render.Object) {
	tb.Helper()
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	disco, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(disco))
	stageOf := func(u *unstructured.Unstructured) int {
		switch u.GroupVersionKind().GroupKind().String() {
		case "CustomResourceDefinition.apiextensions.k8s.io":
			return 0
		case "Namespace":
			return 1
		default:
			return 2
		}
	}
	for stage := range 3 {
		for _, o := range objs {
			u := o.Obj
			if stageOf(u) != stage {
				continue
			}
			gvk := u.GroupVersionKind()
			m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
			if err != nil {
				tb.Fatalf("%s: %v", o.Ref(), err)
			}
			var ri dynamic.ResourceInterface = dyn.Resource(m.Resource)
			if u.GetNamespace() != "" {
				ri = dyn.Resource(m.Resource).Namespace(u.GetNamespace())
			}
			if _, err := ri.Apply(ctx, u.GetName(), u, metav1.ApplyOptions{FieldManager: installFieldManager, Force: true}); err != nil {
				tb.Fatalf("apply %s (%s): %v", o.Ref(), o.Source, err)
			}
			if stage == 0 {
				waitEstablished(ctx, tb, dyn, u.GetName())
			}
		}
		mapper.Reset()
	}
}

// waitEstablished waits until the CRD name is Established.
func waitEstablished(ctx context.Context, tb testing.TB, dyn dynamic.Interface, name string) {
	tb.Helper()
	crds := dyn.Resource(schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"})
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		crd, err := crds.Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		conds, _, _ := unstructured.NestedSlice(crd.Object, "status", "conditions")
		for _, c := range conds {
			if m, _ := c.(map[string]any); m["type"] == "Established" && m["status"] == "True" {
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		tb.Fatalf("CustomResourceDefinition %s is not Established: %v", name, err)
	}
}
