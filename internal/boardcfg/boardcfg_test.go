package boardcfg

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"edge/board"
	"edge/internal/infer"
	"edge/internal/medimg"
	"edge/internal/sensor"
	"edge/internal/sensor/gpio"
)

func load(t *testing.T, name string) *board.Profile {
	t.Helper()
	p, err := Load(name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// profile writes a profile for this machine's architecture.
func profile(t *testing.T, js string) *board.Profile {
	t.Helper()
	f := filepath.Join(t.TempDir(), "p.json")
	js = strings.ReplaceAll(js, "ARCH", runtime.GOARCH)
	if runtime.GOARCH == "arm" {
		js = strings.Replace(js, `"goarch":"arm"`, `"goarch":"arm","goarm":"7"`, 1)
	}
	if err := os.WriteFile(f, []byte(js), 0o644); err != nil {
		t.Fatal(err)
	}
	return load(t, f)
}

func TestNoBoardIsTheDriversDefaults(t *testing.T) {
	if p, err := Load(""); p != nil || err != nil {
		t.Fatalf("Load(\"\") = %v, %v", p, err)
	}
	if s := Sensor(nil); s.Port != "" || s.Baud != DefaultBaud || s.Opts != sensor.DefaultOpts {
		t.Errorf("Sensor(nil) = %+v", s)
	}
	if g := GPIO(nil); g != (gpio.Pins{}) {
		t.Errorf("GPIO(nil) = %+v", g)
	}
	if l := Images(nil); l != (board.ImageLimits{}) {
		t.Errorf("Images(nil) = %+v", l)
	}
	o := infer.Options{ModelPath: "m.onnx", Threads: 3}
	if got, err := Infer(nil, o); err != nil || got.ModelPath != o.ModelPath || got.Threads != 3 || got.ORTLib != "" || got.Providers != nil {
		t.Errorf("Infer(nil) = %+v, %v", got, err)
	}
	if _, err := Load("no-such-board"); err == nil {
		t.Error("unknown board accepted")
	}
}

func TestSensorAndPinsFromProfile(t *testing.T) {
	p := load(t, "rpi5")
	s := Sensor(p)
	if s.Port != "/dev/ttyAMA0" || s.Baud != 57600 || s.Opts.Address != 0xFFFFFFFF || s.Opts.Password != 0 {
		t.Errorf("rpi5 serial %+v", s)
	}
	if s.Opts.Timeout != sensor.DefaultOpts.Timeout || s.Opts.Width != sensor.DefaultOpts.Width {
		t.Errorf("settings the profile does not have changed: %+v", s.Opts)
	}
	if g := GPIO(p); g != (gpio.Pins{Touch: "GPIO17", LED: "GPIO27", Buzzer: "GPIO22"}) {
		t.Errorf("rpi5 pins %+v", g)
	}
	if l := Images(p); l.MaxSamples != 12000000 || l.MaxBytes != 32<<20 {
		t.Errorf("rpi5 limits %+v", l)
	}
	q := profile(t, `{"name":"q","goarch":"ARCH","serial":{"port":"/dev/ttyS2","baud":115200,"address":7,"password":9}}`)
	if s := Sensor(q); s.Port != "/dev/ttyS2" || s.Baud != 115200 || s.Opts.Address != 7 || s.Opts.Password != 9 {
		t.Errorf("custom serial %+v", s)
	}
	if g := GPIO(load(t, "jetson-orin")); g != (gpio.Pins{}) {
		t.Errorf("jetson pins %+v, it wires none", g)
	}
}

func TestInferFromProfile(t *testing.T) {
	lib := filepath.Join(t.TempDir(), "libonnxruntime.so.1")
	if err := os.WriteFile(lib, []byte("not really"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := profile(t, `{"name":"mine","goarch":"ARCH","ort_library":"`+lib+`","execution_providers":["xnnpack","cpu"]}`)
	got, err := Infer(p, infer.Options{ModelPath: "m.onnx"})
	if err != nil || got.ORTLib != lib || !slices.Equal(got.Providers, []string{"xnnpack", "cpu"}) || got.ModelPath != "m.onnx" {
		t.Fatalf("Infer = %+v, %v", got, err)
	}
	got.Providers[0] = "changed"
	if p.ExecutionProviders[0] != "xnnpack" {
		t.Error("options share the profile's provider list")
	}
	// Flags win over the board.
	got, err = Infer(p, infer.Options{ORTLib: "/flag/lib.so", Providers: []string{"cpu"}})
	if err != nil || got.ORTLib != "/flag/lib.so" || !slices.Equal(got.Providers, []string{"cpu"}) {
		t.Fatalf("flags lost: %+v, %v", got, err)
	}
	gone := profile(t, `{"name":"gone","goarch":"ARCH","ort_library":"/nonexistent/libonnxruntime.so.1","execution_providers":["cpu"]}`)
	if _, err := Infer(gone, infer.Options{}); err == nil || !strings.Contains(err.Error(), "/nonexistent/libonnxruntime.so.1") || !strings.Contains(err.Error(), "gone") {
		t.Errorf("missing library: %v", err)
	}
}

func TestBoardWithoutRuntimeSaysHowToGetFeatures(t *testing.T) {
	p := profile(t, `{"name":"small","goarch":"ARCH"}`)
	_, err := Infer(p, infer.Options{})
	if !errors.Is(err, ErrNoInference) || !strings.Contains(err.Error(), "--features") || !strings.Contains(err.Error(), "small") {
		t.Fatalf("no-runtime board: %v", err)
	}
	// A library the technician built for the board is used.
	if got, err := Infer(p, infer.Options{ORTLib: "/home/tech/libonnxruntime.so.1"}); err != nil || got.ORTLib != "/home/tech/libonnxruntime.so.1" {
		t.Errorf("own library on a no-runtime board: %+v, %v", got, err)
	}
}

func TestProfileForAnotherArchitectureIsRefused(t *testing.T) {
	for _, n := range board.Names() {
		p := load(t, n)
		_, err := Infer(p, infer.Options{ORTLib: "/any"})
		if p.GOARCH == runtime.GOARCH {
			if err != nil {
				t.Errorf("%s on %s: %v", n, runtime.GOARCH, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), p.GOARCH) || !strings.Contains(err.Error(), runtime.GOARCH) {
			t.Errorf("%s (%s) on %s: %v", n, p.GOARCH, runtime.GOARCH, err)
		}
	}
}

// TestImageLimitsFromProfile: a board's image limits reach the decoders, so
// an image past them is refused with an error before its pixels are
// allocated, on every architecture (cross-test runs this on ARMv7 too).
func TestImageLimitsFromProfile(t *testing.T) {
	small := profile(t, `{"name":"small","goarch":"ARCH","image_limits":{"max_samples":1000000,"max_bytes":4194304}}`)
	im := &medimg.Image{Width: 1001, Height: 1000, Frames: 1, Channels: 1, BitsAllocated: 8, BitsStored: 8,
		Photometric: medimg.Monochrome2, Pix: make([]int32, 1001*1000)}
	var buf bytes.Buffer
	if err := medimg.EncodePNG(&buf, im); err != nil {
		t.Fatal(err)
	}
	_, _, err := MedImg(small).Decode(buf.Bytes())
	var ue *medimg.UnsupportedError
	if !errors.As(err, &ue) {
		t.Fatalf("1001×1000 image under a 1 M-sample board: error %v, want an UnsupportedError", err)
	}
	if _, _, err := MedImg(nil).Decode(buf.Bytes()); err != nil {
		t.Fatalf("the same image with no board: %v", err)
	}
}
