package state_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/connectkit/connector/state"
)

func TestMemory(t *testing.T) {
	ctx := context.Background()
	var m state.Memory
	got, err := m.Load(ctx)
	if err != nil {
		t.Fatalf("Load of an empty store: %v", err)
	}
	if diff := cmp.Diff(state.New(), got); diff != "" {
		t.Errorf("Load of an empty store mismatch (-want +got):\n%s", diff)
	}

	s := sample()
	if err := m.Save(ctx, s); err != nil {
		t.Fatalf("Save: %v", err)
	}
	s.Table("orders").Mark.ID = state.String("changed after save")
	got, err = m.Load(ctx)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if diff := cmp.Diff(sample(), got); diff != "" {
		t.Errorf("Load mismatch (-want +got):\n%s", diff)
	}
	got.Table("orders").Mark.ID = state.String("changed after load")
	again, _ := m.Load(ctx)
	if diff := cmp.Diff(sample(), again); diff != "" {
		t.Errorf("changing a loaded state changed the store (-want +got):\n%s", diff)
	}
	if got, want := m.Saves(), 1; got != want {
		t.Errorf("Saves() = %d, want %d", got, want)
	}
	if err := m.Save(ctx, nil); err == nil {
		t.Error("Save(nil) succeeded, want an error")
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := m.Save(cancelled, s); err == nil {
		t.Error("Save with a cancelled context succeeded, want an error")
	}
	if got, want := m.Saves(), 1; got != want {
		t.Errorf("Saves() after failed saves = %d, want %d", got, want)
	}
}

func TestMemoryConcurrent(t *testing.T) {
	ctx := context.Background()
	var m state.Memory
	var wg sync.WaitGroup
	const workers, saves = 8, 50
	for w := range workers {
		wg.Go(func() {
			s := state.New()
			for i := range saves {
				s.Table(fmt.Sprint("t", w)).Mark.ID = state.String(fmt.Sprint(i))
				if err := m.Save(ctx, s); err != nil {
					t.Errorf("Save: %v", err)
				}
				if _, err := m.Load(ctx); err != nil {
					t.Errorf("Load: %v", err)
				}
			}
		})
	}
	wg.Wait()
	if got, want := m.Saves(), workers*saves; got != want {
		t.Errorf("Saves() = %d, want %d", got, want)
	}
}
