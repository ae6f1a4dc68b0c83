package main

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseGlobal(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		want      globalConfig
		wantRest  []string
		wantError string
	}{
		{name: "defaults", args: []string{"version"}, want: globalConfig{logFormat: "text", logLevel: slog.LevelInfo}, wantRest: []string{"version"}},
		{name: "json debug", args: []string{"--log-format=json", "--log-level=debug", "check", "--all"}, want: globalConfig{logFormat: "json", logLevel: slog.LevelDebug}, wantRest: []string{"check", "--all"}},
		{name: "bad format", args: []string{"--log-format=xml", "version"}, wantError: `--log-format "xml"`},
		{name: "bad level", args: []string{"--log-level=loud", "version"}, wantError: "loud"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, rest, err := parseGlobal(tt.args, &bytes.Buffer{})
			if tt.wantError != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantError) {
					t.Fatalf("error = %v, want it to mention %q", err, tt.wantError)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(globalConfig{})); diff != "" {
				t.Errorf("config (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantRest, rest); diff != "" {
				t.Errorf("rest (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRun(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		{name: "version", args: []string{"version"}, wantCode: exitOK, wantStdout: "gitops-agent dev"},
		{name: "no command", args: nil, wantCode: exitError, wantStderr: "usage: gitops-agent"},
		{name: "help", args: []string{"help"}, wantCode: exitOK, wantStderr: "commands:"},
		{name: "unknown command", args: []string{"deploy"}, wantCode: exitError, wantStderr: `unknown command "deploy"`},
		{name: "version with extra args", args: []string{"version", "x"}, wantCode: exitError, wantStderr: "unexpected arguments"},
		{name: "unknown flag", args: []string{"version", "--nope"}, wantCode: exitError, wantStderr: "flag provided but not defined: -nope"},
		{name: "dev without subcommand", args: []string{"dev"}, wantCode: exitError, wantStderr: "usage: gitops-agent dev cluster|run"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tt.args, &stdout, &stderr)
			if code != tt.wantCode {
				t.Errorf("exit code = %d, want %d (stderr: %s)", code, tt.wantCode, stderr.String())
			}
			if !strings.Contains(stdout.String(), tt.wantStdout) {
				t.Errorf("stdout = %q, want it to contain %q", stdout.String(), tt.wantStdout)
			}
			if !strings.Contains(stderr.String(), tt.wantStderr) {
				t.Errorf("stderr = %q, want it to contain %q", stderr.String(), tt.wantStderr)
			}
		})
	}
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
