package inventory

import (
	"context"
	"errors"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
)

// DefaultNamespace is the agent's namespace, where inventories live unless configured otherwise.
const DefaultNamespace = "gitops-agent"

// Where an inventory ConfigMap keeps its parts.
const (
	namePrefix       = "gitops-agent-inventory-"
	dataKey          = "inventory.json.gz"
	AnnotationCommit = "gitops-agent.io/commit"
	// AnnotationObjects counts the objects, for people reading the ConfigMap.
	AnnotationObjects = "gitops-agent.io/objects"
	labelComponent    = "app.kubernetes.io/component"
)

// maxSize bounds the encoded inventory: a ConfigMap holds at most 1 MiB, metadata included.
const maxSize = 1<<20 - 16<<10

// ErrConflict reports that the stored inventory changed since it was loaded: another agent
// replica, or an earlier sync that is still running, saved it first. Load again and retry.
var ErrConflict = errors.New("the inventory was changed since it was loaded")

// Store keeps inventories as ConfigMaps in one namespace.
type Store struct {
	client    corev1client.ConfigMapsGetter
	namespace string
}

// NewStore returns a store of ConfigMaps in namespace (DefaultNamespace when empty).
func NewStore(client corev1client.ConfigMapsGetter, namespace string) *Store {
	if namespace == "" {
		namespace = DefaultNamespace
	}
	return &Store{client: client, namespace: namespace}
}

// ConfigMapName returns the name of env's inventory ConfigMap.
func ConfigMapName(env string) string { return namePrefix + env }

func (s *Store) where(env string) string { return s.namespace + "/" + ConfigMapName(env) }

// Load returns env's stored inventory, or an empty one with no ResourceVersion when none is
// stored yet (the environment's first sync).
func (s *Store) Load(ctx context.Context, env string) (*Inventory, error) {
	if err := validateEnv(env); err != nil {
		return nil, err
	}
	cm, err := s.client.ConfigMaps(s.namespace).Get(ctx, ConfigMapName(env), metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return New(env, "", nil), nil
	}
	if err != nil {
		return nil, fmt.Errorf("load inventory of environment %s from ConfigMap %s: %w", env, s.where(env), err)
	}
	data, ok := cm.BinaryData[dataKey]
	if !ok {
		return nil, fmt.Errorf("ConfigMap %s is not an inventory: it has no binaryData %s; rename or delete it", s.where(env), dataKey)
	}
	ids, err := decode(data)
	if err != nil {
		return nil, fmt.Errorf("ConfigMap %s: binaryData %s: %w", s.where(env), dataKey, err)
	}
	inv := New(env, cm.Annotations[AnnotationCommit], ids)
	inv.ResourceVersion, inv.stored, inv.storedCommit = cm.ResourceVersion, data, inv.Commit
	return inv, nil
}

// validateEnv checks that env makes a valid ConfigMap name.
func validateEnv(env string) error {
	if env == "" {
		return errors.New("inventory has no environment")
	}
	if msgs := validation.IsDNS1123Subdomain(ConfigMapName(env)); len(msgs) > 0 {
		return fmt.Errorf("environment %q does not make a valid ConfigMap name %q: %s", env, ConfigMapName(env), strings.Join(msgs, "; "))
	}
	return nil
}
