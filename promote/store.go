package promote

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/kubernetes"

	"github.com/gitops-agent/gitops-agent/sync/apply"
)

const (
	stateNamePrefix = "gitops-agent-promotion-"
	stateKey        = "state.json"
	labelComponent  = "app.kubernetes.io/component"
)

// StateConfigMapName returns the name of the ConfigMap that keeps env's promotion state.
func StateConfigMapName(env string) string { return stateNamePrefix + env }

// stateStore keeps promotion states as ConfigMaps in the agent's namespace.
type stateStore struct {
	client    kubernetes.Interface
	namespace string
}

func (s *stateStore) where(env string) string { return s.namespace + "/" + StateConfigMapName(env) }

func validateStateName(env string) error {
	if msgs := validation.IsDNS1123Subdomain(StateConfigMapName(env)); len(msgs) > 0 {
		return fmt.Errorf("environment %q does not make a valid ConfigMap name %q: %s", env, StateConfigMapName(env), strings.Join(msgs, "; "))
	}
	return nil
}

// load returns env's stored state and the ConfigMap's resource version; an Idle state and ""
// when none is stored yet.
func (s *stateStore) load(ctx context.Context, env string) (State, string, error) {
	cm, err := s.client.CoreV1().ConfigMaps(s.namespace).Get(ctx, StateConfigMapName(env), metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return State{Env: env, Phase: PhaseIdle}, "", nil
	}
	if err != nil {
		return State{}, "", fmt.Errorf("load the promotion state of environment %s from ConfigMap %s: %w", env, s.where(env), err)
	}
	raw, ok := cm.Data[stateKey]
	if !ok {
		return State{}, "", fmt.Errorf("ConfigMap %s is not a promotion state: it has no data %s; rename or delete it", s.where(env), stateKey)
	}
	var st State
	if err := json.Unmarshal([]byte(raw), &st); err != nil {
		return State{}, "", fmt.Errorf("ConfigMap %s: data %s: %w (delete the ConfigMap to start the environment's promotions afresh)", s.where(env), stateKey, err)
	}
	st.Env = env
	if st.Phase == "" {
		st.Phase = PhaseIdle
	}
	return st, cm.ResourceVersion, nil
}

// save writes st over the version rv (creating the ConfigMap when rv is empty) and returns
// the new version.
func (s *stateStore) save(ctx context.Context, st State, rv string) (string, error) {
	raw, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return "", fmt.Errorf("encode the promotion state of environment %s: %w", st.Env, err)
	}
	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{
			Name: StateConfigMapName(st.Env), Namespace: s.namespace, ResourceVersion: rv,
			Labels: map[string]string{
				apply.LabelManagedBy:   apply.ManagedByValue,
				apply.LabelEnvironment: st.Env,
				labelComponent:         "promotion",
			},
		},
		Data: map[string]string{stateKey: string(raw)},
	}
	var out *corev1.ConfigMap
	if rv == "" {
		out, err = s.client.CoreV1().ConfigMaps(s.namespace).Create(ctx, cm, metav1.CreateOptions{})
	} else {
		out, err = s.client.CoreV1().ConfigMaps(s.namespace).Update(ctx, cm, metav1.UpdateOptions{})
	}
	if apierrors.IsConflict(err) || apierrors.IsAlreadyExists(err) {
		return "", fmt.Errorf("save the promotion state of environment %s to ConfigMap %s: it was changed by someone else (another agent replica?): %w", st.Env, s.where(st.Env), err)
	}
	if err != nil {
		return "", fmt.Errorf("save the promotion state of environment %s to ConfigMap %s: %w", st.Env, s.where(st.Env), err)
	}
	return out.ResourceVersion, nil
}
