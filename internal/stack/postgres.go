package stack

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5"
)

// postgres runs a private PostgreSQL cluster in c.PGDataDir. When photobench
// runs as root (as CI does) the server runs as the "postgres" system user,
// since PostgreSQL refuses to run as root; its data then lives under that
// user's home, because it may not be able to enter the clone (PGDataDirFor).
type postgres struct{}

func (postgres) name() string { return "postgres" }

func (postgres) endpoint(c Config) string {
	return "postgres://" + c.addr(c.PGPort) + "/" + c.PGDatabase
}

func (postgres) stopSignal() syscall.Signal { return syscall.SIGINT } // "fast" shutdown

// pgKeyedDirName is the directory under the postgres user's home that holds
// one cluster per stack directory when photobench runs as root.
const pgKeyedDirName = "photobench"

// pgStackMarker names the file, beside a keyed cluster's data directory,
// that records which stack directory the cluster belongs to.
const pgStackMarker = "stack-dir"

// PGDataDirFor is the default PostgreSQL data directory of the stack in
// stackDir for a process with effective uid euid. An ordinary user runs the
// server as themself, with its data in <stackDir>/data/postgres. Root runs
// it as the postgres user, who cannot enter a clone under a private
// directory (a home directory is mode 0700), so the data goes under that
// user's home, pgHome: <pgHome>/photobench/<key>/data, where key is a hash
// of stackDir, so that two clones never share a cluster. An empty pgHome
// (no postgres user, or no home directory) keeps the data under stackDir.
func PGDataDirFor(stackDir string, euid int, pgHome string) string {
	if euid != 0 || pgHome == "" {
		return filepath.Join(stackDir, "data", "postgres")
	}
	sum := sha256.Sum256([]byte(stackDir))
	return filepath.Join(pgHome, pgKeyedDirName, hex.EncodeToString(sum[:8]), "data")
}

// postgresHome is the postgres system user's home directory, or "" when
// the user or the directory does not exist.
func postgresHome() string {
	u, err := user.Lookup("postgres")
	if err != nil || u.HomeDir == "" {
		return ""
	}
	if fi, err := os.Stat(u.HomeDir); err != nil || !fi.IsDir() {
		return ""
	}
	return u.HomeDir
}

// pgKeyed reports whether c's data directory is the keyed one under the
// postgres user's home (root's default), which photobench owns entirely.
func (c Config) pgKeyed() bool {
	home := postgresHome()
	return home != "" && c.PGDataDir == PGDataDirFor(c.Dir, 0, home)
}

func (postgres) check(c Config) error {
	if c.PGBinDir == "" {
		return fmt.Errorf("no PostgreSQL server found under /usr/lib/postgresql (run make deps, or set PHOTOBENCH_PG_BIN_DIR)")
	}
	for _, b := range []string{"initdb", "postgres"} {
		if _, err := os.Stat(filepath.Join(c.PGBinDir, b)); err != nil {
			return fmt.Errorf("binary %s not found (run make deps, or set PHOTOBENCH_PG_BIN_DIR)", filepath.Join(c.PGBinDir, b))
		}
	}
	if os.Geteuid() != 0 {
		return nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return fmt.Errorf("running as root needs the 'postgres' system user to run the server (Debian's postgresql package creates it)")
	}
	if dir, err := unreachableBy(u, c.PGDataDir); err != nil {
		return err
	} else if dir != "" {
		return fmt.Errorf("the postgres user, which runs the server when photobench runs as root, cannot enter %s; "+
			"unset PHOTOBENCH_PG_DATA_DIR (the default is under %s) or point it at a directory that user can reach", dir, filepath.Join(u.HomeDir, pgKeyedDirName))
	}
	return nil
}

// unreachableBy returns the first existing directory on the way to path
// that user u has no search permission on, or "" when u can reach path.
func unreachableBy(u *user.User, path string) (string, error) {
	uid, err := strconv.Atoi(u.Uid)
	if err != nil {
		return "", fmt.Errorf("user %s: uid %q: %w", u.Username, u.Uid, err)
	}
	gids := map[uint32]bool{}
	groups, _ := u.GroupIds()
	for _, g := range append(groups, u.Gid) {
		if n, err := strconv.Atoi(g); err == nil {
			gids[uint32(n)] = true
		}
	}
	dir := "/"
	for _, part := range strings.Split(strings.Trim(filepath.Clean(path), "/"), "/") {
		fi, err := os.Stat(dir)
		if err != nil {
			return "", nil // from here on photobench creates the directories, for u
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		if !ok {
			return "", nil
		}
		mode := uint32(fi.Mode().Perm())
		var can bool
		switch {
		case st.Uid == uint32(uid):
			can = mode&0o100 != 0
		case gids[st.Gid]:
			can = mode&0o010 != 0
		default:
			can = mode&0o001 != 0
		}
		if !can {
			return dir, nil
		}
		dir = filepath.Join(dir, part)
	}
	return "", nil
}

// postgresUser looks up the postgres system user's ids and home.
func postgresUser() (uid, gid int, home string, err error) {
	u, err := user.Lookup("postgres")
	if err != nil {
		return 0, 0, "", err
	}
	uid, err = strconv.Atoi(u.Uid)
	if err == nil {
		gid, err = strconv.Atoi(u.Gid)
	}
	return uid, gid, u.HomeDir, err
}

// runAs makes cmd run as the postgres system user when we are root.
func runAs(cmd *exec.Cmd) error {
	if os.Geteuid() != 0 {
		return nil
	}
	uid, gid, home, err := postgresUser()
	if err != nil {
		return err
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
	cmd.Env = append(os.Environ(), "HOME="+home, "USER=postgres")
	return nil
}

// chownToPostgres hands path to the postgres user when we are root.
func chownToPostgres(path string) error {
	if os.Geteuid() != 0 {
		return nil
	}
	uid, gid, _, err := postgresUser()
	if err != nil {
		return err
	}
	return os.Chown(path, uid, gid)
}

// mkdirAllForPostgres creates path and any missing parents, mode 0700, and
// hands each directory it creates to the postgres user when we are root.
func mkdirAllForPostgres(path string) error {
	if fi, err := os.Stat(path); err == nil {
		if !fi.IsDir() {
			return fmt.Errorf("%s is not a directory", path)
		}
		return nil
	}
	if err := mkdirAllForPostgres(filepath.Dir(path)); err != nil {
		return err
	}
	if err := os.Mkdir(path, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return err
	}
	return chownToPostgres(path)
}

func (p postgres) prepare(ctx context.Context, c Config) error {
	data := c.PGDataDir
	if _, err := os.Stat(filepath.Join(data, "PG_VERSION")); err == nil {
		return nil
	}
	if err := mkdirAllForPostgres(data); err != nil {
		return err
	}
	if c.pgKeyed() {
		marker := filepath.Join(filepath.Dir(data), pgStackMarker)
		if err := os.WriteFile(marker, []byte(c.Dir+"\n"), 0o644); err != nil {
			return err
		}
	}
	// The password file sits beside the data directory, where the user
	// that runs initdb can read it.
	pw := filepath.Join(filepath.Dir(data), ".pgpass-init")
	if err := os.WriteFile(pw, []byte(c.PGPassword+"\n"), 0o600); err != nil {
		return err
	}
	defer os.Remove(pw)
	if err := chownToPostgres(pw); err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, filepath.Join(c.PGBinDir, "initdb"),
		"-D", data, "-U", c.PGUser, "--pwfile="+pw,
		"--auth-host=scram-sha-256", "--auth-local=peer",
		"-E", "UTF8", "--no-locale", "--no-instructions")
	if err := runAs(cmd); err != nil {
		return err
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		logf, _ := os.OpenFile(c.logFile(p.name()), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if logf != nil {
			logf.Write(out)
			logf.Close()
		}
		os.RemoveAll(data) // a half-initialised cluster would fail every later start
		return fmt.Errorf("initdb: %v: %s", err, lastLine(string(out)))
	}
	return nil
}

// cleanPGData removes the PostgreSQL cluster when it lives outside the
// stack directory (Clean removes everything inside): the keyed directory
// under the postgres user's home, or a PHOTOBENCH_PG_DATA_DIR that holds a
// cluster (and nothing is removed from a directory that does not).
func cleanPGData(c Config, out io.Writer) error {
	if rel, err := filepath.Rel(c.Dir, c.PGDataDir); err == nil && !strings.HasPrefix(rel, "..") {
		return nil
	}
	target := c.PGDataDir
	if c.pgKeyed() {
		target = filepath.Dir(c.PGDataDir)
	} else if _, err := os.Stat(filepath.Join(target, "PG_VERSION")); err != nil {
		return nil
	}
	if _, err := os.Stat(target); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err := os.RemoveAll(target); err != nil {
		return err
	}
	fmt.Fprintf(out, "removed %s\n", target)
	if c.pgKeyed() {
		os.Remove(filepath.Dir(target)) // ~postgres/photobench, once no clone has a cluster there
	}
	return nil
}

func (p postgres) command(c Config) (*exec.Cmd, error) {
	cmd := exec.Command(filepath.Join(c.PGBinDir, "postgres"),
		"-D", c.PGDataDir,
		"-c", "listen_addresses="+c.Host,
		"-c", "port="+strconv.Itoa(c.PGPort),
		// No Unix socket: Debian's default socket directory may not exist
		// or belong to the system's own cluster. TCP on loopback only.
		"-c", "unix_socket_directories=",
		// Room for both apps' pools, the tests and the tools at once.
		"-c", "max_connections=300",
		"-c", "shared_buffers=256MB",
	)
	return cmd, runAs(cmd)
}

func (postgres) ready(ctx context.Context, c Config) error {
	conn, err := pgx.Connect(ctx, c.pgDSN("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	return conn.Ping(ctx)
}

func (postgres) setup(ctx context.Context, c Config) error {
	conn, err := pgx.Connect(ctx, c.pgDSN("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", c.PGDatabase).Scan(&exists); err != nil {
		return fmt.Errorf("look up database %s: %w", c.PGDatabase, err)
	}
	if exists {
		return nil
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{c.PGDatabase}.Sanitize()); err != nil {
		return fmt.Errorf("create database %s: %w", c.PGDatabase, err)
	}
	return nil
}
