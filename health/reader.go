package health

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/gitops-agent/gitops-agent/render"
)

// Reader reads live objects for a Checker. Get returns an error that apierrors.IsNotFound
// recognises when the object does not exist.
type Reader interface {
	Get(ctx context.Context, ref render.Ref) (*unstructured.Unstructured, error)
	List(ctx context.Context, gvk schema.GroupVersionKind, namespace string, selector labels.Selector) ([]unstructured.Unstructured, error)
}

// ClusterReader reads objects through a dynamic client.
type ClusterReader struct {
	client dynamic.Interface
	mapper meta.RESTMapper
}

// NewClusterReader returns a Reader over client; mapper maps kinds to resources (share the
// one the apply.Manager uses, so that both learn about new CRDs together).
func NewClusterReader(client dynamic.Interface, mapper meta.RESTMapper) *ClusterReader {
	return &ClusterReader{client: client, mapper: mapper}
}

// Get reads the object ref names.
func (r *ClusterReader) Get(ctx context.Context, ref render.Ref) (*unstructured.Unstructured, error) {
	ri, err := r.resource(schema.GroupVersionKind{Group: ref.Group, Version: ref.Version, Kind: ref.Kind}, ref.Namespace)
	if err != nil {
		return nil, err
	}
	return ri.Get(ctx, ref.Name, metav1.GetOptions{})
}

// List reads the objects of kind gvk in namespace that match selector.
func (r *ClusterReader) List(ctx context.Context, gvk schema.GroupVersionKind, namespace string, selector labels.Selector) ([]unstructured.Unstructured, error) {
	ri, err := r.resource(gvk, namespace)
	if err != nil {
		return nil, err
	}
	list, err := ri.List(ctx, metav1.ListOptions{LabelSelector: selector.String()})
	if err != nil {
		return nil, err
	}
	return list.Items, nil
}

func (r *ClusterReader) resource(gvk schema.GroupVersionKind, namespace string) (dynamic.ResourceInterface, error) {
	var versions []string
	if gvk.Version != "" {
		versions = append(versions, gvk.Version)
	}
	m, err := r.mapper.RESTMapping(gvk.GroupKind(), versions...)
	if err != nil {
		return nil, fmt.Errorf("map %s to an API resource: %w", gvk, err)
	}
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		return r.client.Resource(m.Resource).Namespace(namespace), nil
	}
	return r.client.Resource(m.Resource), nil
}
