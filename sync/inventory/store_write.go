package inventory

import (
	"context"
	"fmt"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gitops-agent/gitops-agent/sync/apply"
)

// Save stores inv, creating its ConfigMap when inv has no ResourceVersion and otherwise
// replacing the version it was loaded from; ErrConflict when someone else saved meanwhile.
// Saving what is already stored writes nothing. On success inv has the new ResourceVersion.
func (s *Store) Save(ctx context.Context, inv *Inventory) error {
	if err := validateEnv(inv.Env); err != nil {
		return err
	}
	data, err := encode(inv.IDs)
	if err != nil {
		return err
	}
	if len(data) > maxSize {
		return fmt.Errorf("inventory of environment %s: %d objects encode to %d bytes, more than a ConfigMap holds (%d): split the environment",
			inv.Env, len(inv.IDs), len(data), maxSize)
	}
	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{
			Name:            ConfigMapName(inv.Env),
			Namespace:       s.namespace,
			ResourceVersion: inv.ResourceVersion,
			Labels: map[string]string{
				apply.LabelManagedBy:   apply.ManagedByValue,
				apply.LabelEnvironment: inv.Env,
				labelComponent:         "inventory",
			},
			Annotations: map[string]string{
				AnnotationCommit:  inv.Commit,
				AnnotationObjects: strconv.Itoa(len(inv.IDs)),
			},
		},
		BinaryData: map[string][]byte{dataKey: data},
	}
	if inv.ResourceVersion != "" && string(data) == string(inv.stored) && inv.Commit == inv.storedCommit {
		return nil
	}
	var out *corev1.ConfigMap
	if inv.ResourceVersion == "" {
		out, err = s.client.ConfigMaps(s.namespace).Create(ctx, cm, metav1.CreateOptions{})
	} else {
		out, err = s.client.ConfigMaps(s.namespace).Update(ctx, cm, metav1.UpdateOptions{})
	}
	switch {
	case apierrors.IsAlreadyExists(err) || apierrors.IsConflict(err) || (apierrors.IsNotFound(err) && inv.ResourceVersion != ""):
		return fmt.Errorf("save inventory of environment %s to ConfigMap %s: %w: %w", inv.Env, s.where(inv.Env), ErrConflict, err)
	case err != nil:
		return fmt.Errorf("save inventory of environment %s to ConfigMap %s: %w", inv.Env, s.where(inv.Env), err)
	}
	inv.ResourceVersion, inv.stored, inv.storedCommit = out.ResourceVersion, data, inv.Commit
	return nil
}

// Delete removes inv's ConfigMap, once the environment is gone and its objects are pruned. It
// deletes only the version inv was loaded from (ErrConflict otherwise); a missing ConfigMap
// is not an error.
func (s *Store) Delete(ctx context.Context, inv *Inventory) error {
	if err := validateEnv(inv.Env); err != nil {
		return err
	}
	opts := metav1.DeleteOptions{}
	if inv.ResourceVersion != "" {
		opts.Preconditions = &metav1.Preconditions{ResourceVersion: &inv.ResourceVersion}
	}
	err := s.client.ConfigMaps(s.namespace).Delete(ctx, ConfigMapName(inv.Env), opts)
	switch {
	case apierrors.IsNotFound(err):
		return nil
	case apierrors.IsConflict(err):
		return fmt.Errorf("delete inventory ConfigMap %s: %w: %w", s.where(inv.Env), ErrConflict, err)
	case err != nil:
		return fmt.Errorf("delete inventory ConfigMap %s: %w", s.where(inv.Env), err)
	}
	inv.ResourceVersion, inv.stored, inv.storedCommit = "", nil, ""
	return nil
}
