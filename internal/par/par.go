// Package par runs independent jobs on a bounded number of goroutines. The
// coders split an image into pieces whose layout the format fixes; which
// goroutine takes which piece may vary, what each piece holds may not, so
// the bytes never depend on the number of cores.
package par

import (
	"sync"
	"sync/atomic"
)

// Run runs job(worker, j) for every j in [0, n) on at most workers
// goroutines, and returns when all have finished. worker, in [0, workers),
// names the goroutine, so a caller can give each its own scratch; with one
// worker (or one job) everything runs on the calling goroutine, in order.
func Run(n, workers int, job func(worker, j int)) {
	workers = min(workers, n)
	if workers <= 1 {
		for j := range n {
			job(0, j)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for {
				j := int(next.Add(1) - 1)
				if j >= n {
					return
				}
				job(w, j)
			}
		})
	}
	wg.Wait()
}

// Piece is the length of the pieces Pieces hands out: about 64 Ki samples,
// enough work to outweigh handing a piece to a goroutine, small enough that
// a large image's scan keeps every core busy to the end.
const Piece = 1 << 16

// Pieces runs f(worker, a, b) for the consecutive pieces [a, b) of [0, n),
// each Piece long but the last, on at most workers goroutines (see Run);
// piece j starts at j·Piece, so a caller can keep a result per piece.
func Pieces(n, workers int, f func(worker, a, b int)) {
	Run(PieceCount(n), workers, func(w, j int) {
		f(w, j*Piece, min(n, (j+1)*Piece))
	})
}

// PieceCount is the number of pieces Pieces makes of [0, n).
func PieceCount(n int) int { return (max(n, 0) + Piece - 1) / Piece }
