package medimg

import "testing"

// Frames × Channels must not wrap in a 32-bit int (ARMv7 boards): 1431655766 × 3
// is 2 modulo 2³².
func TestCheckGeometryNoOverflow(t *testing.T) {
	for _, im := range []*Image{
		{Width: 1, Height: 1, Frames: 1431655766, Channels: 3, BitsAllocated: 8, BitsStored: 8},
		{Width: 65536, Height: 65536, Frames: 1, Channels: 1, BitsAllocated: 8, BitsStored: 8},
		{Width: 1 << 16, Height: 1 << 15, Frames: 1, Channels: 3, BitsAllocated: 8, BitsStored: 8},
	} {
		if err := im.CheckGeometry(); err == nil {
			t.Errorf("%d×%d×%d frames×%d channels accepted", im.Width, im.Height, im.Frames, im.Channels)
		}
	}
	ok := &Image{Width: 4096, Height: 4096, Frames: 64, Channels: 1, BitsAllocated: 16, BitsStored: 12}
	if err := ok.CheckGeometry(); err != nil {
		t.Error(err)
	}
}
