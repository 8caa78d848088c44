package par

import (
	"sync/atomic"
	"testing"
)

// TestRunEachJobOnce: every job runs exactly once, each worker index is in
// range, whatever the number of workers.
func TestRunEachJobOnce(t *testing.T) {
	for _, workers := range []int{0, 1, 2, 7, 100} {
		const n = 1000
		var seen [n]atomic.Int32
		var bad atomic.Bool
		Run(n, workers, func(w, j int) {
			if w < 0 || (workers > 0 && w >= workers) {
				bad.Store(true)
			}
			seen[j].Add(1)
		})
		if bad.Load() {
			t.Fatalf("workers=%d: a worker index out of range", workers)
		}
		for j := range seen {
			if c := seen[j].Load(); c != 1 {
				t.Fatalf("workers=%d: job %d ran %d times", workers, j, c)
			}
		}
	}
}

// TestRunOneWorkerInOrder: one worker runs the jobs on the caller's
// goroutine in order.
func TestRunOneWorkerInOrder(t *testing.T) {
	var got []int
	Run(5, 1, func(w, j int) { got = append(got, j) })
	for i, j := range got {
		if i != j {
			t.Fatalf("order %v", got)
		}
	}
	if len(got) != 5 {
		t.Fatalf("ran %d jobs", len(got))
	}
}
