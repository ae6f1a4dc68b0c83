// Package render builds the per-environment kustomize overlays of a deployments repository
// into Kubernetes objects: from a directory on disk or straight from a git commit's tree, with
// load restrictions that keep kustomize inside the repository, and with each object's source
// file kept so that findings and errors can name it.
//
// # Sources
//
// Renderer.RenderDir reads a checkout; Renderer.RenderCommit reads a commit's tree from a
// go-git object store, without a checkout, so it works on a bare repository and renders
// several commits at once. Both go through one read-only kustomize filesystem (repoFS) over a
// tree, so they behave alike, error messages included.
//
// # Restrictions
//
// Kustomize's own load restriction is relative to each kustomization and would forbid an
// overlay's ../../manifests base, so it is off; instead nothing outside the repository root is
// read: paths are checked and symlinks are resolved component by component by the renderer,
// refusing any that leave the repository. Absolute paths in kustomizations and absolute
// symlink targets are refused too, so that a checkout and its commit render alike. Remote bases and files, and Helm charts, are refused before anything is
// fetched unless Options allow them. Files above Options.MaxFileBytes are refused from their
// size, before being read.
//
// # Sources of objects
//
// Every Object carries the repository path of the file declaring it: the manifest, or for a
// generated ConfigMap or Secret the kustomization declaring the generator. The renderer turns
// on kustomize's origin annotations (buildMetadata: [originAnnotations]) in the environment's
// kustomization as kustomize reads it, converts the recorded paths to repository paths, and
// removes the annotations again unless the environment asked for them itself. Objects from a
// remote base (when allowed) name their source as "<repo URL>//<path>?ref=<ref>".
//
// # Errors
//
// Every problem with the repository's content is an *Error naming the repository file to edit
// (and the line, for YAML and kustomization entries) and wrapping one kind (ErrMalformedYAML,
// ErrOutsideRepo, ...) for errors.Is. Failures of the machinery (I/O, a commit missing from the
// object store, a cancelled context) are returned as they are, wrapped. An environment that renders no objects is an error (ErrEmpty), never an empty
// success that could be applied as "delete everything". Messages never quote generator
// literals or env files, which may hold secrets.
//
// # Cache
//
// A Renderer caches renders, keyed by what they actually read: every path kustomize looked at
// (including those it found missing) and the git blob id of every file it read. A later render
// of the same environment is served from the cache when all of these are unchanged: for a
// commit that is a few tree lookups, for a directory a re-hash of the files read. Results are
// deep copies, owned by the caller.
//
// # Concurrency
//
// A Renderer is safe for concurrent use. go-git object stores are not, so a Renderer serialises
// its own reads of them (not the builds). Kustomize keeps a custom OpenAPI schema (the
// kustomization openapi field) in process-wide state; a render that sets one runs alone.
// Kustomize may print deprecation warnings to standard error; it offers no way to route them.
package render
