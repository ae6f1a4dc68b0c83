package inventory_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/gitops-agent/gitops-agent/localcluster"
	"github.com/gitops-agent/gitops-agent/localcluster/clustertest"
	"github.com/gitops-agent/gitops-agent/sync/inventory"
)

var cluster *localcluster.Cluster

// TestMain starts the local cluster, unless -short asks for the unit tests only.
func TestMain(m *testing.M) {
	os.Exit(clustertest.Main(m, func(c *localcluster.Cluster) { cluster = c }))
}

func newStore(t *testing.T) (*inventory.Store, kubernetes.Interface, string) {
	t.Helper()
	if cluster == nil {
		t.Skip("needs the local cluster (not started with -short)")
	}
	cs, err := kubernetes.NewForConfig(cluster.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	ns := clustertest.Namespace(t, cs)
	return inventory.NewStore(cs.CoreV1(), ns), cs, ns
}

var ignoreStored = cmpopts.IgnoreUnexported(inventory.Inventory{})

func ids(n int) []inventory.ID {
	out := make([]inventory.ID, n)
	for i := range out {
		out[i] = inventory.ID{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: fmt.Sprintf("team-%d", i%7), Name: fmt.Sprintf("app-%05d", i)}
	}
	return out
}

func TestStoreRoundTrip(t *testing.T) {
	store, cs, ns := newStore(t)
	ctx := context.Background()

	empty, err := store.Load(ctx, "prod")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(inventory.New("prod", "", nil), empty, ignoreStored); diff != "" {
		t.Errorf("inventory before the first save (-want +got):\n%s", diff)
	}

	inv := inventory.New("prod", "1111111", ids(3))
	if err := store.Save(ctx, inv); err != nil {
		t.Fatal(err)
	}
	loaded, err := store.Load(ctx, "prod")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(inv, loaded, ignoreStored); diff != "" {
		t.Errorf("loaded inventory (-want +got):\n%s", diff)
	}
	cm, err := cs.CoreV1().ConfigMaps(ns).Get(ctx, "gitops-agent-inventory-prod", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	wantMeta := map[string]string{inventory.AnnotationCommit: "1111111", inventory.AnnotationObjects: "3"}
	if diff := cmp.Diff(wantMeta, cm.Annotations); diff != "" {
		t.Errorf("annotations (-want +got):\n%s", diff)
	}

	rv := loaded.ResourceVersion
	if err := store.Save(ctx, loaded); err != nil {
		t.Fatal(err)
	}
	if loaded.ResourceVersion != rv {
		t.Errorf("saving an unchanged inventory wrote it (resourceVersion %s -> %s)", rv, loaded.ResourceVersion)
	}
	loaded.Commit = "2222222"
	if err := store.Save(ctx, loaded); err != nil {
		t.Fatal(err)
	}
	if loaded.ResourceVersion == rv {
		t.Error("saving a new commit wrote nothing")
	}
	if err := store.Delete(ctx, loaded); err != nil {
		t.Fatal(err)
	}
	gone, err := store.Load(ctx, "prod")
	if err != nil || gone.ResourceVersion != "" {
		t.Errorf("after Delete: Load = %+v, %v; want an empty inventory", gone, err)
	}
}

// TestStoreSavesTenThousandObjects stores the largest inventory the brief asks for.
func TestStoreSavesTenThousandObjects(t *testing.T) {
	store, _, _ := newStore(t)
	ctx := context.Background()
	inv := inventory.New("big", "abc", ids(10_000))
	if err := store.Save(ctx, inv); err != nil {
		t.Fatal(err)
	}
	loaded, err := store.Load(ctx, "big")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(inv.IDs, loaded.IDs); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestStoreConflicts(t *testing.T) {
	store, cs, ns := newStore(t)
	ctx := context.Background()

	t.Run("two first saves", func(t *testing.T) {
		if err := store.Save(ctx, inventory.New("first", "a", ids(1))); err != nil {
			t.Fatal(err)
		}
		err := store.Save(ctx, inventory.New("first", "b", ids(2)))
		if !errors.Is(err, inventory.ErrConflict) {
			t.Errorf("error %v, want ErrConflict", err)
		}
	})

	t.Run("saved since loaded", func(t *testing.T) {
		if err := store.Save(ctx, inventory.New("second", "a", ids(1))); err != nil {
			t.Fatal(err)
		}
		mine, err := store.Load(ctx, "second")
		if err != nil {
			t.Fatal(err)
		}
		theirs, err := store.Load(ctx, "second")
		if err != nil {
			t.Fatal(err)
		}
		theirs.Commit = "b"
		if err := store.Save(ctx, theirs); err != nil {
			t.Fatal(err)
		}
		mine.Commit = "c"
		err = store.Save(ctx, mine)
		if !errors.Is(err, inventory.ErrConflict) || !strings.Contains(err.Error(), ns+"/gitops-agent-inventory-second") {
			t.Errorf("error %v, want ErrConflict naming the ConfigMap", err)
		}
		if err := store.Delete(ctx, mine); !errors.Is(err, inventory.ErrConflict) {
			t.Errorf("Delete of an outdated inventory: error %v, want ErrConflict", err)
		}
	})

	t.Run("not an inventory", func(t *testing.T) {
		foreign := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "gitops-agent-inventory-third", Namespace: ns}, Data: map[string]string{"k": "v"}}
		if _, err := cs.CoreV1().ConfigMaps(ns).Create(ctx, foreign, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		_, err := store.Load(ctx, "third")
		if err == nil || !strings.Contains(err.Error(), "is not an inventory") {
			t.Errorf("error %v, want one saying the ConfigMap is not an inventory", err)
		}
	})
}
