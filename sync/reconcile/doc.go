// Package reconcile is the agent's main loop: for each environment and each new commit of the
// followed branch it renders the overlay from git objects, validates it, applies it with
// server-side apply, prunes by inventory and waits for health, keeping the environment on its
// last good commit whenever a step refuses the new one. It records what happened in the
// environment's status object, in Events and in Prometheus metrics.
package reconcile
