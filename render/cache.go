package render

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"sync"

	"github.com/go-git/go-git/v5/plumbing"
)

// input is one path a render looked at: what it was, and for a file read or a symlink
// followed, the git id of its content or target.
type input struct {
	rel  string
	kind kind
	hash plumbing.Hash
}

// cacheEntry is a finished render with the inputs that decided it. Entries are immutable.
type cacheEntry struct {
	env      string
	inputs   []input // sorted by rel
	listings []input // directories listed, hash of the listing
	key      string
	files    []string
	objects  []Object
}

func newCacheEntry(f *repoFS, objs []Object, opts Options) *cacheEntry {
	e := &cacheEntry{env: f.env, objects: objs}
	for rel, st := range f.stats {
		h := f.hashes[rel]
		e.inputs = append(e.inputs, input{rel: rel, kind: st.kind, hash: h})
		if st.kind == kindFile && !h.IsZero() {
			e.files = append(e.files, rel)
		}
	}
	for rel, h := range f.listings {
		e.listings = append(e.listings, input{rel: rel, kind: kindDir, hash: h})
	}
	sort.Slice(e.inputs, func(i, j int) bool { return e.inputs[i].rel < e.inputs[j].rel })
	sort.Slice(e.listings, func(i, j int) bool { return e.listings[i].rel < e.listings[j].rel })
	sort.Strings(e.files)

	h := sha256.New()
	fmt.Fprintf(h, "render/v1\n%s\nenv %q\n", opts.fingerprint(), f.env)
	for _, in := range e.inputs {
		fmt.Fprintf(h, "%d %s %q\n", in.kind, in.hash, in.rel)
	}
	for _, l := range e.listings {
		fmt.Fprintf(h, "list %s %q\n", l.hash, l.rel)
	}
	e.key = hex.EncodeToString(h.Sum(nil))
	return e
}

// result hands the entry out; the objects are deep copies, so neither the caller nor the
// cache can change what the other sees.
func (e *cacheEntry) result(cached bool) *Result {
	objs := make([]Object, len(e.objects))
	for i, o := range e.objects {
		objs[i] = Object{Obj: o.Obj.DeepCopy(), Source: o.Source}
	}
	p := e.env
	if p == "" {
		p = "."
	}
	return &Result{Path: p, Objects: objs, Files: append([]string(nil), e.files...), Key: e.key, Cached: cached}
}

// cache holds recent renders. A render is reused when every input it recorded is
// unchanged in the tree asked for: for a commit that is a few tree lookups, as git ids are
// content hashes; for a directory, the files read are hashed again (no kustomize run).
type cache struct {
	mu      sync.Mutex
	max     int
	entries []*cacheEntry // least recently used first
}

func newCache(max int) *cache { return &cache{max: max} }

// lookup returns a cached render of env that is still valid in src, or nil.
func (c *cache) lookup(ctx context.Context, src tree, env string, opts Options) *cacheEntry {
	c.mu.Lock()
	var candidates []*cacheEntry
	for i := len(c.entries) - 1; i >= 0; i-- {
		if c.entries[i].env == env {
			candidates = append(candidates, c.entries[i])
		}
	}
	c.mu.Unlock()

	v := &validator{src: src, limit: opts.MaxFileBytes, seen: map[string]input{}}
	for _, e := range candidates {
		if ctx.Err() != nil {
			return nil
		}
		if v.matches(e) {
			c.touch(e)
			return e
		}
	}
	return nil
}

func (c *cache) touch(e *cacheEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, x := range c.entries {
		if x == e {
			c.entries = append(append(c.entries[:i:i], c.entries[i+1:]...), e)
			return
		}
	}
}

// add stores e as the most recently used entry, replacing an entry with the same key and
// evicting the least recently used beyond the bound.
func (c *cache) add(e *cacheEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	kept := c.entries[:0]
	for _, x := range c.entries {
		if x.key != e.key {
			kept = append(kept, x)
		}
	}
	c.entries = append(kept, e)
	if over := len(c.entries) - c.max; over > 0 {
		c.entries = append([]*cacheEntry(nil), c.entries[over:]...)
	}
}

func (c *cache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}

// validator compares recorded inputs with a tree, remembering what it saw so that
// several candidate entries cost one look at each path.
type validator struct {
	src   tree
	limit int64
	seen  map[string]input
}

func (v *validator) matches(e *cacheEntry) bool {
	for _, want := range e.inputs {
		got, ok := v.state(want.rel, !want.hash.IsZero())
		if !ok || got.kind != want.kind || (!want.hash.IsZero() && got.hash != want.hash) {
			return false
		}
	}
	for _, want := range e.listings {
		entries, err := v.src.readDir(want.rel)
		if err != nil {
			return false
		}
		sort.Slice(entries, func(i, j int) bool { return entries[i].name < entries[j].name })
		if listingID(entries) != want.hash {
			return false
		}
	}
	return true
}

// state returns what rel is now; with needHash, also its content (or target) id.
func (v *validator) state(rel string, needHash bool) (input, bool) {
	in, ok := v.seen[rel]
	if !ok {
		e, err := v.src.lstat(rel)
		if err != nil {
			return input{}, false
		}
		in = input{rel: rel, kind: e.kind, hash: e.hash}
		if e.kind == kindDir {
			in.hash = plumbing.ZeroHash
		}
		v.seen[rel] = in
	}
	if !needHash || !in.hash.IsZero() {
		return in, true
	}
	switch in.kind {
	case kindFile:
		_, h, err := v.src.readFile(rel, v.limit)
		if err != nil {
			return input{}, false
		}
		in.hash = h
	case kindSymlink:
		target, err := v.src.readlink(rel)
		if err != nil {
			return input{}, false
		}
		in.hash = plumbing.ComputeHash(plumbing.BlobObject, []byte(target))
	}
	v.seen[rel] = in
	return in, true
}
