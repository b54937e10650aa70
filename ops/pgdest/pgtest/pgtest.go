// Package pgtest gives tests a real PostgreSQL server: one server per test
// binary, started by [Main] from TestMain, with a fresh database (or
// schema) per test.
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
//
//	func TestSomething(t *testing.T) {
//		dsn := pgtest.Database(t) // a new database, dropped at the end of the test
//		...
//	}
//
// The server is either the one named by the environment variable
// CONNECTOR_PG_DSN (a URL or key=value connection string of a role that
// may create databases), or one this package starts from Debian's
// PostgreSQL binaries (found with pg_config --bindir, then under
// /usr/lib/postgresql/*/bin, highest version first): initdb into a new
// temporary directory, a server listening on a free loopback port with
// its Unix socket in that directory, stopped and removed when Main
// returns. When the tests run as root, the server runs as the postgres
// user, which owns the directory.
//
// The started server is also stopped if the test binary is killed (by a
// timeout or SIGKILL): a small watchdog process, outside the binary's
// process group, waits for the binary's end on a pipe, then stops the
// server and removes its directory. No server or directory outlives the
// test binary.
//
// Without a server (no binaries and no CONNECTOR_PG_DSN), the tests that
// ask for one skip, saying how to enable them; with CI=true in the
// environment they fail instead, so that CI cannot pass without running
// them.
package pgtest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvDSN names the environment variable that points the tests at an
// existing server instead of starting one.
const EnvDSN = "CONNECTOR_PG_DSN"

// EnvBinDir names an environment variable that, when set, is the
// directory of the PostgreSQL binaries (initdb, pg_ctl) to use.
const EnvBinDir = "CONNECTOR_PG_BINDIR"

// ErrNotManaged is returned by the methods that need a server this
// package started, such as [Server.Restart], on a server named by
// CONNECTOR_PG_DSN.
var ErrNotManaged = errors.New("pgtest: the server was not started by this package")

// Server is a PostgreSQL server for tests.
type Server struct {
	// DSN connects as a superuser (or the role of CONNECTOR_PG_DSN) to
	// the server's maintenance database.
	DSN string
	// BinDir is the directory of the binaries of a started server, ""
	// for a server named by CONNECTOR_PG_DSN.
	BinDir string
	// Dir is the temporary directory of a started server: the data
	// directory is Dir/data, the log Dir/server.log, the Unix socket is
	// in Dir.
	Dir string
	// Port is the TCP port of a started server, on 127.0.0.1.
	Port int

	cred     *syscall.Credential // run the binaries as this user; nil: as ourselves
	watchdog *exec.Cmd
	wdPipe   io.WriteCloser
	stopOnce sync.Once
	stopErr  error
	names    atomic.Int64

	dbOnce sync.Once // creates the database of the schemas of NewSchema
	dbDSN  string
	dbErr  error
}

var (
	shared    *Server
	sharedErr error // why there is no shared server
)

// Main starts the server the tests of the package share (or finds that
// there is none, which [Shared] then reports to each test), runs the
// tests, stops the server and returns m.Run's exit code. Call it from
// TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
func Main(m *testing.M) int {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	shared, sharedErr = Start(ctx)
	cancel()
	code := m.Run()
	if shared != nil {
		if err := shared.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "pgtest: stopping the server:", err)
			if code == 0 {
				code = 1
			}
		}
	}
	return code
}

// Shared returns the server started by [Main]. Without one it skips the
// test with a message saying how to get one, or fails it when the
// environment has CI=true.
func Shared(t testing.TB) *Server {
	t.Helper()
	if shared != nil {
		return shared
	}
	err := sharedErr
	if err == nil {
		err = errors.New("pgtest: no server: call pgtest.Main from TestMain")
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%v (CI=true: the PostgreSQL tests must run)", err)
	}
	t.Skip(err)
	return nil
}

// Database returns the connection string of a new, empty database of the
// shared server, dropped when the test ends; see [Shared] for a missing
// server.
func Database(t testing.TB) string {
	t.Helper()
	return Shared(t).NewDatabase(t)
}

// Schema returns the connection string of a database of the shared
// server and the name of a new, empty schema in it, dropped when the
// test ends: cheaper than a database per test, for code whose schema is
// configurable. See [Shared] for a missing server.
func Schema(t testing.TB) (dsn, schema string) {
	t.Helper()
	return Shared(t).NewSchema(t)
}

// Managed returns the shared server if this package started it, so that
// it can be restarted; otherwise it skips the test (a server named by
// CONNECTOR_PG_DSN is not ours to restart), or, without a server, acts
// as [Shared].
func Managed(t testing.TB) *Server {
	t.Helper()
	s := Shared(t)
	if s.BinDir == "" {
		t.Skipf("pgtest: %s names the server; this test restarts or stops the server, which needs one started by pgtest (unset %s)", EnvDSN, EnvDSN)
	}
	return s
}

// Start returns a server: the one named by CONNECTOR_PG_DSN, checked with
// a connection, or one started from the PostgreSQL binaries. The error
// says how to get a server when there is none. Stop the server when done.
func Start(ctx context.Context) (*Server, error) {
	if dsn := os.Getenv(EnvDSN); dsn != "" {
		s := &Server{DSN: dsn}
		if err := s.ping(ctx); err != nil {
			return nil, fmt.Errorf("pgtest: connecting to %s: %w", EnvDSN, err)
		}
		return s, nil
	}
	bin, err := findBinDir()
	if err != nil {
		return nil, err
	}
	return startServer(ctx, bin)
}

// howTo says how to enable the tests.
const howTo = "install the Debian package postgresql (apt-get install postgresql) so that the tests start a server, or set " + EnvDSN + " to the URL of a server (a role that may create databases)"

// findBinDir returns the directory holding initdb and pg_ctl.
func findBinDir() (string, error) {
	var dirs []string
	if d := os.Getenv(EnvBinDir); d != "" {
		dirs = append(dirs, d)
	}
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		dirs = append(dirs, strings.TrimSpace(string(out)))
	}
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(found, func(i, j int) bool { return versionOf(found[i]) > versionOf(found[j]) })
	dirs = append(dirs, found...)
	for _, d := range dirs {
		if isExec(filepath.Join(d, "initdb")) && isExec(filepath.Join(d, "pg_ctl")) {
			return d, nil
		}
	}
	return "", fmt.Errorf("pgtest: no PostgreSQL server binaries (initdb, pg_ctl) found by pg_config --bindir or in /usr/lib/postgresql/*/bin: %s", howTo)
}

// versionOf returns the major version in a path /usr/lib/postgresql/N/bin.
func versionOf(dir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
	return n
}

func isExec(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

// startServer runs initdb and starts a server from the binaries in bin.
func startServer(ctx context.Context, bin string) (_ *Server, err error) {
	s := &Server{BinDir: bin}
	if os.Geteuid() == 0 {
		// The server refuses to run as root.
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("pgtest: running as root, the server must run as the user postgres, which is missing (%v): %s", err, howTo)
		}
		uid, _ := strconv.ParseUint(u.Uid, 10, 32)
		gid, _ := strconv.ParseUint(u.Gid, 10, 32)
		s.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	if s.Dir, err = os.MkdirTemp("", "pgtest-"); err != nil {
		return nil, fmt.Errorf("pgtest: %w", err)
	}
	defer func() {
		if err != nil {
			s.Stop()
		}
	}()
	if s.cred != nil {
		if err := os.Chown(s.Dir, int(s.cred.Uid), int(s.cred.Gid)); err != nil {
			return nil, fmt.Errorf("pgtest: %w", err)
		}
	}
	if err := s.startWatchdog(); err != nil {
		return nil, err
	}
	data := filepath.Join(s.Dir, "data")
	if out, err := s.command(ctx, "initdb", "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("pgtest: initdb: %v: %s", err, out)
	}
	// Try a few ports: another process may take the free port we found
	// before the server binds it.
	for try := 0; ; try++ {
		if s.Port, err = freePort(); err != nil {
			return nil, fmt.Errorf("pgtest: finding a free port: %w", err)
		}
		if err = s.configure(); err != nil {
			return nil, err
		}
		if err = s.pgctl(ctx, "start", "-l", filepath.Join(s.Dir, "server.log")); err == nil || try == 2 {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	s.DSN = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", s.Port)
	if err := s.ping(ctx); err != nil {
		return nil, fmt.Errorf("pgtest: connecting to the started server: %w", err)
	}
	return s, nil
}

// configure writes the server's settings into postgresql.auto.conf.
func (s *Server) configure() error {
	conf := fmt.Sprintf("port = %d\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '%s'\nmax_connections = 50\n", s.Port, s.Dir)
	path := filepath.Join(s.Dir, "data", "postgresql.auto.conf")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		return fmt.Errorf("pgtest: %w", err)
	}
	if s.cred != nil {
		if err := os.Chown(path, int(s.cred.Uid), int(s.cred.Gid)); err != nil {
			return fmt.Errorf("pgtest: %w", err)
		}
	}
	return nil
}

// watchdogScript stops the server and removes its directory ($1) once
// its standard input, a pipe whose write end only the test binary holds,
// reaches its end: when the binary stops the server, or dies.
const watchdogScript = `trap '' HUP INT TERM QUIT
read _ || :
pidfile="$1/data/postmaster.pid"
if [ -f "$pidfile" ]; then
	pid=$(head -n 1 "$pidfile")
	if [ -n "$pid" ] && kill -INT "$pid" 2>/dev/null; then
		i=0
		while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
		kill -KILL "$pid" 2>/dev/null
	fi
fi
rm -rf "$1"
`

// startWatchdog starts the watchdog process in a process group of its
// own, so that a Ctrl-C meant for the tests does not stop it first.
func (s *Server) startWatchdog() error {
	cmd := exec.Command("sh", "-c", watchdogScript, "pgtest-watchdog", s.Dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	in, err := cmd.StdinPipe()
	if err != nil {
		return fmt.Errorf("pgtest: starting the watchdog: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("pgtest: starting the watchdog: %w", err)
	}
	s.watchdog, s.wdPipe = cmd, in
	return nil
}

// command returns a command running the binary name of the server, as
// the server's user.
func (s *Server) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, filepath.Join(s.BinDir, name), args...)
	cmd.Dir = s.Dir
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	if s.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred}
	}
	return cmd
}

// pgctl runs pg_ctl with the data directory and waits for it.
func (s *Server) pgctl(ctx context.Context, verb string, args ...string) error {
	all := append([]string{verb, "-D", filepath.Join(s.Dir, "data"), "-w", "-t", "60"}, args...)
	cmd := s.command(ctx, "pg_ctl", all...)
	// pg_ctl start leaves the server writing to the log; its own output
	// is short.
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("pgtest: pg_ctl %s: %v: %s%s", verb, err, out, s.logTail())
	}
	return nil
}

// logTail returns the end of the server's log, for error messages.
func (s *Server) logTail() string {
	f, err := os.Open(filepath.Join(s.Dir, "server.log"))
	if err != nil {
		return ""
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > 20 {
			lines = lines[1:]
		}
	}
	return "\nserver log:\n" + strings.Join(lines, "\n")
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// ping connects to the server and runs a query.
func (s *Server) ping(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, s.DSN)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var one int
	return conn.QueryRow(ctx, "SELECT 1").Scan(&one)
}

// Stop stops a started server and removes its directory; for a server
// named by CONNECTOR_PG_DSN it drops the database of [Server.NewSchema].
// Stopping twice does nothing.
func (s *Server) Stop() error {
	s.stopOnce.Do(func() {
		if s.BinDir == "" {
			if s.dbDSN != "" {
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				s.stopErr = s.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{fmt.Sprintf("test_%d_schemas", os.Getpid())}.Sanitize()+" WITH (FORCE)")
				cancel()
			}
			return
		}
		if s.Dir == "" {
			return
		}
		if _, err := os.Stat(filepath.Join(s.Dir, "data", "postmaster.pid")); err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			s.stopErr = s.pgctl(ctx, "stop", "-m", "fast")
			cancel()
		}
		if s.wdPipe != nil {
			// The watchdog removes the directory and exits.
			s.wdPipe.Close()
			if err := s.watchdog.Wait(); err != nil && s.stopErr == nil {
				s.stopErr = fmt.Errorf("pgtest: watchdog: %w", err)
			}
		} else {
			os.RemoveAll(s.Dir)
		}
	})
	return s.stopErr
}

// Restart restarts a started server (pg_ctl restart -m fast): the
// connections to it break, and the server accepts new ones when Restart
// returns. A server named by CONNECTOR_PG_DSN gives [ErrNotManaged].
func (s *Server) Restart(ctx context.Context) error {
	if s.BinDir == "" {
		return ErrNotManaged
	}
	return s.pgctl(ctx, "restart", "-m", "fast", "-l", filepath.Join(s.Dir, "server.log"))
}

// StopServer stops a started server without removing it, so that a test
// can see what a client does while the server is down; [Server.StartServer]
// starts it again. A server named by CONNECTOR_PG_DSN gives
// [ErrNotManaged].
func (s *Server) StopServer(ctx context.Context) error {
	if s.BinDir == "" {
		return ErrNotManaged
	}
	return s.pgctl(ctx, "stop", "-m", "fast")
}

// StartServer starts a server stopped by [Server.StopServer].
func (s *Server) StartServer(ctx context.Context) error {
	if s.BinDir == "" {
		return ErrNotManaged
	}
	return s.pgctl(ctx, "start", "-l", filepath.Join(s.Dir, "server.log"))
}

// NewDatabase creates a new, empty database and returns its connection
// string (the server's DSN with the database name replaced). The
// database is dropped when the test ends, with any connection to it.
func (s *Server) NewDatabase(t testing.TB) string {
	t.Helper()
	ctx := context.Background()
	name := fmt.Sprintf("test_%d_%d", os.Getpid(), s.names.Add(1))
	if err := s.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("pgtest: creating database %s: %v", name, err)
	}
	t.Cleanup(func() {
		if err := s.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: dropping database %s: %v", name, err)
		}
	})
	dsn, err := WithDatabase(s.DSN, name)
	if err != nil {
		t.Fatal(err)
	}
	return dsn
}

// NewSchema creates a new, empty schema in a database that the schemas
// of this server share (created at the first call, dropped with the
// server) and returns the database's connection string and the schema's
// name. The schema is dropped, with what it holds, when the test ends.
func (s *Server) NewSchema(t testing.TB) (dsn, schema string) {
	t.Helper()
	ctx := context.Background()
	s.dbOnce.Do(func() {
		name := fmt.Sprintf("test_%d_schemas", os.Getpid())
		if s.dbErr = s.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); s.dbErr == nil {
			s.dbDSN, s.dbErr = WithDatabase(s.DSN, name)
		}
	})
	if s.dbErr != nil {
		t.Fatalf("pgtest: creating the database of the schemas: %v", s.dbErr)
	}
	schema = fmt.Sprintf("test_%d", s.names.Add(1))
	if err := Exec(ctx, s.dbDSN, "CREATE SCHEMA "+pgx.Identifier{schema}.Sanitize()); err != nil {
		t.Fatalf("pgtest: creating schema %s: %v", schema, err)
	}
	t.Cleanup(func() {
		if err := Exec(ctx, s.dbDSN, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			t.Errorf("pgtest: dropping schema %s: %v", schema, err)
		}
	})
	return s.dbDSN, schema
}

// Exec runs sql on the server's maintenance database, with a connection
// of its own.
func (s *Server) Exec(ctx context.Context, sql string, args ...any) error {
	return Exec(ctx, s.DSN, sql, args...)
}

// Exec runs sql in the database of dsn, with a connection of its own.
func Exec(ctx context.Context, dsn, sql string, args ...any) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	_, err = conn.Exec(ctx, sql, args...)
	return err
}

// Terminate ends, with pg_terminate_backend, every connection to the
// database of dsn whose application_name is app ("" for every
// connection), as an administrator ending them or a crashed backend
// would, and waits for them to end (PostgreSQL 14 or later). It returns
// how many it ended.
func Terminate(ctx context.Context, dsn, app string) (int, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return 0, err
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return 0, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var n int
	// The timeout (PostgreSQL 14 and later) waits for the backends to
	// end, so that the next use of their connections fails.
	err = conn.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid, 10000)) FROM pg_stat_activity
		WHERE datname = $1 AND pid <> pg_backend_pid() AND ($2 = '' OR application_name = $2)`,
		cfg.Database, app).Scan(&n)
	return n, err
}

// WithApp returns dsn with its application_name set to app, which
// [Terminate] can then pick out.
func WithApp(dsn, app string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err == nil {
			q := u.Query()
			q.Set("application_name", app)
			u.RawQuery = q.Encode()
			return u.String()
		}
	}
	return dsn + " application_name=" + app
}

// WithDatabase returns dsn, a URL or a key=value connection string, with
// its database replaced by name.
func WithDatabase(dsn, name string) (string, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "", fmt.Errorf("pgtest: parsing the DSN: %w", err)
		}
		u.Path = "/" + name
		return u.String(), nil
	}
	// key=value: replace the dbname pair, or add one.
	fields := strings.Fields(dsn)
	for i, f := range fields {
		if strings.HasPrefix(f, "dbname=") {
			fields[i] = "dbname=" + name
			return strings.Join(fields, " "), nil
		}
	}
	return strings.TrimSpace(dsn + " dbname=" + name), nil
}
