package huffman

import (
	"bytes"
	"encoding/binary"
	"testing"

	"edge/internal/medimg"
)

// fuzzLimits keep a hostile header from making the fuzzer allocate gigabytes.
var fuzzLimits = Limits{MaxSamples: 1 << 18}

func fuzzDecode(t *testing.T, data []byte, zeroOrder bool) {
	var im *medimg.Image
	var err error
	if zeroOrder {
		im, err = DecodeZeroOrder(bytes.NewReader(data), fuzzLimits)
	} else {
		im, err = NewDecoder(bytes.NewReader(data), fuzzLimits).Decode()
	}
	if err != nil {
		return
	}
	if err := im.Validate(); err != nil {
		t.Fatalf("decoded an invalid image: %v", err)
	}
	// A stream that decodes is one this encoder could have written in
	// content: re-encoding must carry the same pixels.
	var buf bytes.Buffer
	if zeroOrder {
		err = EncodeZeroOrder(&buf, im)
	} else {
		err = NewEncoder(&buf).Encode(im)
	}
	if err != nil {
		t.Fatalf("re-encoding a decoded image: %v", err)
	}
	back, err := NewDecoder(&buf, fuzzLimits).Decode()
	if err != nil {
		t.Fatalf("decoding the re-encoded image: %v", err)
	}
	equalImages(t, back, im)
}

func FuzzDecode(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) { fuzzDecode(t, data, false) })
}

func FuzzDecodeZeroOrder(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) { fuzzDecode(t, data, true) })
}

// fuzzImage builds a small valid image from the fuzzer's numbers, its
// samples drawn from data (cycled) and folded into range: any size up to
// 40×40, up to 3 frames, gray or RGB, 1 to 16 bits stored, signed or not, and
// through sparse (0..15) the samples' spacing and offset: sparse = 0 uses
// the whole range; otherwise the low sparse bits are cleared (few distinct
// values, the palette case) and the values shifted into the top of the
// range (a narrow range far from zero). RGB with bit 2 of channels set is
// mostly gray: a pixel keeps its own R and B only where its G's low three
// bits are zero, and copies G otherwise (the chroma palette case).
func fuzzImage(w, h, frames, channels, bitsStored uint8, signed bool, sparse uint8, data []byte) *medimg.Image {
	im := &medimg.Image{
		Width: int(w%40) + 1, Height: int(h%40) + 1, Frames: int(frames%3) + 1,
		Channels: 1, BitsStored: int(bitsStored%16) + 1, Signed: signed,
		Photometric: medimg.Monochrome2,
	}
	if channels%2 == 1 {
		im.Channels, im.Photometric = 3, medimg.RGB
	}
	im.BitsAllocated = 8
	if im.BitsStored > 8 {
		im.BitsAllocated = 16
	}
	im.Pix = make([]int32, im.Samples())
	lo, hi := im.Range()
	span := int64(hi) - int64(lo) + 1
	k := uint(sparse%16) % uint(im.BitsStored)
	for i := range im.Pix {
		var v uint16
		if len(data) > 0 {
			j := 2 * i % (len(data) + len(data)%2)
			v = uint16(data[j%len(data)])
			if j+1 < len(data) {
				v = binary.LittleEndian.Uint16(data[j:])
			}
		}
		u := int64(v) % span
		if k > 0 {
			// Multiples of 2^k, in the upper half of the range.
			u = (u>>k)<<k | span/2
			u %= span
		}
		im.Pix[i] = int32(int64(lo) + u)
	}
	if im.Channels == 3 && channels&4 != 0 {
		for i := 0; i < len(im.Pix); i += 3 {
			if g := im.Pix[i+1]; (g-lo)&7 != 0 {
				im.Pix[i], im.Pix[i+2] = g, g
			}
		}
	}
	return im
}

func fuzzRoundTrip(t *testing.T, im *medimg.Image, zeroOrder bool) {
	var buf bytes.Buffer
	var err error
	if zeroOrder {
		err = EncodeZeroOrder(&buf, im)
	} else {
		err = NewEncoder(&buf).Encode(im)
	}
	if err != nil {
		t.Fatalf("%s: %v", geometry(im), err)
	}
	got, err := NewDecoder(&buf, Limits{}).Decode()
	if err != nil {
		t.Fatalf("%s: %v", geometry(im), err)
	}
	equalImages(t, got, im)
}

func FuzzRoundTrip(f *testing.F) {
	f.Fuzz(func(t *testing.T, w, h, frames, channels, bits uint8, signed bool, sparse uint8, data []byte) {
		fuzzRoundTrip(t, fuzzImage(w, h, frames, channels, bits, signed, sparse, data), false)
	})
}

func FuzzRoundTripZeroOrder(f *testing.F) {
	f.Fuzz(func(t *testing.T, w, h, frames, channels, bits uint8, signed bool, sparse uint8, data []byte) {
		fuzzRoundTrip(t, fuzzImage(w, h, frames, channels, bits, signed, sparse, data), true)
	})
}
