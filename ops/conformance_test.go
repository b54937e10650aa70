package ops_test

import (
	"testing"

	"github.com/connectkit/connector/ops"
	"github.com/connectkit/connector/ops/opstest"
)

func TestMemoryConformance(t *testing.T) {
	opstest.Run(t, memoryHarness())
}

func TestDirConformance(t *testing.T) {
	opstest.Run(t, dirHarness(ops.DirOptions{}))
}

// A small buffer flushes lines, and cuts them, in the middle of a Write.
func TestDirConformanceSmallBuffer(t *testing.T) {
	opstest.RunOptions(t, dirHarness(ops.DirOptions{BufferSize: 100}), opstest.Options{Run: "Durability|Random|Concurrent", Seeds: []uint64{4}})
}
