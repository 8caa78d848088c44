package huffman

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"

	"edge/internal/medimg"
)

// testImage makes a w×h image whose samples come from gen(frame, y, x, channel).
func testImage(w, h, frames, channels, bitsAlloc, bitsStored int, signed bool, gen func(f, y, x, c int) int32) *medimg.Image {
	im := &medimg.Image{Width: w, Height: h, Frames: frames, Channels: channels,
		BitsAllocated: bitsAlloc, BitsStored: bitsStored, Signed: signed, Photometric: medimg.Monochrome2}
	if channels == 3 {
		im.Photometric = medimg.RGB
	}
	im.Pix = make([]int32, im.Samples())
	i := 0
	for f := range frames {
		for y := range h {
			for x := range w {
				for c := range channels {
					im.Pix[i] = gen(f, y, x, c)
					i++
				}
			}
		}
	}
	return im
}

// edgeCases are the images every coder must carry exactly.
func edgeCases() map[string]*medimg.Image {
	rng := rand.New(rand.NewPCG(1, 2))
	cases := map[string]*medimg.Image{
		"1x1":          testImage(1, 1, 1, 1, 8, 8, false, func(int, int, int, int) int32 { return 77 }),
		"1x1-signed":   testImage(1, 1, 1, 1, 16, 16, true, func(int, int, int, int) int32 { return -32768 }),
		"flat":         testImage(33, 17, 1, 1, 8, 8, false, func(int, int, int, int) int32 { return 200 }),
		"all-zero":     testImage(64, 64, 1, 1, 16, 12, false, func(int, int, int, int) int32 { return 0 }),
		"full-scale":   testImage(64, 64, 1, 1, 16, 12, false, func(int, int, int, int) int32 { return 4095 }),
		"row":          testImage(300, 1, 1, 1, 8, 8, false, func(_, _, x, _ int) int32 { return int32(x % 256) }),
		"column":       testImage(1, 300, 1, 1, 8, 8, false, func(_, y, _, _ int) int32 { return int32(y * 7 % 256) }),
		"signed-poles": testImage(40, 30, 1, 1, 16, 16, true, func(_, y, x, _ int) int32 { return []int32{-32768, 32767, 0, -1}[(x+y)%4] }),
		"noise16": testImage(50, 40, 1, 1, 16, 16, false, func(int, int, int, int) int32 {
			return int32(rng.IntN(65536))
		}),
		"noise-signed": testImage(50, 40, 1, 1, 16, 16, true, func(int, int, int, int) int32 {
			return int32(rng.IntN(65536)) - 32768
		}),
		// Two-sample planes of noise: the most payload per sample.
		"tiny-noisy-frames": testImage(2, 1, 300, 3, 8, 8, false, func(int, int, int, int) int32 {
			return int32(rng.IntN(256))
		}),
		"tiny-noisy-frames16": testImage(1, 2, 300, 1, 16, 16, true, func(int, int, int, int) int32 {
			return int32(rng.IntN(65536)) - 32768
		}),
		"multiframe": testImage(31, 29, 4, 1, 16, 14, true, func(f, y, x, _ int) int32 {
			return int32((x*y+f*1000)%16384) - 8192
		}),
		"rgb": testImage(45, 37, 1, 3, 8, 8, false, func(_, y, x, c int) int32 {
			return int32((x*3 + y*5 + c*80 + rng.IntN(3)) % 256)
		}),
		"rgb-extremes": testImage(20, 20, 2, 3, 8, 8, false, func(_, y, x, c int) int32 {
			return []int32{0, 255}[(x+y+c)%2]
		}),
		"gradient-with-background": testImage(128, 96, 1, 1, 16, 12, false, func(_, y, x, _ int) int32 {
			if (x-64)*(x-64)+(y-48)*(y-48) > 900 {
				return 0
			}
			return int32(1000 + x*10 + y*3 + rng.IntN(20))
		}),
	}
	for b := 1; b <= 16; b++ {
		alloc := 8
		if b > 8 {
			alloc = 16
		}
		cases[fmt.Sprintf("bits%d", b)] = testImage(23, 19, 1, 1, alloc, b, false, func(_, y, x, _ int) int32 {
			return int32((x*x + y*3 + rng.IntN(4)) % (1 << b))
		})
		cases[fmt.Sprintf("bits%d-signed", b)] = testImage(19, 23, 1, 1, alloc, b, true, func(_, y, x, _ int) int32 {
			return int32((x*5+y*y+rng.IntN(4))%(1<<b)) - 1<<(b-1)
		})
	}
	return cases
}

func equalImages(t *testing.T, got, want *medimg.Image) {
	t.Helper()
	if g, w := geometry(got), geometry(want); g != w {
		t.Fatalf("geometry %s, want %s", g, w)
	}
	if len(got.Pix) != len(want.Pix) {
		t.Fatalf("%d samples, want %d", len(got.Pix), len(want.Pix))
	}
	for i := range want.Pix {
		if got.Pix[i] != want.Pix[i] {
			t.Fatalf("sample %d is %d, want %d", i, got.Pix[i], want.Pix[i])
		}
	}
}

func TestRoundTrip(t *testing.T) {
	enc := NewEncoder(nil)
	dec := NewDecoder(nil, Limits{})
	for name, im := range edgeCases() {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			enc.Reset(&buf)
			if err := enc.Encode(im); err != nil {
				t.Fatal(err)
			}
			dec.Reset(bytes.NewReader(buf.Bytes()))
			got, err := dec.Decode()
			if err != nil {
				t.Fatalf("decode %d bytes: %v", buf.Len(), err)
			}
			equalImages(t, got, im)

			v2 := encodeVersion(t, im, version2)
			if got, err = NewDecoder(bytes.NewReader(v2), Limits{}).Decode(); err != nil {
				t.Fatalf("decode %d bytes of version 2: %v", len(v2), err)
			}
			equalImages(t, got, im)

			buf.Reset()
			if err := enc.EncodeZeroOrder(im); err != nil {
				t.Fatal(err)
			}
			got, err = DecodeZeroOrder(bytes.NewReader(buf.Bytes()), Limits{})
			if err != nil {
				t.Fatalf("zero-order decode %d bytes: %v", buf.Len(), err)
			}
			equalImages(t, got, im)
		})
	}
}

func geometry(im *medimg.Image) string {
	return fmt.Sprintf("%dx%d frames=%d channels=%d bits=%d/%d signed=%v %q",
		im.Width, im.Height, im.Frames, im.Channels, im.BitsStored, im.BitsAllocated, im.Signed, im.Photometric)
}

// TestSameBytesOnAnyCoreCount checks that the stripes, coded on one
// goroutine or several, give the same stream, and that it decodes the same
// on any number.
func TestSameBytesOnAnyCoreCount(t *testing.T) {
	cases := edgeCases()
	cases["striped"] = testImage(700, 1000, 2, 1, 16, 12, false, func(f, y, x, _ int) int32 {
		return int32((x*x/7 + y*3 + f*50) % 4096)
	})
	cases["striped-rgb"] = testImage(900, 700, 1, 3, 8, 8, false, func(_, y, x, c int) int32 {
		return int32((x/3 + y/2 + c*40) % 256)
	})
	cases["striped-overlay"] = overlayImage(900, 700, 1, 8)
	for name, im := range cases {
		for _, ver := range []byte{version2, version3, version4} {
			var want []byte
			for _, workers := range []int{1, 2, 5} {
				var buf bytes.Buffer
				e := NewEncoder(&buf)
				e.workers, e.version = workers, ver
				if err := e.Encode(im); err != nil {
					t.Fatal(err)
				}
				if got := buf.Bytes()[4]; got != ver && !(ver == version4 && got == version3) {
					t.Fatalf("%s: format version %d, want %d", name, got, ver)
				}
				if want == nil {
					want = buf.Bytes()
				} else if !bytes.Equal(buf.Bytes(), want) {
					t.Errorf("%s, version %d: %d goroutines write %d bytes differing from one goroutine's %d", name, ver, workers, buf.Len(), len(want))
				}
				d := NewDecoder(bytes.NewReader(want), Limits{})
				d.workers = workers
				got, err := d.Decode()
				if err != nil {
					t.Fatalf("%s, version %d, %d goroutines: %v", name, ver, workers, err)
				}
				equalImages(t, got, im)
			}
		}
	}
}

// TestLongRunsRecorded covers runs whose extra bits do not fit a record word.
func TestLongRunsRecorded(t *testing.T) {
	im := testImage(1<<17+5, 2, 1, 1, 8, 8, false, func(_, y, x, _ int) int32 {
		if y == 1 && x == 1<<17 {
			return 9
		}
		return 3
	})
	var buf bytes.Buffer
	if err := NewEncoder(&buf).Encode(im); err != nil {
		t.Fatal(err)
	}
	got, err := NewDecoder(&buf, Limits{}).Decode()
	if err != nil {
		t.Fatal(err)
	}
	equalImages(t, got, im)
}
