package policy

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gitops-agent/gitops-agent/render"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

func sampleReport() *Report {
	r := &Report{
		Environments: []EnvironmentResult{
			{Name: "prod", Path: "environments/prod", Objects: 41},
			{Name: "dev", Path: "environments/dev", Objects: 40},
			{Name: "sandbox-pilot1", Path: "environments/sandbox-pilot1", Error: "environments/sandbox-pilot1/kustomization.yaml: resource ../../manifests/finance-sandbox/missing.yaml: no such file"},
		},
		Findings: []Finding{
			{Env: "prod", Object: render.Ref{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: "healthcare-prod", Name: "eeg-acquisition"},
				Source: "manifests/healthcare/eeg-acquisition.yaml", Rule: "no-secret-env", Severity: Deny,
				Field:   "spec.template.spec.containers[name=eeg].env[name=DB_PASSWORD]",
				Message: "env DB_PASSWORD has a literal value that looks like a credential: put it in a Secret and mount it as a file"},
			{Env: "dev", Object: render.Ref{Version: "v1", Kind: "Service", Namespace: "healthcare-dev", Name: "query"},
				Source: "manifests/healthcare/query.yaml", Rule: "service-port-matches", Severity: Warn,
				Field: "spec.ports[0].targetPort", Message: "targetPort 2181 matches no containerPort of the selected pods (2101)"},
			{Env: "dev", Object: render.Ref{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: "imaging-dev", Name: "proxy"},
				Source: "manifests/imaging/proxy.yaml", Rule: "probes", Severity: Warn, Exempted: "sidecar-less proxy; probed by the mesh",
				Message: "Deployment has no readinessProbe: add one so rollouts wait for a healthy pod"},
		},
	}
	r.Sort()
	return r
}

func TestWriteReportGolden(t *testing.T) {
	for _, format := range []string{FormatText, FormatJSON, FormatSARIF, FormatJUnit} {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteReport(&buf, sampleReport(), format); err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", "report", "sample."+format+".golden")
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), buf.String()); diff != "" {
				t.Errorf("%s output (-want +got):\n%s", format, diff)
			}
			switch format {
			case FormatJSON, FormatSARIF:
				if !json.Valid(buf.Bytes()) {
					t.Error("output is not valid JSON")
				}
			case FormatJUnit:
				var v junitSuites
				if err := xml.Unmarshal(buf.Bytes(), &v); err != nil {
					t.Errorf("output is not valid XML: %v", err)
				}
			}
		})
	}
}

func TestSummaryAndBlocking(t *testing.T) {
	got := sampleReport().Summary()
	want := Summary{Environments: 3, Objects: 81, Errors: 1, Deny: 1, Warn: 1, Exempted: 1}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("summary (-want +got):\n%s", diff)
	}
	if (Finding{Severity: Deny, Exempted: "reason"}).Blocks() {
		t.Error("an exempted deny finding blocks")
	}
}

func TestWriteReportUnknownFormat(t *testing.T) {
	err := WriteReport(&bytes.Buffer{}, sampleReport(), "yaml")
	if err == nil || !bytes.Contains([]byte(err.Error()), []byte(`"yaml"`)) {
		t.Errorf("error = %v, want it to name the format", err)
	}
}
