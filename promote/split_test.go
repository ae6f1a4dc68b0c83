package promote

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/gitops-agent/gitops-agent/render"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// sourceAnnotation gives, in a fixture, the repository file an object came from.
const sourceAnnotation = "test.gitops-agent.io/source"

// readObjects reads the fixture testdata/name as rendered objects.
func readObjects(t testing.TB, name string) []render.Object {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(raw), 4096)
	var out []render.Object
	for {
		u := &unstructured.Unstructured{}
		if err := dec.Decode(&u.Object); errors.Is(err, io.EOF) {
			return out
		} else if err != nil {
			t.Fatalf("testdata/%s: %v", name, err)
		}
		if len(u.Object) == 0 {
			continue
		}
		ann := u.GetAnnotations()
		source := ann[sourceAnnotation]
		delete(ann, sourceAnnotation)
		if len(ann) == 0 {
			ann = nil
		}
		u.SetAnnotations(ann)
		out = append(out, render.Object{Obj: u, Source: source})
	}
}

// planSummary is a plan reduced to what the tests compare: each object's ref and the fields
// Split changes.
type planSummary struct {
	Shared, Colored, Routers, Previews, Smoke []string
}

func summarize(p Plan) planSummary {
	return planSummary{
		Shared: summaries(p.Shared), Colored: summaries(p.Colored), Routers: summaries(p.Routers),
		Previews: summaries(p.Previews), Smoke: summaries(p.Smoke),
	}
}

func summaries(objs []*unstructured.Unstructured) []string {
	var out []string
	for _, o := range objs {
		s := render.RefOf(o).String()
		if c := o.GetLabels()[LabelColor]; c != "" {
			s += " color=" + c
		}
		str := func(fields ...string) string {
			m, _, _ := unstructured.NestedStringMap(o.Object, fields...)
			return labels.Set(m).String()
		}
		switch o.GetKind() {
		case "Deployment":
			s += " selector=" + str("spec", "selector", "matchLabels") + " template=" + str("spec", "template", "metadata", "labels")
		case "PodDisruptionBudget":
			s += " selector=" + str("spec", "selector", "matchLabels")
		case "HorizontalPodAutoscaler":
			name, _, _ := unstructured.NestedString(o.Object, "spec", "scaleTargetRef", "name")
			s += " target=" + name
		case "Service":
			typ, _, _ := unstructured.NestedString(o.Object, "spec", "type")
			s += " type=" + typ + " selector=" + str("spec", "selector")
		}
		out = append(out, s)
	}
	return out
}

func TestSplit(t *testing.T) {
	app := readObjects(t, "split/app.yaml")
	sharedOfApp := []string{
		"Service/shop/web type= selector=app=api,tier=web",
		"StatefulSet.apps/shop/db",
		"PodDisruptionBudget.policy/shop/db selector=app=db",
		"HorizontalPodAutoscaler.autoscaling/shop/db target=db",
		"ConfigMap/shop/settings",
		"Job.batch/shop/migrate",
	}
	smokeOfApp := []string{"Job.batch/shop/api-smoke", "Job.batch/shop/contract-check"}
	tests := []struct {
		name      string
		idle      Color
		live      Color
		routers   []render.Ref
		objs      []render.Object
		want      planSummary
		wantDeplo []render.Ref
	}{
		{
			name: "first promotion: green idle, nothing live, routers select green",
			idle: Green,
			objs: app,
			want: planSummary{
				Shared: sharedOfApp,
				Colored: []string{
					"Deployment.apps/shop/api-green color=green selector=app=api,promote.gitops-agent.io/color=green template=app=api,promote.gitops-agent.io/color=green,tier=web",
					"HorizontalPodAutoscaler.autoscaling/shop/api-green color=green target=api-green",
					"PodDisruptionBudget.policy/shop/api-green color=green selector=app=api,promote.gitops-agent.io/color=green",
				},
				Routers:  []string{"Service/shop/api type=LoadBalancer selector=app=api,promote.gitops-agent.io/color=green"},
				Previews: []string{"Service/shop/api-preview type=ClusterIP selector=app=api,promote.gitops-agent.io/color=green"},
				Smoke:    smokeOfApp,
			},
			wantDeplo: []render.Ref{{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: "shop", Name: "api"}},
		},
		{
			name: "blue idle while green is live: routers keep green, preview selects blue",
			idle: Blue, live: Green,
			objs: app,
			want: planSummary{
				Shared: sharedOfApp,
				Colored: []string{
					"Deployment.apps/shop/api-blue color=blue selector=app=api,promote.gitops-agent.io/color=blue template=app=api,promote.gitops-agent.io/color=blue,tier=web",
					"HorizontalPodAutoscaler.autoscaling/shop/api-blue color=blue target=api-blue",
					"PodDisruptionBudget.policy/shop/api-blue color=blue selector=app=api,promote.gitops-agent.io/color=blue",
				},
				Routers:  []string{"Service/shop/api type=LoadBalancer selector=app=api,promote.gitops-agent.io/color=green"},
				Previews: []string{"Service/shop/api-preview type=ClusterIP selector=app=api,promote.gitops-agent.io/color=blue"},
				Smoke:    smokeOfApp,
			},
			wantDeplo: []render.Ref{{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: "shop", Name: "api"}},
		},
		{
			name:    "a router named in the configuration, in any namespace",
			idle:    Blue,
			live:    Green,
			routers: []render.Ref{{Kind: "Service", Name: "web"}},
			objs:    app,
			want: planSummary{
				Shared: slices.Delete(slices.Clone(sharedOfApp), 0, 1),
				Colored: []string{
					"Deployment.apps/shop/api-blue color=blue selector=app=api,promote.gitops-agent.io/color=blue template=app=api,promote.gitops-agent.io/color=blue,tier=web",
					"HorizontalPodAutoscaler.autoscaling/shop/api-blue color=blue target=api-blue",
					"PodDisruptionBudget.policy/shop/api-blue color=blue selector=app=api,promote.gitops-agent.io/color=blue",
				},
				Routers: []string{
					"Service/shop/api type=LoadBalancer selector=app=api,promote.gitops-agent.io/color=green",
					"Service/shop/web type= selector=app=api,promote.gitops-agent.io/color=green,tier=web",
				},
				Previews: []string{
					"Service/shop/api-preview type=ClusterIP selector=app=api,promote.gitops-agent.io/color=blue",
					"Service/shop/web-preview type=ClusterIP selector=app=api,promote.gitops-agent.io/color=blue,tier=web",
				},
				Smoke: smokeOfApp,
			},
			wantDeplo: []render.Ref{{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: "shop", Name: "api"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := clones(tt.objs)
			plan, err := Split(tt.objs, tt.idle, tt.live, tt.routers)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, summarize(plan)); diff != "" {
				t.Errorf("plan (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantDeplo, plan.Deployments); diff != "" {
				t.Errorf("Deployments (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(before, clones(tt.objs)); diff != "" {
				t.Errorf("Split modified its input (-before +after):\n%s", diff)
			}
		})
	}
}

func clones(objs []render.Object) []map[string]any {
	out := make([]map[string]any, len(objs))
	for i, o := range objs {
		out[i] = o.Obj.DeepCopy().Object
	}
	return out
}

// TestSplitGolden checks every field of a plan, the preview Service's ports and labels
// included, against testdata/split/app-blue.golden.yaml.
func TestSplitGolden(t *testing.T) {
	plan, err := Split(readObjects(t, "split/app.yaml"), Blue, Green, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := yaml.Marshal(map[string]any{
		"colored": plan.Colored, "routers": plan.Routers, "previews": plan.Previews,
		"switched": plan.RoutersSelecting(Blue),
	})
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "split", "app-blue.golden.yaml")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -run TestSplitGolden -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("plan differs from %s (-want +got; go test -update rewrites it):\n%s", golden, diff)
	}
}

func TestSplitErrors(t *testing.T) {
	all := readObjects(t, "split/errors.yaml")
	pick := func(names ...string) []render.Object {
		var out []render.Object
		for _, o := range all {
			if o.Obj.GetName() == "api" && o.Obj.GetKind() == "Deployment" || slices.Contains(names, o.Obj.GetName()) {
				out = append(out, o)
			}
		}
		return out
	}
	tests := []struct {
		name    string
		objs    []render.Object
		idle    Color
		live    Color
		routers []render.Ref
		want    []string
	}{
		{
			name:    "configured router is not a Service",
			objs:    pick(),
			idle:    Blue,
			routers: []render.Ref{{Group: "networking.k8s.io", Kind: "Ingress", Namespace: "shop", Name: "api"}},
			want:    []string{"router Ingress.networking.k8s.io/shop/api is not a Service"},
		},
		{
			name:    "configured router not rendered",
			objs:    pick(),
			idle:    Blue,
			routers: []render.Ref{{Kind: "Service", Namespace: "shop", Name: "missing"}},
			want:    []string{"router Service/shop/missing is not among the environment's rendered objects"},
		},
		{
			name: "annotated router is not a Service",
			objs: pick("routes"),
			idle: Blue,
			want: []string{"ConfigMap/shop/routes: metadata.annotations[promote.gitops-agent.io/router]: only a Service can be a router"},
		},
		{
			name: "router selects no coloured workload",
			objs: pick("db"),
			idle: Blue,
			want: []string{"Service/shop/db: spec.selector app=db selects no coloured workload"},
		},
		{
			name: "router without a selector",
			objs: pick("external"),
			idle: Blue,
			want: []string{"Service/shop/external: spec.selector: a router must select the pods of a coloured Deployment by label"},
		},
		{
			name: "preview name too long",
			objs: pick("a-router-whose-name-is-so-long-that-its-preview-cannot-be-named"),
			idle: Blue,
			want: []string{"metadata.name: its preview Service \"a-router-whose-name-is-so-long-that-its-preview-cannot-be-named-preview\" is not a valid Service name"},
		},
		{
			name: "Deployment selector does not match the coloured template",
			objs: pick("not-green"), // its router Service has the same name
			idle: Green,
			want: []string{"Deployment.apps/shop/not-green: spec.selector app=not-green,promote.gitops-agent.io/color=green,promote.gitops-agent.io/color notin (green) does not match the coloured pod template's labels"},
		},
		{
			name: "preview collides with a declared Service",
			objs: pick("shop-api", "shop-api-preview"),
			idle: Green,
			want: []string{"Service/shop/shop-api-preview: metadata.name: two objects of the colour green plan have this name"},
		},
		{
			name: "disruption budget over coloured and shared pods",
			objs: pick("db", "everyone-of-shop", "shop-api"),
			idle: Blue,
			want: []string{
				"PodDisruptionBudget.policy/shop/everyone-of-shop: spec.selector app in (api,db) selects the pods of coloured Deployment.apps/shop/api and of shared StatefulSet.apps/shop/db",
				"Service/shop/db: spec.selector app=db selects no coloured workload",
			},
		},
		{
			name: "smoke annotation on something other than a Job",
			objs: pick("token"),
			idle: Blue,
			want: []string{"Secret/shop/token: metadata.annotations[promote.gitops-agent.io/smoke]: only a Job can be a smoke check"},
		},
		{
			name: "idle and live colour the same",
			objs: pick(),
			idle: Blue, live: Blue,
			want: []string{`idle and live colour are both "blue"`},
		},
		{
			name: "unknown colour",
			objs: pick(),
			idle: "red",
			want: []string{`idle colour "red" is neither "blue" nor "green"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Split(tt.objs, tt.idle, tt.live, tt.routers)
			if err == nil {
				t.Fatal("Split succeeded; want an error")
			}
			var got []string
			for _, line := range strings.Split(err.Error(), "\n") {
				for _, w := range tt.want {
					if strings.Contains(line, w) {
						got = append(got, w)
					}
				}
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
				t.Errorf("errors (-want +got):\n%s\nerror: %v", diff, err)
			}
		})
	}
}

// TestSplitColorsOnlyRoutedDeployments: a Deployment no router selects is applied once, as it
// would be without promotion; only the Deployments behind routers run in two colours.
func TestSplitColorsOnlyRoutedDeployments(t *testing.T) {
	all := readObjects(t, "split/errors.yaml")
	var objs []render.Object
	for _, o := range all {
		if name := o.Obj.GetName(); name == "api" || name == "shop-api" || name == "db" && o.Obj.GetKind() == "StatefulSet" {
			objs = append(objs, o)
		}
	}
	worker := objs[0]
	worker.Obj = worker.Obj.DeepCopy()
	worker.Obj.SetName("worker")
	_ = unstructured.SetNestedStringMap(worker.Obj.Object, map[string]string{"app": "worker"}, "spec", "selector", "matchLabels")
	_ = unstructured.SetNestedStringMap(worker.Obj.Object, map[string]string{"app": "worker"}, "spec", "template", "metadata", "labels")
	objs = append(objs, worker)

	plan, err := Split(objs, Green, Blue, nil)
	if err != nil {
		t.Fatal(err)
	}
	var colored, shared []string
	for _, o := range plan.Colored {
		colored = append(colored, o.GetKind()+"/"+o.GetName())
	}
	for _, o := range plan.Shared {
		shared = append(shared, o.GetKind()+"/"+o.GetName())
	}
	if diff := cmp.Diff([]string{"Deployment/api-green"}, colored); diff != "" {
		t.Errorf("coloured objects (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"StatefulSet/db", "Deployment/worker"}, shared); diff != "" {
		t.Errorf("shared objects (-want +got):\n%s", diff)
	}
}
