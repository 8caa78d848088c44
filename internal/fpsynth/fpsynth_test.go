package fpsynth

import (
	"bytes"
	"testing"
)

func TestPrintIsDeterministicAndRidged(t *testing.T) {
	a, err := Print(256, 288, 1)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Print(256, 288, 1)
	c, _ := Print(256, 288, 2)
	if !bytes.Equal(a.Pix, b.Pix) {
		t.Fatal("same seed, different prints")
	}
	if bytes.Equal(a.Pix, c.Pix) {
		t.Fatal("different seeds, same print")
	}
	// Ridges: along the middle row the grey level crosses its mean many times.
	row := a.Pix[144*a.Stride+40 : 144*a.Stride+216]
	mean := 0
	for _, v := range row {
		mean += int(v)
	}
	mean /= len(row)
	cross := 0
	for i := 1; i < len(row); i++ {
		if (int(row[i-1]) < mean) != (int(row[i]) < mean) {
			cross++
		}
	}
	if cross < 20 {
		t.Fatalf("only %d mean crossings across 176 pixels: no ridge pattern", cross)
	}
	if _, err := Print(8, 8, 1); err == nil {
		t.Fatal("8×8 print accepted")
	}
}
