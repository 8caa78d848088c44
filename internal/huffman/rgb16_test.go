package huffman

import (
	"bytes"
	"edge/internal/medimg"
	"testing"
)

// TestRGB16 is the regression test for 16-bit RGB: the R−G and B−G planes
// span 17 bits, whose residual tokens lie past a 16-bit alphabet (the encoder
// used to index a 64-entry histogram with token 67 and panic).
func TestRGB16(t *testing.T) {
	for name, im := range map[string]struct{ im *medimg.Image }{
		"extremes": {testImage(9, 7, 1, 3, 16, 16, false, func(_, y, x, c int) int32 {
			if (x+y+c)%2 == 0 {
				return 65535
			}
			return 0
		})},
		"ramp12": {testImage(40, 30, 2, 3, 16, 12, false, func(f, y, x, c int) int32 {
			return int32((x*97 + y*31 + c*1300 + f*7) % 4096)
		})},
		"signed": {testImage(17, 19, 1, 3, 16, 16, true, func(_, y, x, c int) int32 {
			return int32((x*4099+y*977+c*30011)%65536) - 32768
		})},
	} {
		var buf bytes.Buffer
		if err := NewEncoder(&buf).Encode(im.im); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got, err := NewDecoder(&buf, Limits{}).Decode()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		equalImages(t, got, im.im)
	}
}
