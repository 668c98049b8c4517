package oci

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/photobench/photobench/internal/command"
)

// Usage is the help of `photobench image`.
const Usage = `Usage:
  photobench image [flags]

Builds photobench's container image without a Docker daemon and without
pulling a base image: one layer holding the static binary as /photobench,
/etc/passwd and /etc/group with the user nonroot (65532:65532), its home
/home/nonroot (the working directory), /tmp (mode 1777), and the machine's
CA bundle for TLS to managed services. The image runs as 65532:65532 with
the entrypoint /photobench, and carries the labels
org.opencontainers.image.{version,revision,source,licenses,created}. Every
timestamp is the commit's time, so one commit gives one digest.

It does not compile: --binary is a linux build with CGO_ENABLED=0 (make
image builds it with the version and commit set, then calls this).

Flags:
  --binary PATH     the static photobench binary (default dist/photobench-linux)
  --layout DIR      where the OCI layout goes, replaced if it is one
                    (default dist/image)
  --tarball PATH    where the docker-loadable tarball goes, for docker load
                    (default dist/photobench.tar)
  --tag NAME:TAG    the name in the layout and the tarball
                    (default photobench:VERSION)
  --push REF        also push the image to a registry, e.g.
                    registry.example.com/team/photobench:v1 (credentials from
                    the Docker config, as docker login writes them; a registry
                    on loopback is spoken to over plain HTTP)
  --version V       label version (default: git describe --tags --always --dirty)
  --revision SHA    label revision (default: git rev-parse HEAD)
  --created TIME    the image's time, RFC 3339 (default: the commit's time)
  --source URL      label source (default https://github.com/photobench/photobench)
  --licenses SPDX   label licenses (default NOASSERTION: the project names none)
  --ca-certs PATH   the CA bundle to include (default /etc/ssl/certs/ca-certificates.crt
                    when present; "none" for none)

Prints the image's digest, and where it went.
`

// commandConfig is photobench image's configuration.
type commandConfig struct {
	Spec    Spec
	Layout  string
	Tarball string
	Tag     name.Tag
	Push    name.Reference // nil: no push
}

// Run runs `photobench image`.
func Run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := parseCommand(ctx, args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, Usage)
		return nil
	}
	if err != nil {
		return err
	}
	img, err := Build(cfg.Spec)
	if err != nil {
		return err
	}
	digest, err := img.Digest()
	if err != nil {
		return fmt.Errorf("image digest: %w", err)
	}
	if err := WriteLayout(cfg.Layout, img, cfg.Tag.String()); err != nil {
		return err
	}
	if err := WriteTarball(cfg.Tarball, img, cfg.Tag); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "image %s %s\nlayout %s\ntarball %s (docker load -i %s)\n", cfg.Tag, digest, cfg.Layout, cfg.Tarball, cfg.Tarball)
	if cfg.Push != nil {
		if err := Push(ctx, cfg.Push, img); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "pushed %s@%s\n", cfg.Push.Context(), digest)
	}
	return nil
}

// parseCommand reads the flags, filling the labels' defaults from git,
// and reports every problem at once. -h is flag.ErrHelp.
func parseCommand(ctx context.Context, args []string) (commandConfig, error) {
	fs := flag.NewFlagSet("image", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	var binary, layoutDir, tarballPath, tag, push, version, revision, created, source, licenses, caCerts string
	fs.StringVar(&binary, "binary", "dist/photobench-linux", "")
	fs.StringVar(&layoutDir, "layout", "dist/image", "")
	fs.StringVar(&tarballPath, "tarball", "dist/photobench.tar", "")
	fs.StringVar(&tag, "tag", "", "")
	fs.StringVar(&push, "push", "", "")
	fs.StringVar(&version, "version", "", "")
	fs.StringVar(&revision, "revision", "", "")
	fs.StringVar(&created, "created", "", "")
	fs.StringVar(&source, "source", "https://github.com/photobench/photobench", "")
	fs.StringVar(&licenses, "licenses", "NOASSERTION", "")
	fs.StringVar(&caCerts, "ca-certs", "", "")
	if err := command.ParseFlags(fs, args); err != nil {
		return commandConfig{}, err
	}
	var problems command.Problems
	bad := problems.Addf
	if fs.NArg() > 0 {
		bad("unexpected arguments %q", fs.Args())
	}
	git := func(what string, args ...string) string {
		out, err := exec.CommandContext(ctx, "git", args...).Output()
		if err != nil {
			bad("%s from git (%s): %v; give it as a flag", what, strings.Join(args, " "), err)
			return ""
		}
		return strings.TrimSpace(string(out))
	}
	if version == "" {
		version = git("--version", "describe", "--tags", "--always", "--dirty")
	}
	if revision == "" {
		revision = git("--revision", "rev-parse", "HEAD")
	}
	var when time.Time
	if created == "" {
		if s := git("--created", "show", "-s", "--format=%ct", "HEAD"); s != "" {
			if sec, err := strconv.ParseInt(s, 10, 64); err != nil {
				bad("--created: git's commit time %q: %v", s, err)
			} else {
				when = time.Unix(sec, 0).UTC()
			}
		}
	} else if t, err := time.Parse(time.RFC3339, created); err != nil {
		bad("--created %q: want RFC 3339 (2026-12-05T23:00:00Z)", created)
	} else {
		when = t
	}
	switch caCerts {
	case "":
		if _, err := os.Stat(DefaultCACerts); err == nil {
			caCerts = DefaultCACerts
		}
	case "none":
		caCerts = ""
	}
	if _, err := os.Stat(binary); err != nil {
		bad("--binary: %v (make image builds it)", err)
	}
	cfg := commandConfig{
		Spec:    Spec{Binary: binary, CACerts: caCerts, Version: version, Revision: revision, Source: source, Licenses: licenses, Created: when},
		Layout:  layoutDir,
		Tarball: tarballPath,
	}
	if tag == "" {
		tag = "photobench:" + tagSafe(version)
	}
	if t, err := name.NewTag(tag); err != nil {
		bad("--tag %q: %v", tag, err)
	} else {
		cfg.Tag = t
	}
	if push != "" {
		if r, err := name.ParseReference(push); err != nil {
			bad("--push %q: %v", push, err)
		} else {
			cfg.Push = r
		}
	}
	if err := problems.Err("image"); err != nil {
		return commandConfig{}, err
	}
	return cfg, nil
}

// tagSafe turns a version into a valid image tag ([A-Za-z0-9_.-], at most
// 128, not starting with . or -).
func tagSafe(v string) string {
	b := []byte(v)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-') {
			b[i] = '_'
		}
	}
	s := strings.TrimLeft(string(b), ".-")
	if len(s) > 128 {
		s = s[:128]
	}
	if s == "" {
		return "latest"
	}
	return s
}
