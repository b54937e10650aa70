package pgtest_test

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/connectkit/connector/ops/pgdest/pgtest"
)

func TestMain(m *testing.M) {
	if os.Getenv("PGTEST_CHILD") == "1" {
		child()
		return
	}
	os.Exit(pgtest.Main(m))
}

// child starts a server, prints its directory and the postmaster's pid,
// and waits to be killed.
func child() {
	s, err := pgtest.Start(context.Background())
	if err != nil {
		os.Stderr.WriteString(err.Error() + "\n")
		os.Exit(2)
	}
	pid, err := os.ReadFile(filepath.Join(s.Dir, "data", "postmaster.pid"))
	if err != nil {
		os.Exit(3)
	}
	os.Stdout.WriteString(s.Dir + " " + strings.SplitN(string(pid), "\n", 2)[0] + "\n")
	time.Sleep(time.Minute)
	os.Exit(4)
}

func TestDatabase(t *testing.T) {
	ctx := context.Background()
	a, b := pgtest.Database(t), pgtest.Database(t)
	if a == b {
		t.Fatalf("Database twice = %q, want two databases", a)
	}
	if err := pgtest.Exec(ctx, a, "CREATE TABLE t (x int)"); err != nil {
		t.Fatal(err)
	}
	// b is another database: it has no table t.
	if err := pgtest.Exec(ctx, b, "INSERT INTO t VALUES (1)"); err == nil {
		t.Fatal("table of one database seen in another")
	}
}

func TestRestartAndTerminate(t *testing.T) {
	s := pgtest.Managed(t)
	ctx := context.Background()
	dsn := s.NewDatabase(t)
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg.RuntimeParams["application_name"] = "victim"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	n, err := pgtest.Terminate(ctx, dsn, "victim")
	if err != nil || n != 1 {
		t.Fatalf("Terminate = %d, %v, want 1, nil", n, err)
	}
	if err := conn.Ping(ctx); err == nil {
		t.Fatal("Ping after Terminate succeeded")
	}

	conn2, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn2.Close(ctx)
	if err := s.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	if err := conn2.Ping(ctx); err == nil {
		t.Fatal("Ping after Restart on an old connection succeeded")
	}
	if err := pgtest.Exec(ctx, dsn, "SELECT 1"); err != nil {
		t.Fatalf("after Restart: %v", err)
	}
}

// TestKilledBinary checks that a server started by a test binary that
// is killed with SIGKILL is stopped, and its directory removed.
func TestKilledBinary(t *testing.T) {
	pgtest.Managed(t)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "PGTEST_CHILD=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("reading the child's server: %v", err)
	}
	dir, pid, _ := strings.Cut(strings.TrimSpace(line), " ")
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()

	deadline := time.Now().Add(30 * time.Second)
	for {
		_, statErr := os.Stat(dir)
		alive := exec.Command("kill", "-0", pid).Run() == nil
		if os.IsNotExist(statErr) && !alive {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("30 s after SIGKILL: directory %s exists: %v, postmaster %s alive: %v", dir, statErr == nil, pid, alive)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestSchema(t *testing.T) {
	ctx := context.Background()
	dsn, a := pgtest.Schema(t)
	dsn2, b := pgtest.Schema(t)
	if dsn != dsn2 || a == b {
		t.Fatalf("Schema twice = (%q, %q), (%q, %q), want one database, two schemas", dsn, a, dsn2, b)
	}
	if err := pgtest.Exec(ctx, dsn, "CREATE TABLE "+pgx.Identifier{a, "t"}.Sanitize()+" (x int)"); err != nil {
		t.Fatal(err)
	}
}
