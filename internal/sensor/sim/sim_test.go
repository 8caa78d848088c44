package sim

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"io"
	"testing"

	"edge/internal/sensor"
)

func TestFitCropsAndPadsAroundTheCentre(t *testing.T) {
	// A 6×2 image whose pixel values encode their column.
	img := image.NewGray(image.Rect(0, 0, 6, 2))
	for x := range 6 {
		img.SetGray(x, 0, color.Gray{Y: uint8(16 * x)})
		img.SetGray(x, 1, color.Gray{Y: uint8(16*x + 15)})
	}
	// Narrower: columns 1..4 of the source, rows padded above and below.
	got := Fit(img, 4, 4)
	want := []byte{
		15, 15, 15, 15,
		1, 2, 3, 4,
		1, 2, 3, 4,
		15, 15, 15, 15,
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("Fit = %v, want %v", got, want)
	}
}

func TestFitQuantisesGray(t *testing.T) {
	img := image.NewGray(image.Rect(0, 0, 256, 1))
	for x := range 256 {
		img.Pix[x] = uint8(x)
	}
	for x, v := range Fit(img, 256, 1) {
		if v != uint8(x)>>4 {
			t.Fatalf("pixel %d → %d, want %d", x, v, x>>4)
		}
	}
}

func TestPack(t *testing.T) {
	if got := Pack([]byte{1, 2, 15, 0}); !bytes.Equal(got, []byte{0x12, 0xF0}) {
		t.Fatalf("Pack = % x", got)
	}
}

// conversation feeds commands to Serve and collects its answers.
type conversation struct {
	in  *bytes.Reader
	out bytes.Buffer
}

func (c *conversation) Read(p []byte) (int, error)  { return c.in.Read(p) }
func (c *conversation) Write(p []byte) (int, error) { return c.out.Write(p) }

func command(p ...byte) []byte {
	return sensor.AppendFrame(nil, sensor.Frame{Address: sensor.DefaultAddress, PID: sensor.PIDCommand, Payload: p})
}

// answers decodes every packet Serve wrote.
func answers(t *testing.T, b []byte) []sensor.Frame {
	var fs []sensor.Frame
	for len(b) > 0 {
		f, n, err := sensor.ParseFrame(b)
		if err != nil {
			t.Fatalf("simulator wrote a bad packet: %v", err)
		}
		f.Payload = bytes.Clone(f.Payload)
		fs = append(fs, f)
		b = b[n:]
	}
	return fs
}

func TestPrintsLandInTurnAndGarbageIsSkipped(t *testing.T) {
	a := image.NewGray(image.Rect(0, 0, 16, 16))
	b := image.NewGray(image.Rect(0, 0, 16, 16))
	for i := range b.Pix {
		b.Pix[i] = 255
	}
	s, err := NewMulti([]image.Image{a, b}, Options{Width: 16, Height: 16, PacketSize: 32})
	if err != nil {
		t.Fatal(err)
	}
	var in []byte
	in = append(in, 0xEF, 0x01, 0x02, 0x03) // line noise
	in = append(in, command(0x01)...)       // GenImg: print a
	in = append(in, command(0x0A)...)       // UpImage
	in = append(in, command(0x01)...)       // GenImg: print b
	in = append(in, command(0x0A)...)
	c := &conversation{in: bytes.NewReader(in)}
	if err := s.Serve(context.Background(), c); err == nil || !bytes.Contains([]byte(err.Error()), []byte(io.EOF.Error())) {
		t.Fatalf("Serve ended with %v, want the end of input", err)
	}
	fs := answers(t, c.out.Bytes())
	// GenImg ack, UpImage ack + 4 packets, twice.
	if len(fs) != 12 {
		t.Fatalf("%d packets, want 12", len(fs))
	}
	if fs[5].PID != sensor.PIDEnd || fs[4].PID != sensor.PIDData {
		t.Errorf("packet identifiers %#x %#x, want data then end", fs[4].PID, fs[5].PID)
	}
	if fs[2].Payload[0] != 0x00 || fs[8].Payload[0] != 0xFF {
		t.Errorf("first bytes of the two uploads %#x and %#x, want 0x00 then 0xff", fs[2].Payload[0], fs[8].Payload[0])
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	img := image.NewGray(image.Rect(0, 0, 8, 8))
	for name, o := range map[string]Options{
		"packet size": {PacketSize: 100},
		"geometry":    {Width: 10, Height: 10, PacketSize: 32},
		"baud":        {Baud: 1234},
		"rate":        {CorruptRate: 2},
	} {
		if _, err := New(img, o); err == nil {
			t.Errorf("%s: New accepted %+v", name, o)
		}
	}
}

// TestSetSysParaBaud: the module takes N 1 to 12 for parameter 4,
// acknowledges at the old rate, reports the new one, and refuses a bad N
// or parameter with the module's codes.
func TestSetSysParaBaud(t *testing.T) {
	img := image.NewGray(image.Rect(0, 0, 16, 16))
	s, err := New(img, Options{Width: 16, Height: 16, PacketSize: 32})
	if err != nil {
		t.Fatal(err)
	}
	var in []byte
	in = append(in, command(0x0E, 4, 13)...) // N beyond 12
	in = append(in, command(0x0E, 4, 0)...)  // N 0
	in = append(in, command(0x0E, 9, 1)...)  // no such parameter
	in = append(in, command(0x0E, 4)...)     // no value
	in = append(in, command(0x0E, 4, 12)...) // 115,200
	in = append(in, command(0x0F)...)
	c := &conversation{in: bytes.NewReader(in)}
	s.Serve(context.Background(), c)
	fs := answers(t, c.out.Bytes())
	if len(fs) != 6 {
		t.Fatalf("%d answers, want 6", len(fs))
	}
	for i, want := range []sensor.Code{sensor.BadRegisterConfig, sensor.BadRegisterConfig, sensor.BadRegister, sensor.PacketReceiveErr, sensor.OK, sensor.OK} {
		if got := sensor.Code(fs[i].Payload[0]); got != want {
			t.Errorf("answer %d: code %#x, want %#x", i, byte(got), byte(want))
		}
	}
	sp, err := sensor.ParseSysPara(fs[5].Payload[1:])
	if err != nil || sp.Baud != 115200 {
		t.Errorf("ReadSysPara after the switch: %+v, %v; want 115200", sp, err)
	}
	if st := s.Stats(); st.Baud != 115200 || st.BaudChanges != 1 {
		t.Errorf("stats %+v, want 115200 after one change", st)
	}
}

// FuzzServe feeds the module any bytes as commands: it must end on the
// end of input, with a well-formed answer to whatever it answered.
func FuzzServe(f *testing.F) {
	for _, c := range [][]byte{command(0x0E, 4, 12), command(0x0E, 4, 13), command(0x0F), command(0x13, 0, 0, 0, 0), command(0x01, 0x0A)} {
		f.Add(c)
	}
	img := image.NewGray(image.Rect(0, 0, 16, 16))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := New(img, Options{Width: 16, Height: 16, PacketSize: 32})
		if err != nil {
			t.Fatal(err)
		}
		c := &conversation{in: bytes.NewReader(b)}
		if err := s.Serve(context.Background(), c); err == nil || !bytes.Contains([]byte(err.Error()), []byte(io.EOF.Error())) {
			t.Fatalf("Serve ended with %v, want the end of input", err)
		}
		answers(t, c.out.Bytes())
		if r := s.Baud(); r%9600 != 0 || r < 9600 || r > 115200 {
			t.Fatalf("module at %d baud", r)
		}
	})
}
