// Package gpio drives the lines wired beside a fingerprint module: the
// module's touch (wake) output, which goes low while a finger rests on the
// window, a status LED and a buzzer, all through periph.io and named by
// periph.io pin name (Pins; the application fills it from the board profile).
//
// Every line is optional. A board without GPIO, or one whose profile leaves
// a line empty or names a pin the host does not have, gets a Lines that
// does without: the LED and buzzer calls do nothing and there is no touch
// line to wait on, so the caller asks the module instead. What is missing is
// logged once, when the lines are opened.
//
// The touch line is an input with the pull-up on and falling-edge
// detection: WaitTouch sleeps in the kernel until the edge, so a capture
// starts when the finger lands without polling the module.
package gpio

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	pgpio "periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/host/v3"
)

// Lines are the sensor's side lines; nil fields are not wired.
type Lines struct {
	touch       pgpio.PinIn
	led, buzzer pgpio.PinOut
}

// ErrNoTouchLine is returned by WaitTouch when no touch line is wired.
var ErrNoTouchLine = errors.New("gpio: no touch line on this board")

// Pins names the lines by periph.io pin name (GPIO17, …); empty means the
// line is not wired.
type Pins struct {
	Touch, LED, Buzzer string
}

// Open finds the named pins. It fails only when the host's drivers fail to
// load; missing pins are logged and left out.
func Open(cfg Pins, log *slog.Logger) (*Lines, error) {
	if cfg == (Pins{}) {
		return &Lines{}, nil
	}
	if _, err := host.Init(); err != nil {
		return nil, fmt.Errorf("gpio: load periph.io host drivers: %w", err)
	}
	pin := func(role, name string) pgpio.PinIO {
		if name == "" {
			return nil
		}
		p := gpioreg.ByName(name)
		if p == nil {
			log.Warn("gpio: pin not found, going on without it", "role", role, "pin", name)
		}
		return p
	}
	var touch pgpio.PinIn
	var led, buzzer pgpio.PinOut
	if p := pin("touch", cfg.Touch); p != nil {
		touch = p
	}
	if p := pin("led", cfg.LED); p != nil {
		led = p
	}
	if p := pin("buzzer", cfg.Buzzer); p != nil {
		buzzer = p
	}
	l, err := New(touch, led, buzzer)
	if err != nil {
		log.Warn("gpio: touch line unusable, going on without it", "pin", cfg.Touch, "err", err)
		l, err = New(nil, led, buzzer)
	}
	return l, err
}

// New uses the given pins (any may be nil): the touch line is set to input
// with pull-up and falling-edge detection, the outputs to low.
func New(touch pgpio.PinIn, led, buzzer pgpio.PinOut) (*Lines, error) {
	if touch != nil {
		if err := touch.In(pgpio.PullUp, pgpio.FallingEdge); err != nil {
			return nil, fmt.Errorf("gpio: touch line %s: %w", touch, err)
		}
	}
	for _, p := range []pgpio.PinOut{led, buzzer} {
		if p != nil {
			if err := p.Out(pgpio.Low); err != nil {
				return nil, fmt.Errorf("gpio: output %s: %w", p, err)
			}
		}
	}
	return &Lines{touch: touch, led: led, buzzer: buzzer}, nil
}

// HasTouch reports a usable touch line.
func (l *Lines) HasTouch() bool { return l.touch != nil }

// edgeSlice bounds one wait for an edge, so that a cancelled context is
// noticed; the wait itself is in the kernel, not a poll.
const edgeSlice = 200 * time.Millisecond

// WaitTouch returns when a finger rests on the sensor: at once if the line
// is already low, else at the next falling edge.
func (l *Lines) WaitTouch(ctx context.Context) error {
	if l.touch == nil {
		return ErrNoTouchLine
	}
	for {
		if l.touch.Read() == pgpio.Low {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("gpio: waiting for a finger on %s: %w", l.touch, err)
		}
		if l.touch.WaitForEdge(edgeSlice) && l.touch.Read() == pgpio.Low {
			return nil
		}
	}
}

// SetLED switches the status LED; without one it does nothing.
func (l *Lines) SetLED(on bool) error {
	if l.led == nil {
		return nil
	}
	if err := l.led.Out(pgpio.Level(on)); err != nil {
		return fmt.Errorf("gpio: LED %s: %w", l.led, err)
	}
	return nil
}

// Beep sounds the buzzer for d; without one it does nothing.
func (l *Lines) Beep(ctx context.Context, d time.Duration) error {
	if l.buzzer == nil {
		return nil
	}
	if err := l.buzzer.Out(pgpio.High); err != nil {
		return fmt.Errorf("gpio: buzzer %s: %w", l.buzzer, err)
	}
	t := time.NewTimer(d)
	select {
	case <-ctx.Done():
	case <-t.C:
	}
	t.Stop()
	if err := l.buzzer.Out(pgpio.Low); err != nil {
		return fmt.Errorf("gpio: buzzer %s: %w", l.buzzer, err)
	}
	return ctx.Err()
}
