package localcluster

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// fakeBinDir makes a bin directory in which the named binaries are complete.
func fakeBinDir(t *testing.T, complete ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range binaries {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range complete {
		if err := os.WriteFile(filepath.Join(dir, "."+name+".built"), []byte("v1\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestStartRefusesBadSetup(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	busyPort := busy.Addr().(*net.TCPAddr).Port
	all := binaries[:]

	tests := []struct {
		name    string
		opts    Options
		env     string
		wantErr []string
	}{
		{
			name:    "no bin dir",
			wantErr: []string{BinDirEnv, "build-cluster.sh"},
		},
		{
			name:    "half-built cache: binaries without their stamps",
			opts:    Options{BinDir: fakeBinDir(t, "etcd", "kwok")},
			wantErr: []string{"kube-apiserver, kube-controller-manager, kube-scheduler not built", "build-cluster.sh"},
		},
		{
			name:    "port in use",
			opts:    Options{BinDir: fakeBinDir(t, all...), APIServerPort: busyPort},
			wantErr: []string{"port " + strconv.Itoa(busyPort) + " on 127.0.0.1 is already in use"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(BinDirEnv, tt.env)
			_, err := Start(context.Background(), tt.opts)
			if err == nil {
				t.Fatal("Start succeeded, want an error")
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
		})
	}
}
