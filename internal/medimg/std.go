package medimg

import (
	"encoding/binary"
	"fmt"
	"image"
)

// StdImage converts a one-frame image to the standard library's image types
// (Gray, Gray16, opaque RGBA or RGBA64), for encoders and viewers. Signed samples keep
// their two's-complement bit pattern, as EncodePNG documents.
func StdImage(im *Image) (image.Image, error) {
	if err := im.Validate(); err != nil {
		return nil, err
	}
	if im.Frames != 1 {
		return nil, fmt.Errorf("medimg: a PNG holds one frame, this image has %d", im.Frames)
	}
	r := image.Rect(0, 0, im.Width, im.Height)
	switch {
	case im.Channels == 1 && im.BitsAllocated == 8:
		g := image.NewGray(r)
		for i, v := range im.Pix {
			g.Pix[i] = byte(v)
		}
		return g, nil
	case im.Channels == 1 && im.BitsAllocated == 16:
		g := image.NewGray16(r)
		for i, v := range im.Pix {
			binary.BigEndian.PutUint16(g.Pix[2*i:], uint16(v))
		}
		return g, nil
	case im.Channels == 3 && im.BitsAllocated == 8:
		// Opaque RGBA is written as colour type 2 (RGB) by image/png.
		c := image.NewRGBA(r)
		for i := 0; i < len(im.Pix)/3; i++ {
			c.Pix[4*i], c.Pix[4*i+1], c.Pix[4*i+2], c.Pix[4*i+3] = byte(im.Pix[3*i]), byte(im.Pix[3*i+1]), byte(im.Pix[3*i+2]), 0xFF
		}
		return c, nil
	case im.Channels == 3 && im.BitsAllocated == 16:
		// Opaque RGBA64 is written as colour type 2 at depth 16.
		c := image.NewRGBA64(r)
		for i := 0; i < len(im.Pix)/3; i++ {
			p := c.Pix[8*i : 8*i+8]
			binary.BigEndian.PutUint16(p[0:], uint16(im.Pix[3*i]))
			binary.BigEndian.PutUint16(p[2:], uint16(im.Pix[3*i+1]))
			binary.BigEndian.PutUint16(p[4:], uint16(im.Pix[3*i+2]))
			p[6], p[7] = 0xFF, 0xFF
		}
		return c, nil
	}
	return nil, fmt.Errorf("medimg: PNG output of %d-channel %d-bit images is not supported", im.Channels, im.BitsAllocated)
}
