package main

import (
	"encoding/json"
	"net/http"
)

// serveStatus answers GET /status with every environment's status, read from the cluster so
// that any replica gives the same answer.
func (a *agent) serveStatus(w http.ResponseWriter, r *http.Request) {
	statuses, err := a.statuses.List(r.Context())
	if err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(map[string]any{"environments": statuses, "leader": a.leading.Load()})
}
