package reconcile

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
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
	"github.com/gitops-agent/gitops-agent/drift"
)

// EnvironmentGVR is the resource of the agent's status objects.
var EnvironmentGVR = schema.GroupVersionResource{Group: "gitops-agent.io", Version: "v1alpha1", Resource: "environments"}

var crdGVR = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// SyncRequestAnnotation on an Environment asks the agent to apply its pending commit; its value
// (a timestamp) makes each request distinct. `gitops-agent sync <env>` sets it, so whoever may
// patch Environments may sync.
const SyncRequestAnnotation = "gitops-agent.io/sync-requested-at"

const fieldManager = "gitops-agent"

// crdDigestAnnotation on the Environment CRD is the SHA-256 of the definition it was applied
// from.
const crdDigestAnnotation = "gitops-agent.io/definition-sha256"

// The label that marks the Environment objects the agent manages.
const (
	managedByKey   = "app.kubernetes.io/managed-by"
	managedByValue = "gitops-agent"
)

// EnvironmentSpec is what the agent writes into an Environment's spec from its configuration.
type EnvironmentSpec struct {
	Path  string `json:"path"`
	Sync  string `json:"sync"`
	Prune bool   `json:"prune"`
	// Drift is how the agent judges drift, so that `gitops-agent diff` judges the same way.
	Drift *DriftSpec `json:"drift,omitempty"`
	// Promotion is set for environments promoted blue/green by tag.
	Promotion *PromotionSpec `json:"promotion,omitempty"`
}

// DriftSpec is an environment's drift configuration as its Environment object records it.
type DriftSpec struct {
	SelfHeal          bool               `json:"selfHeal"`
	IgnoreHPAReplicas bool               `json:"ignoreHPAReplicas"`
	Ignore            []drift.IgnoreRule `json:"ignore,omitempty"`
}

// PromotionSpec is an environment's promotion configuration as its Environment object records
// it.
type PromotionSpec struct {
	Strategy string   `json:"strategy"`
	Routers  []string `json:"routers,omitempty"`
}

// StatusStore reads and writes Environment objects in the agent's namespace. It writes only
// what changed, so a sync that changes nothing costs no API write.
type StatusStore struct {
	client     dynamic.NamespaceableResourceInterface
	crds       dynamic.NamespaceableResourceInterface
	namespaces dynamic.NamespaceableResourceInterface
	namespace  string

	mu sync.Mutex
	// written is the last status written (or read), by environment, encoded as it is sent:
	// an encoded copy shares no pointer, map or slice with the *Status the reconciler keeps
	// changing, so Save compares against what the cluster really holds.
	written map[string]map[string]any
	uids    map[string]types.UID // object UIDs, for Events
}

// NewStatusStore returns a store for Environments in namespace.
func NewStatusStore(dyn dynamic.Interface, namespace string) *StatusStore {
	return &StatusStore{
		client:     dyn.Resource(EnvironmentGVR),
		crds:       dyn.Resource(crdGVR),
		namespaces: dyn.Resource(schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}),
		namespace:  namespace,
		written:    map[string]map[string]any{},
		uids:       map[string]types.UID{},
	}
}

// EnsureInstalled creates the agent's namespace, and installs or updates the Environment CRD
// and waits until it is served: a fresh cluster needs no separate install step. Without the
// right to do so (a namespaced installation) an existing namespace and CRD are enough.
func (s *StatusStore) EnsureInstalled(ctx context.Context) error {
	if err := s.EnsureNamespace(ctx); err != nil {
		return err
	}
	var crd map[string]any
	if err := yaml.Unmarshal(crds.Environment, &crd); err != nil {
		return fmt.Errorf("decode the built-in Environment CRD: %w", err)
	}
	obj := &unstructured.Unstructured{Object: crd}
	// The CRD carries the digest of the definition it was applied from: an agent that
	// restarts with the same definition reads it and writes nothing.
	sum := sha256.Sum256(crds.Environment)
	digest := hex.EncodeToString(sum[:])
	obj.SetAnnotations(map[string]string{crdDigestAnnotation: digest})
	var err error
	if live, getErr := s.crds.Get(ctx, obj.GetName(), metav1.GetOptions{}); getErr != nil || live.GetAnnotations()[crdDigestAnnotation] != digest {
		_, err = s.crds.Apply(ctx, obj.GetName(), obj, metav1.ApplyOptions{FieldManager: fieldManager, Force: true})
	}
	if apierrors.IsForbidden(err) {
		// A namespaced installation may neither write nor read CRDs; that Environments are
		// served in the agent's namespace is all the agent needs to know.
		if _, listErr := s.client.Namespace(s.namespace).List(ctx, metav1.ListOptions{Limit: 1}); listErr == nil {
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

// EnsureNamespace creates the agent's namespace unless it exists. Replicas that elect a
// leader need it before anything else: their lease lives in it.
func (s *StatusStore) EnsureNamespace(ctx context.Context) error {
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

// Open makes sure the environment's object exists with spec, and returns its recorded status
// (nil if none yet) and its pending sync request. An object that is already as it should be
// costs one read and no write, so that a restarted agent writes nothing.
func (s *StatusStore) Open(ctx context.Context, name string, spec EnvironmentSpec) (*Status, string, error) {
	got, err := s.client.Namespace(s.namespace).Get(ctx, name, metav1.GetOptions{})
	switch {
	case err == nil && sameSpec(got, spec) && got.GetLabels()[managedByKey] == managedByValue:
		// As configured: nothing to write.
	case err == nil || apierrors.IsNotFound(err):
		if got, err = s.ensure(ctx, name, spec); err != nil {
			return nil, "", err
		}
	default:
		return nil, "", fmt.Errorf("read Environment %s/%s: %w", s.namespace, name, err)
	}
	return s.remember(got)
}

// sameSpec reports whether obj's spec is spec; an unreadable spec is not.
func sameSpec(obj *unstructured.Unstructured, spec EnvironmentSpec) bool {
	got, err := specOf(obj)
	return err == nil && reflect.DeepEqual(got, spec)
}

func specOf(obj *unstructured.Unstructured) (EnvironmentSpec, error) {
	var spec EnvironmentSpec
	raw, _, _ := unstructured.NestedMap(obj.Object, "spec")
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(raw, &spec); err != nil {
		return spec, fmt.Errorf("read spec of Environment %s/%s: %w", obj.GetNamespace(), obj.GetName(), err)
	}
	return spec, nil
}

// ensure applies the environment's object with spec and returns it.
func (s *StatusStore) ensure(ctx context.Context, name string, spec EnvironmentSpec) (*unstructured.Unstructured, error) {
	obj := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": EnvironmentGVR.GroupVersion().String(),
		"kind":       "Environment",
		"metadata": map[string]any{
			"name":      name,
			"namespace": s.namespace,
			"labels":    map[string]any{managedByKey: managedByValue},
		},
	}}
	raw, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&spec)
	if err != nil {
		return nil, fmt.Errorf("encode spec of Environment %s/%s: %w", s.namespace, name, err)
	}
	obj.Object["spec"] = raw
	got, err := s.client.Namespace(s.namespace).Apply(ctx, name, obj, metav1.ApplyOptions{FieldManager: fieldManager, Force: true})
	if err != nil {
		return nil, fmt.Errorf("Environment %s/%s: %w", s.namespace, name, err)
	}
	return got, nil
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
	return s.remember(got)
}

// remember records an Environment object as read: its UID, for Events, and its status as the
// last written; it returns the status and the sync request.
func (s *StatusStore) remember(got *unstructured.Unstructured) (*Status, string, error) {
	name := got.GetName()
	status, err := statusOf(got)
	if err != nil {
		return nil, "", err
	}
	var encoded map[string]any
	if status != nil {
		// Keeping the returned *Status itself would make every later Save compare the
		// caller's status with itself and never write again.
		if encoded, err = encodeStatus(status); err != nil {
			return nil, "", err
		}
	}
	s.mu.Lock()
	s.uids[name] = got.GetUID()
	if encoded != nil {
		s.written[name] = encoded
	}
	s.mu.Unlock()
	return status, got.GetAnnotations()[SyncRequestAnnotation], nil
}

// EnvironmentObject is an Environment as read from the cluster.
type EnvironmentObject struct {
	Spec   EnvironmentSpec
	Status Status
}

// ListObjects returns the spec and status of every Environment in the namespace.
func (s *StatusStore) ListObjects(ctx context.Context) ([]EnvironmentObject, error) {
	list, err := s.client.Namespace(s.namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list Environments in %s: %w", s.namespace, err)
	}
	out := make([]EnvironmentObject, 0, len(list.Items))
	for i := range list.Items {
		spec, err := specOf(&list.Items[i])
		if err != nil {
			return nil, err
		}
		st, err := statusOf(&list.Items[i])
		if err != nil {
			return nil, err
		}
		if st == nil {
			st = &Status{}
		}
		st.Name = list.Items[i].GetName()
		out = append(out, EnvironmentObject{Spec: spec, Status: *st})
	}
	return out, nil
}

// List returns the status of every Environment in the namespace, as any replica can serve it.
func (s *StatusStore) List(ctx context.Context) ([]Status, error) {
	objs, err := s.ListObjects(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Status, len(objs))
	for i, o := range objs {
		out[i] = o.Status
	}
	return out, nil
}

// Save writes status unless it equals what was last written.
func (s *StatusStore) Save(ctx context.Context, status *Status) error {
	raw, err := encodeStatus(status)
	if err != nil {
		return err
	}
	s.mu.Lock()
	same := reflect.DeepEqual(s.written[status.Name], raw)
	s.mu.Unlock()
	if same {
		return nil
	}
	obj := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": EnvironmentGVR.GroupVersion().String(),
		"kind":       "Environment",
		"metadata":   map[string]any{"name": status.Name, "namespace": s.namespace},
		"status":     raw,
	}}
	if _, err := s.client.Namespace(s.namespace).ApplyStatus(ctx, status.Name, obj, metav1.ApplyOptions{FieldManager: fieldManager, Force: true}); err != nil {
		return fmt.Errorf("write status of Environment %s/%s: %w", s.namespace, status.Name, err)
	}
	s.mu.Lock()
	s.written[status.Name] = raw
	s.mu.Unlock()
	return nil
}

// encodeStatus returns status as the status field of an Environment: times at the second
// precision they are stored with, and without the name, which the object's name carries.
func encodeStatus(status *Status) (map[string]any, error) {
	raw, err := runtime.DefaultUnstructuredConverter.ToUnstructured(status)
	if err != nil {
		return nil, fmt.Errorf("encode status of %s: %w", status.Name, err)
	}
	delete(raw, "name")
	return raw, nil
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

// FetchRequestAnnotation on an Environment relays a webhook that reached a standby replica to
// the leader, which watches Environments and fetches at once. Its value is
// "<RFC 3339 time> <trigger reason>": the time makes each request a change the watch sees.
const FetchRequestAnnotation = "gitops-agent.io/fetch-requested"

// RequestFetch asks the leader to fetch now, through the Environment env.
func (s *StatusStore) RequestFetch(ctx context.Context, env, reason string, at time.Time) error {
	value := at.UTC().Format(time.RFC3339Nano) + " " + reason
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]string{FetchRequestAnnotation: value}}})
	if err != nil {
		return err
	}
	if _, err := s.client.Namespace(s.namespace).Patch(ctx, env, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		return fmt.Errorf("relay a fetch request to the leader through Environment %s/%s: %w", s.namespace, env, err)
	}
	return nil
}

// Promotion requests: `gitops-agent promote <env> --confirm` and `gitops-agent rollback <env>`
// set them on the Environment; the leader removes a request before acting on it, so that a
// restart never acts twice. The value is the request's time.
const (
	ConfirmRequestAnnotation  = "promote.gitops-agent.io/confirm-requested-at"
	RollbackRequestAnnotation = "promote.gitops-agent.io/rollback-requested-at"
)

// RequestPromotionAction sets annotation (ConfirmRequestAnnotation or
// RollbackRequestAnnotation) on env's Environment.
func (s *StatusStore) RequestPromotionAction(ctx context.Context, env, annotation string, at time.Time) error {
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]string{annotation: at.UTC().Format(time.RFC3339Nano)}}})
	if err != nil {
		return err
	}
	if _, err := s.client.Namespace(s.namespace).Patch(ctx, env, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		return fmt.Errorf("annotate Environment %s/%s: %w", s.namespace, env, err)
	}
	return nil
}

// TakeRequest removes annotation from env's Environment if it still has value, and reports
// whether this call removed it: only then may the caller act on the request.
func (s *StatusStore) TakeRequest(ctx context.Context, env, annotation, value string, resourceVersion string) (bool, error) {
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{
		"resourceVersion": resourceVersion,
		"annotations":     map[string]any{annotation: nil},
	}})
	if err != nil {
		return false, err
	}
	_, err = s.client.Namespace(s.namespace).Patch(ctx, env, types.MergePatchType, patch, metav1.PatchOptions{})
	switch {
	case apierrors.IsConflict(err):
		return false, nil // changed since: the watch brings the newer object
	case err != nil:
		return false, fmt.Errorf("take request %s=%s from Environment %s/%s: %w", annotation, value, s.namespace, env, err)
	}
	return true, nil
}

// parseFetchRequest returns the trigger reason of a FetchRequestAnnotation value.
func parseFetchRequest(value string) (reason string, ok bool) {
	stamp, reason, found := strings.Cut(value, " ")
	if !found {
		return "", false
	}
	if _, err := time.Parse(time.RFC3339Nano, stamp); err != nil {
		return "", false
	}
	return reason, true
}

// ObjectReference returns a reference to env's Environment object, for Events about the
// environment; false until the object was opened.
func (s *StatusStore) ObjectReference(env string) (*corev1.ObjectReference, bool) {
	uid, ok := s.uid(env)
	if !ok {
		return nil, false
	}
	return &corev1.ObjectReference{
		APIVersion: EnvironmentGVR.GroupVersion().String(), Kind: "Environment",
		Namespace: s.namespace, Name: env, UID: uid,
	}, true
}

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
