package temporal_test

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"go.temporal.io/sdk/client"
	"go.temporal.io/server/temporaltest"

	"github.com/connectkit/connector/ops/pgdest/pgtest"
)

// envServer makes the re-executed test binary a Temporal server process.
const envServer = "CONNECTOR_TEMPORAL_TEST_SERVER"

// TestMain runs a worker or server process when the test binary is
// re-executed as one (see startWorker and temporalDev), the tests
// otherwise, with one Postgres server and one Temporal server for the
// whole binary.
func TestMain(m *testing.M) {
	switch {
	case os.Getenv(envWorker) != "":
		os.Exit(workerMain())
	case os.Getenv(envServer) != "":
		os.Exit(serverMain())
	}
	code := pgtest.Main(m)
	stopTemporal()
	os.Exit(code)
}

// serverMain is a Temporal server process: an in-memory dev server on
// loopback that prints its address and namespace, and stops when its
// standard input closes.
func serverMain() int {
	ts := temporaltest.NewServer()
	fmt.Printf("%s %s\n", ts.GetFrontendHostPort(), ts.GetDefaultNamespace())
	_, _ = io.Copy(io.Discard, os.Stdin)
	ts.Stop()
	return 0
}

// devServer is the Temporal server the tests share, in a process of its
// own so that its goroutines do not count as the tests' leaks.
type devServer struct {
	addr, namespace string
	client          client.Client
	cmd             *exec.Cmd
	stdin           io.Closer
	err             error
}

// GetFrontendHostPort returns the server's gRPC address.
func (d *devServer) GetFrontendHostPort() string { return d.addr }

// GetDefaultNamespace returns the namespace of the tests.
func (d *devServer) GetDefaultNamespace() string { return d.namespace }

// GetDefaultClient returns a client that the tests share.
func (d *devServer) GetDefaultClient() client.Client { return d.client }

var (
	temporalOnce   sync.Once
	temporalServer *devServer
)

// temporalDev returns the Temporal server the tests share, started at
// the first call, and its client.
func temporalDev(tb testing.TB) *devServer {
	tb.Helper()
	temporalOnce.Do(func() {
		d := &devServer{}
		temporalServer = d
		d.cmd = exec.Command(os.Args[0], "-test.run=^$")
		d.cmd.Env = append(os.Environ(), envServer+"=1")
		d.cmd.Stderr = os.Stderr
		stdin, err := d.cmd.StdinPipe()
		if err != nil {
			d.err = err
			return
		}
		d.stdin = stdin
		stdout, err := d.cmd.StdoutPipe()
		if err != nil {
			d.err = err
			return
		}
		if d.err = d.cmd.Start(); d.err != nil {
			return
		}
		line, err := bufio.NewReader(stdout).ReadString('\n')
		f := strings.Fields(line)
		if err != nil || len(f) != 2 {
			d.err = fmt.Errorf("temporal server process: %q, %v", line, err)
			return
		}
		d.addr, d.namespace = f[0], f[1]
		d.client, d.err = client.Dial(client.Options{HostPort: d.addr, Namespace: d.namespace, Logger: quietSDKLogger()})
	})
	if temporalServer.err != nil {
		tb.Fatal(temporalServer.err)
	}
	return temporalServer
}

// stopTemporal stops the shared Temporal server, if started.
func stopTemporal() {
	d := temporalServer
	if d == nil {
		return
	}
	if d.client != nil {
		d.client.Close()
	}
	if d.stdin != nil {
		_ = d.stdin.Close()
		_ = d.cmd.Wait()
	}
}
