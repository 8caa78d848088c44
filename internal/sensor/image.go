package sensor

import (
	"context"
	"errors"
	"fmt"
	"image"
	"time"
)

// maxSlip is how far, in bytes, a packet may sit from where the previous
// good packet puts it and still be placed: each dropped or repeated byte on
// the line moves the packets after it by one. A whole packet (at least 43
// bytes) is far outside it.
const maxSlip = 8

// Progress reports an image upload: Received of Total image bytes in the
// current try (Try counts from 1), and Have bytes verified so far over all
// tries.
type Progress struct {
	Try                   int
	Received, Have, Total int
}

// ImageBytes is the size of the module's image on the wire.
func (d *Dev) ImageBytes() int { return d.opts.Width * d.opts.Height / 2 }

// UpImage uploads the image buffer and widens it to 8 bits (value 17·v for
// the 4-bit v). It reads the data packet size from the module first if
// ReadSysPara has not been called. progress, when not nil, is called after
// each packet.
//
// A packet that fails its checksum or length is left out and fetched again by
// another UpImage. The others are numbered by their offset from the previous
// good packet, and kept only if the next packet began right where they
// ended (a packet whose bytes slipped can pass the 16-bit sum by chance; the
// packet after it then starts in the wrong place). A try's packets count
// only if its end packet arrived with the number the geometry gives it, which
// proves no whole packet went missing or appeared, or, for a try cut short,
// if their offsets from the acknowledgement are exact. The image is returned
// only when every packet was placed.
func (d *Dev) UpImage(ctx context.Context, progress func(Progress)) (*image.Gray, error) {
	if d.packetSize == 0 {
		if _, err := d.ReadSysPara(ctx); err != nil {
			return nil, err
		}
	}
	ps := d.packetSize
	total := d.ImageBytes()
	if total%ps != 0 {
		return nil, fmt.Errorf("sensor: UpImage: %d image bytes are not a whole number of %d-byte packets", total, ps)
	}
	n := total / ps
	raw := make([]byte, total)
	have := make([]bool, n)
	got := 0
	stride := int64(ps + headerLen + 2)
	var last error
	type placed struct {
		k     int
		delta int64
		end   int64
		data  []byte
	}
	for try := 1; try <= d.opts.UploadTries && got < n; try++ {
		if try > 1 {
			if err := d.rd.drain(ctx, d.opts.Quiet, d.opts.Timeout); err != nil {
				return nil, fmt.Errorf("sensor: UpImage: %w", err)
			}
		} else {
			d.rd.reset()
		}
		if err := d.send("UpImage", []byte{cmdUpImage}); err != nil {
			return nil, err
		}
		p, start, size, err := d.ack(ctx, 1)
		if errors.Is(err, ErrTimeout) {
			last = fmt.Errorf("no acknowledgement: %w", err)
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("sensor: UpImage: %w", err)
		}
		if c := Code(p[0]); c == PacketReceiveErr {
			last = c
			continue
		} else if c != OK {
			return nil, fmt.Errorf("sensor: UpImage: %w", c)
		}
		base := start + int64(size)
		var (
			kept    []placed
			pending *placed
			sawEnd  bool
			// The last packet that passed its checks: the next one is
			// placed relative to it, so slips do not add up over a try.
			anchorK  = int64(-1)
			anchorAt = base - stride
			lastRel  int64
		)
		for {
			wait := d.opts.Timeout
			if d.rd.received()-base >= int64(n)*stride-maxSlip {
				// Every byte of the try is in: what is missing was lost on
				// the line, and waiting longer brings nothing.
				wait = min(wait, d.opts.Quiet+d.byteTime(32))
			}
			f, at, size, err := d.rd.next(ctx, time.Now().Add(wait))
			if errors.Is(err, ErrTimeout) {
				last = fmt.Errorf("image packets stopped after byte %d of the try: %w", lastRel, err)
				break
			}
			if err != nil {
				return nil, fmt.Errorf("sensor: UpImage: %w", err)
			}
			lastRel = at + int64(size) - base
			if pending != nil && pending.end == at {
				kept = append(kept, *pending)
			}
			pending = nil
			if f.PID != PIDData && f.PID != PIDEnd {
				last = fmt.Errorf("packet identifier %#02x among the image packets", f.PID)
				break
			}
			k := anchorK + (at-anchorAt+stride/2)/stride
			slip := at - anchorAt - (k-anchorK)*stride
			if len(f.Payload) != ps || k <= anchorK || k >= int64(n) || slip < -maxSlip || slip > maxSlip || (f.PID == PIDEnd) != (k == int64(n-1)) {
				if f.PID == PIDEnd {
					break
				}
				continue
			}
			anchorK, anchorAt = k, at
			pl := placed{int(k), at - base - k*stride, at + int64(size), append([]byte(nil), f.Payload...)}
			if progress != nil {
				progress(Progress{Try: try, Received: (int(k) + 1) * ps, Have: got * ps, Total: total})
			}
			if f.PID == PIDEnd {
				kept = append(kept, pl)
				sawEnd = true
				break
			}
			pending = &pl
		}
		for _, pl := range kept {
			if have[pl.k] || (!sawEnd && pl.delta != 0) {
				continue
			}
			copy(raw[pl.k*ps:], pl.data)
			have[pl.k] = true
			got++
		}
		if progress != nil {
			progress(Progress{Try: try, Received: total, Have: got * ps, Total: total})
		}
		if got < n && last == nil {
			last = fmt.Errorf("%d of %d packets broken", n-got, n)
		}
	}
	if got < n {
		return nil, fmt.Errorf("sensor: UpImage: %d of %d image packets missing after %d tries: %w", n-got, n, d.opts.UploadTries, last)
	}
	return Widen(raw, d.opts.Width, d.opts.Height), nil
}

// Widen turns the module's 4-bit image (left pixel in the high nibble) into
// 8-bit gray.
func Widen(raw []byte, w, h int) *image.Gray {
	g := image.NewGray(image.Rect(0, 0, w, h))
	for i, b := range raw[:w*h/2] {
		g.Pix[2*i] = 17 * (b >> 4)
		g.Pix[2*i+1] = 17 * (b & 15)
	}
	return g
}

// Toucher reports a finger landing on the sensor; the gpio package's Lines
// is one.
type Toucher interface {
	WaitTouch(ctx context.Context) error
}

// PollInterval is how long Capture waits between GenImg tries when no finger
// is on the sensor and there is no touch line to wait on.
const PollInterval = 250 * time.Millisecond

// Capture waits for a finger (on touch when not nil, else by asking the
// module), takes its image and uploads it.
func (d *Dev) Capture(ctx context.Context, touch Toucher, progress func(Progress)) (*image.Gray, error) {
	for {
		if touch != nil {
			if err := touch.WaitTouch(ctx); err != nil {
				return nil, err
			}
		}
		err := d.GenImg(ctx)
		if err == nil {
			break
		}
		if !errors.Is(err, NoFinger) && !errors.Is(err, EnrollFailed) {
			return nil, err
		}
		if touch != nil {
			continue
		}
		t := time.NewTimer(PollInterval)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("sensor: waiting for a finger: %w", ctx.Err())
		case <-t.C:
		}
	}
	return d.UpImage(ctx, progress)
}

// byteTime is how long n bytes take on the line at the module's rate (or
// at 9,600 baud, the slowest, before ReadSysPara said).
func (d *Dev) byteTime(n int) time.Duration {
	baud := d.baud
	if baud == 0 {
		baud = 9600
	}
	return time.Duration(n) * 10 * time.Second / time.Duration(baud)
}
