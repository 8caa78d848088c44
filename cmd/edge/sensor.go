package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/png"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"edge/board"
	"edge/internal/biometric"
	"edge/internal/biometric/minutiae"
	"edge/internal/boardcfg"
	"edge/internal/fsutil"
	"edge/internal/login"
	"edge/internal/sensor"
	"edge/internal/sensor/gpio"
	"edge/internal/sensor/sim"
)

func runSensor(ctx context.Context, e env, args []string) error {
	subs := map[string]func(context.Context, env, []string) error{
		"list":     runSensorList,
		"info":     runSensorInfo,
		"capture":  runSensorCapture,
		"led":      runSensorLED,
		"simulate": runSensorSimulate,
		"enroll":   runSensorEnroll,
		"login":    runSensorLogin,
	}
	if len(args) == 0 || subs[args[0]] == nil {
		fmt.Fprintln(e.stderr, "usage: edge sensor list|info|capture|led|simulate|enroll|login [flags] (edge sensor CMD -h for its flags)")
		if len(args) == 0 {
			return fmt.Errorf("%w: missing sensor command", errUsage)
		}
		if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
			return flag.ErrHelp
		}
		return fmt.Errorf("%w: unknown sensor command %q", errUsage, args[0])
	}
	return subs[args[0]](ctx, e, args[1:])
}

// sensorFlags are how every sensor command finds and talks to the module.
type sensorFlags struct {
	port              *string
	board             func() (*board.Profile, error)
	baud, maxBaud     *int
	address, password *string
	timeout           *time.Duration
}

func addSensorFlags(fs *flag.FlagSet) sensorFlags {
	return sensorFlags{
		port:     fs.String("port", "", "serial device (default: the board's, else the first USB adapter that answers)"),
		board:    addBoardFlag(fs),
		baud:     fs.Int("baud", 0, "line rate, 9600 to 115200 (default: the board's, else 57600); a module switched to another is found there"),
		maxBaud:  fs.Int("max-baud", 0, "fastest standard rate the serial adapter holds: enroll and login switch the module to the fastest rate both hold (default 115200)"),
		address:  fs.String("address", "", "module address (default: the board's, else 0xFFFFFFFF)"),
		password: fs.String("password", "", "module password (default: the board's, else 0)"),
		timeout:  fs.Duration("timeout", 30*time.Second, "give up on the whole command after this long"),
	}
}

// resolved is what the flags and the board profile settle on.
type resolved struct {
	port    string
	baud    int
	maxBaud int
	opts    sensor.Opts
	gpio    gpio.Pins
}

func (f sensorFlags) resolve() (resolved, error) {
	p, err := f.board()
	if err != nil {
		return resolved{}, err
	}
	s := boardcfg.Sensor(p)
	r := resolved{port: s.Port, baud: s.Baud, opts: s.Opts, gpio: boardcfg.GPIO(p)}
	if *f.port != "" {
		r.port = *f.port
	}
	if *f.baud != 0 {
		r.baud = *f.baud
	}
	if err := sensor.CheckBaud(r.baud); err != nil {
		return r, fmt.Errorf("%w: %v", errUsage, err)
	}
	if r.maxBaud = *f.maxBaud; r.maxBaud != 0 {
		if err := sensor.CheckAdapterBaud(r.maxBaud); err != nil {
			return r, fmt.Errorf("%w: -max-baud: %v", errUsage, err)
		}
	}
	for _, u := range []struct {
		name, s string
		dst     *uint32
	}{{"address", *f.address, &r.opts.Address}, {"password", *f.password, &r.opts.Password}} {
		if u.s == "" {
			continue
		}
		v, err := strconv.ParseUint(u.s, 0, 32)
		if err != nil {
			return r, fmt.Errorf("%w: -%s %q: want a 32-bit number (0x… for hex)", errUsage, u.name, u.s)
		}
		*u.dst = uint32(v)
	}
	return r, nil
}

// open opens the module's port (finding it when no path is given),
// verifies the password and reads the parameters. The caller closes the port.
func (r resolved) open(ctx context.Context, e env) (*sensor.Dev, sensor.PortCloser, sensor.SysPara, error) {
	path := r.port
	if path == "" {
		pr, probes, err := sensor.Find(ctx, nil, r.baud, r.opts)
		if err != nil {
			for _, p := range probes {
				fmt.Fprintf(e.stderr, "  %s: %v\n", p.Candidate, p.Err)
			}
			return nil, nil, sensor.SysPara{}, fmt.Errorf("%w (give -port)", err)
		}
		path = pr.Path
		fmt.Fprintf(e.stderr, "sensor found on %s\n", pr.Candidate)
	}
	p, err := sensor.OpenSerial(path, r.baud)
	if err != nil {
		return nil, nil, sensor.SysPara{}, err
	}
	d, err := sensor.New(p, &r.opts)
	if err != nil {
		p.Close()
		return nil, nil, sensor.SysPara{}, err
	}
	// A module switched to another rate (edge run switches it to the
	// fastest) keeps it across power cycles: look for it there too.
	sp, err := d.Locate(ctx, append([]int{r.baud}, sensor.FastestFirst(sensor.ModuleMaxBaud)...))
	if err != nil {
		p.Close()
		return nil, nil, sensor.SysPara{}, fmt.Errorf("handshake with %s: %w", path, err)
	}
	return d, p, sp, nil
}

func runSensorList(ctx context.Context, e env, args []string) error {
	fs := newFlags(e, "sensor list")
	sf := addSensorFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	r, err := sf.resolve()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, *sf.timeout)
	defer cancel()
	cs, err := sensor.Candidates()
	if err != nil {
		return err
	}
	if r.port != "" {
		cs = append([]sensor.Candidate{{Path: r.port}}, cs...)
	}
	if len(cs) == 0 {
		fmt.Fprintln(e.stdout, "no USB-serial adapter of a known kind (CP210x, CH340, FTDI, PL2303); give -port to probe another device")
		return nil
	}
	for _, c := range cs {
		pr := sensor.ProbePort(ctx, c, r.baud, r.opts)
		vp := "-"
		if c.VID != "" {
			vp = c.VID + ":" + c.PID + " " + c.Chip
		}
		var answer string
		if pr.Err == nil {
			answer = fmt.Sprintf("module answered: library %d, packet %d bytes, %d baud", pr.Para.LibrarySize, pr.Para.PacketSize, pr.Para.Baud)
		} else {
			answer = "no module: " + strings.TrimPrefix(pr.Err.Error(), "sensor: ")
		}
		fmt.Fprintf(e.stdout, "%-24s %-20s %s\n", c.Path, vp, answer)
	}
	return nil
}

func runSensorInfo(ctx context.Context, e env, args []string) error {
	fs := newFlags(e, "sensor info")
	sf := addSensorFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	r, err := sf.resolve()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, *sf.timeout)
	defer cancel()
	_, p, sp, err := r.open(ctx, e)
	if err != nil {
		return err
	}
	defer p.Close()
	fmt.Fprintf(e.stdout, "status          %#04x (busy %t, matched %t, password verified %t, image buffer valid %t)\n",
		sp.Status, sp.Status&1 != 0, sp.Status&2 != 0, sp.Status&4 != 0, sp.Status&8 != 0)
	fmt.Fprintf(e.stdout, "system id       %#04x\n", sp.SystemID)
	fmt.Fprintf(e.stdout, "library size    %d templates\n", sp.LibrarySize)
	fmt.Fprintf(e.stdout, "security level  %d\n", sp.SecurityLevel)
	fmt.Fprintf(e.stdout, "address         %#08x\n", sp.Address)
	fmt.Fprintf(e.stdout, "packet size     %d bytes\n", sp.PacketSize)
	fmt.Fprintf(e.stdout, "baud            %d\n", sp.Baud)
	return nil
}

func runSensorCapture(ctx context.Context, e env, args []string) error {
	fs := newFlags(e, "sensor capture")
	sf := addSensorFlags(fs)
	out := fs.String("out", "", "PNG file to write the print to")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := required(fs, "out"); err != nil {
		return err
	}
	r, err := sf.resolve()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, *sf.timeout)
	defer cancel()
	return captureTo(ctx, e, r, *out)
}

// captureTo takes one print into path; on any failure no file is left.
func captureTo(ctx context.Context, e env, r resolved, path string) error {
	d, p, _, err := r.open(ctx, e)
	if err != nil {
		return err
	}
	defer p.Close()
	log := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	lines, err := gpio.Open(r.gpio, log)
	if err != nil {
		log.Warn("sensor: going on without GPIO", "err", err)
		lines = nil
	}
	var touch sensor.Toucher
	if lines != nil && lines.HasTouch() {
		touch = lines
		fmt.Fprintln(e.stderr, "place a finger on the sensor")
	} else {
		fmt.Fprintln(e.stderr, "place a finger on the sensor (asking the module until one is there)")
	}
	if lines != nil {
		// The status LED says the appliance is waiting for a finger.
		if err := lines.SetLED(true); err != nil {
			log.Warn("sensor: status LED", "err", err)
		}
		defer lines.SetLED(false)
	}
	bar := newProgressBar(e.stderr)
	img, err := d.Capture(ctx, touch, bar.update)
	bar.finish()
	if err != nil {
		return err
	}
	if lines != nil {
		if err := lines.Beep(ctx, 100*time.Millisecond); err != nil {
			log.Warn("sensor: buzzer", "err", err)
		}
	}
	return fsutil.WriteFile(path, 0o600, func(w io.Writer) error { return png.Encode(w, img) })
}

var ledModes = map[string]sensor.LEDMode{
	"breathing": sensor.LEDBreathing, "flashing": sensor.LEDFlashing, "on": sensor.LEDOn,
	"off": sensor.LEDOff, "gradual-on": sensor.LEDGradualOn, "gradual-off": sensor.LEDGradualOff,
}

var ledColors = map[string]sensor.LEDColor{
	"red": sensor.LEDRed, "blue": sensor.LEDBlue, "purple": sensor.LEDPurple, "green": sensor.LEDGreen,
	"yellow": sensor.LEDYellow, "cyan": sensor.LEDCyan, "white": sensor.LEDWhite,
}

func runSensorLED(ctx context.Context, e env, args []string) error {
	fs := newFlags(e, "sensor led")
	sf := addSensorFlags(fs)
	mode := fs.String("mode", "", "breathing, flashing, on, off, gradual-on or gradual-off")
	color := fs.String("color", "blue", "red, blue, purple, green, yellow, cyan or white (the last four on R503s from 2021)")
	speed := fs.Int("speed", 100, "breathing/flashing period, 0 (fastest) to 255")
	count := fs.Int("count", 0, "breaths or flashes, 0 to 255 (0 endless)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := required(fs, "mode"); err != nil {
		return err
	}
	m, ok := ledModes[*mode]
	if !ok {
		return fmt.Errorf("%w: -mode %q", errUsage, *mode)
	}
	c, ok := ledColors[*color]
	if !ok {
		return fmt.Errorf("%w: -color %q", errUsage, *color)
	}
	if *speed < 0 || *speed > 255 || *count < 0 || *count > 255 {
		return fmt.Errorf("%w: -speed %d and -count %d must be 0 to 255", errUsage, *speed, *count)
	}
	r, err := sf.resolve()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, *sf.timeout)
	defer cancel()
	d, p, _, err := r.open(ctx, e)
	if err != nil {
		return err
	}
	defer p.Close()
	return d.AuraLED(ctx, sensor.LED{Mode: m, Speed: byte(*speed), Color: c, Count: byte(*count)})
}

func runSensorSimulate(ctx context.Context, e env, args []string) error {
	fs := newFlags(e, "sensor simulate")
	printPath := fs.String("print", "", "print to serve (PNG or JPEG), fitted to 256×288 and quantised to 4 bits; several, comma separated, land in turn")
	link := fs.String("link", "", "path of the symlink to the pty slave, the device a driver opens")
	baud := fs.Int("baud", 57600, "line rate the output is paced at (a pty does not enforce one); 0 sends unpaced")
	corrupt := fs.Float64("corrupt-rate", 0, "probability that a packet sent has a byte changed, dropped or repeated")
	stall := fs.Float64("stall-rate", 0, "probability that a packet sent pauses halfway for -stall")
	stallFor := fs.Duration("stall", 300*time.Millisecond, "length of a stall")
	password := fs.String("password", "0", "module password; non-zero must be verified first")
	packet := fs.Int("packet-size", 128, "data packet size: 32, 64, 128 or 256")
	disconnect := fs.Int("disconnect-after", 0, "hang up once after this many image bytes of an upload (0 never); the device comes back at the link a second later")
	noFinger := fs.Int("no-finger", 0, "answer this many GenImg commands with no finger")
	seed := fs.Uint64("seed", 1, "seed of the fault pattern")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := required(fs, "print", "link"); err != nil {
		return err
	}
	pw, err := strconv.ParseUint(*password, 0, 32)
	if err != nil {
		return fmt.Errorf("%w: -password %q: want a 32-bit number", errUsage, *password)
	}
	var prints []image.Image
	for _, path := range strings.Split(*printPath, ",") {
		img, err := sim.LoadPrint(path)
		if err != nil {
			return err
		}
		prints = append(prints, img)
	}
	s, err := sim.NewMulti(prints, sim.Options{
		Baud: *baud, PacketSize: *packet, Password: uint32(pw),
		CorruptRate: *corrupt, StallRate: *stall, StallFor: *stallFor,
		DisconnectAfter: *disconnect, NoFinger: *noFinger, Seed: *seed,
	})
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	link2, err := filepath.Abs(*link)
	if err != nil {
		return err
	}
	err = sim.Run(ctx, s, link2, time.Second, func(p *sim.PTY) {
		fmt.Fprintf(e.stderr, "simulated sensor on %s -> %s at %d baud\n", p.Link, p.Name, *baud)
	})
	st := s.Stats()
	fmt.Fprintf(e.stderr, "served %d commands, %d uploads, %d bytes; corrupted %d packets, stalled %d, hung up %d times\n",
		st.Commands, st.Uploads, st.BytesSent, st.Corrupted, st.Stalled, st.Hangups)
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// progressBar shows the image upload on stderr: a bar redrawn in place on a
// terminal, a line every tenth of the image otherwise.
type progressBar struct {
	w        io.Writer
	tty      bool
	try      int
	start    time.Time
	lastTen  int
	drawn    bool
	lastDraw time.Time
}

func newProgressBar(w io.Writer) *progressBar {
	tty := false
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			tty = true
		}
	}
	return &progressBar{w: w, tty: tty}
}

func (b *progressBar) update(p sensor.Progress) {
	now := time.Now()
	if p.Try != b.try {
		if b.drawn && b.tty {
			fmt.Fprintln(b.w)
		}
		b.try, b.start, b.lastTen = p.Try, now, -1
	}
	el := now.Sub(b.start).Seconds()
	rate := 0.0
	if el > 0 {
		rate = float64(p.Received) / el
	}
	eta := "?"
	if rate > 0 {
		eta = (time.Duration(float64(p.Total-p.Received)/rate) * time.Second).Round(time.Second).String()
	}
	retry := ""
	if p.Try > 1 {
		retry = fmt.Sprintf(" (try %d, %d bytes still missing)", p.Try, p.Total-p.Have)
	}
	line := fmt.Sprintf("image %6d/%d bytes %6.0f B/s ETA %s%s", p.Received, p.Total, rate, eta, retry)
	if b.tty {
		if now.Sub(b.lastDraw) < 100*time.Millisecond && p.Received < p.Total {
			return
		}
		const width = 30
		n := width * p.Received / max(p.Total, 1)
		fmt.Fprintf(b.w, "\r[%s%s] %s\x1b[K", strings.Repeat("#", n), strings.Repeat(".", width-n), line)
		b.drawn, b.lastDraw = true, now
		return
	}
	if ten := 10 * p.Received / max(p.Total, 1); ten != b.lastTen {
		b.lastTen = ten
		fmt.Fprintln(b.w, line)
	}
}

func (b *progressBar) finish() {
	if b.tty && b.drawn {
		fmt.Fprintln(b.w)
	}
}

// station opens a login station on the resolved sensor: the port found
// once (or given), reopened after an unplug, the GPIO lines, one extractor
// and one store for every capture of the command.
func (r resolved) station(ctx context.Context, e env, inf inferFlags, st *biometric.Store, decisionOnly bool) (*login.Station, func(), error) {
	path := r.port
	if path == "" {
		pr, probes, err := sensor.Find(ctx, nil, r.baud, r.opts)
		if err != nil {
			for _, p := range probes {
				fmt.Fprintf(e.stderr, "  %s: %v\n", p.Candidate, p.Err)
			}
			return nil, nil, fmt.Errorf("%w (give -port)", err)
		}
		path = pr.Path
		fmt.Fprintf(e.stderr, "sensor found on %s\n", pr.Candidate)
	}
	log := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	var lines login.Lines
	if l, err := gpio.Open(r.gpio, log); err != nil {
		log.Warn("sensor: going on without GPIO", "err", err)
	} else if l != nil {
		lines = l
	}
	x, err := inf.open(ctx, e)
	if err != nil {
		return nil, nil, err
	}
	bar := newProgressBar(e.stderr)
	s, err := login.Open(login.Options{
		Open:         func() (sensor.PortCloser, error) { return sensor.OpenSerial(path, r.baud) },
		Sensor:       &r.opts,
		Lines:        lines,
		Extractor:    x,
		Store:        st,
		Logger:       log,
		Progress:     bar.update,
		DecisionOnly: decisionOnly,
		MaxBaud:      r.maxBaud,
	})
	if err != nil {
		x.Close()
		return nil, nil, err
	}
	return s, func() { bar.finish(); s.Close(); x.Close() }, nil
}

func runSensorEnroll(ctx context.Context, e env, args []string) error {
	fs := newFlags(e, "sensor enroll")
	sf := addSensorFlags(fs)
	id := fs.String("id", "", "clinician id")
	store := fs.String("store", "", "template store folder")
	replace := fs.Bool("replace", false, "replace the clinician's existing template")
	inf := addInferFlags(fs)
	n := fs.Int("prints", 3, "prints to take")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := required(fs, "id", "store"); err != nil {
		return err
	}
	r, err := sf.resolve()
	if err != nil {
		return err
	}
	if err := inf.checkBoard(); err != nil {
		return err
	}
	if *n < minutiae.MinImpressions || *n > biometric.MaxPrints {
		return fmt.Errorf("%w: -prints %d, want %d to %d", errUsage, *n, minutiae.MinImpressions, biometric.MaxPrints)
	}
	if err := biometric.ValidateID(*id); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	st, err := biometric.CreateStore(*store)
	if err != nil {
		return err
	}
	if has, err := st.Has(*id); err != nil {
		return err
	} else if has && !*replace {
		return fmt.Errorf("%w: %q (use --replace to enroll again)", biometric.ErrExists, *id)
	}
	cctx, cancel := context.WithTimeout(ctx, *sf.timeout*time.Duration(*n))
	defer cancel()
	s, done, err := r.station(cctx, e, inf, st, false)
	if err != nil {
		return err
	}
	defer done()
	fmt.Fprintln(e.stderr, "place a finger on the sensor")
	_, scores, err := s.Enroll(cctx, *id, *n, *replace, func(ctx context.Context, i int) error {
		fmt.Fprintf(e.stderr, "lift the finger, then place it again (%d of %d)\n", i+1, *n)
		t := time.NewTimer(2 * time.Second)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
			return nil
		}
	})
	if err != nil {
		return err
	}
	cal, err := st.Calibration(s.Model())
	if err != nil {
		return err
	}
	parts := make([]string, len(scores))
	for i, sc := range scores {
		parts[i] = fmt.Sprintf("%.6f", sc)
	}
	fmt.Fprintf(e.stdout, "enrolled %s from %d prints (each against the others: %s; threshold %.6f)\n", *id, *n, strings.Join(parts, " "), cal.Threshold)
	return nil
}

func runSensorLogin(ctx context.Context, e env, args []string) error {
	fs := newFlags(e, "sensor login")
	sf := addSensorFlags(fs)
	id := fs.String("id", "", "clinician id to verify (default: identify among all enrolled)")
	store := fs.String("store", "", "template store folder")
	asJSON := fs.Bool("json", false, "answer in JSON")
	inf := addInferFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := required(fs, "store"); err != nil {
		return err
	}
	r, err := sf.resolve()
	if err != nil {
		return err
	}
	if err := inf.checkBoard(); err != nil {
		return err
	}
	st, err := biometric.OpenStore(*store)
	if err != nil {
		return err
	}
	if *id != "" {
		// An unknown clinician is refused before anyone touches the sensor.
		if _, err := st.Load(*id); err != nil {
			return err
		}
	} else if ids, err := st.IDs(); err != nil {
		return err
	} else if len(ids) == 0 {
		return fmt.Errorf("store %s holds no templates: enroll a clinician first", *store)
	}
	cctx, cancel := context.WithTimeout(ctx, *sf.timeout)
	defer cancel()
	s, done, err := r.station(cctx, e, inf, st, true)
	if err != nil {
		return err
	}
	defer done()
	fmt.Fprintln(e.stderr, "place a finger on the sensor")
	var res *login.Result
	if *id != "" {
		res, err = s.Verify(cctx, *id)
	} else {
		res, err = s.Identify(cctx)
	}
	if err != nil {
		return err
	}
	d := res.Decision
	if *id != "" {
		if *asJSON {
			if err := printJSON(e.stdout, d); err != nil {
				return err
			}
		} else {
			fmt.Fprintf(e.stdout, "%s %s score %.6f threshold %.6f\n", decisionWord(d.Match), d.ID, d.Score, d.Threshold)
		}
	} else {
		a := identifyAnswer{Match: d.Match, ID: d.ID, Score: d.Score, Threshold: d.Threshold, Candidates: res.Candidates}
		if *asJSON {
			if err := printJSON(e.stdout, a); err != nil {
				return err
			}
		} else if a.Match {
			fmt.Fprintf(e.stdout, "match %s score %.6f threshold %.6f\n", a.ID, a.Score, a.Threshold)
		} else {
			fmt.Fprintf(e.stdout, "no match: best score %.6f is below threshold %.6f (%d enrolled)\n", a.Score, a.Threshold, a.Candidates)
		}
	}
	if !d.Match {
		return errNoMatch
	}
	return nil
}
