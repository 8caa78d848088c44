package sensor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"
)

// Port is what the driver needs of a serial line. go.bug.st/serial's Port
// has it; so do the fakes in sensortest. A Read that returns (0, nil) means
// the read timeout passed with nothing received.
type Port interface {
	Read(p []byte) (int, error)
	Write(p []byte) (int, error)
	SetReadTimeout(t time.Duration) error
}

// ErrTimeout is wrapped by every error that a missing answer caused.
var ErrTimeout = errors.New("sensor: timed out")

// readSlice bounds one blocking read, so that a cancelled context is noticed
// within this long even on a silent line.
const readSlice = 50 * time.Millisecond

// reader turns the byte stream into packets, skipping whatever is not one:
// after a bad packet it resynchronises on the next start code. off counts
// the bytes consumed from the port, which the image upload uses to place
// packets.
type reader struct {
	port    Port
	address uint32
	buf     []byte
	r, w    int
	off     int64 // stream offset of buf[r]
	timeout time.Duration
	// Bad counts packets rejected since the reader was made.
	bad int
}

func newReader(p Port, address uint32) *reader {
	return &reader{port: p, address: address, buf: make([]byte, 8192)}
}

// fill reads at least one more byte, or fails on ctx, on deadline, or on a
// port error. Its errors, like the reader's, are wrapped by the exported
// call that names the command, so they carry no package prefix.
func (rd *reader) fill(ctx context.Context, deadline time.Time) error {
	if rd.r > 0 && rd.w == len(rd.buf) {
		n := copy(rd.buf, rd.buf[rd.r:rd.w])
		rd.r, rd.w = 0, n
	}
	if rd.w == len(rd.buf) {
		// Cannot happen: a buffer holds several maximal packets and the
		// scanner consumes bytes it cannot use.
		return fmt.Errorf("receive buffer full at stream offset %d", rd.off)
	}
	for {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("waiting for the module: %w", err)
		}
		left := time.Until(deadline)
		if left <= 0 {
			return ErrTimeout
		}
		t := min(left, readSlice)
		if t != rd.timeout {
			if err := rd.port.SetReadTimeout(t); err != nil {
				return fmt.Errorf("set read timeout %v: %w", t, err)
			}
			rd.timeout = t
		}
		n, err := rd.port.Read(rd.buf[rd.w:])
		if n > 0 {
			rd.w += n
			return nil
		}
		if err != nil {
			return fmt.Errorf("read from the port, which failed (adapter unplugged?): %w", err)
		}
	}
}

// discard drops n buffered bytes.
func (rd *reader) discard(n int) {
	rd.r += n
	rd.off += int64(n)
}

// next returns the next valid packet addressed from the module, its stream
// offset, and how many bytes it occupies. The payload is valid until the
// next call. deadline bounds the wait for the whole packet.
func (rd *reader) next(ctx context.Context, deadline time.Time) (Frame, int64, int, error) {
	for {
		b := rd.buf[rd.r:rd.w]
		if i := bytes.IndexByte(b, 0xEF); i < 0 {
			rd.discard(len(b))
		} else if i > 0 {
			rd.discard(i)
			continue
		} else {
			f, n, err := ParseFrame(b)
			switch {
			case err == nil && f.Address == rd.address:
				start := rd.off
				rd.discard(n)
				return f, start, n, nil
			case err == nil:
				// A packet for another address: a corrupted one, on a
				// point-to-point line.
				rd.bad++
				rd.discard(1)
				continue
			case err != ErrTruncated:
				if err.(*FrameError).Offset > 1 {
					rd.bad++
				}
				rd.discard(1)
				continue
			}
		}
		if err := rd.fill(ctx, deadline); err != nil {
			return Frame{}, 0, 0, err
		}
	}
}

// drain discards whatever arrives until the line has been quiet for quiet,
// so that a late answer to an abandoned command is not taken for the answer
// to the next one. It gives up after limit on a line that never goes quiet:
// the acknowledgement filter deals with what is left.
func (rd *reader) drain(ctx context.Context, quiet, limit time.Duration) error {
	rd.reset()
	end := time.Now().Add(limit)
	for time.Now().Before(end) {
		err := rd.fill(ctx, time.Now().Add(quiet))
		if errors.Is(err, ErrTimeout) {
			return nil
		}
		if err != nil {
			return err
		}
		rd.reset()
	}
	return nil
}

// reset forgets buffered bytes: before a new command nothing that came
// earlier can be its answer.
func (rd *reader) reset() {
	rd.discard(rd.w - rd.r)
	rd.r, rd.w = 0, 0
}

// received is the stream offset just past the last byte read from the port.
func (rd *reader) received() int64 { return rd.off + int64(rd.w-rd.r) }
