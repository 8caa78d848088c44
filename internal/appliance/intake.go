package appliance

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"edge/internal/biometric"
	"edge/internal/fsutil"
	"edge/internal/modality"
	"edge/internal/uplink"
	"edge/internal/uplink/outbox"
)

// Store is the modality's Consumer: the listener and the watch folder hand
// every object here, and the modality hears "stored" only when Store
// returns nil. With a clinician logged in and a sane clock, the image is
// protected for them and its envelope durably in the outbox before that;
// otherwise the object itself is held durably in the pending folder, to be
// protected for the first clinician who logs in.
func (a *Appliance) Store(ctx context.Context, obj *modality.Object) error {
	source := describeSource(obj)
	key, err := objectKey(obj)
	if err != nil {
		return err
	}
	// One object at a time from here: two associations sending the same
	// object must not both find it unknown.
	a.intakeMu.Lock()
	defer a.intakeMu.Unlock()
	if v, ok := a.known(key); ok {
		a.log.Info("appliance: object sent again; already durable, not sealed twice", "source", source, "sop_instance_uid", obj.SOPInstanceUID, "as", v)
		return nil
	}
	ident, ok := a.session.Active(true)
	reason := ""
	switch {
	case !ok:
		reason = "nobody logged in"
	case !a.clock.sane():
		reason = "clock not set"
	}
	if reason != "" {
		return a.hold(obj, key, source, reason)
	}
	s, err := a.sealer.seal(ctx, obj.Path, ident)
	if err != nil {
		a.audit.Record(AuditEvent{Event: "failed", Clinician: ident.ClinicianID(), Source: source, SOP: obj.SOPInstanceUID, Reason: err.Error(), ClockSane: a.clock.sane()})
		return err
	}
	if err := a.stageAndQueue(ctx, key, s.envelope, s.id); err != nil {
		return err
	}
	a.protected(s, source, obj.SOPInstanceUID, time.Time{})
	return nil
}

var _ modality.Consumer = (*Appliance)(nil)

func describeSource(obj *modality.Object) string {
	if obj.CallingAE == "" {
		return "watch " + filepath.Base(obj.RemoteAddr)
	}
	return "dicom " + obj.CallingAE + "@" + obj.RemoteAddr
}

// enqueue puts an envelope in the outbox; a full outbox is an
// out-of-resources refusal to the modality, which keeps the image and
// sends it again later.
func (a *Appliance) enqueue(ctx context.Context, env []byte) error {
	if _, err := a.out.Enqueue(ctx, env); err != nil {
		if errors.Is(err, outbox.ErrFull) {
			return fmt.Errorf("%w: %w", modality.ErrOutOfResources, err)
		}
		return fmt.Errorf("appliance: enqueue: %w", err)
	}
	return nil
}

// protected records an image now in the outbox.
func (a *Appliance) protected(s *sealed, source, sop string, heldSince time.Time) {
	ev := AuditEvent{Event: "protected", Clinician: s.clinician, Envelope: s.id, Source: source, SOP: sop, ClockSane: a.clock.sane(),
		Bytes: s.origBytes, EnvelopeBytes: len(s.envelope), PSNR: s.psnr, SSIM: s.ssim}
	if !heldSince.IsZero() {
		ev.Event, ev.HeldSince = "released", heldSince
		ev.Reason = "held (nobody logged in, or the clock not set); protected for the first clinician logged in once it could be"
	}
	a.audit.Record(ev)
	a.log.Info("appliance: image protected and queued", "event", ev.Event, "clinician", s.clinician, "envelope", s.id,
		"source", source, "bytes", s.origBytes, "envelope_bytes", len(s.envelope), "psnr_db", s.psnr, "took", s.took)
	a.metrics.protected.Inc()
	a.status.addCapture(capture{
		At: a.now(), Clinician: s.clinician, Source: source, Envelope: s.id, Thumb: s.thumb,
		Bytes: s.origBytes, EnvelopeBytes: len(s.envelope), PSNR: s.psnr, Held: !heldSince.IsZero(),
	})
}

// The pending folder holds objects that arrived while no clinician was
// logged in: state_dir/pending/T-KEY.dcm, T the arrival in Unix nanoseconds
// (20 digits) and KEY the object's key (received.go), each written by
// fsutil.WriteFile. Releasing
// one seals it into T-R.edge (written the same way) before the envelope is
// enqueued, then removes the .dcm and the .edge: a crash at any point
// leaves either the object (sealed again later) or its envelope (enqueued
// again: the outbox and the hub both deduplicate by envelope id), never
// neither and never two envelopes of one object.
const (
	pendingObject   = ".dcm"
	pendingEnvelope = ".edge"
)

func (a *Appliance) hold(obj *modality.Object, key, source, reason string) error {
	now := a.now()
	name := fmt.Sprintf("%020d-%s%s", now.UnixNano(), key, pendingObject)
	src, err := os.Open(obj.Path)
	if err != nil {
		return fmt.Errorf("appliance: hold: %w", err)
	}
	defer src.Close()
	err = fsutil.WriteFile(filepath.Join(a.pendingDir, name), 0o600, func(w io.Writer) error {
		_, err := io.Copy(w, src)
		return err
	})
	if err != nil {
		return fmt.Errorf("appliance: hold %s: %w", source, err)
	}
	a.audit.Record(AuditEvent{Event: "held", Source: source, SOP: obj.SOPInstanceUID, Reason: reason, ClockSane: a.clock.sane()})
	a.log.Warn("appliance: image held until a clinician logs in", "reason", reason, "source", source, "pending", name)
	a.metrics.held.Inc()
	a.kickPending()
	return nil
}

func (a *Appliance) kickPending() {
	select {
	case a.pendingKick <- struct{}{}:
	default:
	}
}

// pendingNames lists the held objects by base name, oldest first.
func (a *Appliance) pendingNames() ([]string, error) {
	ents, err := os.ReadDir(a.pendingDir)
	if err != nil {
		return nil, fmt.Errorf("appliance: pending: %w", err)
	}
	seen := map[string]bool{}
	var names []string
	for _, e := range ents {
		n := e.Name()
		base, ok := strings.CutSuffix(n, pendingObject)
		if !ok {
			base, ok = strings.CutSuffix(n, pendingEnvelope)
		}
		if !ok || strings.HasPrefix(n, ".") || seen[base] {
			continue
		}
		seen[base] = true
		names = append(names, base)
	}
	sort.Strings(names)
	return names, nil
}

// heldSince is the arrival time in a pending name.
func heldSince(base string) time.Time {
	t, _, _ := strings.Cut(base, "-")
	ns, err := strconv.ParseInt(t, 10, 64)
	if err != nil {
		return time.Time{}
	}
	return time.Unix(0, ns)
}

// releasePending protects every held object for ident, oldest first.
func (a *Appliance) releasePending(ctx context.Context, ident *biometric.Identity) error {
	names, err := a.pendingNames()
	if err != nil {
		return err
	}
	for _, base := range names {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := a.release(ctx, base, ident); err != nil {
			return err
		}
	}
	return nil
}

func (a *Appliance) release(ctx context.Context, base string, ident *biometric.Identity) error {
	objPath := filepath.Join(a.pendingDir, base+pendingObject)
	envPath := filepath.Join(a.pendingDir, base+pendingEnvelope)
	since := heldSince(base)
	env, err := os.ReadFile(envPath)
	var s *sealed
	switch {
	case err == nil:
		// Sealed before a restart: send that envelope, not a second one.
		h, err := uplink.PeekHeader(env)
		if err != nil {
			return a.moveAside(envPath, err)
		}
		s = &sealed{envelope: env, id: hex.EncodeToString(h.ID[:])}
	case errors.Is(err, os.ErrNotExist):
		if s, err = a.sealer.seal(ctx, objPath, ident); err != nil {
			a.audit.Record(AuditEvent{Event: "failed", Clinician: ident.ClinicianID(), Source: "pending " + base, Reason: err.Error(), ClockSane: a.clock.sane()})
			a.log.Error("appliance: a held image cannot be protected; moved aside", "pending", base, "err", err)
			return a.moveAside(objPath, err)
		}
		if err := fsutil.WriteFile(envPath, 0o600, func(w io.Writer) error { _, err := w.Write(s.envelope); return err }); err != nil {
			return fmt.Errorf("appliance: release %s: %w", base, err)
		}
	default:
		return fmt.Errorf("appliance: release %s: %w", base, err)
	}
	if err := a.enqueue(ctx, s.envelope); err != nil {
		return err
	}
	if _, key, ok := strings.Cut(base, "-"); ok && len(key) == 64 {
		if err := a.recv.add(key, s.id); err != nil {
			return err
		}
	}
	for _, p := range []string{objPath, envPath} {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("appliance: release %s: %w", base, err)
		}
	}
	if err := fsutil.SyncDir(a.pendingDir); err != nil {
		return err
	}
	a.protected(s, "pending "+base, "", since)
	return nil
}

// moveAside keeps an object no one can protect (it is not an image this
// device reads) out of the way, with the reason beside it.
func (a *Appliance) moveAside(path string, cause error) error {
	dir := filepath.Join(filepath.Dir(a.pendingDir), "failed")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("appliance: %w", err)
	}
	dst := filepath.Join(dir, filepath.Base(path))
	if err := os.Rename(path, dst); err != nil {
		return fmt.Errorf("appliance: move aside %s: %w", path, err)
	}
	reason := dst + ".reason.txt"
	if err := fsutil.WriteFile(reason, 0o600, func(w io.Writer) error { _, err := io.WriteString(w, cause.Error()+"\n"); return err }); err != nil {
		return err
	}
	return fsutil.SyncDir(a.pendingDir)
}

// runPending releases held objects whenever a clinician is logged in and
// the clock is sane: at each login, each newly held object, and every few
// seconds for what an earlier pass could not finish.
func (a *Appliance) runPending(ctx context.Context) error {
	t := time.NewTicker(2 * time.Second)
	defer t.Stop()
	for {
		changed := a.session.Changed()
		if ident, ok := a.session.Active(false); ok && a.clock.sane() {
			if err := a.releasePending(ctx, ident); err != nil && ctx.Err() == nil {
				a.log.Error("appliance: releasing held images", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-changed:
		case <-a.pendingKick:
		case <-t.C:
		}
	}
}

// pendingCount is how many objects are held.
func (a *Appliance) pendingCount() int {
	n, err := a.pendingNames()
	if err != nil {
		return 0
	}
	return len(n)
}
