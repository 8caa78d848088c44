package appliance

import (
	"bytes"
	"encoding/json"
	"image/png"
	"testing"

	"edge/board"
	"edge/internal/medimg"
)

// TestBoardExampleConfig: the example config a board tarball ships beside
// the unit (board/pack's ExampleConfig: board, model, keys, store) parses,
// with the state folder systemd's StateDirectory= gives.
func TestBoardExampleConfig(t *testing.T) {
	for _, name := range board.Names() {
		p, err := board.Load(name)
		if err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(map[string]string{"board": p.Install.Profile, "model": p.Install.Model, "keys": p.Install.State + "/keys", "store": p.Install.State + "/templates"})
		if err != nil {
			t.Fatal(err)
		}
		t.Setenv("STATE_DIRECTORY", p.Install.State)
		c, err := ParseConfig(b)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if c.DeviceKey != p.Install.State+"/keys/device.key" || c.Board != p.Install.Profile || c.StateDir != p.Install.State {
			t.Errorf("%s: %+v", name, c)
		}
	}
}

func TestThumbnailOfMarkedImage(t *testing.T) {
	im := &medimg.Image{Width: 600, Height: 300, Frames: 1, Channels: 1, BitsAllocated: 16, BitsStored: 12, Photometric: medimg.Monochrome2}
	im.Pix = make([]int32, 600*300)
	for i := range im.Pix {
		im.Pix[i] = int32(i % 600 * 4095 / 599)
	}
	g, err := png.Decode(bytes.NewReader(thumbnail(im, 160)))
	if err != nil {
		t.Fatal(err)
	}
	if b := g.Bounds(); b.Dx() != 150 || b.Dy() != 75 {
		t.Errorf("thumbnail %v, want 150×75 (step 4)", b)
	}
	if r, _, _, _ := g.At(0, 0).RGBA(); r != 0 {
		t.Errorf("darkest sample maps to %d", r>>8)
	}
	if r, _, _, _ := g.At(149, 0).RGBA(); r>>8 < 250 {
		t.Errorf("brightest sample maps to %d", r>>8)
	}
	if thumbnail(&medimg.Image{}, 160) != nil {
		t.Error("thumbnail of an empty image")
	}
}
