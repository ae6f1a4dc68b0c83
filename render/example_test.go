package render_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/gitops-agent/gitops-agent/render"
)

func ExampleRenderer_RenderDir() {
	r := render.New(render.DefaultOptions())
	res, err := r.RenderDir(context.Background(), "testdata/repo", "environments/staging")
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, o := range res.Objects {
		fmt.Printf("%s <- %s\n", o.Ref(), o.Source)
	}
	// Output:
	// Namespace/shop <- manifests/shop/namespace.yaml
	// ServiceAccount/shop/api <- manifests/shop/serviceaccount.yaml
	// Role.rbac.authorization.k8s.io/shop/api-config-reader <- manifests/shop/role.yaml
	// RoleBinding.rbac.authorization.k8s.io/shop/api-config-reader <- manifests/shop/rolebinding.yaml
	// ConfigMap/shop/api-config <- manifests/shop/configmap.yaml
	// ConfigMap/shop/shop-features-4k97cb5htk <- manifests/shop/kustomization.yaml
	// Service/shop/api <- manifests/shop/service-api.yaml
	// Service/shop/web <- manifests/shop/service-web.yaml
	// Deployment.apps/shop/api <- manifests/shop/deployment-api.yaml
	// Deployment.apps/shop/web <- manifests/shop/deployment-web.yaml
	// PodDisruptionBudget.policy/shop/api <- manifests/shop/pdb.yaml
	// NetworkPolicy.networking.k8s.io/shop/api-from-web <- manifests/shop/networkpolicy.yaml
}

func ExampleError() {
	r := render.New(render.DefaultOptions())
	_, err := r.RenderDir(context.Background(), "testdata/repo", "environments/nowhere")
	var rerr *render.Error
	if errors.As(err, &rerr) && errors.Is(err, render.ErrNotFound) {
		fmt.Printf("%s: %v\n", rerr.Path, rerr.Err)
	}
	// Output:
	// environments/nowhere: environment directory does not exist
}
