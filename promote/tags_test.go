package promote

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseTag(t *testing.T) {
	tests := []struct {
		env, tag string
		want     bool
	}{
		{"prod", "prod/2026-11-22.1", true},
		{"prod", "prod", true},
		{"prod", "prod/a/b", true},
		{"prod", "prod/", false},
		{"prod", "production/1", false},
		{"prod", "prod-eu/1", false},
		{"prod", "staging/prod", false},
		{"prod", "v1.2.3", false},
		{"", "prod", false},
	}
	for _, tt := range tests {
		t.Run(tt.env+"_"+tt.tag, func(t *testing.T) {
			if got := ParseTag(tt.env, tt.tag); got != tt.want {
				t.Errorf("ParseTag(%q, %q) = %v, want %v", tt.env, tt.tag, got, tt.want)
			}
		})
	}
}

func TestWanted(t *testing.T) {
	base := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	times := map[string]time.Time{
		"c1": base, "c2": base.Add(time.Hour), "c3": base.Add(2 * time.Hour), "c3b": base.Add(2 * time.Hour),
	}
	commitTime := func(c string) (time.Time, error) {
		if t, ok := times[c]; ok {
			return t, nil
		}
		return time.Time{}, errors.New("object not found")
	}
	tests := []struct {
		name   string
		tags   map[string]string
		want   Request
		wantOK bool
	}{
		{name: "no tags", tags: nil},
		{name: "no tag for the environment", tags: map[string]string{"staging/1": "c3", "v1.0.0": "c2"}},
		{
			name:   "newest commit wins over the newest name",
			tags:   map[string]string{"prod/2026-11-22.2": "c1", "prod/2026-11-22.1": "c2", "staging/9": "c3"},
			want:   Request{Tag: "prod/2026-11-22.1", Commit: "c2"},
			wantOK: true,
		},
		{
			name:   "moving tag on the newest commit",
			tags:   map[string]string{"prod/1": "c1", "prod": "c3"},
			want:   Request{Tag: "prod", Commit: "c3"},
			wantOK: true,
		},
		{
			name:   "same commit time: the greater tag name",
			tags:   map[string]string{"prod/a": "c3", "prod/b": "c3b", "prod": "c3"},
			want:   Request{Tag: "prod/b", Commit: "c3b"},
			wantOK: true,
		},
		{
			name:   "a tag whose commit cannot be read is left out",
			tags:   map[string]string{"prod/1": "c1", "prod/2": "missing"},
			want:   Request{Tag: "prod/1", Commit: "c1"},
			wantOK: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := Wanted("prod", tt.tags, commitTime)
			if ok != tt.wantOK {
				t.Fatalf("ok = %v, want %v", ok, tt.wantOK)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("request (-want +got):\n%s", diff)
			}
		})
	}
}

func TestStateHandled(t *testing.T) {
	req := Request{Tag: "prod/2", Commit: "c2"}
	tests := []struct {
		name  string
		state State
		want  bool
	}{
		{name: "nothing handled", state: State{}, want: false},
		{name: "last request", state: State{LastRequest: &req}, want: true},
		{name: "live release", state: State{Live: &Release{Color: Blue, Commit: "c2", Tag: "prod/2"}}, want: true},
		{name: "same commit, other tag", state: State{LastRequest: &Request{Tag: "prod/1", Commit: "c2"}}, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.state.handled(req); got != tt.want {
				t.Errorf("handled = %v, want %v", got, tt.want)
			}
		})
	}
}
