// Package oci builds photobench's container image without a Docker daemon
// and without pulling a base image: one layer, written from scratch, holds
// the static binary, a non-root user, /tmp and the machine's CA bundle. The
// image goes to an OCI layout and a docker-loadable tarball, and optionally
// to a registry (go-containerregistry does the writing and the pushing).
//
// The package is named after the format it writes, not "image": that
// would shadow the standard library's image package, which imaging uses.
package oci

import (
	"archive/tar"
	"bytes"
	"context"
	"debug/buildinfo"
	"debug/elf"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// The image's user, as distroless names it: the process never runs as root.
const (
	UID      = 65532
	User     = "nonroot"
	Home     = "/home/nonroot"
	BinPath  = "/photobench"
	Platform = "linux"
)

// Label keys of the OCI image spec's annotations, set as config labels.
const (
	LabelVersion  = "org.opencontainers.image.version"
	LabelRevision = "org.opencontainers.image.revision"
	LabelSource   = "org.opencontainers.image.source"
	LabelLicenses = "org.opencontainers.image.licenses"
	LabelCreated  = "org.opencontainers.image.created"
	LabelTitle    = "org.opencontainers.image.title"
)

// DefaultCACerts is where Debian-like machines keep their CA bundle; the
// image carries it (when present) for TLS to managed services.
const DefaultCACerts = "/etc/ssl/certs/ca-certificates.crt"

// Spec is what goes into the image.
type Spec struct {
	Binary   string    // a static (CGO_ENABLED=0) linux build of photobench
	CACerts  string    // a CA bundle to copy to DefaultCACerts; "" for none
	Version  string    // label org.opencontainers.image.version
	Revision string    // label org.opencontainers.image.revision (the commit)
	Source   string    // label org.opencontainers.image.source
	Licenses string    // label org.opencontainers.image.licenses (SPDX)
	Created  time.Time // the commit's time: every timestamp in the image
}

// Build assembles the image. The same Spec (and the same files) gives the
// same digest: every timestamp is Spec.Created, entries come in a fixed
// order, and nothing of the building machine but the CA bundle goes in.
func Build(s Spec) (v1.Image, error) {
	arch, err := checkBinary(s.Binary)
	if err != nil {
		return nil, err
	}
	created := s.Created.UTC().Truncate(time.Second)
	layerTar, err := rootfs(s, created)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerTar)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, fmt.Errorf("image layer: %w", err)
	}
	base := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	base = mutate.ConfigMediaType(base, types.OCIConfigJSON)
	img, err := mutate.Append(base, mutate.Addendum{
		Layer:     layer,
		MediaType: types.OCILayer,
		History:   v1.History{Created: v1.Time{Time: created}, CreatedBy: "photobench image", Comment: "static binary, nonroot user, /tmp, CA bundle"},
	})
	if err != nil {
		return nil, fmt.Errorf("image layer: %w", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("image config: %w", err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = Platform, arch
	cf.Created = v1.Time{Time: created}
	cf.Config = v1.Config{
		Entrypoint: []string{BinPath},
		User:       fmt.Sprintf("%d:%d", UID, UID),
		WorkingDir: Home,
		Env:        []string{"HOME=" + Home},
		Labels: map[string]string{
			LabelTitle:    "photobench",
			LabelVersion:  s.Version,
			LabelRevision: s.Revision,
			LabelSource:   s.Source,
			LabelLicenses: s.Licenses,
			LabelCreated:  created.Format(time.RFC3339),
		},
	}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, fmt.Errorf("image config: %w", err)
	}
	return img, nil
}

// checkBinary refuses what would not run from scratch (a dynamically
// linked binary, another OS) and returns the binary's GOARCH.
func checkBinary(path string) (string, error) {
	bi, err := buildinfo.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("binary %s: not a Go binary: %w", path, err)
	}
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	if settings["GOOS"] != Platform {
		return "", fmt.Errorf("binary %s: built for GOOS=%s, the image needs linux", path, settings["GOOS"])
	}
	if settings["CGO_ENABLED"] != "0" {
		return "", fmt.Errorf("binary %s: built with CGO_ENABLED=%q, the image has no C library: build with CGO_ENABLED=0", path, settings["CGO_ENABLED"])
	}
	f, err := elf.Open(path)
	if err != nil {
		return "", fmt.Errorf("binary %s: %w", path, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return "", fmt.Errorf("binary %s: dynamically linked (it names an interpreter): build with CGO_ENABLED=0", path)
		}
	}
	return settings["GOARCH"], nil
}

// entry is one file or directory of the image's filesystem.
type entry struct {
	name     string
	mode     int64
	uid      int
	dir      bool
	contents []byte
}

// rootfs is the layer's tar: the whole filesystem of the image.
func rootfs(s Spec, created time.Time) ([]byte, error) {
	bin, err := os.ReadFile(s.Binary)
	if err != nil {
		return nil, fmt.Errorf("image binary: %w", err)
	}
	passwd := fmt.Sprintf("root:x:0:0:root:/root:/sbin/nologin\n%s:x:%d:%d:%s:%s:/sbin/nologin\n", User, UID, UID, User, Home)
	group := fmt.Sprintf("root:x:0:\n%s:x:%d:\n", User, UID)
	entries := []entry{
		{name: "etc/", mode: 0o755, dir: true},
		{name: "etc/group", mode: 0o644, contents: []byte(group)},
		{name: "etc/passwd", mode: 0o644, contents: []byte(passwd)},
	}
	if s.CACerts != "" {
		certs, err := os.ReadFile(s.CACerts)
		if err != nil {
			return nil, fmt.Errorf("image CA bundle: %w", err)
		}
		entries = append(entries,
			entry{name: "etc/ssl/", mode: 0o755, dir: true},
			entry{name: "etc/ssl/certs/", mode: 0o755, dir: true},
			entry{name: "etc/ssl/certs/ca-certificates.crt", mode: 0o644, contents: certs})
	}
	entries = append(entries,
		entry{name: "home/", mode: 0o755, dir: true},
		entry{name: "home/nonroot/", mode: 0o700, uid: UID, dir: true},
		entry{name: "photobench", mode: 0o755, contents: bin},
		entry{name: "tmp/", mode: 0o1777, dir: true},
	)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{
			Name: e.name, Mode: e.mode, Uid: e.uid, Gid: e.uid,
			ModTime: created, Typeflag: tar.TypeReg, Size: int64(len(e.contents)),
			Format: tar.FormatPAX,
		}
		if e.dir {
			h.Typeflag, h.Size = tar.TypeDir, 0
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, fmt.Errorf("image layer %s: %w", e.name, err)
		}
		if _, err := tw.Write(e.contents); err != nil {
			return nil, fmt.Errorf("image layer %s: %w", e.name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("image layer: %w", err)
	}
	return buf.Bytes(), nil
}

// WriteLayout writes img as the only image of an OCI layout at dir,
// annotated with refName (org.opencontainers.image.ref.name). An existing
// layout at dir is replaced; any other existing directory is refused.
func WriteLayout(dir string, img v1.Image, refName string) error {
	if _, err := os.Stat(dir); err == nil {
		if _, err := os.Stat(filepath.Join(dir, "oci-layout")); err != nil {
			return fmt.Errorf("write layout: %s exists and is not an OCI layout; not replacing it", dir)
		}
	}
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fmt.Errorf("write layout: %w", err)
	}
	tmp, err := os.MkdirTemp(parent, ".layout-")
	if err != nil {
		return fmt.Errorf("write layout: %w", err)
	}
	defer os.RemoveAll(tmp)
	if err := os.Chmod(tmp, 0o755); err != nil { // MkdirTemp's 0700 would hide the layout from other users
		return fmt.Errorf("write layout: %w", err)
	}
	p, err := layout.Write(tmp, empty.Index)
	if err != nil {
		return fmt.Errorf("write layout: %w", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return fmt.Errorf("write layout: %w", err)
	}
	if err := p.AppendImage(img,
		layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": refName}),
		layout.WithPlatform(v1.Platform{OS: cf.OS, Architecture: cf.Architecture})); err != nil {
		return fmt.Errorf("write layout: %w", err)
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("write layout: %w", err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		return fmt.Errorf("write layout: %w", err)
	}
	return nil
}

// WriteTarball writes img as a tarball `docker load` reads, tagged tag.
func WriteTarball(path string, img v1.Image, tag name.Tag) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("write tarball: %w", err)
	}
	if err := tarball.WriteToFile(path, tag, img); err != nil {
		return fmt.Errorf("write tarball %s: %w", path, err)
	}
	return nil
}

// Push sends img to the registry of ref, with the credentials of the
// Docker config (~/.docker/config.json, DOCKER_CONFIG) when it has some.
// Registries on loopback are spoken to over plain HTTP.
func Push(ctx context.Context, ref name.Reference, img v1.Image) error {
	if err := remote.Write(ref, img, remote.WithContext(ctx), remote.WithAuthFromKeychain(authn.DefaultKeychain)); err != nil {
		return fmt.Errorf("push %s: %w", ref, err)
	}
	return nil
}
