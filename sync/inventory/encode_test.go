package inventory

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestEncodeRoundTrip(t *testing.T) {
	tests := map[string][]ID{
		"empty": nil,
		"mixed": {
			{Group: "apiextensions.k8s.io", Version: "v1", Kind: "CustomResourceDefinition", Name: "widgets.example.com"},
			{Version: "v1", Kind: "Namespace", Name: "shop"},
			{Version: "v1", Kind: "ConfigMap", Namespace: "shop", Name: "settings"},
			{Group: "rbac.authorization.k8s.io", Version: "v1", Kind: "ClusterRole", Name: "system:shop:reader"},
			{Group: "example.com", Version: "v1beta1", Kind: "Widget", Namespace: "shop", Name: "gear"},
		},
	}
	for name, ids := range tests {
		t.Run(name, func(t *testing.T) {
			inv := New("prod", "", ids)
			data, err := encode(inv.IDs)
			if err != nil {
				t.Fatal(err)
			}
			again, err := encode(New("prod", "", inv.IDs).IDs)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(data, again) {
				t.Error("encoding the same inventory twice gave different bytes")
			}
			got, err := decode(data)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(inv.IDs, New("prod", "", got).IDs); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestEncodeTenThousandObjects checks the size the brief sets: 10,000 objects in one
// ConfigMap, with names that compress well and with random ones that do not.
func TestEncodeTenThousandObjects(t *testing.T) {
	kinds := []ID{
		{Version: "v1", Kind: "ConfigMap"}, {Version: "v1", Kind: "Secret"}, {Version: "v1", Kind: "Service"},
		{Group: "apps", Version: "v1", Kind: "Deployment"}, {Group: "networking.k8s.io", Version: "v1", Kind: "Ingress"},
	}
	rng := rand.New(rand.NewPCG(1, 2))
	names := map[string]func(i int) string{
		"patterned": func(i int) string { return fmt.Sprintf("service-%04d-%s", i, strings.Repeat("x", 20)) },
		"random 40 hex digits": func(int) string {
			return fmt.Sprintf("%016x%016x%08x", rng.Uint64(), rng.Uint64(), rng.Uint32())
		},
	}
	for name, nameOf := range names {
		t.Run(name, func(t *testing.T) {
			var ids []ID
			for i := range 10_000 {
				id := kinds[i%len(kinds)]
				id.Namespace = fmt.Sprintf("team-%02d-production", i%40)
				id.Name = nameOf(i)
				ids = append(ids, id)
			}
			data, err := encode(New("prod", "", ids).IDs)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("10,000 objects encode to %d bytes (%.1f bytes per object); the limit is %d", len(data), float64(len(data))/10_000, maxSize)
			if len(data) > maxSize {
				t.Errorf("encoded size %d exceeds %d", len(data), maxSize)
			}
			got, err := decode(data)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 10_000 {
				t.Errorf("decoded %d ids, want 10000", len(got))
			}
		})
	}
}

func TestDecodeRejects(t *testing.T) {
	gz := func(s string) []byte {
		var b bytes.Buffer
		w := gzip.NewWriter(&b)
		_, _ = w.Write([]byte(s))
		_ = w.Close()
		return b.Bytes()
	}
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"not gzip", []byte("{}"), "not gzip data"},
		{"not JSON", gz("nope"), "parse"},
		{"other format", gz(`{"format":2}`), "format 2 is not 1"},
		{"bad type", gz(`{"format":1,"objects":{"ConfigMap":{"":["a"]}}}`), `type "ConfigMap" is not "apiVersion kind"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decode(tt.data)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want %q", err, tt.want)
			}
		})
	}
}
