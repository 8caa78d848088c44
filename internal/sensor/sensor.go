package sensor

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// Instruction codes.
const (
	cmdGenImg        byte = 0x01
	cmdImg2Tz        byte = 0x02
	cmdSearch        byte = 0x04
	cmdRegModel      byte = 0x05
	cmdStore         byte = 0x06
	cmdUpImage       byte = 0x0A
	cmdEmpty         byte = 0x0D
	cmdReadSysPara   byte = 0x0F
	cmdVfyPwd        byte = 0x13
	cmdTemplateNum   byte = 0x1D
	cmdAuraLedConfig byte = 0x35
)

// Opts configures a Dev.
type Opts struct {
	// Address and Password are the module's; both are 0xFFFFFFFF and 0 from
	// the factory.
	Address  uint32
	Password uint32
	// Timeout bounds the wait for one acknowledgement and the gap between
	// two image packets. Taking an image takes the module up to about a
	// second.
	Timeout time.Duration
	// Retries is how many times a command is sent again after its answer was
	// broken or missing.
	Retries int
	// UploadTries bounds the UpImage requests one image may take.
	UploadTries int
	// Width and Height are the module's image geometry; ReadSysPara does not
	// report it. 256×288 for R30x and AS608 modules.
	Width, Height int
	// Quiet is how long the line must be silent before a retry is sent, so
	// that a late answer to the abandoned try is not read as the new one.
	Quiet time.Duration
}

// DefaultOpts suits a factory-fresh R307/AS608 module.
var DefaultOpts = Opts{
	Address:     DefaultAddress,
	Timeout:     2 * time.Second,
	Retries:     3,
	UploadTries: 8,
	Width:       256,
	Height:      288,
	Quiet:       50 * time.Millisecond,
}

// Limits on the geometry a caller may configure, so that a typo cannot make
// the driver allocate without bound.
const (
	maxSide = 1024
)

// Dev is one fingerprint module on a Port. It is not safe for concurrent
// use: the protocol is one command at a time.
type Dev struct {
	port       Port
	opts       Opts
	rd         *reader
	packetSize int // from ReadSysPara; 0 until read
	baud       int // from ReadSysPara; 0 until read
}

// New returns a driver for the module on p; nil opts means DefaultOpts. It
// does no I/O: call VerifyPassword or ReadSysPara to talk to the module.
func New(p Port, opts *Opts) (*Dev, error) {
	o := DefaultOpts
	if opts != nil {
		o = *opts
	}
	switch {
	case o.Width <= 0 || o.Height <= 0 || o.Width > maxSide || o.Height > maxSide || o.Width*o.Height%2 != 0:
		return nil, fmt.Errorf("sensor: image geometry %d×%d, want an even pixel count with sides 1 to %d", o.Width, o.Height, maxSide)
	case o.Timeout <= 0:
		return nil, fmt.Errorf("sensor: timeout %v, want > 0", o.Timeout)
	case o.Retries < 0 || o.UploadTries < 1:
		return nil, fmt.Errorf("sensor: %d retries and %d upload tries, want ≥ 0 and ≥ 1", o.Retries, o.UploadTries)
	}
	return &Dev{port: p, opts: o, rd: newReader(p, o.Address)}, nil
}

// Opts returns the options in force.
func (d *Dev) Opts() Opts { return d.opts }

// BadPackets counts the packets from the module rejected so far (checksum,
// length, address or framing).
func (d *Dev) BadPackets() int { return d.rd.bad }

// send writes one command packet.
func (d *Dev) send(name string, payload []byte) error {
	b := AppendFrame(make([]byte, 0, headerLen+len(payload)+2), Frame{Address: d.opts.Address, PID: PIDCommand, Payload: payload})
	for len(b) > 0 {
		n, err := d.port.Write(b)
		if err != nil {
			return fmt.Errorf("sensor: send %s: the port failed (adapter unplugged?): %w", name, err)
		}
		if n == 0 {
			return fmt.Errorf("sensor: send %s: port accepted no bytes", name)
		}
		b = b[n:]
	}
	return nil
}

// ack waits for the acknowledgement of the command just sent: want is its
// payload length on success. A packet of another kind or length is a stale
// answer to an abandoned command and is skipped; while such packets keep
// coming the module is busy with it, so the wait starts again after each.
func (d *Dev) ack(ctx context.Context, want int) ([]byte, int64, int, error) {
	for {
		f, start, n, err := d.rd.next(ctx, time.Now().Add(d.opts.Timeout))
		if err != nil {
			return nil, 0, 0, err
		}
		if f.PID != PIDAck || len(f.Payload) == 0 {
			continue
		}
		if len(f.Payload) == want || len(f.Payload) == 1 && Code(f.Payload[0]) != OK {
			return append([]byte(nil), f.Payload...), start, n, nil
		}
	}
}

// command sends one command and returns the acknowledgement's parameters
// (the payload after the confirmation code), resending on a broken or
// missing answer.
func (d *Dev) command(ctx context.Context, name string, payload []byte, ackLen int) ([]byte, error) {
	return d.commandTries(ctx, name, payload, ackLen, true)
}

// commandTries is command; a command that must not be sent twice after a
// missing answer (resend false) is resent only when the module said it got
// it broken.
func (d *Dev) commandTries(ctx context.Context, name string, payload []byte, ackLen int, resend bool) ([]byte, error) {
	var last error
	for try := 0; try <= d.opts.Retries; try++ {
		if try > 0 {
			if err := d.rd.drain(ctx, d.opts.Quiet, d.opts.Timeout); err != nil {
				return nil, fmt.Errorf("sensor: %s: %w", name, err)
			}
		} else {
			d.rd.reset()
		}
		if err := d.send(name, payload); err != nil {
			return nil, err
		}
		p, _, _, err := d.ack(ctx, ackLen)
		if errors.Is(err, ErrTimeout) && !resend {
			return nil, fmt.Errorf("sensor: %s: no answer (not sent again): %w", name, err)
		}
		if errors.Is(err, ErrTimeout) {
			last = err
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("sensor: %s: %w", name, err)
		}
		if c := Code(p[0]); c == PacketReceiveErr {
			last = c
			continue
		} else if c != OK {
			return nil, fmt.Errorf("sensor: %s: %w", name, c)
		}
		return p[1:], nil
	}
	return nil, fmt.Errorf("sensor: %s: no valid answer in %d tries: %w", name, d.opts.Retries+1, last)
}

// VerifyPassword sends VfyPwd with the configured password. A module with
// a password set answers nothing else until this succeeds; a wrong one is
// reported as WrongPassword.
func (d *Dev) VerifyPassword(ctx context.Context) error {
	p := binary.BigEndian.AppendUint32([]byte{cmdVfyPwd}, d.opts.Password)
	_, err := d.command(ctx, "VfyPwd", p, 1)
	return err
}

// SysPara is the module's basic parameter block.
type SysPara struct {
	Status        uint16 // bit 0 busy, 1 matched, 2 password verified, 3 image buffer valid
	SystemID      uint16
	LibrarySize   int // templates the flash holds
	SecurityLevel int // 1 (most lenient) to 5
	Address       uint32
	PacketSize    int // data packet size in bytes: 32, 64, 128 or 256
	Baud          int // bits per second
}

// ReadSysPara reads the parameter block and remembers the data packet size
// for image uploads.
func (d *Dev) ReadSysPara(ctx context.Context) (SysPara, error) {
	p, err := d.command(ctx, "ReadSysPara", []byte{cmdReadSysPara}, 17)
	if err != nil {
		return SysPara{}, err
	}
	sp, err := ParseSysPara(p)
	if err != nil {
		return SysPara{}, err
	}
	d.packetSize, d.baud = sp.PacketSize, sp.Baud
	return sp, nil
}

// ParseSysPara decodes the 16 parameter bytes of a ReadSysPara answer.
func ParseSysPara(p []byte) (SysPara, error) {
	if len(p) != 16 {
		return SysPara{}, fmt.Errorf("sensor: system parameters are %d bytes, want 16", len(p))
	}
	be := binary.BigEndian
	sp := SysPara{
		Status:        be.Uint16(p[0:]),
		SystemID:      be.Uint16(p[2:]),
		LibrarySize:   int(be.Uint16(p[4:])),
		SecurityLevel: int(be.Uint16(p[6:])),
		Address:       be.Uint32(p[8:]),
	}
	code := be.Uint16(p[12:])
	if code > 3 {
		return SysPara{}, fmt.Errorf("sensor: data packet size code %d, want 0 to 3", code)
	}
	sp.PacketSize = 32 << code
	n := be.Uint16(p[14:])
	if n < 1 || n > 12 {
		return SysPara{}, fmt.Errorf("sensor: baud rate code %d, want 1 to 12 (9,600 to 115,200)", n)
	}
	sp.Baud = 9600 * int(n)
	return sp, nil
}

// AppendSysPara encodes sp as ReadSysPara answers it; the simulator uses it.
func AppendSysPara(dst []byte, sp SysPara) []byte {
	be := binary.BigEndian
	code := uint16(0)
	for 32<<code < sp.PacketSize && code < 3 {
		code++
	}
	dst = be.AppendUint16(dst, sp.Status)
	dst = be.AppendUint16(dst, sp.SystemID)
	dst = be.AppendUint16(dst, uint16(sp.LibrarySize))
	dst = be.AppendUint16(dst, uint16(sp.SecurityLevel))
	dst = be.AppendUint32(dst, sp.Address)
	dst = be.AppendUint16(dst, code)
	return be.AppendUint16(dst, uint16(sp.Baud/9600))
}

// GenImg takes an image of the finger on the sensor into the module's image
// buffer; NoFinger when there is none.
func (d *Dev) GenImg(ctx context.Context) error {
	_, err := d.command(ctx, "GenImg", []byte{cmdGenImg}, 1)
	return err
}

// Img2Tz makes a character file from the image buffer into character buffer
// 1 or 2.
func (d *Dev) Img2Tz(ctx context.Context, buf byte) error {
	if buf != 1 && buf != 2 {
		return fmt.Errorf("sensor: Img2Tz: character buffer %d, want 1 or 2", buf)
	}
	_, err := d.command(ctx, "Img2Tz", []byte{cmdImg2Tz, buf}, 1)
	return err
}

// RegModel combines the two character buffers into a template.
func (d *Dev) RegModel(ctx context.Context) error {
	_, err := d.command(ctx, "RegModel", []byte{cmdRegModel}, 1)
	return err
}

// Store writes the template in character buffer buf to library page page.
func (d *Dev) Store(ctx context.Context, buf byte, page uint16) error {
	if buf != 1 && buf != 2 {
		return fmt.Errorf("sensor: Store: character buffer %d, want 1 or 2", buf)
	}
	_, err := d.command(ctx, "Store", []byte{cmdStore, buf, byte(page >> 8), byte(page)}, 1)
	return err
}

// Match is where Search found a finger and how sure the module is.
type Match struct {
	Page  int
	Score int
}

// Search looks for the character file in buffer buf among count library
// pages from start; NotFound when no template matches.
func (d *Dev) Search(ctx context.Context, buf byte, start, count uint16) (Match, error) {
	if buf != 1 && buf != 2 {
		return Match{}, fmt.Errorf("sensor: Search: character buffer %d, want 1 or 2", buf)
	}
	p, err := d.command(ctx, "Search", []byte{cmdSearch, buf, byte(start >> 8), byte(start), byte(count >> 8), byte(count)}, 5)
	if err != nil {
		return Match{}, err
	}
	return Match{Page: int(binary.BigEndian.Uint16(p)), Score: int(binary.BigEndian.Uint16(p[2:]))}, nil
}

// TemplateNum reports how many templates the library holds.
func (d *Dev) TemplateNum(ctx context.Context) (int, error) {
	p, err := d.command(ctx, "TemplateNum", []byte{cmdTemplateNum}, 3)
	if err != nil {
		return 0, err
	}
	return int(binary.BigEndian.Uint16(p)), nil
}

// Empty deletes every template in the library.
func (d *Dev) Empty(ctx context.Context) error {
	_, err := d.command(ctx, "Empty", []byte{cmdEmpty}, 1)
	return err
}

// LEDMode is an R503 ring light effect.
type LEDMode byte

// The R503 AuraLedConfig control codes.
const (
	LEDBreathing  LEDMode = 1
	LEDFlashing   LEDMode = 2
	LEDOn         LEDMode = 3
	LEDOff        LEDMode = 4
	LEDGradualOn  LEDMode = 5
	LEDGradualOff LEDMode = 6
)

// LEDColor is an R503 ring light colour; modules before 2021 have the first three.
type LEDColor byte

// The R503 colour indices.
const (
	LEDRed    LEDColor = 1
	LEDBlue   LEDColor = 2
	LEDPurple LEDColor = 3
	LEDGreen  LEDColor = 4
	LEDYellow LEDColor = 5
	LEDCyan   LEDColor = 6
	LEDWhite  LEDColor = 7
)

// LED is one AuraLedConfig setting.
type LED struct {
	Mode  LEDMode
	Speed byte // breathing and flashing period, 0 fastest
	Color LEDColor
	Count byte // flashes or breaths, 0 for endless
}

// AuraLED sets the R503's ring light.
func (d *Dev) AuraLED(ctx context.Context, l LED) error {
	if l.Mode < LEDBreathing || l.Mode > LEDGradualOff {
		return fmt.Errorf("sensor: AuraLedConfig: mode %d, want 1 to 6", l.Mode)
	}
	if l.Color < LEDRed || l.Color > LEDWhite {
		return fmt.Errorf("sensor: AuraLedConfig: colour %d, want 1 to 7", l.Color)
	}
	_, err := d.command(ctx, "AuraLedConfig", []byte{cmdAuraLedConfig, byte(l.Mode), l.Speed, byte(l.Color), l.Count}, 1)
	return err
}
