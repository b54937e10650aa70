package sqldest_test

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/connectkit/connector/ops"
	"github.com/connectkit/connector/ops/opstest"
	"github.com/connectkit/connector/ops/sqldest"
	"github.com/connectkit/connector/schema"
	"github.com/connectkit/connector/state"
)

// BenchmarkScale loads N rows of the examples/users shape (opstest.Users,
// about 300 bytes a row) into a new table the way the connector runtime
// drives a destination: Write of a page of 100 upserts, a Checkpoint every
// ckpt rows (20,000 approximates the runtime's default of one checkpoint
// a second; 1,000 is for comparison), a last Checkpoint and Close, all
// timed. The keys are sequential (usr_000000000001, ...) or random UUIDs
// (v4 text); both run in the same process, sequential first, so that the
// random one reports its rate relative to the sequential one.
//
// Then it opens the file again and upserts N/10 rows of random existing
// keys (the incremental pass), with the same pages and checkpoints.
//
// N is 20,000, or SQLDEST_BENCH_ROWS; SQLDEST_BENCH_CKPT lists the
// checkpoint intervals (default "20000,1000"); SQLDEST_BENCH_DIR is the
// directory of the files (default: a temporary directory). Metrics:
//
//	rows/s            the whole load, the last Checkpoint and Close included
//	first10%_rows/s   over the first tenth of the rows (the first 100k of 1M)
//	last10%_rows/s    over the last tenth (the last 100k before 1M)
//	last/first        the two rates' ratio
//	last/first_cpu    the same ratio of rows per CPU second (user+system
//	                  of the process), which a noisy machine disturbs less
//	close_s           the time of Close (which may build an index)
//	open_s            the time of Open, LoadState and Prepare of the
//	                  loaded file before the incremental pass (untimed
//	                  otherwise), which count the rows of the table
//	wbytes/size       write_bytes of /proc/self/io over the load (what
//	                  reached the block layer: the WAL, its checkpoints
//	                  and the database) per byte of the final files (db+wal)
//	wchar/size        the same for the bytes of write(2) calls
//	cpu_s             user+system CPU time of the process over the load
//	rnd/seq           (random only) rows/s relative to the sequential run
//	                  just before it
//	incr_rows/s       the incremental pass, Close included
//	incr_wbytes/row   its write_bytes per row upserted
//	MB                the final size of the files
func BenchmarkScale(b *testing.B) {
	n := envInt(b, "SQLDEST_BENCH_ROWS", 20_000)
	ckpts := []int{20_000, 1_000}
	if s := os.Getenv("SQLDEST_BENCH_CKPT"); s != "" {
		ckpts = nil
		for f := range strings.SplitSeq(s, ",") {
			k, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || k <= 0 {
				b.Fatalf("SQLDEST_BENCH_CKPT=%q: %v", s, err)
			}
			ckpts = append(ckpts, k)
		}
	}
	for _, ckpt := range ckpts {
		var seqRate float64
		for _, keys := range []string{"sequential", "random"} {
			b.Run(fmt.Sprintf("rows=%d/ckpt=%d/keys=%s", n, ckpt, keys), func(b *testing.B) {
				for range b.N {
					r := runScale(b, n, ckpt, keys == "random")
					b.ReportMetric(r.rate, "rows/s")
					b.ReportMetric(r.first, "first10%_rows/s")
					b.ReportMetric(r.last, "last10%_rows/s")
					b.ReportMetric(r.last/r.first, "last/first")
					b.ReportMetric(r.lastCPU/r.firstCPU, "last/first_cpu")
					b.ReportMetric(r.close.Seconds(), "close_s")
					b.ReportMetric(r.open.Seconds(), "open_s")
					b.ReportMetric(float64(r.wbytes)/float64(r.size), "wbytes/size")
					b.ReportMetric(float64(r.wchar)/float64(r.size), "wchar/size")
					b.ReportMetric(r.cpu.Seconds(), "cpu_s")
					b.ReportMetric(float64(r.size)/1e6, "MB")
					b.ReportMetric(r.incrRate, "incr_rows/s")
					b.ReportMetric(float64(r.incrWbytes)/float64(r.incrRows), "incr_wbytes/row")
					if keys == "sequential" {
						seqRate = r.rate
					} else if seqRate > 0 {
						b.ReportMetric(r.rate/seqRate, "rnd/seq")
					}
				}
			})
		}
	}
}

type scaleResult struct {
	rate, first, last float64
	firstCPU, lastCPU float64 // rows per CPU second
	close             time.Duration
	open              time.Duration // Open, LoadState and Prepare of the loaded file
	wbytes, wchar     int64
	size              int64
	cpu               time.Duration
	incrRate          float64
	incrRows          int
	incrWbytes        int64
}

func runScale(b *testing.B, n, ckpt int, random bool) scaleResult {
	b.Helper()
	ctx := context.Background()
	users, err := opstest.Users.Compile()
	if err != nil {
		b.Fatal(err)
	}
	dir := os.Getenv("SQLDEST_BENCH_DIR")
	if dir == "" {
		dir = b.TempDir()
	} else if dir, err = os.MkdirTemp(dir, "scale"); err != nil {
		b.Fatal(err)
	} else {
		defer os.RemoveAll(dir)
	}
	path := filepath.Join(dir, "scale.db")
	rng := rand.New(rand.NewPCG(1, uint64(n)))
	keys := make([]string, n)
	for i := range keys {
		if random {
			keys[i] = uuidV4(rng)
		} else {
			keys[i] = fmt.Sprintf("usr_%012d", i)
		}
	}
	const page = 100
	// pass writes rows[i] = row of keys[pick(i)] for i < count.
	var opening time.Duration // of the last pass: Open, LoadState and Prepare
	pass := func(count int, pick func(i int) int, marks func(i int, at time.Duration)) (time.Duration, time.Duration) {
		t := time.Now()
		db, err := sqldest.Open(ctx, path, sqldest.Options{Logger: quiet})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := db.LoadState(ctx); err != nil {
			b.Fatal(err)
		}
		if err := db.Prepare(ctx, []schema.Table{opstest.Users}); err != nil {
			b.Fatal(err)
		}
		opening = time.Since(t)
		st := state.New()
		batch := make([]ops.Op, 0, page)
		start := time.Now()
		for i := range count {
			r := benchRow(i)
			r["id"] = keys[pick(i)]
			row, err := users.Normalize(r)
			if err != nil {
				b.Fatal(err)
			}
			batch = append(batch, ops.Op{Kind: ops.OpUpsert, Table: "user", Row: row})
			if len(batch) == page || i == count-1 {
				if err := db.Write(ctx, batch); err != nil {
					b.Fatal(err)
				}
				batch = batch[:0]
			}
			if (i+1)%ckpt == 0 || i == count-1 {
				st.Table("user").Mark = state.Mark{Cursor: state.Time(t0), ID: state.Int(int64(i))}
				if err := db.Checkpoint(ctx, st); err != nil {
					b.Fatal(err)
				}
			}
			if marks != nil {
				marks(i+1, time.Since(start))
			}
		}
		beforeClose := time.Since(start)
		if err := db.Close(); err != nil {
			b.Fatal(err)
		}
		total := time.Since(start)
		return total, total - beforeClose
	}

	var res scaleResult
	var t10, t90 time.Duration
	w0, c0 := procIO(b)
	cpu0 := cpuTime()
	var c10, c90 time.Duration
	b.ResetTimer()
	total, closing := pass(n, func(i int) int { return i }, func(i int, at time.Duration) {
		switch i {
		case n / 10:
			t10, c10 = at, cpuTime()
			res.firstCPU = float64(n/10) / (c10 - cpu0).Seconds()
		case n - n/10:
			t90, c90 = at, cpuTime()
		case n:
			res.last = float64(n/10) / (at - t90).Seconds()
			res.lastCPU = float64(n/10) / (cpuTime() - c90).Seconds()
		}
	})
	b.StopTimer()
	w1, c1 := procIO(b)
	res.cpu = cpuTime() - cpu0
	res.rate = float64(n) / total.Seconds()
	res.first = float64(n/10) / t10.Seconds()
	res.close = closing
	res.wbytes, res.wchar = w1-w0, c1-c0
	res.size = fileSize(path) + fileSize(path+"-wal")

	// The incremental pass: upserts of random existing keys.
	res.incrRows = max(1, n/10)
	w0, _ = procIO(b)
	incr, _ := pass(res.incrRows, func(int) int { return rng.IntN(n) }, nil)
	w1, _ = procIO(b)
	res.incrRate = float64(res.incrRows) / incr.Seconds()
	res.incrWbytes = w1 - w0
	res.open = opening
	b.Logf("%d rows, ckpt %d, random %v: %.0f rows/s (first 10%% %.0f, last 10%% %.0f), close %v, %.1f MB, write_bytes %.1f MB, wchar %.1f MB, cpu %v; incremental %d rows %.0f rows/s, write_bytes %.1f MB",
		n, ckpt, random, res.rate, res.first, res.last, res.close.Round(time.Millisecond), float64(res.size)/1e6,
		float64(res.wbytes)/1e6, float64(res.wchar)/1e6, res.cpu.Round(time.Millisecond), res.incrRows, res.incrRate, float64(res.incrWbytes)/1e6)
	return res
}

// uuidV4 returns a random version 4 UUID in its text form.
func uuidV4(rng *rand.Rand) string {
	var u [16]byte
	for i := 0; i < 16; i += 8 {
		v := rng.Uint64()
		for j := range 8 {
			u[i+j] = byte(v >> (8 * j))
		}
	}
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}

// procIO returns write_bytes and wchar of /proc/self/io (0 where it is
// missing).
func procIO(b *testing.B) (writeBytes, wchar int64) {
	f, err := os.Open("/proc/self/io")
	if err != nil {
		return 0, 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		k, v, _ := strings.Cut(s.Text(), ": ")
		n, _ := strconv.ParseInt(v, 10, 64)
		switch k {
		case "write_bytes":
			writeBytes = n
		case "wchar":
			wchar = n
		}
	}
	return writeBytes, wchar
}

// cpuTime returns the user and system CPU time of the process.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

func envInt(b *testing.B, name string, def int) int {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 10 {
		b.Fatalf("%s=%q: want a number of at least 10", name, s)
	}
	return n
}
