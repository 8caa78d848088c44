package sensor

import (
	"testing"

	"go.bug.st/serial/enumerator"
)

func TestCandidatesKeepKnownBridges(t *testing.T) {
	ports := []*enumerator.PortDetails{
		{Name: "/dev/ttyS0"},
		{Name: "/dev/ttyUSB0", IsUSB: true, VID: "10c4", PID: "ea60"},
		{Name: "/dev/ttyUSB1", IsUSB: true, VID: "1a86", PID: "7523"},
		{Name: "/dev/ttyACM0", IsUSB: true, VID: "2341", PID: "0043"}, // an Arduino, not a bridge we probe
		{Name: "/dev/ttyUSB2", IsUSB: true, VID: "0403", PID: "6015"},
		{Name: "/dev/ttyUSB3", IsUSB: true, VID: "067B", PID: "2303"},
	}
	got := candidatesFrom(ports)
	want := []string{"/dev/ttyUSB0 (10C4:EA60 CP210x)", "/dev/ttyUSB1 (1A86:7523 CH340)", "/dev/ttyUSB2 (0403:6015 FTDI FT-X)", "/dev/ttyUSB3 (067B:2303 PL2303)"}
	if len(got) != len(want) {
		t.Fatalf("candidates %v, want %v", got, want)
	}
	for i := range want {
		if got[i].String() != want[i] {
			t.Errorf("candidate %d = %s, want %s", i, got[i], want[i])
		}
	}
}

func TestCheckBaud(t *testing.T) {
	for _, b := range []int{9600, 19200, 57600, 115200} {
		if err := CheckBaud(b); err != nil {
			t.Errorf("CheckBaud(%d): %v", b, err)
		}
	}
	for _, b := range []int{0, 4800, 10000, 230400} {
		if CheckBaud(b) == nil {
			t.Errorf("CheckBaud(%d) accepted", b)
		}
	}
}

func TestParseSysParaRoundTrip(t *testing.T) {
	sp := SysPara{Status: 4, SystemID: 9, LibrarySize: 1000, SecurityLevel: 5, Address: 0x12345678, PacketSize: 256, Baud: 115200}
	got, err := ParseSysPara(AppendSysPara(nil, sp))
	if err != nil || got != sp {
		t.Fatalf("ParseSysPara(AppendSysPara(%+v)) = %+v, %v", sp, got, err)
	}
	bad := AppendSysPara(nil, sp)
	bad[13] = 4
	if _, err := ParseSysPara(bad); err == nil {
		t.Error("packet size code 4 accepted")
	}
}

func TestNewRejectsBadOpts(t *testing.T) {
	for name, o := range map[string]Opts{
		"odd pixels":  {Width: 3, Height: 3, Timeout: 1, UploadTries: 1},
		"huge":        {Width: 1 << 20, Height: 2, Timeout: 1, UploadTries: 1},
		"no timeout":  {Width: 256, Height: 288, UploadTries: 1},
		"no uploads":  {Width: 256, Height: 288, Timeout: 1},
		"neg retries": {Width: 256, Height: 288, Timeout: 1, UploadTries: 1, Retries: -1},
	} {
		if _, err := New(nil, &o); err == nil {
			t.Errorf("%s: New accepted %+v", name, o)
		}
	}
}
