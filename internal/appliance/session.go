package appliance

import (
	"context"
	"errors"
	"sync"
	"time"

	"edge/internal/biometric"
	"edge/internal/login"
	"edge/internal/uplink"
)

// Session is who is logged in at the bedside. A login starts it; it ends
// on an explicit logout (a second touch, the status page) or when no image
// came for the idle timeout. Images protected in it carry its Identity.
type Session struct {
	mu    sync.Mutex
	ident *biometric.Identity
	since time.Time
	// deadline is when the session ends on the monotonic clock: a board's
	// wall clock jumps from 1970 when the network sets it, which must not
	// end (or stretch) a session.
	deadline time.Duration
	idle     time.Duration
	now      func() time.Time
	mono     func() time.Duration
	onEnd    func(id, reason string)
	changed  chan struct{} // closed and replaced on every login and logout
}

// NewSession makes a session holder. now is the wall clock the page shows,
// mono a monotonic clock the timeout is measured on (nil: the process's);
// onEnd, if set, hears every end.
func NewSession(idle time.Duration, now func() time.Time, mono func() time.Duration, onEnd func(id, reason string)) *Session {
	if now == nil {
		now = time.Now
	}
	if mono == nil {
		start := time.Now()
		mono = func() time.Duration { return time.Since(start) }
	}
	return &Session{idle: idle, now: now, mono: mono, onEnd: onEnd, changed: make(chan struct{})}
}

// Login starts a session for ident, ending any other.
func (s *Session) Login(ident *biometric.Identity) {
	s.mu.Lock()
	prev := s.endLocked()
	s.ident, s.since, s.deadline = ident, s.now(), s.mono()+s.idle
	s.signalLocked()
	s.mu.Unlock()
	if prev != "" && s.onEnd != nil {
		s.onEnd(prev, "another clinician logged in")
	}
}

// Logout ends the session; it reports whether one was open.
func (s *Session) Logout(reason string) bool {
	s.mu.Lock()
	id := s.endLocked()
	if id != "" {
		s.signalLocked()
	}
	s.mu.Unlock()
	if id != "" && s.onEnd != nil {
		s.onEnd(id, reason)
	}
	return id != ""
}

func (s *Session) endLocked() string {
	if s.ident == nil {
		return ""
	}
	id := s.ident.ClinicianID()
	s.ident = nil
	return id
}

func (s *Session) signalLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// Changed is closed at the next login or logout.
func (s *Session) Changed() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.changed
}

// Active returns the logged-in identity, ending the session first if it
// has been idle too long. touch extends it: an image arrived.
func (s *Session) Active(touch bool) (*biometric.Identity, bool) {
	s.expire()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ident == nil {
		return nil, false
	}
	if touch {
		s.deadline = s.mono() + s.idle
	}
	return s.ident, true
}

// expire ends an idle session.
func (s *Session) expire() {
	s.mu.Lock()
	var id string
	if s.ident != nil && s.mono() >= s.deadline {
		id = s.endLocked()
		s.signalLocked()
	}
	s.mu.Unlock()
	if id != "" && s.onEnd != nil {
		s.onEnd(id, "idle timeout")
	}
}

// SessionInfo is what the status page shows.
type SessionInfo struct {
	Clinician    string
	Since, Until time.Time
}

// Info returns the session now ("" clinician when nobody is logged in).
func (s *Session) Info() SessionInfo {
	s.expire()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ident == nil {
		return SessionInfo{}
	}
	return SessionInfo{Clinician: s.ident.ClinicianID(), Since: s.since, Until: s.now().Add(s.deadline - s.mono())}
}

// station is what the login loop needs of the login package's Station.
type station interface {
	Identify(ctx context.Context) (*login.Result, error)
	FingerPresent(ctx context.Context) (bool, error)
	Sensor() login.SensorState
}

// runLogin is the finger on the sensor: with nobody logged in it waits for
// a finger and identifies it among the enrolled clinicians; a match starts
// a session. While a session is open it watches for the finger to be lifted
// and, with session.touch_logout, a second touch, which logs out. After
// any login or logout the finger must be lifted before it counts again. A
// sensor that stops answering is retried with a backoff; a session open at
// the time goes on until it times out.
func (a *Appliance) runLogin(ctx context.Context) error {
	// A finger already on the sensor at start counts as a touch.
	lifted := true
	fails := 0
	for ctx.Err() == nil {
		var err error
		if _, ok := a.session.Active(false); ok || !lifted {
			lifted, err = a.watchFinger(ctx, ok, lifted)
		} else {
			lifted, err = a.identify(ctx)
		}
		if err == nil {
			fails = 0
			continue
		}
		if ctx.Err() != nil {
			return nil
		}
		if errors.Is(err, login.ErrNoStore) {
			a.log.Warn("appliance: nobody is enrolled: enroll a clinician (edge sensor enroll)", "err", err)
		}
		// A sensor plugged back in is found within seconds.
		d := uplink.Backoff{Min: 500 * time.Millisecond, Max: 5 * time.Second}.Delay(fails, nil)
		fails++
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
	return nil
}

// identify takes one login; it returns whether the finger is known lifted.
func (a *Appliance) identify(ctx context.Context) (bool, error) {
	r, err := a.login.Identify(ctx)
	if err != nil {
		return true, err
	}
	if !r.Decision.Match || r.Identity == nil {
		a.metrics.logins.WithLabelValues("refused").Inc()
		a.audit.Record(AuditEvent{Event: "login_refused", Reason: "no enrolled clinician matched", ClockSane: a.clock.sane()})
		a.log.Warn("appliance: login refused: no enrolled clinician matched", "candidates", r.Candidates)
		return false, nil
	}
	a.metrics.logins.WithLabelValues("match").Inc()
	a.session.Login(r.Identity)
	id := r.Identity.ClinicianID()
	a.audit.Record(AuditEvent{Event: "login", Clinician: id, ClockSane: a.clock.sane()})
	a.log.Info("appliance: clinician logged in", "clinician", id, "capture", r.Capture, "features", r.Features, "until", a.session.Info().Until)
	a.kickPending()
	return false, nil
}

// watchFinger polls the module once a poll interval until the finger is
// lifted, the session changes or, when lifted and touch logout is on, the
// finger lands again (a logout).
func (a *Appliance) watchFinger(ctx context.Context, inSession, lifted bool) (bool, error) {
	changed := a.session.Changed()
	present, err := a.login.FingerPresent(ctx)
	if err != nil {
		return lifted, err
	}
	switch {
	case !present:
		lifted = true
	case lifted && inSession && *a.cfg.Session.TouchLogout:
		a.session.Logout("second touch")
		return false, nil
	}
	if lifted && !inSession {
		return true, nil
	}
	t := time.NewTimer(a.poll)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-changed:
	case <-t.C:
	}
	return lifted, nil
}
