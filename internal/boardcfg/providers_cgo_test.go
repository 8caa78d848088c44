//go:build cgo

package boardcfg

import (
	"testing"

	"edge/board"
	"edge/internal/infer"
)

// Every provider a built-in profile lists is one the inference package can
// ask ONNX Runtime for; a typo would otherwise surface only on the board.
func TestProfileProvidersAreKnown(t *testing.T) {
	for _, n := range board.Names() {
		p := load(t, n)
		if err := infer.CheckProviders(p.ExecutionProviders); err != nil {
			t.Errorf("%s: %v", n, err)
		}
	}
}
