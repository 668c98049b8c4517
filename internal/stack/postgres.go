package stack

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"

	"github.com/jackc/pgx/v5"
)

// postgres runs a private PostgreSQL cluster under <dir>/data/postgres. When
// photobench runs as root (as CI does) the server runs as the "postgres"
// system user, since PostgreSQL refuses to run as root.
type postgres struct{}

func (postgres) name() string { return "postgres" }

func (postgres) endpoint(c Config) string {
	return "postgres://" + c.addr(c.PGPort) + "/" + c.PGDatabase
}

func (postgres) stopSignal() syscall.Signal { return syscall.SIGINT } // "fast" shutdown

func (postgres) dataDir(c Config) string { return filepath.Join(c.Dir, "data", "postgres") }

func (postgres) check(c Config) error {
	if c.PGBinDir == "" {
		return fmt.Errorf("no PostgreSQL server found under /usr/lib/postgresql (run make deps, or set PHOTOBENCH_PG_BIN_DIR)")
	}
	for _, b := range []string{"initdb", "postgres"} {
		if _, err := os.Stat(filepath.Join(c.PGBinDir, b)); err != nil {
			return fmt.Errorf("binary %s not found (run make deps, or set PHOTOBENCH_PG_BIN_DIR)", filepath.Join(c.PGBinDir, b))
		}
	}
	if os.Geteuid() == 0 {
		if _, err := user.Lookup("postgres"); err != nil {
			return fmt.Errorf("running as root needs the 'postgres' system user to run the server (Debian's postgresql package creates it)")
		}
	}
	return nil
}

// runAs makes cmd run as the postgres system user when we are root.
func runAs(cmd *exec.Cmd) error {
	if os.Geteuid() != 0 {
		return nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return err
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
	cmd.Env = append(os.Environ(), "HOME="+u.HomeDir, "USER=postgres")
	return nil
}

// chownToPostgres hands path to the postgres user when we are root.
func chownToPostgres(path string) error {
	if os.Geteuid() != 0 {
		return nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return err
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return os.Chown(path, uid, gid)
}

func (p postgres) prepare(ctx context.Context, c Config) error {
	data := p.dataDir(c)
	if _, err := os.Stat(filepath.Join(data, "PG_VERSION")); err == nil {
		return nil
	}
	if err := os.MkdirAll(data, 0o700); err != nil {
		return err
	}
	if err := chownToPostgres(data); err != nil {
		return err
	}
	pw := filepath.Join(c.Dir, "data", ".pgpass-init")
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

func (p postgres) command(c Config) (*exec.Cmd, error) {
	cmd := exec.Command(filepath.Join(c.PGBinDir, "postgres"),
		"-D", p.dataDir(c),
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
