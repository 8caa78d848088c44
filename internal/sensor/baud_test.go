package sensor_test

import (
	"context"
	"errors"
	"image"
	"path/filepath"
	"testing"
	"time"

	"edge/internal/sensor"
	"edge/internal/sensor/sim"
)

// startSimPTY is startSim that also hands back the pty now serving, so a
// test can read the rate the driver set on it.
func startSimPTY(t *testing.T, print image.Image, o sim.Options, back time.Duration) (string, *sim.Sim, func() *sim.PTY) {
	t.Helper()
	s, err := sim.New(print, o)
	if err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(t.TempDir(), "ttySIM")
	ctx, cancel := context.WithCancel(context.Background())
	ptys := make(chan *sim.PTY, 8)
	done := make(chan error, 1)
	go func() { done <- sim.Run(ctx, s, link, back, func(p *sim.PTY) { ptys <- p }) }()
	var cur *sim.PTY
	select {
	case cur = <-ptys:
	case err := <-done:
		cancel()
		t.Fatalf("simulator: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return link, s, func() *sim.PTY {
		for {
			select {
			case p := <-ptys:
				cur = p
			default:
				return cur
			}
		}
	}
}

func lineRate(t *testing.T, p *sim.PTY) int {
	t.Helper()
	r, err := p.LineRate()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestSwitchBaudThroughPTY switches a module found at 57,600 to 115,200:
// the module, the driver and the termios of the line all say 115,200
// afterwards, and a whole capture runs at the new pace.
func TestSwitchBaudThroughPTY(t *testing.T) {
	link, s, pty := startSimPTY(t, synthPrint(256, 288), sim.Options{Baud: 57600}, 0)
	d, p := openDev(t, link, 57600, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := d.VerifyPassword(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := d.ReadSysPara(ctx); err != nil {
		t.Fatal(err)
	}
	if r := lineRate(t, pty()); r != 57600 {
		t.Fatalf("line at %d before the switch, want 57600", r)
	}
	got, err := d.Switch(ctx, sensor.ModuleMaxBaud)
	if err != nil || got != 115200 {
		t.Fatalf("Switch = %d, %v; want 115200", got, err)
	}
	st := s.Stats()
	if st.Baud != 115200 || st.BaudChanges != 1 || d.Baud() != 115200 || p.(sensor.SpeedPort).Baud() != 115200 || lineRate(t, pty()) != 115200 {
		t.Fatalf("after the switch: module %d (%d changes), driver %d, port %d, line %d; want 115200 everywhere",
			st.Baud, st.BaudChanges, d.Baud(), p.(sensor.SpeedPort).Baud(), lineRate(t, pty()))
	}
	// Already there: nothing is sent.
	if got, err := d.Switch(ctx, 921600); err != nil || got != 115200 || s.Stats().BaudChanges != 1 {
		t.Errorf("second Switch = %d, %v with %d changes; want 115200 and no new change", got, err, s.Stats().BaudChanges)
	}
	before := s.Stats().BytesSent
	t0 := time.Now()
	img, err := d.Capture(ctx, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(t0)
	if i := firstDiff(img.Pix, want8(s)); i >= 0 {
		t.Fatalf("pixel %d differs", i)
	}
	if n := s.Stats().WrongRateBytes; n != 0 {
		t.Errorf("%d bytes reached the module at the wrong rate", n)
	}
	// Not asserted (wall time): the pace the bytes came at.
	sent := s.Stats().BytesSent - before
	t.Logf("capture at 115200: %d bytes in %v, %.0f bit/s on the line", sent, took.Round(time.Millisecond), float64(sent*10)/took.Seconds())
}

// TestSwitchNotTakenFallsBack: a module that acknowledges the change but
// stays where it was is found again at the old rate.
func TestSwitchNotTakenFallsBack(t *testing.T) {
	link, s, pty := startSimPTY(t, synthPrint(256, 288), sim.Options{Baud: 57600, IgnoreBaudSwitch: true}, 0)
	o := sensor.DefaultOpts
	o.Timeout = 300 * time.Millisecond
	d, p := openDev(t, link, 57600, &o)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := d.ReadSysPara(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := d.Switch(ctx, 115200)
	if !errors.Is(err, sensor.ErrSwitch) || got != 57600 {
		t.Fatalf("Switch = %d, %v; want 57600 and ErrSwitch", got, err)
	}
	t.Log(err)
	if p.(sensor.SpeedPort).Baud() != 57600 || lineRate(t, pty()) != 57600 || d.Baud() != 57600 || s.Stats().Baud != 57600 {
		t.Errorf("after the fall-back: port %d, line %d, driver %d, module %d; want 57600", p.(sensor.SpeedPort).Baud(), lineRate(t, pty()), d.Baud(), s.Stats().Baud)
	}
	if s.Stats().WrongRateBytes == 0 {
		t.Error("the check at 115200 never reached the module as noise: the test tested no fall-back")
	}
	if _, err := d.TemplateNum(ctx); err != nil {
		t.Errorf("module not answering after the fall-back: %v", err)
	}
}

func TestSetBaudRefusesRatesTheModuleLacks(t *testing.T) {
	link, s, _ := startSimPTY(t, synthPrint(256, 288), sim.Options{Baud: 57600}, 0)
	d, _ := openDev(t, link, 57600, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, b := range []int{0, 4800, 10000, 124800, 230400} {
		if err := d.SetBaud(ctx, b); err == nil {
			t.Errorf("SetBaud(%d) accepted", b)
		}
	}
	if s.Stats().Commands != 0 {
		t.Errorf("%d commands sent for rates the driver should refuse itself", s.Stats().Commands)
	}
	if got := sensor.FastestBaud(100000); got != 57600 {
		t.Errorf("FastestBaud(100000) = %d, want 57600", got)
	}
	if got := sensor.FastestBaud(4800); got != 0 {
		t.Errorf("FastestBaud(4800) = %d, want 0", got)
	}
	for _, b := range []int{9600, 115200, 230400, 921600} {
		if err := sensor.CheckAdapterBaud(b); err != nil {
			t.Errorf("CheckAdapterBaud(%d): %v", b, err)
		}
	}
	for _, b := range []int{0, 4800, 28800, 100000} {
		if sensor.CheckAdapterBaud(b) == nil {
			t.Errorf("CheckAdapterBaud(%d) accepted", b)
		}
	}
}

// TestReconnectFindsSwitchedModule: a module switched to 115,200 that
// hangs up comes back at 115,200 (it keeps the rate); a Reconnecting port
// opened at 57,600 sets the rate it had, and a fresh port opened at 57,600
// finds it by Locate.
func TestReconnectFindsSwitchedModule(t *testing.T) {
	link, s, pty := startSimPTY(t, synthPrint(256, 288), sim.Options{Baud: 57600, DisconnectAfter: 4000}, 200*time.Millisecond)
	o := sensor.DefaultOpts
	o.Timeout = 500 * time.Millisecond
	o.Retries = 1
	rp := sensor.NewReconnecting(func() (sensor.PortCloser, error) { return sensor.OpenSerial(link, 57600) })
	t.Cleanup(func() { rp.Close() })
	d, err := sensor.New(rp, &o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if _, err := d.ReadSysPara(ctx); err != nil {
		t.Fatal(err)
	}
	if got, err := d.Switch(ctx, 115200); err != nil || got != 115200 {
		t.Fatalf("Switch = %d, %v", got, err)
	}
	first := pty()
	if _, err := d.Capture(ctx, nil, nil); !errors.Is(err, sensor.ErrDisconnected) {
		t.Fatalf("capture on a line that hung up: %v, want ErrDisconnected", err)
	}
	// The line comes back on a new pty; the reopened device is set to the
	// rate it was switched to before the first command.
	var sp sensor.SysPara
	deadline := time.Now().Add(10 * time.Second)
	for {
		sp, err = d.ReadSysPara(ctx)
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("module not found again: %v", err)
	}
	again := pty()
	if again == first {
		t.Fatal("the simulator did not come back on a new pty")
	}
	if sp.Baud != 115200 || lineRate(t, again) != 115200 || rp.Baud() != 115200 {
		t.Errorf("after reconnecting: module reports %d, line %d, port %d; want 115200", sp.Baud, lineRate(t, again), rp.Baud())
	}
	if n := s.Stats().WrongRateBytes; n != 0 {
		t.Errorf("%d bytes at the wrong rate: the reopened port was not set to the module's rate first", n)
	}

	// A fresh port at the factory rate hears nothing, and finds it by Locate.
	d2, p2 := openDev(t, link, 57600, &o)
	if err := d2.VerifyPassword(ctx); !errors.Is(err, sensor.ErrTimeout) {
		t.Fatalf("VfyPwd at 57600 to a module at 115200: %v, want a timeout", err)
	}
	if s.Stats().WrongRateBytes == 0 {
		t.Error("the module heard no noise from a port at the wrong rate")
	}
	sp, err = d2.Locate(ctx, append([]int{57600}, sensor.FastestFirst(115200)...))
	if err != nil || sp.Baud != 115200 || p2.(sensor.SpeedPort).Baud() != 115200 {
		t.Fatalf("Locate = %+v, %v at port rate %d; want 115200", sp, err, p2.(sensor.SpeedPort).Baud())
	}
}
