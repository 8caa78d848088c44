package sensor

import (
	"context"
	"errors"
	"fmt"
	"slices"
)

// SetSysPara's parameter numbers (the R30x/R503 manuals): 4 is the baud
// rate control N, the line running at 9,600·N for N 1 to 12.
const (
	cmdSetSysPara byte = 0x0E
	paraBaud      byte = 4
)

// ModuleMaxBaud is the fastest rate a module holds: N = 12.
const ModuleMaxBaud = 115200

// SpeedPort is a Port that can change its own line rate: the serial port
// OpenSerial returns and Reconnecting are. Dev.SetBaud needs one.
type SpeedPort interface {
	Port
	// SetBaud sets the line rate; bytes already written leave at the old
	// one first.
	SetBaud(baud int) error
	// Baud is the line rate set now.
	Baud() int
}

// SwitchRates are the rates the driver switches a module to and probes it
// at, slowest first: the module's 9,600·N that are also standard termios
// rates, so that every adapter and UART driver can set them (28,800 and the
// like need a driver's custom divisor, which many USB bridges lack).
func SwitchRates() []int { return []int{9600, 19200, 38400, 57600, 115200} }

// AdapterRates are the standard termios rates a serial adapter may be said
// to hold at most (Config's max_baud, --max-baud): above 115,200 only the
// adapter's limit, never a module rate.
func AdapterRates() []int {
	return []int{9600, 19200, 38400, 57600, 115200, 230400, 460800, 500000, 576000, 921600, 1000000, 1152000, 1500000, 2000000, 2500000, 3000000, 3500000, 4000000}
}

// CheckAdapterBaud accepts a standard termios rate from 9,600 up.
func CheckAdapterBaud(baud int) error {
	if !slices.Contains(AdapterRates(), baud) {
		return fmt.Errorf("sensor: adapter rate %d, want a standard rate from 9600 (9600, 19200, 38400, 57600, 115200, 230400, …, 4000000)", baud)
	}
	return nil
}

// FastestBaud is the fastest rate of SwitchRates that both the module and an
// adapter holding at most max take; 0 when max is below 9,600.
func FastestBaud(max int) int {
	best := 0
	for _, r := range SwitchRates() {
		if r <= max && r <= ModuleMaxBaud {
			best = r
		}
	}
	return best
}

// FastestFirst is SwitchRates up to max, fastest first: the order to look
// for a module in, since a module is switched to the fastest rate it holds.
func FastestFirst(max int) []int {
	var rs []int
	for _, r := range slices.Backward(SwitchRates()) {
		if r <= max {
			rs = append(rs, r)
		}
	}
	return rs
}

// Baud is the module's line rate as last read (ReadSysPara) or set
// (SetBaud); 0 before either.
func (d *Dev) Baud() int { return d.baud }

// SetBaud asks the module to talk at baud from now on (SetSysPara 4,
// N = baud/9600) and, once it has acknowledged at the old rate, sets the
// port to baud. The module keeps the rate across power cycles. A module
// that refuses gives its Code (BadRegisterConfig for an N it does not hold)
// and stays at the old rate. The command is sent once: an answer lost on
// the line leaves the module at either rate, and resending at the old rate
// to a module already at the new one would only make more noise; Switch
// finds it again.
func (d *Dev) SetBaud(ctx context.Context, baud int) error {
	sp, ok := d.port.(SpeedPort)
	if !ok {
		return fmt.Errorf("sensor: SetSysPara baud %d: the port (%T) cannot change its line rate", baud, d.port)
	}
	if err := CheckBaud(baud); err != nil {
		return fmt.Errorf("sensor: SetSysPara: %w", err)
	}
	if sp.Baud() == 0 {
		// A Reconnecting port over a device that cannot change speed:
		// the module must not be moved where the port cannot follow.
		return fmt.Errorf("sensor: SetSysPara baud %d: the port's device cannot change its line rate", baud)
	}
	if _, err := d.commandTries(ctx, "SetSysPara", []byte{cmdSetSysPara, paraBaud, byte(baud / 9600)}, 1, false); err != nil {
		return err
	}
	d.baud = baud
	if err := sp.SetBaud(baud); err != nil {
		return fmt.Errorf("sensor: SetSysPara: the module now talks at %d baud, the port could not follow: %w", baud, err)
	}
	// Whatever arrived while the two ends changed speed is noise.
	if err := d.rd.drain(ctx, d.opts.Quiet, d.opts.Timeout); err != nil {
		return fmt.Errorf("sensor: SetSysPara: %w", err)
	}
	return nil
}

// Locate finds the module's line rate among rates, tried in that order
// (none: the port's own rate): a single VfyPwd of at most ProbeTimeout at
// each, then, if none was answered, the first once more with the Dev's own
// timeout and retries, for a slow or noisy line. It leaves the port at the
// rate the module answered at (a wrong password is an answer too, and is
// returned) and reads the parameters there. A port that cannot change speed
// is tried at its own rate only.
func (d *Dev) Locate(ctx context.Context, rates []int) (SysPara, error) {
	sp, canSet := d.port.(SpeedPort)
	var try []int
	for _, r := range rates {
		if !slices.Contains(try, r) {
			try = append(try, r)
		}
	}
	if !canSet || len(try) == 0 {
		try = []int{0}
	}
	at := func(r int, quick bool) (bool, error) {
		if r != 0 && r != sp.Baud() {
			if err := sp.SetBaud(r); err != nil {
				return false, err
			}
		}
		saved := d.opts
		if quick {
			d.opts.Timeout = min(d.opts.Timeout, ProbeTimeout)
			d.opts.Retries = 0
		}
		err := d.VerifyPassword(ctx)
		d.opts = saved
		var code Code
		return err == nil || errors.As(err, &code), err
	}
	var last error
	for i, quick := 0, true; i < len(try); i++ {
		answered, err := at(try[i], quick && len(try) > 1)
		if ctx.Err() != nil {
			return SysPara{}, fmt.Errorf("sensor: looking for the module: %w", ctx.Err())
		}
		if answered {
			if err != nil {
				return SysPara{}, err
			}
			return d.ReadSysPara(ctx)
		}
		last = err
		if i == len(try)-1 && quick && len(try) > 1 {
			i, quick = -1, false
			try = try[:1]
		}
	}
	return SysPara{}, fmt.Errorf("sensor: the module answered at none of %v baud: %w", rates, last)
}

// ErrSwitch is wrapped by Switch when the module could not be moved to the
// rate asked for but still talks at the rate Switch returns.
var ErrSwitch = errors.New("sensor: baud switch failed")

// Switch moves the module and the port to the fastest rate both hold
// (FastestBaud(max)): SetBaud, then a ReadSysPara at the new rate that must
// report it. When that check fails the module is looked for at the old
// rate, the new one, then at every rate of SwitchRates (Locate): a module
// that missed the switch, or took it while its acknowledgement was lost, is
// not lost. It returns the
// rate the line runs at afterwards; with an error wrapping ErrSwitch the
// module still answers at that rate, with any other error it was not found.
// The module must have been talked to (ReadSysPara) at the port's rate.
func (d *Dev) Switch(ctx context.Context, max int) (int, error) {
	sp, ok := d.port.(SpeedPort)
	if !ok {
		return 0, fmt.Errorf("sensor: switch: the port (%T) cannot change its line rate", d.port)
	}
	to := FastestBaud(max)
	if to == 0 {
		return 0, fmt.Errorf("sensor: switch: adapter rate %d is below the slowest module rate, 9600", max)
	}
	if d.baud == 0 {
		if _, err := d.ReadSysPara(ctx); err != nil {
			return 0, fmt.Errorf("sensor: switch: %w", err)
		}
	}
	from := sp.Baud()
	if from == 0 {
		return 0, fmt.Errorf("sensor: switch: the port's device cannot change its line rate")
	}
	if d.baud == to && from == to {
		return to, nil
	}
	serr := d.SetBaud(ctx, to)
	if serr == nil {
		para, err := d.ReadSysPara(ctx)
		if err == nil && para.Baud == to {
			return to, nil
		}
		if err == nil {
			err = fmt.Errorf("the module answers at %d baud but reports %d", to, para.Baud)
		}
		serr = fmt.Errorf("check at %d baud: %w", to, err)
	}
	var code Code
	if errors.As(serr, &code) && sp.Baud() == from {
		// The module refused and said so at the old rate: nothing moved.
		return from, fmt.Errorf("%w: %d to %d baud: %w", ErrSwitch, from, to, serr)
	}
	rates := append([]int{from, to}, FastestFirst(ModuleMaxBaud)...)
	para, err := d.Locate(ctx, rates)
	if err != nil {
		return 0, fmt.Errorf("sensor: switch %d to %d baud: %v; then: %w", from, to, serr, err)
	}
	if now := sp.Baud(); now == to && para.Baud == to {
		return to, nil
	}
	return sp.Baud(), fmt.Errorf("%w: %d to %d baud: %w; the module answers at %d", ErrSwitch, from, to, serr, sp.Baud())
}
