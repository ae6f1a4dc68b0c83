package drift

import (
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

func TestUnifiedDiff(t *testing.T) {
	tests := []struct {
		name    string
		desired *unstructured.Unstructured
		live    *unstructured.Unstructured
		ignore  []IgnoreRule
	}{
		{"deployment-in-sync", applied(t, "deployment-desired.yaml"), liveDeployment(t, nil), nil},
		{"deployment-modified", applied(t, "deployment-desired.yaml"), liveDeployment(t, func(u *unstructured.Unstructured) {
			container("api", func(c map[string]any) { c["image"] = "shop/api:hacked" })(u)
			set([]string{"spec", "replicas"}, int64(9))(u)
		}), nil},
		{"deployment-replicas-ignored", applied(t, "deployment-desired.yaml"), liveDeployment(t, set([]string{"spec", "replicas"}, int64(9))),
			[]IgnoreRule{{Paths: []string{"/spec/replicas"}}}},
		{"deployment-deleted", applied(t, "deployment-desired.yaml"), nil, nil},
		{"secret-modified", applied(t, "secret-desired.yaml"), func() *unstructured.Unstructured {
			u := load(t, "secret-live.yaml")
			set([]string{"data", "token"}, "bGVha2VkLXRva2Vu")(u)
			return u
		}(), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := UnifiedDiff(tt.desired, tt.live, tt.ignore)
			golden := "testdata/diff-" + tt.name + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Errorf("UnifiedDiff (-want +got):\n%s", diff)
			}
			for _, secret := range []string{"bGVha2VkLXRva2Vu", "leaked-token", "plain-token", "c2VjcmV0LW9uZQ==", "secret-one"} {
				if strings.Contains(got, secret) {
					t.Errorf("the diff shows a Secret value %q:\n%s", secret, got)
				}
			}
		})
	}
}
