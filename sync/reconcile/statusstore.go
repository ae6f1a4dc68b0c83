package reconcile

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/yaml"

	"github.com/gitops-agent/gitops-agent/deploy/crds"
)

// EnvironmentGVR is the resource of the agent's status objects.
var EnvironmentGVR = schema.GroupVersionResource{Group: "gitops-agent.io", Version: "v1alpha1", Resource: "environments"}

var crdGVR = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// SyncRequestAnnotation on an Environment asks the agent to apply its pending commit; its value
// (a timestamp) makes each request distinct. `gitops-agent sync <env>` sets it, so whoever may
// patch Environments may sync.
const SyncRequestAnnotation = "gitops-agent.io/sync-requested-at"

const fieldManager = "gitops-agent"

// EnvironmentSpec is what the agent writes into an Environment's spec from its configuration.
type EnvironmentSpec struct {
	Path  string `json:"path"`
	Sync  string `json:"sync"`
	Prune bool   `json:"prune"`
}

// StatusStore reads and writes Environment objects in the agent's namespace. It writes only
// what changed, so a sync that changes nothing costs no API write.
type StatusStore struct {
	client     dynamic.NamespaceableResourceInterface
	crds       dynamic.NamespaceableResourceInterface
	namespaces dynamic.NamespaceableResourceInterface
	namespace  string

	mu      sync.Mutex
	written map[string]*Status         // last status written, by environment
	specs   map[string]EnvironmentSpec // last spec written, by environment
	uids    map[string]types.UID       // object UIDs, for Events
}

// NewStatusStore returns a store for Environments in namespace.
func NewStatusStore(dyn dynamic.Interface, namespace string) *StatusStore {
	return &StatusStore{
		client:     dyn.Resource(EnvironmentGVR),
		crds:       dyn.Resource(crdGVR),
		namespaces: dyn.Resource(schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}),
		namespace:  namespace,
		written:    map[string]*Status{},
		specs:      map[string]EnvironmentSpec{},
		uids:       map[string]types.UID{},
	}
}

// EnsureInstalled creates the agent's namespace, and installs or updates the Environment CRD
// and waits until it is served: a fresh cluster needs no separate install step. Without the
// right to do so (a namespaced installation) an existing namespace and CRD are enough.
func (s *StatusStore) EnsureInstalled(ctx context.Context) error {
	if err := s.ensureNamespace(ctx); err != nil {
		return err
	}
	var crd map[string]any
	if err := yaml.Unmarshal(crds.Environment, &crd); err != nil {
		return fmt.Errorf("decode the built-in Environment CRD: %w", err)
	}
	obj := &unstructured.Unstructured{Object: crd}
	_, err := s.crds.Apply(ctx, obj.GetName(), obj, metav1.ApplyOptions{FieldManager: fieldManager, Force: true})
	if apierrors.IsForbidden(err) {
		if _, getErr := s.crds.Get(ctx, obj.GetName(), metav1.GetOptions{}); getErr == nil {
			return nil
		}
		return fmt.Errorf("the CRD %s is not installed and the agent may not install it: apply deploy/crds first (%w)", obj.GetName(), err)
	}
	if err != nil {
		return fmt.Errorf("install CRD %s: %w", obj.GetName(), err)
	}
	return wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		_, err := s.client.Namespace(s.namespace).List(ctx, metav1.ListOptions{Limit: 1})
		return err == nil, nil
	})
}

func (s *StatusStore) ensureNamespace(ctx context.Context) error {
	if _, err := s.namespaces.Get(ctx, s.namespace, metav1.GetOptions{}); err == nil {
		return nil
	}
	ns := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Namespace",
		"metadata": map[string]any{"name": s.namespace, "labels": map[string]any{"app.kubernetes.io/part-of": "gitops-agent"}},
	}}
	_, err := s.namespaces.Create(ctx, ns, metav1.CreateOptions{FieldManager: fieldManager})
	switch {
	case err == nil || apierrors.IsAlreadyExists(err):
		return nil
	case apierrors.IsForbidden(err):
		return fmt.Errorf("the agent's namespace %s does not exist and the agent may not create it: create it, or install with deploy/ (%w)", s.namespace, err)
	default:
		return fmt.Errorf("create the agent's namespace %s: %w", s.namespace, err)
	}
}

// EnsureEnvironment creates the environment's object or updates its spec.
func (s *StatusStore) EnsureEnvironment(ctx context.Context, name string, spec EnvironmentSpec) error {
	s.mu.Lock()
	same := s.specs[name] == spec && s.uids[name] != ""
	s.mu.Unlock()
	if same {
		return nil
	}
	obj := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": EnvironmentGVR.GroupVersion().String(),
		"kind":       "Environment",
		"metadata": map[string]any{
			"name":      name,
			"namespace": s.namespace,
			"labels":    map[string]any{"app.kubernetes.io/managed-by": "gitops-agent"},
		},
		"spec": map[string]any{"path": spec.Path, "sync": spec.Sync, "prune": spec.Prune},
	}}
	got, err := s.client.Namespace(s.namespace).Apply(ctx, name, obj, metav1.ApplyOptions{FieldManager: fieldManager, Force: true})
	if err != nil {
		return fmt.Errorf("Environment %s/%s: %w", s.namespace, name, err)
	}
	status, err := statusOf(got)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.specs[name], s.uids[name] = spec, got.GetUID()
	if _, known := s.written[name]; !known && status != nil {
		s.written[name] = status
	}
	s.mu.Unlock()
	return nil
}

// Load returns the recorded status of an environment (nil if none yet) and its pending sync
// request.
func (s *StatusStore) Load(ctx context.Context, name string) (*Status, string, error) {
	got, err := s.client.Namespace(s.namespace).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("read Environment %s/%s: %w", s.namespace, name, err)
	}
	status, err := statusOf(got)
	if err != nil {
		return nil, "", err
	}
	s.mu.Lock()
	s.uids[name] = got.GetUID()
	if status != nil {
		s.written[name] = status
	}
	s.mu.Unlock()
	return status, got.GetAnnotations()[SyncRequestAnnotation], nil
}

// List returns the status of every Environment in the namespace, as any replica can serve it.
func (s *StatusStore) List(ctx context.Context) ([]Status, error) {
	list, err := s.client.Namespace(s.namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list Environments in %s: %w", s.namespace, err)
	}
	out := make([]Status, 0, len(list.Items))
	for i := range list.Items {
		st, err := statusOf(&list.Items[i])
		if err != nil {
			return nil, err
		}
		if st == nil {
			st = &Status{}
		}
		st.Name = list.Items[i].GetName()
		out = append(out, *st)
	}
	return out, nil
}

// Save writes status unless it equals what was last written.
func (s *StatusStore) Save(ctx context.Context, status *Status) error {
	s.mu.Lock()
	same := reflect.DeepEqual(s.written[status.Name], status)
	s.mu.Unlock()
	if same {
		return nil
	}
	raw, err := runtime.DefaultUnstructuredConverter.ToUnstructured(status)
	if err != nil {
		return fmt.Errorf("encode status of %s: %w", status.Name, err)
	}
	delete(raw, "name")
	obj := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": EnvironmentGVR.GroupVersion().String(),
		"kind":       "Environment",
		"metadata":   map[string]any{"name": status.Name, "namespace": s.namespace},
		"status":     raw,
	}}
	if _, err := s.client.Namespace(s.namespace).ApplyStatus(ctx, status.Name, obj, metav1.ApplyOptions{FieldManager: fieldManager, Force: true}); err != nil {
		return fmt.Errorf("write status of Environment %s/%s: %w", s.namespace, status.Name, err)
	}
	copied := *status
	s.mu.Lock()
	s.written[status.Name] = &copied
	s.mu.Unlock()
	return nil
}

// RequestSync annotates an environment so the agent applies its pending commit.
func (s *StatusStore) RequestSync(ctx context.Context, name string, at time.Time) error {
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]string{SyncRequestAnnotation: at.UTC().Format(time.RFC3339Nano)}}})
	if err != nil {
		return err
	}
	_, err = s.client.Namespace(s.namespace).Patch(ctx, name, types.MergePatchType, patch, metav1.PatchOptions{})
	if apierrors.IsNotFound(err) {
		return fmt.Errorf("no environment %q in namespace %s (is the agent running there, and is the name right?)", name, s.namespace)
	}
	if apierrors.IsForbidden(err) {
		return fmt.Errorf("you may not request a sync of %s: %w", name, err)
	}
	return err
}

// reference names an Environment for Events; ok is false until its UID is known.
func (s *StatusStore) uid(name string) (types.UID, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	uid, ok := s.uids[name]
	return uid, ok
}

func statusOf(obj *unstructured.Unstructured) (*Status, error) {
	raw, ok := obj.Object["status"].(map[string]any)
	if !ok {
		return nil, nil
	}
	var st Status
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(raw, &st); err != nil {
		return nil, errors.Join(fmt.Errorf("decode status of Environment %s/%s", obj.GetNamespace(), obj.GetName()), err)
	}
	st.Name = obj.GetName()
	return &st, nil
}
