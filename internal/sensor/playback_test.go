package sensor_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"path/filepath"
	"strconv"
	"testing"

	"edge/internal/sensor"
	"edge/internal/sensor/sensortest"
	"edge/internal/sensor/sim"
)

// A scenario is run once against the simulator over a real pty to record
// it (go test -run TestPlayback -update), and on every test run against
// the recording. It returns the facts the test compares.
type scenario struct {
	name string
	sim  sim.Options
	opts func(*sensor.Opts)
	run  func(ctx context.Context, d *sensor.Dev) (map[string]string, error)
}

var scenarios = []scenario{
	{"handshake", sim.Options{PacketSize: 64}, nil, func(ctx context.Context, d *sensor.Dev) (map[string]string, error) {
		if err := d.VerifyPassword(ctx); err != nil {
			return nil, err
		}
		sp, err := d.ReadSysPara(ctx)
		if err != nil {
			return nil, err
		}
		return map[string]string{"sys": fmt.Sprintf("%+v", sp)}, nil
	}},
	{"capture", sim.Options{NoFinger: 1}, nil, captureFacts},
	{"capture-corrupt", sim.Options{CorruptRate: 0.02, Seed: 11, PacketSize: 256}, func(o *sensor.Opts) { o.UploadTries = 20 }, captureFacts},
	{"wrong-password", sim.Options{Password: 42}, func(o *sensor.Opts) { o.Password = 41 }, func(ctx context.Context, d *sensor.Dev) (map[string]string, error) {
		err := d.VerifyPassword(ctx)
		return map[string]string{"wrong password": strconv.FormatBool(errors.Is(err, sensor.WrongPassword))}, nil
	}},
	{"templates", sim.Options{}, nil, func(ctx context.Context, d *sensor.Dev) (map[string]string, error) {
		for buf := byte(1); buf <= 2; buf++ {
			if err := d.GenImg(ctx); err != nil {
				return nil, err
			}
			if err := d.Img2Tz(ctx, buf); err != nil {
				return nil, err
			}
		}
		if err := d.RegModel(ctx); err != nil {
			return nil, err
		}
		if err := d.Store(ctx, 1, 12); err != nil {
			return nil, err
		}
		n, err := d.TemplateNum(ctx)
		if err != nil {
			return nil, err
		}
		m, err := d.Search(ctx, 1, 0, 100)
		if err != nil {
			return nil, err
		}
		if err := d.Empty(ctx); err != nil {
			return nil, err
		}
		if err := d.AuraLED(ctx, sensor.LED{Mode: sensor.LEDFlashing, Speed: 10, Color: sensor.LEDBlue, Count: 2}); err != nil {
			return nil, err
		}
		return map[string]string{"templates": strconv.Itoa(n), "match": fmt.Sprintf("%+v", m)}, nil
	}},
}

func captureFacts(ctx context.Context, d *sensor.Dev) (map[string]string, error) {
	img, err := d.Capture(ctx, nil, nil)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(img.Pix)
	return map[string]string{"image sha256": hex.EncodeToString(sum[:]), "bad packets": strconv.Itoa(d.BadPackets())}, nil
}

func recordingPath(name string) string {
	return filepath.Join("testdata", "recordings", name+".json")
}

func TestPlayback(t *testing.T) {
	update := flag.Lookup("update").Value.(flag.Getter).Get().(bool)
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			o := sensor.DefaultOpts
			if sc.opts != nil {
				sc.opts(&o)
			}
			ctx := context.Background()
			if update {
				record(t, sc, o)
			}
			rec, err := sensortest.Load(recordingPath(sc.name))
			if err != nil {
				t.Fatal(err)
			}
			pb := sensortest.NewPlayback(rec.Ops)
			d, err := sensor.New(pb, &o)
			if err != nil {
				t.Fatal(err)
			}
			got, err := sc.run(ctx, d)
			if err != nil {
				t.Fatal(err)
			}
			if err := pb.Close(); err != nil {
				t.Fatal(err)
			}
			for k, v := range rec.Want {
				if got[k] != v {
					t.Errorf("%s = %q, recording says %q", k, got[k], v)
				}
			}
			if len(got) != len(rec.Want) {
				t.Errorf("facts %v, recording has %v", got, rec.Want)
			}
		})
	}
}

// record runs sc against the simulator through a pty and saves what
// crossed the line, with the facts the run produced and, for a capture, the
// simulator's own image checksum, which must agree.
func record(t *testing.T, sc scenario, o sensor.Opts) {
	link, s := startSim(t, synthPrint(280, 300), sc.sim, 0)
	p, err := sensor.OpenSerial(link, 57600)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	r := &sensortest.Record{Port: p}
	d, err := sensor.New(r, &o)
	if err != nil {
		t.Fatal(err)
	}
	facts, err := sc.run(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	if h, ok := facts["image sha256"]; ok {
		sum := sha256.Sum256(want8(s))
		if h != hex.EncodeToString(sum[:]) {
			t.Fatal("captured image differs from the simulator's")
		}
	}
	rec := &sensortest.Recording{Name: sc.name, Ops: r.Ops, Want: facts}
	if err := rec.Save(recordingPath(sc.name)); err != nil {
		t.Fatal(err)
	}
}

func TestPlaybackCatchesWrongBytes(t *testing.T) {
	rec, err := sensortest.Load(recordingPath("handshake"))
	if err != nil {
		t.Fatal(err)
	}
	o := sensor.DefaultOpts
	o.Password = 1 // the recording has password 0
	o.Retries = 0
	pb := sensortest.NewPlayback(rec.Ops)
	d, _ := sensor.New(pb, &o)
	if err := d.VerifyPassword(context.Background()); err == nil {
		t.Fatal("VfyPwd with another password matched the recording")
	}
	if pb.Close() == nil {
		t.Fatal("Close reported no failure")
	}
	pb = sensortest.NewPlayback(rec.Ops)
	d, _ = sensor.New(pb, nil)
	if err := d.VerifyPassword(context.Background()); err != nil {
		t.Fatal(err)
	}
	if pb.Close() == nil {
		t.Fatal("Close did not notice the ReadSysPara exchange never happened")
	}
}
