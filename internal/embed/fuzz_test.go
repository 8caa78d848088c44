package embed

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"edge/internal/medimg"
)

// imageFrom turns fuzz bytes into a small valid image: six bytes of geometry
// and kind, then samples (repeated when short). ok is false when there are no
// bytes for samples.
func imageFrom(data []byte) (*medimg.Image, bool) {
	if len(data) < 7 {
		return nil, false
	}
	im := &medimg.Image{
		Width: int(data[0]%32) + 1, Height: int(data[1]%32) + 1, Frames: int(data[2]%2) + 1,
		Channels: 1, BitsAllocated: 8, Photometric: medimg.Monochrome2,
	}
	if data[3]&1 != 0 {
		im.Channels, im.Photometric = 3, medimg.RGB
	}
	if data[3]&2 != 0 {
		im.BitsAllocated = 16
	}
	im.Signed = data[3]&4 != 0
	im.BitsStored = int(data[4])%im.BitsAllocated + 1
	lo, hi := im.Range()
	span := int64(hi) - int64(lo) + 1
	src := data[5:]
	im.Pix = make([]int32, im.Samples())
	for i := range im.Pix {
		v := int64(src[(2*i)%len(src)])<<8 | int64(src[(2*i+1)%len(src)])
		im.Pix[i] = int32(int64(lo) + v%span)
	}
	return im, true
}

// extractSeeds are marked images in imageFrom's form, so that the fuzzer
// starts past the header check: marks of every version.
func extractSeeds(t testing.TB) [][2][]byte {
	var out [][2][]byte
	for j, hdr := range [][]byte{{31, 31, 0, 0, 7}, {29, 27, 0, 2, 15}, {30, 28, 1, 0, 7}} {
		data := append(append([]byte(nil), hdr...), 0, 100, 0, 100, 0, 101)
		im, _ := imageFrom(data)
		m, err := embedVersion(im, []byte("seed payload"), testKey(11), uint8(1+j%version))
		if err != nil {
			t.Fatal(err)
		}
		raw := append([]byte(nil), hdr...)
		lo, _ := m.Range()
		for _, v := range m.Pix {
			raw = append(raw, byte((v-lo)>>8), byte(v-lo))
		}
		out = append(out, [2][]byte{raw, testKey(11)})
	}
	return out
}

func roundTripSeeds() [][3][]byte {
	return [][3][]byte{
		{{39, 39, 0, 0, 7, 10, 20, 30, 40}, []byte("payload"), testKey(13)},
		{{30, 30, 1, 3, 11, 0, 0}, {}, testKey(13)},
		{{39, 39, 0, 2, 15, 255, 255}, bytes.Repeat([]byte{0xa5}, 40), testKey(14)},
		{{20, 39, 2, 5, 3, 9, 1, 200}, []byte("x"), testKey(15)},
	}
}

// TestFuzzSeeds checks that the committed seed corpus is what the seed
// generators make (rewrite it with -update).
func TestFuzzSeeds(t *testing.T) {
	write := func(name string, i int, parts ...[]byte) {
		s := "go test fuzz v1\n"
		for _, p := range parts {
			s += "[]byte(" + strconv.Quote(string(p)) + ")\n"
		}
		path := filepath.Join("testdata", "fuzz", name, fmt.Sprintf("seed%d", i))
		if *update {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != s {
			t.Errorf("%s is stale or missing (run with -update): %v", path, err)
		}
	}
	for i, s := range extractSeeds(t) {
		write("FuzzExtract", i, s[0], s[1])
	}
	for i, s := range roundTripSeeds() {
		write("FuzzRoundTrip", i, s[0], s[1], s[2])
	}
}

func FuzzExtract(f *testing.F) {
	for _, s := range extractSeeds(f) {
		f.Add(s[0], s[1])
	}
	f.Add([]byte{7, 7, 0, 0, 7, 1, 2, 3}, testKey(12))
	f.Fuzz(func(t *testing.T, data, key []byte) {
		im, ok := imageFrom(data)
		if !ok {
			return
		}
		k := make([]byte, KeySize)
		copy(k, key)
		p, orig, err := Extract(im, k)
		if err == nil {
			// Only a real mark verifies: re-embedding with one of the
			// versions must reproduce im.
			for v := uint8(1); v <= version; v++ {
				if m, err := embedVersion(orig, p, k, v); err == nil && bytes.Equal(m.RawBytes(), im.RawBytes()) {
					return
				}
			}
			t.Fatal("Extract accepted an image Embed does not make")
		}
	})
}

func FuzzRoundTrip(f *testing.F) {
	for _, s := range roundTripSeeds() {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, data, payload, key []byte) {
		im, ok := imageFrom(data)
		if !ok || len(payload) > 512 {
			return
		}
		k := make([]byte, KeySize)
		copy(k, key)
		m, err := Embed(im, payload, k)
		if err != nil {
			if !errors.Is(err, ErrCapacity) {
				t.Fatalf("Embed: %v", err)
			}
			return
		}
		p, orig, err := Extract(m, k)
		if err != nil {
			t.Fatalf("Extract: %v", err)
		}
		if !bytes.Equal(p, payload) || !bytes.Equal(orig.RawBytes(), im.RawBytes()) {
			t.Fatal("round trip not exact")
		}
	})
}

// FuzzExtractSealed feeds arbitrary restore records (they arrive from the
// envelope) against a real sealed mark: never a panic, and only the true
// record restores.
func FuzzExtractSealed(f *testing.F) {
	im := synth(48, 48, 1, 1, 8, 8, false, 9)
	key := testKey(13)
	m, err := EmbedSealed(im, payload280(5)[:200], key)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(m.Restore)
	f.Add([]byte{1, 0, 0, 0, 80})
	f.Add([]byte{1, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, rec []byte) {
		_, orig, err := ExtractSealed(m.Image, key, rec)
		if err == nil && !bytes.Equal(orig.RawBytes(), im.RawBytes()) {
			t.Fatal("a restore record gave a wrong image without an error")
		}
	})
}
