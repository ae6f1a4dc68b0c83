package policy

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/utils/lru"
	"sigs.k8s.io/yaml"

	"github.com/gitops-agent/gitops-agent/render"
)

// crdKind is the group and kind of CustomResourceDefinition objects.
var crdKind = schema.GroupKind{Group: apiextensionsv1.GroupName, Kind: "CustomResourceDefinition"}

// crdSet indexes compiled CRDs by the group and kind they define.
type crdSet map[schema.GroupKind]*compiledCRD

// renderedCRDs are the CRDs found among the objects of one Validate call.
type renderedCRDs struct {
	byKind  crdSet
	byIndex map[int]*compiledCRD // position of the CRD object in the call's objects
}

// renderedCRDs compiles the apiextensions.k8s.io/v1 CRDs among objs, or takes them from the
// cache when an identical CRD was compiled before.
func (v *SchemaValidator) renderedCRDs(ctx context.Context, objs []render.Object) (renderedCRDs, error) {
	rc := renderedCRDs{byKind: crdSet{}, byIndex: map[int]*compiledCRD{}}
	for i, o := range objs {
		// Comparing the kind first spares parsing every object's apiVersion.
		if o.Obj == nil || o.Obj.Object["kind"] != crdKind.Kind || o.Obj.GroupVersionKind() != crdKind.WithVersion("v1") {
			continue
		}
		if err := ctx.Err(); err != nil {
			return rc, fmt.Errorf("compiling the CRDs of the render: %w", err)
		}
		crd, err := v.rendered.get(o.Obj.Object, func() *compiledCRD {
			return v.crds.compile(ctx, o.Obj.Object, true)
		})
		if err != nil {
			return rc, fmt.Errorf("%s: %w", o.Ref(), err)
		}
		rc.byIndex[i] = crd
		if !crd.gk.Empty() {
			rc.byKind[crd.gk] = crd
		}
	}
	return rc, nil
}

// crdCache keeps compiled CRDs by content, so that rendering the same environment again costs
// one hash per CRD.
type crdCache struct {
	lru *lru.Cache
}

func newCRDCache(size int) *crdCache {
	return &crdCache{lru: lru.New(size)}
}

// get returns the compiled form of the CRD obj, compiling it on a miss. Two concurrent misses
// may compile the same CRD twice; the results are equal, so that is only wasted work.
func (c *crdCache) get(obj map[string]any, compile func() *compiledCRD) (*compiledCRD, error) {
	data, err := json.Marshal(obj)
	if err != nil {
		return nil, fmt.Errorf("hashing the CustomResourceDefinition: %w", err)
	}
	key := sha256.Sum256(data)
	if crd, ok := c.lru.Get(key); ok {
		return crd.(*compiledCRD), nil
	}
	crd := compile()
	c.lru.Add(key, crd)
	return crd, nil
}

// loadCRDDirs compiles the CRDs of the YAML and JSON files under dirs. A CRD whose schema
// cannot be compiled, or that defines a kind another file defines too, is an error naming the
// files.
func loadCRDDirs(ctx context.Context, compiler *crdCompiler, dirs []string) (crdSet, error) {
	set := crdSet{}
	from := map[schema.GroupKind]string{}
	for _, dir := range dirs {
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() || !isManifestFile(path) {
				return nil
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			docs, err := readCRDFile(path)
			if err != nil {
				return err
			}
			for _, doc := range docs {
				crd := compiler.compile(ctx, doc.obj, false)
				if err := crd.compileError(); err != nil {
					return fmt.Errorf("%s: CustomResourceDefinition %s (document %d): %w", path, crd.name, doc.index, err)
				}
				if prev, dup := from[crd.gk]; dup {
					return fmt.Errorf("%s: CustomResourceDefinition %s defines %s, which %s defines already; keep one of them",
						path, crd.name, crd.gk, prev)
				}
				set[crd.gk], from[crd.gk] = crd, path
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("loading CRDs from %s: %w", dir, err)
		}
	}
	return set, nil
}

func isManifestFile(path string) bool {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".yaml", ".yml", ".json":
		return true
	}
	return false
}

// crdDocument is one CRD of a file, with its 1-based position among the file's documents.
type crdDocument struct {
	index int
	obj   map[string]any
}

// readCRDFile returns the CustomResourceDefinitions of a multi-document YAML or JSON file;
// other documents are skipped. A v1beta1 CRD is an error: no supported API server serves it.
func readCRDFile(path string) ([]crdDocument, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var crds []crdDocument
	reader := utilyaml.NewYAMLReader(bufio.NewReader(f))
	for index := 1; ; index++ {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return crds, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: reading document %d: %w", path, index, err)
		}
		if len(bytes.TrimSpace(doc)) == 0 {
			continue
		}
		data, err := yaml.YAMLToJSON(doc)
		if err != nil {
			return nil, fmt.Errorf("%s: document %d is not valid YAML: %w", path, index, err)
		}
		if bytes.Equal(bytes.TrimSpace(data), []byte("null")) {
			continue // a document of comments only
		}
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(data); err != nil {
			// Documents without apiVersion and kind are not objects, let alone CRDs.
			continue
		}
		gvk := u.GroupVersionKind()
		if gvk.GroupKind() != crdKind {
			continue
		}
		if gvk.Version != "v1" {
			return nil, fmt.Errorf("%s: document %d: CustomResourceDefinition %s uses apiVersion %s, which Kubernetes no longer serves; convert it to %s/v1",
				path, index, u.GetName(), u.GetAPIVersion(), apiextensionsv1.GroupName)
		}
		crds = append(crds, crdDocument{index: index, obj: u.Object})
	}
}
