package gpio

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	pgpio "periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"
)

func TestWaitTouchReturnsOnFallingEdge(t *testing.T) {
	touch := &gpiotest.Pin{N: "GPIO17", EdgesChan: make(chan pgpio.Level, 1)}
	l, err := New(touch, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if touch.P != pgpio.PullUp {
		t.Fatalf("touch pull %v, want PullUp", touch.P)
	}
	done := make(chan error, 1)
	go func() { done <- l.WaitTouch(context.Background()) }()
	select {
	case err := <-done:
		t.Fatalf("WaitTouch returned %v before any finger", err)
	case <-time.After(3 * edgeSlice):
	}
	touch.EdgesChan <- pgpio.Low
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestWaitTouchHonoursContext(t *testing.T) {
	touch := &gpiotest.Pin{N: "GPIO17", EdgesChan: make(chan pgpio.Level)}
	l, err := New(touch, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := l.WaitTouch(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitTouch = %v, want deadline exceeded", err)
	}
}

func TestOutputs(t *testing.T) {
	led := &gpiotest.Pin{N: "GPIO27", L: pgpio.High}
	buzzer := &gpiotest.Pin{N: "GPIO22", L: pgpio.High}
	l, err := New(nil, led, buzzer)
	if err != nil {
		t.Fatal(err)
	}
	if led.L != pgpio.Low || buzzer.L != pgpio.Low {
		t.Fatal("outputs not driven low at start")
	}
	if err := l.SetLED(true); err != nil || led.L != pgpio.High {
		t.Fatalf("SetLED(true): %v, level %v", err, led.L)
	}
	if err := l.Beep(context.Background(), time.Millisecond); err != nil || buzzer.L != pgpio.Low {
		t.Fatalf("Beep: %v, level after %v", err, buzzer.L)
	}
	if err := l.WaitTouch(context.Background()); !errors.Is(err, ErrNoTouchLine) {
		t.Fatalf("WaitTouch without a line = %v", err)
	}
}

func TestOpenDegradesWithoutPins(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	l, err := Open(Pins{Touch: "NO_SUCH_PIN", LED: "NOR_THIS"}, log)
	if err != nil {
		t.Fatal(err)
	}
	if l.HasTouch() {
		t.Error("a touch line from a pin that does not exist")
	}
	if err := l.SetLED(true); err != nil {
		t.Errorf("SetLED without an LED: %v", err)
	}
	if !bytes.Contains(logs.Bytes(), []byte("NO_SUCH_PIN")) {
		t.Errorf("missing pin not logged: %s", logs.String())
	}
}
