package sensor

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.bug.st/serial"
	"go.bug.st/serial/enumerator"
)

// PortCloser is a Port the caller owns.
type PortCloser interface {
	Port
	Close() error
}

var (
	_ PortCloser = serial.Port(nil)
	_ PortCloser = (*Reconnecting)(nil)
	_ SpeedPort  = (*Reconnecting)(nil)
	_ SpeedPort  = (*serialPort)(nil)
)

// CheckBaud accepts the rates the modules support: 9,600·N for N 1 to 12.
func CheckBaud(baud int) error {
	if baud < 9600 || baud > 115200 || baud%9600 != 0 {
		return fmt.Errorf("sensor: baud %d, want a multiple of 9600 from 9600 to 115200", baud)
	}
	return nil
}

// OpenSerial opens a serial device at baud, 8N1, raw. The port it returns
// is a SpeedPort.
func OpenSerial(path string, baud int) (PortCloser, error) {
	if err := CheckBaud(baud); err != nil {
		return nil, err
	}
	p, err := serial.Open(path, mode(baud))
	if err != nil {
		return nil, fmt.Errorf("sensor: open %s at %d baud: %w", path, baud, err)
	}
	return &serialPort{Port: p, path: path, baud: baud}, nil
}

func mode(baud int) *serial.Mode {
	return &serial.Mode{BaudRate: baud, DataBits: 8, Parity: serial.NoParity, StopBits: serial.OneStopBit}
}

// serialPort is go.bug.st/serial's port with the rate it was set to, which
// it changes through termios (SetMode: TCSETS, or TCSETS2 with BOTHER for a
// rate without a Bnnn constant).
type serialPort struct {
	serial.Port
	path string
	baud int
}

// SetBaud waits for the bytes written to leave at the old rate (tcdrain),
// sets the new one and drops what was received half at one rate and half at
// the other.
func (p *serialPort) SetBaud(baud int) error {
	if err := CheckBaud(baud); err != nil {
		return err
	}
	if err := p.Drain(); err != nil {
		return fmt.Errorf("sensor: %s: drain before changing to %d baud: %w", p.path, baud, err)
	}
	if err := p.SetMode(mode(baud)); err != nil {
		return fmt.Errorf("sensor: %s: set %d baud: %w", p.path, baud, err)
	}
	p.baud = baud
	if err := p.ResetInputBuffer(); err != nil {
		return fmt.Errorf("sensor: %s: flush input at %d baud: %w", p.path, baud, err)
	}
	return nil
}

func (p *serialPort) Baud() int { return p.baud }

// Adapter is a USB-serial bridge chip the modules are sold with.
type Adapter struct {
	VID, PID string // upper-case hex, as lsusb prints them
	Chip     string
}

// Adapters are the bridges Find probes.
var Adapters = []Adapter{
	{"10C4", "EA60", "CP210x"},
	{"1A86", "7523", "CH340"},
	{"0403", "6001", "FTDI FT232R"},
	{"0403", "6015", "FTDI FT-X"},
	{"067B", "2303", "PL2303"},
}

// Candidate is a serial port that may have a module behind it.
type Candidate struct {
	Path     string
	VID, PID string
	Chip     string // empty for a port not on a known bridge
}

func (c Candidate) String() string {
	if c.VID == "" {
		return c.Path
	}
	return fmt.Sprintf("%s (%s:%s %s)", c.Path, c.VID, c.PID, c.Chip)
}

// Candidates lists the USB serial ports on a known bridge chip.
func Candidates() ([]Candidate, error) {
	ports, err := enumerator.GetDetailedPortsList()
	if err != nil {
		return nil, fmt.Errorf("sensor: list serial ports: %w", err)
	}
	return candidatesFrom(ports), nil
}

func candidatesFrom(ports []*enumerator.PortDetails) []Candidate {
	var cs []Candidate
	for _, p := range ports {
		if !p.IsUSB {
			continue
		}
		for _, a := range Adapters {
			if strings.EqualFold(p.VID, a.VID) && strings.EqualFold(p.PID, a.PID) {
				cs = append(cs, Candidate{Path: p.Name, VID: a.VID, PID: a.PID, Chip: a.Chip})
			}
		}
	}
	return cs
}

// OpenUSB opens the first USB serial port with the given VID:PID, so that a
// Reconnecting port finds an adapter again wherever it reappears
// (/dev/ttyUSB0 may come back as /dev/ttyUSB1).
func OpenUSB(vid, pid string, baud int) (PortCloser, error) {
	cs, err := Candidates()
	if err != nil {
		return nil, err
	}
	for _, c := range cs {
		if strings.EqualFold(c.VID, vid) && strings.EqualFold(c.PID, pid) {
			return OpenSerial(c.Path, baud)
		}
	}
	return nil, fmt.Errorf("sensor: no USB serial adapter %s:%s present", vid, pid)
}

// Probe is what one candidate answered to the handshake.
type Probe struct {
	Candidate
	// Baud is the line rate the module answered at.
	Baud int
	Para SysPara
	Err  error
}

// ProbeTimeout bounds the handshake with one candidate: a port with no module
// behind it answers nothing.
const ProbeTimeout = 500 * time.Millisecond

// ProbePort opens path and tries VfyPwd and ReadSysPara with opts, at baud
// and then at the other SwitchRates, fastest first: a module switched to
// another rate keeps it across power cycles.
func ProbePort(ctx context.Context, c Candidate, baud int, opts Opts) Probe {
	pr := Probe{Candidate: c}
	p, err := OpenSerial(c.Path, baud)
	if err != nil {
		pr.Err = err
		return pr
	}
	defer p.Close()
	opts.Timeout = min(opts.Timeout, ProbeTimeout)
	opts.Retries = 0
	d, err := New(p, &opts)
	if err != nil {
		pr.Err = err
		return pr
	}
	pr.Para, pr.Err = d.Locate(ctx, append([]int{baud}, FastestFirst(ModuleMaxBaud)...))
	if pr.Err == nil {
		pr.Baud = p.(SpeedPort).Baud()
	}
	return pr
}

// ErrNotFound is returned by Find when no candidate answered.
var ErrNotFound = errors.New("sensor: no fingerprint module found")

// Find probes the candidates in order (the USB bridges when cs is nil) and
// returns the first that answers the handshake, with every probe made.
func Find(ctx context.Context, cs []Candidate, baud int, opts Opts) (Probe, []Probe, error) {
	if cs == nil {
		var err error
		if cs, err = Candidates(); err != nil {
			return Probe{}, nil, err
		}
	}
	var probes []Probe
	for _, c := range cs {
		pr := ProbePort(ctx, c, baud, opts)
		probes = append(probes, pr)
		if pr.Err == nil {
			return pr, probes, nil
		}
		if ctx.Err() != nil {
			return Probe{}, probes, fmt.Errorf("sensor: probing %s: %w", c.Path, ctx.Err())
		}
	}
	return Probe{}, probes, fmt.Errorf("%w among %d candidate ports", ErrNotFound, len(cs))
}

// ErrDisconnected is wrapped by the errors of a Reconnecting port whose
// device went away.
var ErrDisconnected = errors.New("sensor: port disconnected")

// Reconnecting is a Port that survives an unplugged adapter: the call that
// finds the device gone fails with ErrDisconnected, and a later call opens
// it again through open (by path, or by finding it among the adapters).
//
// The line rate last set (SetBaud) is set again on every device it opens,
// since a module keeps a rate it was switched to across a power cycle:
// that is where it will be found first.
type Reconnecting struct {
	open    func() (PortCloser, error)
	p       PortCloser
	timeout time.Duration
	haveTO  bool
	baud    int // set by SetBaud; 0: the rate open gives
	opened  int // the rate of the device open now, as open gave it
}

// NewReconnecting returns a port that opens through open on first use.
func NewReconnecting(open func() (PortCloser, error)) *Reconnecting {
	return &Reconnecting{open: open}
}

func (r *Reconnecting) get() (PortCloser, error) {
	if r.p != nil {
		return r.p, nil
	}
	p, err := r.open()
	if err != nil {
		return nil, fmt.Errorf("%w: reopen: %w", ErrDisconnected, err)
	}
	if r.haveTO {
		if err := p.SetReadTimeout(r.timeout); err != nil {
			p.Close()
			return nil, fmt.Errorf("%w: set read timeout after reopening: %w", ErrDisconnected, err)
		}
	}
	r.opened = 0
	if sp, ok := p.(SpeedPort); ok {
		r.opened = sp.Baud()
		if r.baud != 0 && r.baud != r.opened {
			if err := sp.SetBaud(r.baud); err != nil {
				p.Close()
				return nil, fmt.Errorf("%w: set %d baud after reopening: %w", ErrDisconnected, r.baud, err)
			}
		}
	}
	r.p = p
	return p, nil
}

// SetBaud sets the rate of the device open now (opening it if none is) and
// of every device opened later.
func (r *Reconnecting) SetBaud(baud int) error {
	p, err := r.get()
	if err != nil {
		return err
	}
	sp, ok := p.(SpeedPort)
	if !ok {
		return fmt.Errorf("sensor: the port (%T) cannot change its line rate", p)
	}
	if err := sp.SetBaud(baud); err != nil {
		return r.lost(err)
	}
	r.baud = baud
	return nil
}

// Baud is the rate set last, else the rate the device open now was opened
// at; 0 when neither is known.
func (r *Reconnecting) Baud() int {
	if r.baud != 0 {
		return r.baud
	}
	if r.p == nil {
		if _, err := r.get(); err != nil {
			return 0
		}
	}
	return r.opened
}

func (r *Reconnecting) lost(err error) error {
	r.p.Close()
	r.p = nil
	return fmt.Errorf("%w: %w", ErrDisconnected, err)
}

func (r *Reconnecting) Read(b []byte) (int, error) {
	p, err := r.get()
	if err != nil {
		return 0, err
	}
	n, err := p.Read(b)
	if err != nil {
		return n, r.lost(err)
	}
	return n, nil
}

func (r *Reconnecting) Write(b []byte) (int, error) {
	p, err := r.get()
	if err != nil {
		return 0, err
	}
	n, err := p.Write(b)
	if err != nil {
		return n, r.lost(err)
	}
	return n, nil
}

// SetReadTimeout applies t now if a device is open, and to every device
// opened later.
func (r *Reconnecting) SetReadTimeout(t time.Duration) error {
	r.timeout, r.haveTO = t, true
	if r.p == nil {
		return nil
	}
	if err := r.p.SetReadTimeout(t); err != nil {
		return r.lost(err)
	}
	return nil
}

// Close closes the device if open; the port may still be used afterwards
// and opens it again.
func (r *Reconnecting) Close() error {
	if r.p == nil {
		return nil
	}
	err := r.p.Close()
	r.p = nil
	return err
}
