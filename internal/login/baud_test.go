package login_test

import (
	"context"
	"image"
	"path/filepath"
	"testing"
	"time"

	"edge/internal/biometric"
	"edge/internal/login"
	"edge/internal/sensor"
	"edge/internal/sensor/sim"
)

func openStation(t *testing.T, link string, openBaud, maxBaud int) *login.Station {
	t.Helper()
	st, err := biometric.CreateStore(filepath.Join(t.TempDir(), "store"))
	if err != nil {
		t.Fatal(err)
	}
	o := sensor.DefaultOpts
	o.Timeout = 500 * time.Millisecond
	o.Retries = 1
	s, err := login.Open(login.Options{
		Open:      func() (sensor.PortCloser, error) { return sensor.OpenSerial(link, openBaud) },
		Sensor:    &o,
		Extractor: &blockExtractor{},
		Store:     st,
		MaxBaud:   maxBaud,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestStationSwitchesBaud: a station finds a factory module at 57,600 and
// switches it to the fastest rate it and the adapter hold; a station
// opened later at 57,600 finds it at that rate; a module that comes back at
// the factory rate (another module plugged in) is found and switched again;
// an adapter said to hold less keeps the module slower.
func TestStationSwitchesBaud(t *testing.T) {
	link := filepath.Join(t.TempDir(), "sensor")
	s1, stop := startSim(t, link, []image.Image{synth(7)}, sim.Options{Baud: 57600})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	a := openStation(t, link, 57600, 0)
	if _, err := a.FingerPresent(ctx); err != nil {
		t.Fatal(err)
	}
	if st, ss := a.Sensor(), s1.Stats(); st.Baud != 115200 || ss.Baud != 115200 || ss.BaudChanges != 1 {
		t.Fatalf("after the first handshake: station says %d, module at %d after %d changes; want 115200 after 1", st.Baud, ss.Baud, ss.BaudChanges)
	}
	img, err := a.Capture(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := asCaptured(synth(7)); string(img.Pix) != string(want.Pix) {
		t.Error("print at 115200 differs from the one served")
	}
	if n := s1.Stats().WrongRateBytes; n != 0 {
		t.Errorf("%d bytes at the wrong rate after the switch", n)
	}
	a.Close()

	// A second station opens at the configured 57,600 and finds the module
	// where the first left it, without switching it again.
	b := openStation(t, link, 57600, 0)
	if _, err := b.FingerPresent(ctx); err != nil {
		t.Fatalf("station opened at 57600 did not find the module at 115200: %v", err)
	}
	if st := b.Sensor(); st.Baud != 115200 || s1.Stats().BaudChanges != 1 {
		t.Errorf("second station: %d baud, %d changes; want 115200 and still 1", st.Baud, s1.Stats().BaudChanges)
	}

	// Another module at the factory rate on the same link: the station
	// loses the old one, finds the new one at 57,600 and switches it.
	stop()
	if _, err := b.FingerPresent(ctx); err == nil {
		t.Fatal("no error with the module gone")
	}
	s2, _ := startSim(t, link, []image.Image{synth(7)}, sim.Options{Baud: 57600})
	var ferr error
	for range 20 {
		if _, ferr = b.FingerPresent(ctx); ferr == nil {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if ferr != nil {
		t.Fatalf("the new module was not found: %v", ferr)
	}
	if st, ss := b.Sensor(), s2.Stats(); st.Baud != 115200 || ss.Baud != 115200 || ss.BaudChanges != 1 {
		t.Errorf("new module: station %d, module %d after %d changes; want 115200 after 1", st.Baud, ss.Baud, ss.BaudChanges)
	}
	b.Close()

	// An adapter said to hold 57,600 at most brings the module back down.
	c := openStation(t, link, 57600, 57600)
	if _, err := c.FingerPresent(ctx); err != nil {
		t.Fatal(err)
	}
	if st, ss := c.Sensor(), s2.Stats(); st.Baud != 57600 || ss.Baud != 57600 {
		t.Errorf("adapter at most 57600: station %d, module %d", st.Baud, ss.Baud)
	}
}

func TestOpenRefusesAnAdapterRateNoAdapterHas(t *testing.T) {
	_, err := login.Open(login.Options{
		Open:      func() (sensor.PortCloser, error) { return nil, nil },
		Extractor: &blockExtractor{}, Store: &biometric.Store{}, MaxBaud: 100000,
	})
	if err == nil {
		t.Fatal("max rate 100000 accepted")
	}
}
