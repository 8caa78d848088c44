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

// TestPiecesCoverOnce: the pieces tile [0, n) exactly, each starts at a
// multiple of Piece and only the last is short, for lengths around the
// piece boundaries and any number of workers.
func TestPiecesCoverOnce(t *testing.T) {
	for _, n := range []int{0, 1, Piece - 1, Piece, Piece + 1, 3*Piece + 17} {
		for _, workers := range []int{1, 2, 5} {
			seen := make([]atomic.Int32, n)
			var bad atomic.Bool
			var pieces atomic.Int32
			Pieces(n, workers, func(w, a, b int) {
				pieces.Add(1)
				if w < 0 || w >= workers || a%Piece != 0 || a >= b || b > n || (b-a != Piece && b != n) {
					bad.Store(true)
					return
				}
				for i := a; i < b; i++ {
					seen[i].Add(1)
				}
			})
			if bad.Load() {
				t.Fatalf("n=%d workers=%d: a piece out of shape", n, workers)
			}
			if got := int(pieces.Load()); got != PieceCount(n) {
				t.Fatalf("n=%d: %d pieces, PieceCount says %d", n, got, PieceCount(n))
			}
			for i := range seen {
				if c := seen[i].Load(); c != 1 {
					t.Fatalf("n=%d workers=%d: index %d covered %d times", n, workers, i, c)
				}
			}
		}
	}
}
