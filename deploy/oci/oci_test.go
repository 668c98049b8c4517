package oci_test

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/photobench/photobench/deploy/oci"
)

const (
	testVersion  = "v9.8.7-test"
	testRevision = "0123456789abcdef0123456789abcdef01234567"
	testCreated  = "2026-12-05T23:25:55Z"
)

// buildBinary builds photobench as make image does: static, trimmed, with
// the version and commit set.
func buildBinary(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "photobench")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags",
		"-X github.com/photobench/photobench/internal/cli.version="+testVersion+
			" -X github.com/photobench/photobench/internal/cli.commit="+testRevision,
		"-o", out, "./cmd/photobench")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	return out
}

// runImage runs `photobench image` into dir with the test's labels.
func runImage(t *testing.T, binary, dir string, extra ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	args := append([]string{
		"--binary", binary,
		"--layout", filepath.Join(dir, "image"),
		"--tarball", filepath.Join(dir, "photobench.tar"),
		"--version", testVersion, "--revision", testRevision, "--created", testCreated,
	}, extra...)
	if err := oci.Run(context.Background(), args, os.Getenv, &stdout, &stderr); err != nil {
		t.Fatalf("photobench image: %v\n%s", err, stderr.String())
	}
	return stdout.String()
}

// layoutImage reads the only image of the OCI layout at dir.
func layoutImage(t *testing.T, dir string) v1.Image {
	t.Helper()
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	m, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Manifests) != 1 {
		t.Fatalf("layout has %d manifests, want 1", len(m.Manifests))
	}
	if got := m.Manifests[0].Annotations["org.opencontainers.image.ref.name"]; got != "photobench:"+testVersion {
		t.Errorf("layout ref name %q, want photobench:%s", got, testVersion)
	}
	img, err := idx.Image(m.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func digest(t *testing.T, img v1.Image) v1.Hash {
	t.Helper()
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestImage(t *testing.T) {
	binary := buildBinary(t)
	dir := t.TempDir()
	reg := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer reg.Close()
	ref := strings.TrimPrefix(reg.URL, "http://") + "/photobench/photobench:" + testVersion
	out := runImage(t, binary, dir, "--push", ref)

	if st, err := os.Stat(filepath.Join(dir, "image")); err != nil || st.Mode().Perm() != 0o755 {
		t.Errorf("layout directory: %v, %v; want mode 0755", st, err)
	}
	fromLayout := layoutImage(t, filepath.Join(dir, "image"))
	tag, err := name.NewTag("photobench:" + testVersion)
	if err != nil {
		t.Fatal(err)
	}
	fromTarball, err := tarball.ImageFromPath(filepath.Join(dir, "photobench.tar"), &tag)
	if err != nil {
		t.Fatal(err)
	}
	want := digest(t, fromLayout)
	wantConfig, err := fromLayout.ConfigName()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, want.String()) {
		t.Errorf("output does not name the digest %s:\n%s", want, out)
	}

	for _, c := range []struct {
		name string
		img  v1.Image
	}{{"layout", fromLayout}, {"tarball", fromTarball}} {
		t.Run(c.name, func(t *testing.T) {
			// docker's tarball keeps no manifest (it is rebuilt when read,
			// with docker's media types): the config, the image ID, is the
			// same.
			got, err := c.img.ConfigName()
			if err != nil {
				t.Fatal(err)
			}
			if got != wantConfig {
				t.Errorf("config %s, want the layout's %s", got, wantConfig)
			}
			checkConfig(t, c.img)
			checkFiles(t, c.img)
		})
	}

	t.Run("pushed", func(t *testing.T) {
		r, err := name.ParseReference(ref)
		if err != nil {
			t.Fatal(err)
		}
		desc, err := remote.Get(r)
		if err != nil {
			t.Fatalf("pull %s: %v", ref, err)
		}
		if desc.Digest != want {
			t.Errorf("registry has %s, want %s", desc.Digest, want)
		}
		img, err := desc.Image()
		if err != nil {
			t.Fatal(err)
		}
		checkConfig(t, img)
	})

	t.Run("reproducible", func(t *testing.T) {
		// A second build of the same source, packed again: the same digest.
		again := runImage(t, buildBinary(t), t.TempDir())
		if !strings.Contains(again, want.String()) {
			t.Errorf("second build's output does not name %s:\n%s", want, again)
		}
	})
}

func checkConfig(t *testing.T, img v1.Image) {
	t.Helper()
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(cf.Config.Entrypoint, " "); got != "/photobench" {
		t.Errorf("entrypoint %q, want /photobench", got)
	}
	if cf.Config.User != "65532:65532" {
		t.Errorf("user %q, want 65532:65532", cf.Config.User)
	}
	if cf.Config.WorkingDir != "/home/nonroot" {
		t.Errorf("working dir %q, want /home/nonroot", cf.Config.WorkingDir)
	}
	if cf.OS != "linux" {
		t.Errorf("os %q, want linux", cf.OS)
	}
	if got := cf.Created.UTC().Format("2006-01-02T15:04:05Z"); got != testCreated {
		t.Errorf("created %s, want %s", got, testCreated)
	}
	for k, v := range map[string]string{
		oci.LabelVersion:  testVersion,
		oci.LabelRevision: testRevision,
		oci.LabelSource:   "https://github.com/photobench/photobench",
		oci.LabelLicenses: "NOASSERTION",
		oci.LabelCreated:  testCreated,
	} {
		if got := cf.Config.Labels[k]; got != v {
			t.Errorf("label %s = %q, want %q", k, got, v)
		}
	}
}

// checkFiles reads the image's filesystem: every file with its mode and
// owner, the users, and the binary, which it runs.
func checkFiles(t *testing.T, img v1.Image) {
	t.Helper()
	type file struct {
		mode     os.FileMode
		uid, gid int
		body     []byte
	}
	files := map[string]file{}
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		files[strings.TrimSuffix(h.Name, "/")] = file{h.FileInfo().Mode(), h.Uid, h.Gid, body}
	}
	wantFiles := []struct {
		path     string
		mode     os.FileMode
		uid, gid int
	}{
		{"photobench", 0o755, 0, 0},
		{"etc/passwd", 0o644, 0, 0},
		{"etc/group", 0o644, 0, 0},
		{"tmp", os.ModeDir | os.ModeSticky | 0o777, 0, 0},
		{"home/nonroot", os.ModeDir | 0o700, 65532, 65532},
	}
	if _, err := os.Stat(oci.DefaultCACerts); err == nil {
		wantFiles = append(wantFiles, struct {
			path     string
			mode     os.FileMode
			uid, gid int
		}{"etc/ssl/certs/ca-certificates.crt", 0o644, 0, 0})
	}
	for _, w := range wantFiles {
		f, ok := files[w.path]
		if !ok {
			t.Errorf("/%s missing", w.path)
			continue
		}
		if f.mode != w.mode || f.uid != w.uid || f.gid != w.gid {
			t.Errorf("/%s: %v %d:%d, want %v %d:%d", w.path, f.mode, f.uid, f.gid, w.mode, w.uid, w.gid)
		}
	}
	if !bytes.Contains(files["etc/passwd"].body, []byte("nonroot:x:65532:65532:")) {
		t.Errorf("/etc/passwd has no nonroot user:\n%s", files["etc/passwd"].body)
	}
	if !bytes.Contains(files["etc/group"].body, []byte("nonroot:x:65532:")) {
		t.Errorf("/etc/group has no nonroot group:\n%s", files["etc/group"].body)
	}
	bin := filepath.Join(t.TempDir(), "photobench")
	if err := os.WriteFile(bin, files["photobench"].body, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, arg := range []string{"--version", "version"} {
		out, err := exec.Command(bin, arg).CombinedOutput()
		if err != nil {
			t.Fatalf("/photobench %s: %v\n%s", arg, err, out)
		}
		if want := "photobench " + testVersion + " (commit " + testRevision + ")"; !strings.Contains(string(out), want) {
			t.Errorf("/photobench %s printed %q, want %q", arg, out, want)
		}
	}
}

func TestImageRefusesDynamicBinary(t *testing.T) {
	// A binary built with cgo needs a C library the image does not have.
	root, _ := filepath.Abs("../..")
	out := filepath.Join(t.TempDir(), "photobench-cgo")
	cmd := exec.Command("go", "build", "-o", out, "./cmd/photobench")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	_, err := oci.Build(oci.Spec{Binary: out})
	if err == nil || !strings.Contains(err.Error(), "CGO_ENABLED") {
		t.Fatalf("Build of a cgo binary: %v, want a CGO_ENABLED error", err)
	}
}

func TestImageUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"every problem at once", []string{"--binary", "/nonexistent/photobench", "--created", "yesterday", "--push", "Bad Ref"},
			[]string{"--binary", "--created", "--push"}},
		{"bad tag", []string{"--binary", "oci_test.go", "--version", "v1", "--revision", "x", "--created", testCreated, "--tag", "a:b:c:d"},
			[]string{"--tag"}},
		{"arguments", []string{"extra"}, []string{"unexpected arguments"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := oci.Run(context.Background(), tt.args, os.Getenv, io.Discard, io.Discard)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}
