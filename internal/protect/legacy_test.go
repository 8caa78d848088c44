package protect

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"edge/internal/medimg"
)

var updateBodies = flag.Bool("update-bodies", false, "write testdata/bodies-<stream version>.json from the current encoder")

// bodyVector is one enciphered v1 body with what deciphering it must give.
// Each stream version's file is written once, by the encoder of that
// version, and kept: later versions must still decipher it.
type bodyVector struct {
	KBio         string `json:"kbio"`
	Width        int    `json:"width"`
	Height       int    `json:"height"`
	Channels     int    `json:"channels"`
	Bits         int    `json:"bits"`
	Signed       bool   `json:"signed"`
	Body         string `json:"body"`
	MarkedSHA256 string `json:"marked_sha256"`
}

func bodyImages() map[string]*medimg.Image {
	return map[string]*medimg.Image{
		"gray8":    synthetic(96, 80, 8, false, 1, 11),
		"signed12": synthetic(72, 64, 12, true, 1, 12),
		"rgb":      synthetic(64, 48, 8, false, 3, 13),
		"overlay":  overlay(synthetic(96, 72, 8, false, 1, 14)),
	}
}

// overlay makes an 8-bit gray image an ultrasound-like RGB one: gray
// everywhere (R = G = B) but in a blob, whose red and blue follow G as a
// pseudo-colour map does. Its stream takes the chroma palette (stream
// version 4).
func overlay(gray *medimg.Image) *medimg.Image {
	w, h := gray.Width, gray.Height
	im := &medimg.Image{Width: w, Height: h, Frames: 1, Channels: 3, BitsAllocated: 8, BitsStored: 8, Photometric: medimg.RGB,
		Pix: make([]int32, 3*w*h)}
	for y := range h {
		for x := range w {
			g := gray.Pix[y*w+x]
			r, b := g, g
			if dx, dy := 2*x-w, 3*y-h; dx*dx+dy*dy < w*w/4 {
				r, b = min(255, g+80), g/4
			}
			copy(im.Pix[3*(y*w+x):], []int32{r, g, b})
		}
	}
	return im
}

func makeBodyVectors(t *testing.T) map[string]bodyVector {
	out := map[string]bodyVector{}
	for name, im := range bodyImages() {
		kbio := bytes.Repeat([]byte{0xa5, byte(len(name))}, 16)
		body, err := Encipher(SchemeV1, im, kbio)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(im.RawBytes())
		out[name] = bodyVector{
			KBio: hex.EncodeToString(kbio), Width: im.Width, Height: im.Height, Channels: im.Channels,
			Bits: im.BitsStored, Signed: im.Signed, Body: hex.EncodeToString(body), MarkedSHA256: hex.EncodeToString(sum[:]),
		}
	}
	return out
}

// TestGoldenBodies deciphers the bodies every stream version wrote: an
// envelope sealed by older firmware still opens at the hub.
func TestGoldenBodies(t *testing.T) {
	if *updateBodies {
		b, _ := json.MarshalIndent(makeBodyVectors(t), "", "  ")
		if err := os.WriteFile(filepath.Join("testdata", "bodies-stream"+currentStreamVersion+".json"), append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	files, err := filepath.Glob(filepath.Join("testdata", "bodies-stream*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no body vectors in testdata (%v); run go test -run GoldenBodies -update-bodies", err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var vs map[string]bodyVector
		if err := json.Unmarshal(b, &vs); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for name, v := range vs {
			kbio, _ := hex.DecodeString(v.KBio)
			body, _ := hex.DecodeString(v.Body)
			want := &medimg.Image{Width: v.Width, Height: v.Height, Frames: 1, Channels: v.Channels, BitsAllocated: 8, BitsStored: v.Bits, Signed: v.Signed}
			if v.Bits > 8 {
				want.BitsAllocated = 16
			}
			im, err := Decipher(SchemeV1, body, kbio, want)
			if err != nil {
				t.Errorf("%s %s: %v", f, name, err)
				continue
			}
			sum := sha256.Sum256(im.RawBytes())
			if hex.EncodeToString(sum[:]) != v.MarkedSHA256 {
				t.Errorf("%s %s: deciphered image differs from the one enciphered", f, name)
			}
		}
	}
}
