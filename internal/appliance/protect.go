package appliance

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"sync"
	"time"

	"edge/internal/biometric"
	"edge/internal/medimg"
	"edge/internal/protect"
)

// sealer protects images one at a time with one protect.Sealer, whose
// buffers it keeps between images (a Sealer is not safe for concurrent
// use; the modality may hold several associations).
type sealer struct {
	mu     sync.Mutex
	s      protect.Sealer
	scheme string
	limits medimg.Limits
}

// sealed is one protected image, with what the status page shows.
type sealed struct {
	envelope   []byte
	id         string
	clinician  string
	thumb      []byte // PNG of the marked image, downscaled
	origBytes  int
	psnr, ssim float64
	took       time.Duration
}

// seal reads the DICOM or PNG file at path and protects it for ident.
func (z *sealer) seal(ctx context.Context, path string, ident *biometric.Identity) (*sealed, error) {
	im, c, err := z.limits.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("appliance: read image: %w", err)
	}
	t0 := time.Now()
	z.mu.Lock()
	p, err := z.s.Protect(ctx, &protect.Request{Image: im, Container: c, Identity: ident, Scheme: z.scheme})
	var env []byte
	if err == nil {
		// The envelope lives in the Sealer's buffers until its next image.
		env = bytes.Clone(p.Envelope)
	}
	z.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return &sealed{
		envelope: env, id: hex.EncodeToString(p.Header.ID[:]), clinician: ident.ClinicianID(),
		thumb: thumbnail(p.Marked, 160), origBytes: im.RawSize(), psnr: p.PSNR, ssim: p.SSIM, took: time.Since(t0),
	}, nil
}

// thumbnail is the first frame of the marked image, windowed to its own
// range, at most side pixels on its longer side, as an 8-bit gray PNG; nil
// if it cannot be made (the status page then shows no picture).
func thumbnail(im *medimg.Image, side int) []byte {
	if im == nil || im.Width <= 0 || im.Height <= 0 || len(im.Pix) < im.Width*im.Height*im.Channels {
		return nil
	}
	step := max((max(im.Width, im.Height)+side-1)/side, 1)
	w, h := (im.Width+step-1)/step, (im.Height+step-1)/step
	at := func(x, y int) int32 {
		i := (y*im.Width + x) * im.Channels
		if im.Channels == 3 {
			return (im.Pix[i] + im.Pix[i+1] + im.Pix[i+2]) / 3
		}
		return im.Pix[i]
	}
	lo, hi := at(0, 0), at(0, 0)
	for y := 0; y < im.Height; y += step {
		for x := 0; x < im.Width; x += step {
			v := at(x, y)
			lo, hi = min(lo, v), max(hi, v)
		}
	}
	g := image.NewGray(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			v := at(x*step, y*step)
			var s uint8
			if hi > lo {
				s = uint8(int64(v-lo) * 255 / int64(hi-lo))
			}
			if im.Photometric == medimg.Monochrome1 {
				s = 255 - s
			}
			g.SetGray(x, y, color.Gray{Y: s})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, g); err != nil {
		return nil
	}
	return b.Bytes()
}
