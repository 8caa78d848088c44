package appliance

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"edge/board"
	"edge/internal/biometric"
	"edge/internal/boardcfg"
	"edge/internal/infer"
	"edge/internal/login"
	"edge/internal/medimg"
	"edge/internal/modality"
	"edge/internal/protect"
	"edge/internal/sensor"
	"edge/internal/sensor/gpio"
	"edge/internal/uplink"
	"edge/internal/uplink/outbox"
)

// Options are what edge run hands Run beside the config file.
type Options struct {
	// Board is --board; nil takes the config's "board" key, if any.
	Board *board.Profile
	// Stderr receives the log (journald reads it); nil means os.Stderr.
	Stderr io.Writer
	// Extractor replaces the model the config names (tests).
	Extractor login.Extractor
	// Ready, when set, hears the addresses once everything listens.
	Ready func(Addrs)
	// Poll is how often the sensor and the outbox are looked at; 300 ms
	// when zero.
	Poll time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Addrs are where a running appliance listens.
type Addrs struct {
	Status, DICOM string
}

// Appliance is edge run: one login station, one session, the intake that
// protects and queues every image, the uplink draining the outbox, the
// bedside status page and systemd's notifications.
type Appliance struct {
	cfg     *Config
	log     *slog.Logger
	now     func() time.Time
	poll    time.Duration
	backoff uplink.Backoff

	station     *login.Station // nil when tests give a login of their own
	login       station
	session     *Session
	sealer      *sealer
	device      uplink.DeviceKey
	out         *outbox.Outbox
	audit       *Audit
	clock       *clock
	link        link
	status      statusState
	metrics     *metrics
	notify      *notifier
	pendingDir  string
	pendingKick chan struct{}
	recv        *received
	intakeMu    sync.Mutex
}

// Run loads the config at path and runs the appliance until ctx ends
// (SIGTERM): then it stops taking associations, lets the images being
// received finish into the outbox or the pending folder, stops the uplink
// between requests (an upload resumes where it stopped) and returns.
func Run(ctx context.Context, path string, opt Options) error {
	cfg, err := LoadConfig(path)
	if err != nil {
		return err
	}
	stderr := opt.Stderr
	if stderr == nil {
		stderr = os.Stderr
	}
	log := newLogger(cfg, stderr)
	prof := opt.Board
	if prof == nil && cfg.Board != "" {
		if prof, err = boardcfg.Load(cfg.Path(cfg.Board)); err != nil {
			return err
		}
	}
	a, closeAll, err := build(ctx, cfg, prof, opt, log)
	if err != nil {
		return err
	}
	defer closeAll()
	return a.serve(ctx, opt)
}

func newLogger(cfg *Config, w io.Writer) *slog.Logger {
	var lv slog.Level
	lv.UnmarshalText([]byte(cfg.Log.Level)) // checked by ParseConfig
	o := &slog.HandlerOptions{Level: lv}
	if os.Getenv("JOURNAL_STREAM") != "" {
		// journald stamps every line itself.
		o.ReplaceAttr = func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) == 0 && a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		}
	}
	if cfg.Log.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, o))
	}
	return slog.New(slog.NewTextHandler(w, o))
}

// build opens everything the appliance holds; the returned func closes it.
func build(ctx context.Context, cfg *Config, prof *board.Profile, opt Options, log *slog.Logger) (*Appliance, func(), error) {
	var closers []func() error
	closeAll := func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}
	fail := func(err error) (*Appliance, func(), error) { closeAll(); return nil, nil, err }

	now := opt.Now
	if now == nil {
		now = time.Now
	}
	poll := opt.Poll
	if poll <= 0 {
		poll = 300 * time.Millisecond
	}
	a := &Appliance{cfg: cfg, log: log, now: now, poll: poll, notify: newNotifier(),
		backoff: uplink.Backoff{Min: time.Second, Max: 30 * time.Second}, pendingKick: make(chan struct{}, 1)}
	nb, _ := cfg.notBefore()
	a.clock = &clock{notBefore: nb, now: now, log: log}

	state := cfg.Path(cfg.StateDir)
	a.pendingDir = filepath.Join(state, "pending")
	for _, d := range []string{state, a.pendingDir, filepath.Join(state, "spool"), filepath.Join(state, "outbox")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return fail(fmt.Errorf("appliance: state folder: %w", err))
		}
	}
	dev, err := uplink.LoadDeviceKey(cfg.Path(cfg.DeviceKey))
	if err != nil {
		return fail(err)
	}
	hub, err := uplink.LoadHubPublicKey(cfg.Path(cfg.HubPub))
	if err != nil {
		return fail(err)
	}
	a.device = dev
	lim := boardcfg.Images(prof)
	a.sealer = &sealer{s: protect.Sealer{Hub: hub, Device: dev, RequireVerified: true, Now: now}, scheme: cfg.Scheme,
		limits: medimg.Limits{MaxSamples: lim.MaxSamples, MaxFileBytes: lim.MaxBytes}}

	// A first start after installation finds no template store: it is made
	// empty, so the daemon runs (images are held until a clinician is
	// enrolled and logs in) instead of restarting until someone enrolls.
	storeKey := cfg.Path(cfg.StoreKey)
	if storeKey == "" {
		storeKey = biometric.DefaultKeyPath(cfg.Path(cfg.Store))
	}
	_, noStore := os.Lstat(storeKey)
	store, err := biometric.CreateStoreKey(cfg.Path(cfg.Store), storeKey)
	if err != nil {
		return fail(err)
	}
	if noStore != nil {
		log.Warn("appliance: no template store yet, made an empty one; nobody can log in until a clinician is enrolled (edge sensor enroll)",
			"store", store.Dir())
	}
	x := opt.Extractor
	if x == nil {
		model := cfg.Path(cfg.Model)
		if model == "" && prof != nil {
			model = prof.Install.Model
		}
		iopt, err := boardcfg.Infer(prof, infer.Options{ModelPath: model, ORTLib: cfg.Path(cfg.ORTLib), Providers: cfg.Providers, Logger: log})
		if err != nil {
			return fail(err)
		}
		ex, err := infer.Open(ctx, iopt)
		if err != nil {
			return fail(err)
		}
		closers = append(closers, ex.Close)
		log.Info("appliance: model loaded", "model", iopt.ModelPath, "provider", ex.Provider())
		x = ex
	}
	st, err := openStation(ctx, cfg, prof, x, store, log)
	if err != nil {
		return fail(err)
	}
	closers = append(closers, st.Close)
	a.station, a.login = st, st

	if a.out, err = outbox.Open(filepath.Join(state, "outbox"), outbox.Options{MaxBytes: cfg.Outbox.MaxBytes, MaxCount: cfg.Outbox.MaxCount, Logger: log}); err != nil {
		return fail(err)
	}
	closers = append(closers, a.out.Close)
	if a.audit, err = openAudit(filepath.Join(state, "audit.jsonl"), log, now); err != nil {
		return fail(err)
	}
	closers = append(closers, a.audit.Close)
	a.session = NewSession(cfg.IdleTimeout(), now, nil, func(id, reason string) {
		a.audit.Record(AuditEvent{Event: "logout", Clinician: id, Reason: reason, ClockSane: a.clock.sane()})
		log.Info("appliance: clinician logged out", "clinician", id, "reason", reason)
	})
	if a.recv, err = openReceived(state, journalKeep); err != nil {
		return fail(err)
	}
	closers = append(closers, a.recv.Close)
	a.metrics = newMetrics(a)
	if err := a.recoverStaged(ctx); err != nil {
		return fail(err)
	}
	return a, closeAll, nil
}

// openStation sets up the fingerprint module's line from the config over
// the board's, and the GPIO lines beside it.
func openStation(ctx context.Context, cfg *Config, prof *board.Profile, x login.Extractor, store *biometric.Store, log *slog.Logger) (*login.Station, error) {
	s := boardcfg.Sensor(prof)
	if cfg.Sensor.Port != "" {
		s.Port = cfg.Path(cfg.Sensor.Port)
	}
	if cfg.Sensor.Baud != 0 {
		s.Baud = cfg.Sensor.Baud
	}
	if err := sensor.CheckBaud(s.Baud); err != nil {
		return nil, fmt.Errorf("appliance: config: sensor.baud: %w", err)
	}
	for _, u := range []struct {
		v   string
		dst *uint32
	}{{cfg.Sensor.Address, &s.Opts.Address}, {cfg.Sensor.Password, &s.Opts.Password}} {
		if u.v != "" {
			n, _ := strconv.ParseUint(u.v, 0, 32) // checked by ParseConfig
			*u.dst = uint32(n)
		}
	}
	open := func() (sensor.PortCloser, error) {
		path := s.Port
		if path == "" {
			pr, _, err := sensor.Find(ctx, nil, s.Baud, s.Opts)
			if err != nil {
				return nil, err
			}
			path = pr.Path
		}
		return sensor.OpenSerial(path, s.Baud)
	}
	var lines login.Lines
	if l, err := gpio.Open(boardcfg.GPIO(prof), log); err != nil {
		log.Warn("appliance: going on without GPIO lines", "err", err)
	} else {
		lines = l
	}
	return login.Open(login.Options{Open: open, Sensor: &s.Opts, Lines: lines, Extractor: x, Store: store, Logger: log, MaxBaud: cfg.Sensor.MaxBaud})
}

// serve runs every concern until ctx ends, then drains.
func (a *Appliance) serve(ctx context.Context, opt Options) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	var errMu sync.Mutex
	var first error
	goRun := func(name string, f func(context.Context) error) {
		wg.Go(func() {
			if err := f(ctx); err != nil {
				errMu.Lock()
				if first == nil {
					first = fmt.Errorf("%s: %w", name, err)
				}
				errMu.Unlock()
				a.log.Error("appliance: stopped", "part", name, "err", err)
				cancel(err)
			}
		})
	}
	var addrs Addrs
	cfg := a.cfg

	sl, err := net.Listen("tcp", cfg.Status.Listen)
	if err != nil {
		return fmt.Errorf("appliance: status page: %w", err)
	}
	addrs.Status = sl.Addr().String()
	srv := &http.Server{Handler: a.statusHandler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second}

	if cfg.Modality.Listen != "" {
		var allow []netip.Prefix
		for _, s := range cfg.Modality.AllowSources {
			p, _ := parsePrefix(s) // checked by ParseConfig
			allow = append(allow, p)
		}
		ms, err := modality.NewServer(modality.Config{
			AETitle: cfg.Modality.AETitle, AllowCallingAE: cfg.Modality.AllowCallingAE, AllowSources: allow,
			MaxAssociations: cfg.Modality.MaxAssociations, MaxObjectSize: cfg.Modality.MaxObjectBytes,
			SpoolDir: filepath.Join(cfg.Path(cfg.StateDir), "spool"),
		}, a, a.log)
		if err != nil {
			sl.Close()
			return err
		}
		ml, err := net.Listen("tcp", cfg.Modality.Listen)
		if err != nil {
			sl.Close()
			return fmt.Errorf("appliance: modality: listen %s: %w", cfg.Modality.Listen, err)
		}
		addrs.DICOM = ml.Addr().String()
		goRun("modality", func(ctx context.Context) error { return ms.Serve(ctx, ml) })
	}
	if cfg.Watch.In != "" {
		w, err := modality.NewWatcher(modality.WatchConfig{
			In: cfg.Path(cfg.Watch.In), Journal: filepath.Join(cfg.Path(cfg.StateDir), "watch.journal"),
			Settle: time.Duration(cfg.Watch.SettleSeconds * float64(time.Second)), MaxObjectSize: cfg.Modality.MaxObjectBytes,
		}, a, a.log)
		if err != nil {
			sl.Close()
			cancel(err)
			wg.Wait()
			return err
		}
		defer w.Close()
		goRun("watch", w.Run)
	}
	goRun("status", func(ctx context.Context) error {
		stop := context.AfterFunc(ctx, func() {
			sctx, c := context.WithTimeout(context.Background(), 5*time.Second)
			defer c()
			srv.Shutdown(sctx)
		})
		defer stop()
		if err := srv.Serve(sl); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
	goRun("login", a.runLogin)
	goRun("pending", a.runPending)
	if cfg.Uplink.Hub != "" {
		goRun("uplink", a.runUplink)
	} else {
		a.log.Warn("appliance: no uplink.hub configured: envelopes stay in the outbox")
	}
	goRun("watchdog", func(ctx context.Context) error {
		return a.runWatchdog(ctx, a.alive)
	})

	a.log.Info("appliance: running", "status", "http://"+addrs.Status+"/", "dicom", addrs.DICOM, "watch", cfg.Watch.In,
		"hub", cfg.Uplink.Hub, "device", a.device.ID(), "idle_timeout", cfg.IdleTimeout(), "clock_sane", a.clock.sane())
	if err := a.notify.send("READY=1\nSTATUS=taking images; status page on " + addrs.Status); err != nil {
		a.log.Warn("appliance: sd_notify", "err", err)
	}
	if opt.Ready != nil {
		opt.Ready(addrs)
	}
	<-ctx.Done()
	a.notify.send("STOPPING=1")
	a.log.Info("appliance: stopping: finishing the images being received")
	wg.Wait()
	a.log.Info("appliance: stopped")
	errMu.Lock()
	defer errMu.Unlock()
	return first
}
