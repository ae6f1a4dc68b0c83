package policy

import "testing"

func TestStripListKeys(t *testing.T) {
	tests := []struct{ path, want string }{
		{path: "", want: ""},
		{path: ".spec.replicas", want: "spec.replicas"},
		{path: `.spec.template.spec.containers[name="api"].env[name="A"]`, want: "spec.template.spec.containers.env"},
		{path: `.spec.ports[containerPort=80,protocol="TCP"].name`, want: "spec.ports.name"},
		{path: `.spec.containers[name="a]b\"c"].image`, want: "spec.containers.image"},
		{path: "spec.items[0].nmae", want: "spec.items.nmae"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			if got := stripListKeys(tt.path); got != tt.want {
				t.Errorf("stripListKeys(%q) = %q, want %q", tt.path, got, tt.want)
			}
		})
	}
}

func TestClosestName(t *testing.T) {
	known := []string{"image", "imagePullPolicy", "env", "envFrom", "resources", "readinessProbe", "labels"}
	tests := []struct{ name, want string }{
		{name: "imagePulPolicy", want: "imagePullPolicy"},
		{name: "Image", want: "image"},
		{name: "resource", want: "resources"},
		{name: "lables", want: "labels"},
		{name: "evn", want: "env"},
		{name: "replicas", want: ""},
		{name: "x", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := closestName(tt.name, known); got != tt.want {
				t.Errorf("closestName(%q) = %q, want %q", tt.name, got, tt.want)
			}
		})
	}
}
