package sim

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"io"
	"math/rand/v2"
	"sync"
	"time"

	"edge/internal/sensor"
)

// Options describe the simulated module and the faults it injects.
type Options struct {
	Width, Height int // image geometry; 256×288 when zero
	PacketSize    int // data packet size: 32, 64, 128 or 256; 128 when zero
	// Baud is the line rate the module starts at, paces its output at and
	// reports; SetSysPara changes it. 0 sends unpaced and reports 57,600,
	// and then any rate the driver's end sets is heard.
	Baud        int
	Address     uint32 // the module's address; 0 means the factory 0xFFFFFFFF
	Password    uint32 // a non-zero password must be verified before other commands
	LibrarySize int    // template pages; 300 when zero

	CorruptRate float64       // probability that a packet sent has one byte changed, dropped or repeated
	StallRate   float64       // probability that a packet sent pauses halfway for StallFor
	StallFor    time.Duration // 300 ms when zero
	// NoFinger is how many GenImg commands find no finger before one lands.
	NoFinger int
	// DisconnectAfter hangs up after this many image bytes of an upload
	// have been sent; 0 never.
	DisconnectAfter int
	// IgnoreBaudSwitch acknowledges a valid SetSysPara baud change and stays
	// at the old rate, as a module whose flash write failed.
	IgnoreBaudSwitch bool
	// Seed makes the fault pattern repeatable.
	Seed uint64
}

// ErrHangup is returned by Serve when it hung up on purpose.
var ErrHangup = errors.New("sim: line hung up as asked")

// Sim is one simulated module.
type Sim struct {
	opts   Options
	pix    []byte   // 4-bit pixels of the finger on the window now
	prints [][]byte // the fingers that land in turn, fitted
	next   int      // the print the next GenImg takes
	rng    *rand.Rand

	// mu guards stats, led, pix and the library's size, which a test may
	// read while Serve runs.
	mu    sync.Mutex
	stats Stats

	verified  bool
	imageOK   bool
	noFinger  int
	char      [2][]byte
	library   map[uint16][]byte
	hungUp    bool
	led       sensor.LED
	uploadOut int
	baud      int // the line rate now, under mu: kept across hang-ups, as a module keeps it in flash
}

// Stats counts what a Sim did.
type Stats struct {
	Commands, Uploads    int
	Corrupted, Stalled   int
	BytesSent            int64
	LastLED              sensor.LED
	TemplatesInLibrary   int
	BadCommandsReceived  int
	Hangups              int
	WrongPasswordAnswers int
	// Baud is the module's line rate now; BaudChanges counts the
	// SetSysPara switches it took.
	Baud, BaudChanges int
	// WrongRateBytes counts bytes that arrived while the driver's end of the
	// line was set to another rate than the module's: a UART hears them as
	// noise, and so does the simulator.
	WrongRateBytes int64
}

// New makes a module holding print, which it fits to the geometry.
func New(print image.Image, opts Options) (*Sim, error) {
	return NewMulti([]image.Image{print}, opts)
}

// NewMulti makes a module on which the prints land in turn: each GenImg
// that finds a finger takes the next one, round and round, as impressions
// of an enrolment would.
func NewMulti(prints []image.Image, opts Options) (*Sim, error) {
	if len(prints) == 0 {
		return nil, fmt.Errorf("sim: no print to serve")
	}
	if opts.Width == 0 && opts.Height == 0 {
		opts.Width, opts.Height = 256, 288
	}
	if opts.Address == 0 {
		opts.Address = sensor.DefaultAddress
	}
	if opts.PacketSize == 0 {
		opts.PacketSize = 128
	}
	if opts.LibrarySize == 0 {
		opts.LibrarySize = 300
	}
	if opts.StallFor == 0 {
		opts.StallFor = 300 * time.Millisecond
	}
	switch opts.PacketSize {
	case 32, 64, 128, 256:
	default:
		return nil, fmt.Errorf("sim: packet size %d, want 32, 64, 128 or 256", opts.PacketSize)
	}
	if opts.Width <= 0 || opts.Height <= 0 || opts.Width > 1024 || opts.Height > 1024 || opts.Width*opts.Height/2%opts.PacketSize != 0 {
		return nil, fmt.Errorf("sim: geometry %d×%d is not a whole number of %d-byte packets", opts.Width, opts.Height, opts.PacketSize)
	}
	if opts.Baud != 0 {
		if err := sensor.CheckBaud(opts.Baud); err != nil {
			return nil, fmt.Errorf("sim: %w", err)
		}
	}
	if opts.CorruptRate < 0 || opts.CorruptRate > 1 || opts.StallRate < 0 || opts.StallRate > 1 {
		return nil, fmt.Errorf("sim: fault rates %g and %g, want 0 to 1", opts.CorruptRate, opts.StallRate)
	}
	fitted := make([][]byte, len(prints))
	for i, p := range prints {
		fitted[i] = Fit(p, opts.Width, opts.Height)
	}
	return &Sim{
		opts:     opts,
		pix:      fitted[0],
		prints:   fitted,
		rng:      rand.New(rand.NewPCG(opts.Seed, 0x5e750e)),
		noFinger: opts.NoFinger,
		library:  map[uint16][]byte{},
		verified: opts.Password == 0,
		baud:     cmp.Or(opts.Baud, 57600),
	}, nil
}

// Pixels returns the 4-bit image the module holds (the first print until a
// GenImg took one), one value per pixel.
func (s *Sim) Pixels() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pix
}

// Options returns the options in force, defaults filled in.
func (s *Sim) Options() Options { return s.opts }

// Stats returns the counts so far.
func (s *Sim) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.LastLED = s.led
	st.TemplatesInLibrary = len(s.library)
	st.Baud = s.baud
	return st
}

// count updates the statistics under the lock.
func (s *Sim) count(f func(*Stats)) {
	s.mu.Lock()
	f(&s.stats)
	s.mu.Unlock()
}

// Baud is the module's line rate now.
func (s *Sim) Baud() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.baud
}

// paced is whether the module runs at a real line rate.
func (s *Sim) paced() bool { return s.opts.Baud != 0 }

// LineRater is a line whose far end's rate can be read: a pty reports the
// rate the driver set on its slave (Run serves one).
type LineRater interface {
	LineRate() (int, error)
}

// Serve answers commands read from rw until ctx ends, rw fails, or the
// simulated line hangs up (ErrHangup). The caller stops a blocked read by
// closing rw. When rw is a LineRater and the module is paced, bytes that
// arrive while the other end is set to another rate are dropped, as a UART
// at the wrong rate hears only noise.
func (s *Sim) Serve(ctx context.Context, rw io.ReadWriter) error {
	w := &pacedWriter{w: rw}
	if s.paced() {
		w.baud = s.Baud()
	}
	lr, _ := rw.(LineRater)
	var buf []byte
	chunk := make([]byte, 512)
	for {
		n, err := rw.Read(chunk)
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		if err != nil {
			return fmt.Errorf("sim: read: %w", err)
		}
		if lr != nil && s.paced() {
			if r, err := lr.LineRate(); err == nil && r != s.Baud() {
				s.count(func(st *Stats) { st.WrongRateBytes += int64(n) })
				buf = buf[:0]
				continue
			}
		}
		buf = append(buf, chunk[:n]...)
		for {
			i := bytes.IndexByte(buf, 0xEF)
			if i < 0 {
				buf = buf[:0]
				break
			}
			buf = buf[i:]
			f, size, err := sensor.ParseFrame(buf)
			if err != nil {
				if err == sensor.ErrTruncated {
					break
				}
				s.count(func(st *Stats) { st.BadCommandsReceived++ })
				buf = buf[1:]
				continue
			}
			if f.PID == sensor.PIDCommand && f.Address == s.opts.Address && len(f.Payload) > 0 {
				payload := append([]byte(nil), f.Payload...)
				buf = buf[size:]
				if err := s.handle(ctx, w, payload); err != nil {
					return err
				}
				continue
			}
			buf = buf[size:]
		}
		if len(buf) > sensor.MaxFrame {
			buf = buf[len(buf)-sensor.MaxFrame:]
		}
	}
}

func (s *Sim) ack(ctx context.Context, w *pacedWriter, c sensor.Code, params ...byte) error {
	return s.send(ctx, w, sensor.PIDAck, append([]byte{byte(c)}, params...), false)
}

// send writes one packet, injecting the faults asked for.
func (s *Sim) send(ctx context.Context, w *pacedWriter, pid byte, payload []byte, image bool) error {
	b := sensor.AppendFrame(nil, sensor.Frame{Address: s.opts.Address, PID: pid, Payload: payload})
	if s.opts.CorruptRate > 0 && s.rng.Float64() < s.opts.CorruptRate {
		s.count(func(st *Stats) { st.Corrupted++ })
		i := s.rng.IntN(len(b))
		switch s.rng.IntN(3) {
		case 0:
			b[i] ^= byte(1 + s.rng.IntN(255))
		case 1:
			b = append(b[:i], b[i+1:]...)
		case 2:
			b = append(b[:i+1], b[i:]...)
		}
	}
	cut := len(b)
	if s.opts.StallRate > 0 && s.rng.Float64() < s.opts.StallRate {
		s.count(func(st *Stats) { st.Stalled++ })
		cut = len(b) / 2
	}
	if image && s.opts.DisconnectAfter > 0 && !s.hungUp && s.uploadOut+len(payload) > s.opts.DisconnectAfter {
		cut := min(len(b), headerLen+s.opts.DisconnectAfter-s.uploadOut)
		if err := w.write(ctx, b[:cut]); err != nil {
			return err
		}
		s.hungUp = true
		s.count(func(st *Stats) { st.Hangups++ })
		return ErrHangup
	}
	if err := w.write(ctx, b[:cut]); err != nil {
		return err
	}
	if cut < len(b) {
		if err := sleep(ctx, s.opts.StallFor); err != nil {
			return err
		}
		w.next = time.Time{} // the line was idle meanwhile
		if err := w.write(ctx, b[cut:]); err != nil {
			return err
		}
	}
	s.count(func(st *Stats) { st.BytesSent += int64(len(b)) })
	if image {
		s.uploadOut += len(payload)
	}
	return nil
}

const headerLen = 9

func (s *Sim) handle(ctx context.Context, w *pacedWriter, p []byte) error {
	s.count(func(st *Stats) { st.Commands++ })
	cmd, args := p[0], p[1:]
	w.next = time.Time{} // the line was idle while the command came in
	if !s.verified && cmd != 0x13 {
		return s.ack(ctx, w, sensor.PasswordRequired)
	}
	need := map[byte]int{0x02: 1, 0x04: 5, 0x06: 3, 0x0E: 2, 0x13: 4, 0x35: 4}
	if len(args) < need[cmd] {
		return s.ack(ctx, w, sensor.PacketReceiveErr)
	}
	switch cmd {
	case 0x13: // VfyPwd
		if binary.BigEndian.Uint32(args) != s.opts.Password {
			s.count(func(st *Stats) { st.WrongPasswordAnswers++ })
			return s.ack(ctx, w, sensor.WrongPassword)
		}
		s.verified = true
		return s.ack(ctx, w, sensor.OK)
	case 0x0F: // ReadSysPara
		status := uint16(0)
		if s.verified && s.opts.Password != 0 {
			status |= 4
		}
		if s.imageOK {
			status |= 8
		}
		sp := sensor.AppendSysPara(nil, sensor.SysPara{
			Status: status, SystemID: 0x0009, LibrarySize: s.opts.LibrarySize, SecurityLevel: 3,
			Address: s.opts.Address, PacketSize: s.opts.PacketSize, Baud: s.Baud(),
		})
		return s.ack(ctx, w, sensor.OK, sp...)
	case 0x0E: // SetSysPara
		return s.setSysPara(ctx, w, args[0], args[1])
	case 0x01: // GenImg
		if s.noFinger > 0 {
			s.noFinger--
			return s.ack(ctx, w, sensor.NoFinger)
		}
		s.mu.Lock()
		s.pix = s.prints[s.next]
		s.next = (s.next + 1) % len(s.prints)
		s.mu.Unlock()
		s.imageOK = true
		return s.ack(ctx, w, sensor.OK)
	case 0x0A: // UpImage
		if !s.imageOK {
			return s.ack(ctx, w, sensor.UploadImageErr)
		}
		return s.upload(ctx, w)
	case 0x02: // Img2Tz
		if args[0] != 1 && args[0] != 2 {
			return s.ack(ctx, w, sensor.BadRegister)
		}
		if !s.imageOK {
			return s.ack(ctx, w, sensor.NoValidImage)
		}
		if blank(s.pix) {
			return s.ack(ctx, w, sensor.TooFewFeatures)
		}
		sum := sha256.Sum256(s.pix)
		s.char[args[0]-1] = sum[:]
		return s.ack(ctx, w, sensor.OK)
	case 0x05: // RegModel
		if s.char[0] == nil || s.char[1] == nil || !bytes.Equal(s.char[0], s.char[1]) {
			return s.ack(ctx, w, sensor.MergeFailed)
		}
		return s.ack(ctx, w, sensor.OK)
	case 0x06: // Store
		page := binary.BigEndian.Uint16(args[1:])
		if int(page) >= s.opts.LibrarySize {
			return s.ack(ctx, w, sensor.BadLocation)
		}
		if args[0] != 1 && args[0] != 2 || s.char[args[0]-1] == nil {
			return s.ack(ctx, w, sensor.BadRegister)
		}
		s.mu.Lock()
		s.library[page] = s.char[args[0]-1]
		s.mu.Unlock()
		return s.ack(ctx, w, sensor.OK)
	case 0x04: // Search
		if args[0] != 1 && args[0] != 2 || s.char[args[0]-1] == nil {
			return s.ack(ctx, w, sensor.BadRegister)
		}
		start := int(binary.BigEndian.Uint16(args[1:]))
		count := int(binary.BigEndian.Uint16(args[3:]))
		for pg := start; pg < start+count && pg < s.opts.LibrarySize; pg++ {
			if t, ok := s.library[uint16(pg)]; ok && bytes.Equal(t, s.char[args[0]-1]) {
				return s.ack(ctx, w, sensor.OK, byte(pg>>8), byte(pg), 0, 200)
			}
		}
		return s.ack(ctx, w, sensor.NotFound, 0, 0, 0, 0)
	case 0x1D: // TemplateNum
		n := len(s.library)
		return s.ack(ctx, w, sensor.OK, byte(n>>8), byte(n))
	case 0x0D: // Empty
		s.mu.Lock()
		clear(s.library)
		s.mu.Unlock()
		return s.ack(ctx, w, sensor.OK)
	case 0x35: // AuraLedConfig
		if args[0] < 1 || args[0] > 6 || args[2] < 1 || args[2] > 7 {
			return s.ack(ctx, w, sensor.BadRegisterConfig)
		}
		s.mu.Lock()
		s.led = sensor.LED{Mode: sensor.LEDMode(args[0]), Speed: args[1], Color: sensor.LEDColor(args[2]), Count: args[3]}
		s.mu.Unlock()
		return s.ack(ctx, w, sensor.OK)
	}
	return s.ack(ctx, w, sensor.UndefinedErr)
}

// setSysPara takes parameter 4, the baud rate control N (9,600·N, N 1 to
// 12): the acknowledgement leaves at the old rate, everything after it at
// the new one. Parameters 5 and 6 (security level, packet size) are not
// simulated and get BadRegister, as an unknown parameter number does.
func (s *Sim) setSysPara(ctx context.Context, w *pacedWriter, para, n byte) error {
	if para != 4 {
		return s.ack(ctx, w, sensor.BadRegister)
	}
	if n < 1 || n > 12 {
		return s.ack(ctx, w, sensor.BadRegisterConfig)
	}
	if err := s.ack(ctx, w, sensor.OK); err != nil {
		return err
	}
	if s.opts.IgnoreBaudSwitch {
		return nil
	}
	s.mu.Lock()
	s.baud = 9600 * int(n)
	s.stats.BaudChanges++
	s.mu.Unlock()
	if s.paced() {
		w.baud = 9600 * int(n)
	}
	return nil
}

// blank reports an image with no ridges: all one value.
func blank(pix []byte) bool {
	for _, v := range pix {
		if v != pix[0] {
			return false
		}
	}
	return true
}

func (s *Sim) upload(ctx context.Context, w *pacedWriter) error {
	s.count(func(st *Stats) { st.Uploads++ })
	s.uploadOut = 0
	if err := s.ack(ctx, w, sensor.OK); err != nil {
		return err
	}
	raw := Pack(s.pix)
	ps := s.opts.PacketSize
	for off := 0; off < len(raw); off += ps {
		pid := sensor.PIDData
		if off+ps >= len(raw) {
			pid = sensor.PIDEnd
		}
		if err := s.send(ctx, w, pid, raw[off:off+ps], true); err != nil {
			return err
		}
	}
	return nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// pacedWriter sends no faster than the line rate: 10 bits a byte (start, 8
// data, stop), in slices of a few milliseconds so the reader sees bytes
// arrive as they would from a UART. The schedule starts afresh with each
// answer (and after a stall) and is absolute within it: a late wake-up is
// made up by the next slices, so an answer of n bytes takes n·10/baud
// seconds, no less and, timer slack and load aside, no more.
type pacedWriter struct {
	w    io.Writer
	baud int
	next time.Time // when the line is free again; zero: idle
}

func (p *pacedWriter) write(ctx context.Context, b []byte) error {
	if p.baud == 0 {
		_, err := p.w.Write(b)
		return err
	}
	step := max(1, p.baud/10/1000) // bytes per millisecond
	for len(b) > 0 {
		n := min(step*8, len(b))
		now := time.Now()
		if p.next.IsZero() {
			p.next = now
		}
		// A slice is handed over when its last byte would have left a
		// UART, never earlier.
		p.next = p.next.Add(time.Duration(n) * 10 * time.Second / time.Duration(p.baud))
		if p.next.After(now) {
			if err := sleep(ctx, p.next.Sub(now)); err != nil {
				return err
			}
		}
		if _, err := p.w.Write(b[:n]); err != nil {
			return fmt.Errorf("sim: write: %w", err)
		}
		b = b[n:]
	}
	return nil
}
