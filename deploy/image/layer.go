package main

import (
	"archive/tar"
	"bytes"
	"fmt"
	"time"
)

// The image's layout: where the binary lives and who it runs as.
const (
	entrypoint   = "/usr/local/bin/gitops-agent"
	nonRootID    = 65532 // distroless's "nonroot", so both images agree
	caBundlePath = "/etc/ssl/certs/ca-certificates.crt"
	cacheDir     = "/var/cache/gitops-agent" // the configuration's default repo.cacheDir
	workingDir   = "/repo"                   // mount a checkout here and `check` finds it
)

// file is one entry of the layer.
type file struct {
	path    string // absolute
	mode    int64  // permission bits, plus ModeDir for directories
	owner   int    // uid and gid
	content []byte
}

// modeDir marks a directory in file.mode.
const modeDir = 1 << 31

// layerFiles returns the layer's entries, each directory before what it holds.
func layerFiles(binary, caBundle []byte) []file {
	dir := func(path string, mode int64, owner int) file {
		return file{path: path, mode: modeDir | mode, owner: owner}
	}
	files := []file{
		dir("/etc", 0o755, 0),
		{path: "/etc/group", mode: 0o644, content: []byte("root:x:0:\nnonroot:x:65532:\n")},
		{path: "/etc/passwd", mode: 0o644, content: []byte("root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n")},
	}
	if caBundle != nil {
		files = append(files, dir("/etc/ssl", 0o755, 0), dir("/etc/ssl/certs", 0o755, 0),
			file{path: caBundlePath, mode: 0o644, content: caBundle})
	}
	return append(files,
		dir("/home", 0o755, 0),
		dir("/home/nonroot", 0o700, nonRootID),
		dir(workingDir, 0o755, 0),
		// Sticky and world-writable, as everywhere: a container run without an emptyDir on
		// /tmp still has one.
		dir("/tmp", 0o1777, 0),
		dir("/usr", 0o755, 0),
		dir("/usr/local", 0o755, 0),
		dir("/usr/local/bin", 0o755, 0),
		file{path: entrypoint, mode: 0o755, content: binary},
		dir("/var", 0o755, 0),
		dir("/var/cache", 0o755, 0),
		// The agent clones into its default cacheDir even where nothing is mounted there.
		dir(cacheDir, 0o755, nonRootID),
	)
}

// layerTar writes files as an uncompressed tar with every timestamp at modTime, so that the
// same files always make the same layer.
func layerTar(files []file, modTime time.Time) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		h := &tar.Header{
			Name:    f.path[1:],
			Mode:    f.mode &^ modeDir,
			Uid:     f.owner,
			Gid:     f.owner,
			ModTime: modTime,
			Format:  tar.FormatPAX,
		}
		if f.owner == nonRootID {
			h.Uname, h.Gname = "nonroot", "nonroot"
		} else {
			h.Uname, h.Gname = "root", "root"
		}
		if f.mode&modeDir != 0 {
			h.Typeflag, h.Name = tar.TypeDir, h.Name+"/"
		} else {
			h.Typeflag, h.Size = tar.TypeReg, int64(len(f.content))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, fmt.Errorf("layer: %s: %w", f.path, err)
		}
		if _, err := tw.Write(f.content); err != nil {
			return nil, fmt.Errorf("layer: %s: %w", f.path, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("layer: %w", err)
	}
	return buf.Bytes(), nil
}
