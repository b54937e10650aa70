package connector_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/connectkit/connector"
	"github.com/connectkit/connector/ops"
)

const oneDay = 24 * time.Hour

func TestPriorityFirst(t *testing.T) {
	api := newFakeAPI(200, 2, oneDay) // two users a day for 100 days
	now := t0.Add(100 * oneDay)
	pf := connector.PriorityFirst{Recent: 10 * oneDay, Window: 20 * oneDay, MaxWindows: 2}
	dest := ops.NewMemory()
	c := api.connector(7, pf)
	o := quiet()
	o.Now = func() time.Time { return now }

	// Sync 1: the recent ten days first, then two windows of history.
	if _, err := c.Run(context.Background(), dest, o); err != nil {
		t.Fatal(err)
	}
	edge := now.Add(-10 * oneDay)
	seenHistory := false
	emitted := api.takeEmitted()
	for i, u := range emitted {
		recent := !u.UpdatedAt.Before(edge)
		if recent && seenHistory {
			t.Fatalf("row %d (%v) is recent but came after a historical row", i, u.UpdatedAt)
		}
		seenHistory = seenHistory || !recent
	}
	if want := 20 + 40 + 40; len(emitted) != want {
		t.Errorf("rows in sync 1 = %d, want %d (10 recent days and two 20-day windows)", len(emitted), want)
	}
	if h := loadState(dest).Tables["user"].History; h == nil || !h.Until.Equal(now.Add(-50*oneDay)) || h.Done {
		t.Errorf("history after sync 1 = %+v, want until %v, not done", h, now.Add(-50*oneDay))
	}

	// A change during history: the row moves to now, the forward pass
	// of the next sync picks it up.
	api.update("u0001", now.Add(time.Hour))
	now = now.Add(2 * time.Hour)
	for range 3 {
		if _, err := c.Run(context.Background(), dest, o); err != nil {
			t.Fatal(err)
		}
	}
	if h := loadState(dest).Tables["user"].History; h == nil || !h.Done {
		t.Errorf("history after 4 syncs = %+v, want done", h)
	}
	if diff := cmp.Diff(api.rows(), dest.Live("user")); diff != "" {
		t.Errorf("table after priority-first syncs mismatch (-source +destination):\n%s", diff)
	}
}

func TestPriorityFirstWithOldest(t *testing.T) {
	api := newFakeAPI(100, 1, oneDay)
	now := t0.Add(100 * oneDay)
	pf := connector.PriorityFirst{Recent: 30 * oneDay, Oldest: t0.Add(50 * oneDay)}
	dest := ops.NewMemory()
	o := quiet()
	o.Now = func() time.Time { return now }
	if _, err := api.connector(10, pf).Run(context.Background(), dest, o); err != nil {
		t.Fatal(err)
	}
	if got := len(dest.Live("user")); got != 50 {
		t.Errorf("rows synced back to Oldest = %d, want 50", got)
	}
	if h := loadState(dest).Tables["user"].History; h == nil || !h.Done || !h.Until.Equal(pf.Oldest) {
		t.Errorf("history = %+v, want done at %v", h, pf.Oldest)
	}
}

func TestPriorityFirstRecentReachesOldest(t *testing.T) {
	api := newFakeAPI(20, 1, oneDay)
	now := t0.Add(20 * oneDay)
	dest := ops.NewMemory()
	o := quiet()
	o.Now = func() time.Time { return now }
	c := api.connector(5, connector.PriorityFirst{Recent: 30 * oneDay, Oldest: t0.Add(-5 * oneDay)})
	if _, err := c.Run(context.Background(), dest, o); err != nil {
		t.Fatal(err)
	}
	for _, w := range api.windows {
		if !w.Until.IsZero() && !w.Since.Before(w.Until) {
			t.Errorf("asked the source for the empty or inverted window %v", w)
		}
	}
	if h := loadState(dest).Tables["user"].History; h == nil || !h.Done {
		t.Errorf("history = %+v, want done: the recent window reaches past Oldest", h)
	}
	if got := len(dest.Live("user")); got != 20 {
		t.Errorf("rows = %d, want 20", got)
	}
}

func TestPriorityFirstWithoutRecentRows(t *testing.T) {
	// 300 users, all older than the recent window: the first sync finds
	// nothing recent, then fills history. The second sync, after two
	// changes, must upsert those two, not re-read history.
	api := newFakeAPI(300, 3, time.Hour)
	now := t0.Add(200 * oneDay)
	dest := ops.NewMemory()
	o := quiet()
	o.Now = func() time.Time { return now }
	c := api.connector(10, connector.PriorityFirst{Recent: oneDay, Window: 10 * oneDay})
	sum, err := c.Run(context.Background(), dest, o)
	if err != nil {
		t.Fatal(err)
	}
	if ts, _ := sum.Table("user"); ts.Upserts != 300 {
		t.Fatalf("first sync upserts = %d, want 300", ts.Upserts)
	}
	api.update("u0007", now.Add(time.Minute))
	api.update("u0100", now.Add(2*time.Minute))
	now = now.Add(time.Hour)
	api.takeEmitted()
	sum, err = c.Run(context.Background(), dest, o)
	if err != nil {
		t.Fatal(err)
	}
	if ts, _ := sum.Table("user"); ts.Upserts != 2 {
		t.Errorf("second sync upserts = %d, want 2 (the changes, not history)", ts.Upserts)
	}
	var ids []string
	for _, u := range api.takeEmitted() {
		ids = append(ids, u.ID)
	}
	if !slices.Equal(ids, []string{"u0007", "u0100"}) {
		t.Errorf("second sync emitted %v, want the two changed users", ids)
	}
	if diff := cmp.Diff(api.rows(), dest.Live("user")); diff != "" {
		t.Errorf("table mismatch (-source +destination):\n%s", diff)
	}
}

func TestPriorityFirstBudgetAndCrashResume(t *testing.T) {
	// History over several syncs with a crash at every fetch of the
	// first one: every row is synced once the syncs complete.
	for failAt := 1; failAt <= 12; failAt++ {
		t.Run(fmt.Sprint("fetch ", failAt), func(t *testing.T) {
			api := newFakeAPI(60, 2, oneDay)
			now := t0.Add(40 * oneDay)
			dest := ops.NewMemory()
			o := quiet()
			o.Now = func() time.Time { return now }
			c := api.connector(4, connector.PriorityFirst{Recent: 5 * oneDay, Window: 7 * oneDay, MaxWindows: 2})
			api.failAt = failAt
			_, _ = c.Run(context.Background(), dest, o)
			api.failAt = 0
			for range 6 {
				if _, err := c.Run(context.Background(), dest, o); err != nil {
					t.Fatal(err)
				}
			}
			if diff := cmp.Diff(api.rows(), dest.Live("user")); diff != "" {
				t.Errorf("table mismatch (-source +destination):\n%s", diff)
			}
		})
	}
}
