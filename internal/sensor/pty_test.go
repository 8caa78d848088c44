package sensor_test

import (
	"context"
	"testing"
	"time"

	"edge/internal/sensor"
	"edge/internal/sensor/sim"
)

func TestCaptureThroughPTY(t *testing.T) {
	link, s := startSim(t, synthPrint(300, 260), sim.Options{NoFinger: 2}, 0)
	d, _ := openDev(t, link, 57600, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := d.VerifyPassword(ctx); err != nil {
		t.Fatal(err)
	}
	sp, err := d.ReadSysPara(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if sp.PacketSize != 128 || sp.Baud != 57600 || sp.Address != sensor.DefaultAddress || sp.LibrarySize != 300 {
		t.Errorf("ReadSysPara = %+v", sp)
	}
	img, err := d.Capture(ctx, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if i := firstDiff(img.Pix, want8(s)); i >= 0 {
		t.Fatalf("pixel %d differs", i)
	}
}
