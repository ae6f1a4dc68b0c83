// Package source owns where desired state comes from: a git repository
// followed through a bare clone (Git, driven by Poller), or a local working
// directory watched for edits (Dir). Both report through the same Event.
//
// Git fetches one branch and every tag. Tags carry promotion (`<env>/<name>`
// tags and moving tags named after an environment), so moved tags are
// force-updated and tags deleted on the remote are deleted locally. An
// unchanged repository costs one round trip (the ref advertisement); objects
// are fetched only when the branch head or a tag differs.
//
// The package never logs: it returns what changed and errors that name the
// repository URL (never credentials) and the remedy.
package source
