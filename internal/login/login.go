// Package login is fingerprint login at the point of capture: one open
// sensor (over sensor.Reconnecting, so an unplugged adapter is found again),
// the GPIO lines beside it, one feature extractor whose model stays loaded
// from one login to the next, and one template store. Capture, Enroll,
// Verify and Identify work on images in memory: a print is never written to
// a file, since a fingerprint cannot be revoked.
//
// At each handshake the station finds the module at whatever rate it is at
// (a module keeps a rate it was switched to across power cycles) and
// switches it to the fastest rate it and the serial adapter hold
// (Options.MaxBaud). Identification searches the store's minutiae gallery
// prepared once and kept until the store changes.
//
// The CLI (edge sensor enroll|login) and the appliance (edge run) share it.
package login

import (
	"context"
	"errors"
	"fmt"
	"image"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"edge/internal/biometric"
	"edge/internal/biometric/minutiae"
	"edge/internal/sensor"
)

// Extractor turns a print into features; *infer.Extractor is one. The
// station keeps one for its whole life, so the model loads once.
type Extractor interface {
	Features(ctx context.Context, img image.Image) ([]float32, error)
	ModelHash() [32]byte
}

// Lines are the touch, LED and buzzer lines beside the module;
// *gpio.Lines is one. Any may be absent on a board.
type Lines interface {
	HasTouch() bool
	WaitTouch(ctx context.Context) error
	SetLED(on bool) error
	Beep(ctx context.Context, d time.Duration) error
}

// Options configure Open.
type Options struct {
	// Open opens the sensor's serial port; it is called again after the
	// device went away. Required.
	Open func() (sensor.PortCloser, error)
	// Sensor are the module's settings; nil means sensor.DefaultOpts.
	Sensor *sensor.Opts
	// Lines may be nil: without a touch line the module is polled.
	Lines Lines
	// Extractor and Store are required.
	Extractor Extractor
	Store     *biometric.Store
	Logger    *slog.Logger
	// Progress, when set, sees each image upload's progress.
	Progress func(sensor.Progress)
	// DecisionOnly makes no Identity on a match: for a caller that only
	// reports the decision (edge sensor login), whose model may give fewer
	// features than an Identity's key material needs.
	DecisionOnly bool
	// DPI is the sensor's scan resolution, which the minutiae matcher
	// needs; 0 means 500, the R30x family's.
	DPI int
	// MaxBaud is the fastest line rate the serial adapter (or UART) holds;
	// the station switches the module to the fastest rate both hold at each
	// handshake, and looks for a module it cannot hear among the rates up to
	// it. 0 means sensor.ModuleMaxBaud (115,200), which every supported
	// adapter holds. The port must be a sensor.SpeedPort (sensor.OpenSerial's
	// is) for either; otherwise the module stays at the rate Open gives.
	MaxBaud int
}

func (o *Options) maxBaud() int {
	if o.MaxBaud <= 0 {
		return sensor.ModuleMaxBaud
	}
	return o.MaxBaud
}

func (o *Options) dpi() int {
	if o.DPI <= 0 {
		return 500
	}
	return o.DPI
}

// SensorState is what the status page says of the module.
type SensorState struct {
	Connected bool
	// Since is when Connected last changed; zero before the first contact.
	Since time.Time
	// LastError is why the module was last lost or refused, "" if never.
	LastError string
	// Baud and PacketSize are what the module reported at the last handshake.
	Baud, PacketSize int
}

// Station is one login point. Its methods may be called from several
// goroutines; the sensor is used by one at a time.
type Station struct {
	opts Options
	log  *slog.Logger
	port *sensor.Reconnecting

	mu    sync.Mutex // serialises the sensor protocol
	dev   *sensor.Dev
	ready bool // handshake done on the device now open

	stMu  sync.Mutex
	state SensorState

	gallery galleryCache

	// busy is when the station began work on a captured print (features
	// and matching), in Unix nanoseconds, or 0: waiting for a finger takes
	// as long as nobody touches, the work must end (see Stuck).
	busy atomic.Int64
}

// working marks the start of work on a print; the function it returns
// marks its end. The appliance does one print at a time.
func (s *Station) working() func() {
	s.busy.Store(time.Now().UnixNano())
	return func() { s.busy.Store(0) }
}

// Stuck reports an error when the station has been working on one captured
// print for longer than limit: a model (or an accelerator's driver) that
// never returns would leave every later login waiting behind it, while the
// loop that called it still looks alive.
func (s *Station) Stuck(limit time.Duration) error {
	b := s.busy.Load()
	if b == 0 {
		return nil
	}
	if d := time.Since(time.Unix(0, b)); d > limit {
		return fmt.Errorf("login: working on one print for %v, more than %v: the model or the matcher does not return", d.Round(time.Second), limit)
	}
	return nil
}

// ErrNoStore is wrapped when the store holds no clinician to identify.
var ErrNoStore = errors.New("login: no clinician enrolled")

// Open makes a station. It does no I/O on the sensor: the first Capture
// opens the port and shakes hands, so a station starts without its sensor
// and finds it when it is plugged in.
func Open(opts Options) (*Station, error) {
	switch {
	case opts.Open == nil:
		return nil, errors.New("login: no way to open the sensor")
	case opts.Extractor == nil:
		return nil, errors.New("login: no feature extractor")
	case opts.Store == nil:
		return nil, errors.New("login: no template store")
	case opts.MaxBaud != 0 && sensor.CheckAdapterBaud(opts.MaxBaud) != nil:
		return nil, fmt.Errorf("login: maximum line rate: %w", sensor.CheckAdapterBaud(opts.MaxBaud))
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Station{opts: opts, log: log, port: sensor.NewReconnecting(opts.Open)}
	d, err := sensor.New(s.port, opts.Sensor)
	if err != nil {
		return nil, fmt.Errorf("login: %w", err)
	}
	s.dev = d
	return s, nil
}

// Close closes the sensor's port.
func (s *Station) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.port.Close()
}

// Model is the SHA-256 of the extractor's model.
func (s *Station) Model() [32]byte { return s.opts.Extractor.ModelHash() }

// Store is the template store.
func (s *Station) Store() *biometric.Store { return s.opts.Store }

// Sensor returns the module's state as last seen.
func (s *Station) Sensor() SensorState {
	s.stMu.Lock()
	defer s.stMu.Unlock()
	return s.state
}

func (s *Station) setState(connected bool, err error, sp *sensor.SysPara) {
	s.stMu.Lock()
	defer s.stMu.Unlock()
	if connected != s.state.Connected || s.state.Since.IsZero() {
		s.state.Since = time.Now()
		if connected {
			s.log.Info("login: sensor connected")
		} else {
			s.log.Warn("login: sensor lost", "err", err)
		}
	}
	s.state.Connected = connected
	if err != nil {
		s.state.LastError = err.Error()
	}
	if sp != nil {
		s.state.Baud, s.state.PacketSize = sp.Baud, sp.PacketSize
	}
}

// handshake verifies the password and reads the parameters once per open
// device. The caller holds mu.
func (s *Station) handshake(ctx context.Context) error {
	if s.ready {
		return nil
	}
	max := s.opts.maxBaud()
	// Where the module is most likely: at the rate the port is set to (the
	// one it was last switched to, or the one Open gives), else at the rate
	// this station switches it to, which it keeps across power cycles, else
	// at any rate the port can be set to (a max_baud set low for a long
	// cable is no reason not to look above it, and to bring it down).
	rates := []int{s.port.Baud(), sensor.FastestBaud(max)}
	rates = append(rates, sensor.FastestFirst(sensor.ModuleMaxBaud)...)
	sp, err := s.dev.Locate(ctx, rates)
	if err != nil {
		return s.lost(fmt.Errorf("login: sensor handshake: %w", err))
	}
	// A port that cannot change speed reports 0 and stays where it is.
	if from, want := s.port.Baud(), sensor.FastestBaud(max); from != 0 && (sp.Baud != want || from != want) {
		got, err := s.dev.Switch(ctx, max)
		switch {
		case errors.Is(err, sensor.ErrSwitch):
			s.log.Warn("login: sensor stays at its line rate", "baud", got, "err", err)
		case err != nil:
			return s.lost(fmt.Errorf("login: sensor line rate: %w", err))
		default:
			s.log.Info("login: sensor switched", "from", from, "to", got)
		}
		if sp, err = s.dev.ReadSysPara(ctx); err != nil {
			return s.lost(fmt.Errorf("login: sensor parameters: %w", err))
		}
	}
	s.ready = true
	s.setState(true, nil, &sp)
	return nil
}

// lost records a failure; anything but a cancelled context means the next
// call shakes hands again on a freshly opened device.
func (s *Station) lost(err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	if errors.Is(err, sensor.ErrDisconnected) || !s.ready || isLinkError(err) {
		s.ready = false
		s.port.Close()
		// A fresh driver: nothing the old line left half-read survives.
		if d, derr := sensor.New(s.port, s.opts.Sensor); derr == nil {
			s.dev = d
		}
		s.setState(false, err, nil)
	}
	return err
}

// isLinkError is an answer that did not come: the module is not talking.
func isLinkError(err error) bool {
	return errors.Is(err, sensor.ErrTimeout)
}

// use runs f on the module, shaking hands first where needed. A device
// found gone on the first command after it was last seen working is opened
// again and f tried once more: the adapter may have been plugged back in
// since.
func (s *Station) use(ctx context.Context, f func() error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for try := 0; ; try++ {
		wasReady := s.ready
		err := s.handshake(ctx)
		if err == nil {
			if err = f(); err != nil {
				err = s.lost(err)
			}
		}
		if err == nil || try > 0 || !wasReady || !errors.Is(err, sensor.ErrDisconnected) {
			return err
		}
	}
}

// Capture waits for a finger and returns its print, in memory.
func (s *Station) Capture(ctx context.Context) (*image.Gray, error) {
	var img *image.Gray
	err := s.use(ctx, func() error {
		var touch sensor.Toucher
		if l := s.opts.Lines; l != nil {
			if l.HasTouch() {
				touch = l
			}
			if err := l.SetLED(true); err != nil {
				s.log.Warn("login: status LED", "err", err)
			}
			defer l.SetLED(false)
		}
		var err error
		if img, err = s.dev.Capture(ctx, touch, s.opts.Progress); err != nil {
			return fmt.Errorf("login: capture: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if l := s.opts.Lines; l != nil {
		if err := l.Beep(ctx, 100*time.Millisecond); err != nil {
			s.log.Warn("login: buzzer", "err", err)
		}
	}
	return img, nil
}

// FingerPresent asks the module whether a finger is on the window now
// (one GenImg, no upload): how a session notices a lifted finger and a
// second touch.
func (s *Station) FingerPresent(ctx context.Context) (bool, error) {
	var present bool
	err := s.use(ctx, func() error {
		err := s.dev.GenImg(ctx)
		switch {
		case err == nil:
			present = true
			return nil
		case errors.Is(err, sensor.NoFinger), errors.Is(err, sensor.EnrollFailed):
			return nil
		}
		return fmt.Errorf("login: finger on the sensor: %w", err)
	})
	return present, err
}

// Features runs the model over a print.
func (s *Station) Features(ctx context.Context, img image.Image) ([]float32, error) {
	v, err := s.opts.Extractor.Features(ctx, img)
	if err != nil {
		return nil, fmt.Errorf("login: features: %w", err)
	}
	return v, nil
}

// EnrollPrints enrolls clinician id from prints in memory and saves the
// template; replace allows a second enrollment (a new secret).
func (s *Station) EnrollPrints(ctx context.Context, id string, prints []image.Image, replace bool) (*biometric.Template, []float64, error) {
	if err := biometric.ValidateID(id); err != nil {
		return nil, nil, fmt.Errorf("login: %w", err)
	}
	if len(prints) < minutiae.MinImpressions || len(prints) > biometric.MaxPrints {
		return nil, nil, fmt.Errorf("login: enrollment takes %d..%d prints, got %d", minutiae.MinImpressions, biometric.MaxPrints, len(prints))
	}
	st := s.opts.Store
	if has, err := st.Has(id); err != nil {
		return nil, nil, err
	} else if has && !replace {
		return nil, nil, fmt.Errorf("login: %w: %q", biometric.ErrExists, id)
	}
	model := s.Model()
	cal, err := st.Calibration(model)
	if err != nil {
		return nil, nil, err
	}
	vectors := make([][]float32, len(prints))
	for i, p := range prints {
		if vectors[i], err = s.Features(ctx, p); err != nil {
			return nil, nil, err
		}
	}
	// The minutiae matcher decides logins and checks that the prints agree;
	// the ResNet152 features stay the source of the key and the template.
	mts := make([]*minutiae.Template, len(prints))
	for i, p := range prints {
		if mts[i], err = biometric.ExtractPrint(p, s.opts.dpi()); err != nil {
			return nil, nil, fmt.Errorf("login: enroll %q, print %d: %w", id, i+1, err)
		}
	}
	scores, err := biometric.EnrollPrints(mts, cal)
	if err != nil {
		return nil, nil, fmt.Errorf("login: enroll %q: %w", id, err)
	}
	t, err := biometric.NewTemplate(model, vectors)
	if err != nil {
		return nil, nil, fmt.Errorf("login: enroll %q: %w", id, err)
	}
	if err := st.SavePrints(id, t, mts, replace); err != nil {
		return nil, nil, err
	}
	return t, scores, nil
}

// Enroll captures n prints, calling between(i) before the i-th (from 1)
// so the caller can ask for the finger to be lifted and placed again, and
// enrolls them.
func (s *Station) Enroll(ctx context.Context, id string, n int, replace bool, between func(ctx context.Context, i int) error) (*biometric.Template, []float64, error) {
	if n < minutiae.MinImpressions || n > biometric.MaxPrints {
		return nil, nil, fmt.Errorf("login: enrollment takes %d..%d prints, got %d", minutiae.MinImpressions, biometric.MaxPrints, n)
	}
	if err := biometric.ValidateID(id); err != nil {
		return nil, nil, fmt.Errorf("login: %w", err)
	}
	if has, err := s.opts.Store.Has(id); err != nil {
		return nil, nil, err
	} else if has && !replace {
		return nil, nil, fmt.Errorf("login: %w: %q", biometric.ErrExists, id)
	}
	prints := make([]image.Image, 0, n)
	for i := range n {
		if i > 0 && between != nil {
			if err := between(ctx, i); err != nil {
				return nil, nil, err
			}
		}
		img, err := s.Capture(ctx)
		if err != nil {
			return nil, nil, err
		}
		prints = append(prints, img)
	}
	return s.EnrollPrints(ctx, id, prints, replace)
}

// Result is a login's outcome: the decision, and on a match the
// clinician's Identity for the session (nil otherwise).
type Result struct {
	Decision   biometric.Decision
	Identity   *biometric.Identity
	Candidates int
	// Capture and Features are how long the sensor and the model took;
	// Match how long the minutiae decision took (extraction from the print,
	// the search, and for identification the check that the store's prepared
	// gallery is current).
	Capture, Features, Match time.Duration
}

// VerifyPrint checks a print in memory against clinician id's enrolled
// prints with the minutiae matcher; on a match the print's features make
// the session's Identity.
func (s *Station) VerifyPrint(ctx context.Context, id string, print image.Image) (*Result, error) {
	defer s.working()()
	st, model := s.opts.Store, s.Model()
	r := &Result{Candidates: 1}
	if s.opts.DecisionOnly {
		d, err := st.MatchPrint(id, print, s.opts.dpi(), model)
		if err != nil {
			return nil, fmt.Errorf("login: verify %q: %w", id, err)
		}
		r.Decision = d
		return r, nil
	}
	v, took, err := s.probe(ctx, print)
	if err != nil {
		return nil, err
	}
	r.Features = took
	t0 := time.Now()
	d, ident, err := st.VerifyPrint(id, print, s.opts.dpi(), model, v)
	if err != nil {
		return nil, fmt.Errorf("login: verify %q: %w", id, err)
	}
	r.Match = time.Since(t0)
	r.Decision, r.Identity = d, ident
	return r, nil
}

// IdentifyPrint finds the enrolled clinician a print in memory belongs to,
// in the store's gallery as the station keeps it prepared: read again only
// when the store changed since (see galleryCache), so a clinician enrolled,
// re-enrolled or removed meanwhile, by this station or another process, is
// searched as the store holds them now.
func (s *Station) IdentifyPrint(ctx context.Context, print image.Image) (*Result, error) {
	defer s.working()()
	st, model := s.opts.Store, s.Model()
	ids, err := st.IDs()
	if err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("%w in %s", ErrNoStore, st.Dir())
	}
	r := &Result{}
	var v []float32
	if !s.opts.DecisionOnly {
		if v, r.Features, err = s.probe(ctx, print); err != nil {
			return nil, err
		}
	}
	t0 := time.Now()
	g, err := s.gallery.get(ctx, st, model)
	if err != nil {
		return nil, fmt.Errorf("login: identify: %w", err)
	}
	if s.opts.DecisionOnly {
		r.Decision, err = g.Find(ctx, print, s.opts.dpi())
	} else {
		r.Decision, r.Identity, err = g.Identify(ctx, print, s.opts.dpi(), v)
	}
	if err != nil {
		return nil, fmt.Errorf("login: identify: %w", err)
	}
	r.Match, r.Candidates = time.Since(t0), g.Len()
	if !r.Decision.Match {
		// The nearest clinician is no one's business at a failed login.
		r.Decision.ID = ""
	}
	return r, nil
}

// probe is the print's features and how long the model took.
func (s *Station) probe(ctx context.Context, print image.Image) ([]float32, time.Duration, error) {
	t0 := time.Now()
	v, err := s.Features(ctx, print)
	return v, time.Since(t0), err
}

// Verify captures a print and checks it against clinician id.
func (s *Station) Verify(ctx context.Context, id string) (*Result, error) {
	t0 := time.Now()
	img, err := s.Capture(ctx)
	if err != nil {
		return nil, err
	}
	took := time.Since(t0)
	r, err := s.VerifyPrint(ctx, id, img)
	if r != nil {
		r.Capture = took
	}
	return r, err
}

// Identify captures a print and finds whose it is.
func (s *Station) Identify(ctx context.Context) (*Result, error) {
	ids, err := s.opts.Store.IDs()
	if err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("%w in %s", ErrNoStore, s.opts.Store.Dir())
	}
	t0 := time.Now()
	img, err := s.Capture(ctx)
	if err != nil {
		return nil, err
	}
	took := time.Since(t0)
	r, err := s.IdentifyPrint(ctx, img)
	if r != nil {
		r.Capture = took
	}
	return r, err
}
