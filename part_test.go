package connector_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"

	"github.com/connectkit/connector"
	"github.com/connectkit/connector/internal/memsource"
	"github.com/connectkit/connector/ops"
	"github.com/connectkit/connector/paginate"
	"github.com/connectkit/connector/schema"
	"github.com/connectkit/connector/state"
)

// shardedAPI serves items in shards, and can fail a chosen fetch.
type shardedAPI struct {
	mu             sync.Mutex
	shards         map[string][]int
	fetches        int
	failAt         int
	inFlight, peak atomic.Int32
}

func newShardedAPI(shards, per int) *shardedAPI {
	a := &shardedAPI{shards: map[string][]int{}}
	for s := range shards {
		name := fmt.Sprintf("shard-%d", s)
		for i := range per {
			a.shards[name] = append(a.shards[name], s*1000+i)
		}
	}
	return a
}

func (a *shardedAPI) stream() connector.FullRefresh[int] {
	return connector.FullRefresh[int]{
		Partitions: func(context.Context) ([]state.Partition, error) {
			a.mu.Lock()
			defer a.mu.Unlock()
			var out []state.Partition
			for name := range a.shards {
				out = append(out, state.Partition{ID: name, Shard: name})
			}
			slices.SortFunc(out, func(x, y state.Partition) int { return cmpString(x.ID, y.ID) })
			return out, nil
		},
		Pages: func(w connector.Window) *paginate.Paginator[int] {
			a.mu.Lock()
			items := a.shards[w.Partition.Shard]
			a.mu.Unlock()
			return paginate.New(&memsource.Source[int]{Items: items, Kind: paginate.KindOffset, HasMore: true,
				Fail: func(int64, paginate.Cursor) error {
					n := a.inFlight.Add(1)
					defer a.inFlight.Add(-1)
					for p := a.peak.Load(); n > p && !a.peak.CompareAndSwap(p, n); p = a.peak.Load() {
					}
					time.Sleep(time.Millisecond) // overlap the partitions' fetches
					a.mu.Lock()
					defer a.mu.Unlock()
					a.fetches++
					if a.fetches == a.failAt {
						return errors.New("injected failure")
					}
					return nil
				}}, paginate.Offset(3))
		},
		Emit: func(ctx context.Context, w *connector.Writer, n int) error {
			return w.Upsert(ctx, "n", schema.Row{"n": n})
		},
		Truncate: true,
	}
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (a *shardedAPI) want() map[string]schema.Row {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := map[string]schema.Row{}
	for _, items := range a.shards {
		for _, n := range items {
			out[strconv.Itoa(n)] = schema.Row{"n": int64(n)}
		}
	}
	return out
}

var nTable = schema.Table{Name: "n", PrimaryKey: []string{"n"}, Columns: []schema.Column{{Name: "n", Type: schema.Long}}}

func TestPartitionedFullRefresh(t *testing.T) {
	defer goleak.VerifyNone(t)
	for failAt := 0; failAt <= 20; failAt += 4 {
		t.Run(fmt.Sprint("fetch ", failAt), func(t *testing.T) {
			api := newShardedAPI(6, 10)
			api.failAt = failAt
			c := &connector.Connector{Tables: []connector.Table{{Table: nTable, Stream: api.stream()}}}
			dest := ops.NewMemory()
			o := quiet()
			o.Partitions = 3
			_, err := c.Run(context.Background(), dest, o)
			if failAt > 0 && err == nil {
				t.Fatalf("Run() with fetch %d failing = nil, want the partition's error", failAt)
			}
			api.failAt = 0
			if failAt > 0 {
				// The plan and the partitions done survive the failure.
				st := loadState(dest).Tables["n"]
				if len(st.Partitions) != 6 {
					t.Fatalf("plan after a failed run = %d partitions, want 6", len(st.Partitions))
				}
				if _, err := c.Run(context.Background(), dest, o); err != nil {
					t.Fatalf("resumed Run() = %v", err)
				}
			}
			if diff := cmp.Diff(api.want(), dest.Live("n")); diff != "" {
				t.Errorf("table mismatch (-source +destination):\n%s", diff)
			}
			if p := api.peak.Load(); p < 2 || p > 3 {
				t.Errorf("partitions fetching at once = %d, want 2 or 3 (Options.Partitions = 3)", p)
			}
		})
	}
}

func TestPartitionedFullRefreshNewPass(t *testing.T) {
	api := newShardedAPI(3, 4)
	c := &connector.Connector{Tables: []connector.Table{{Table: nTable, Stream: api.stream()}}}
	dest := ops.NewMemory()
	if _, err := c.Run(context.Background(), dest, quiet()); err != nil {
		t.Fatal(err)
	}
	// A shard disappears and one is added: the next pass re-plans, and
	// the truncate at its start marks the gone rows deleted.
	delete(api.shards, "shard-1")
	api.shards["shard-9"] = []int{9000, 9001}
	if _, err := c.Run(context.Background(), dest, quiet()); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(api.want(), dest.Live("n")); diff != "" {
		t.Errorf("table after a re-planned pass mismatch (-source +destination):\n%s", diff)
	}
}

func partitionedUsers(api *fakeAPI) *connector.Connector {
	inc := api.stream(4, connector.PriorityFirst{Recent: 5 * oneDay, Window: 10 * oneDay, Partitioned: true})
	return &connector.Connector{Name: "users", Tables: []connector.Table{{Table: userTable, Stream: inc}}}
}

func TestPartitionedHistory(t *testing.T) {
	defer goleak.VerifyNone(t)
	for failAt := 0; failAt <= 30; failAt += 3 {
		t.Run(fmt.Sprint("fetch ", failAt), func(t *testing.T) {
			api := newFakeAPI(100, 2, oneDay) // 50 days
			now := t0.Add(50 * oneDay)
			dest := ops.NewMemory()
			o := quiet()
			o.Now = func() time.Time { return now }
			c := partitionedUsers(api)
			api.failAt = failAt
			_, _ = c.Run(context.Background(), dest, o)
			api.failAt = 0
			api.update("u0003", now.Add(time.Hour)) // a change in history, while it fills
			now = now.Add(2 * time.Hour)
			if _, err := c.Run(context.Background(), dest, o); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(api.rows(), dest.Live("user")); diff != "" {
				t.Errorf("table mismatch (-source +destination):\n%s", diff)
			}
			st := loadState(dest).Tables["user"]
			if st.History == nil || !st.History.Done {
				t.Errorf("history = %+v, want done", st.History)
			}
			// Windows of 10 days from the edge (day 45) down to the
			// oldest row (day 0).
			if len(st.Partitions) != 5 {
				t.Errorf("plan = %d partitions, want 5", len(st.Partitions))
			}
		})
	}
}

func TestPlanAndRunParts(t *testing.T) {
	api := newFakeAPI(100, 2, oneDay)
	now := t0.Add(50 * oneDay)
	dest := ops.NewMemory()
	o := quiet()
	o.Now = func() time.Time { return now }
	c := partitionedUsers(api)
	parts, err := c.Plan(context.Background(), dest, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(parts) != 6 || parts[0] != (connector.Part{Table: "user"}) {
		t.Fatalf("Plan() = %v, want the stream's own work and 5 partitions", parts)
	}
	// Planning again gives the same plan.
	again, err := c.Plan(context.Background(), dest, o)
	if err != nil || !slices.Equal(parts, again) {
		t.Fatalf("second Plan() = %v, %v; want %v", again, err, parts)
	}
	// Run the parts at once, as workers on several machines would: each
	// checkpoint merges its part into the stored state.
	var wg sync.WaitGroup
	errs := make([]error, len(parts))
	var saved atomic.Int32
	for i, p := range parts {
		wg.Go(func() {
			po := o
			po.Checkpointed = func(*state.State) { saved.Add(1) }
			_, errs[i] = c.RunPart(context.Background(), dest, p, po)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if saved.Load() == 0 {
		t.Errorf("Options.Checkpointed was never called")
	}
	if diff := cmp.Diff(api.rows(), dest.Live("user")); diff != "" {
		t.Errorf("table after running every part mismatch (-source +destination):\n%s", diff)
	}
	after, err := c.Plan(context.Background(), dest, o)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range after[1:] {
		if !p.Done {
			t.Errorf("part %v not done after it ran", p)
		}
	}
	st := loadState(dest).Tables["user"]
	if st.Mark.IsZero() || st.History == nil {
		t.Errorf("stored state %+v lost the stream's own progress", st)
	}
	if _, err := c.RunPart(context.Background(), dest, connector.Part{Table: "user", Partition: "nope"}, o); !errors.Is(err, connector.ErrNoPart) {
		t.Errorf("RunPart(unknown partition) = %v, want ErrNoPart", err)
	}
	if _, err := c.RunPart(context.Background(), stateless{dest}, parts[1], o); err == nil {
		t.Errorf("RunPart on a destination that cannot merge checkpoints = nil, want an error")
	}
}
