package appliance

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"os"
	"sync"
	"time"
)

// Audit is the device's own record of what happened to each image and
// session, one JSON object a line, appended and fsynced (state_dir/audit.jsonl,
// mode 0600). It names clinicians and envelopes, never template material.
type Audit struct {
	mu  sync.Mutex
	f   *os.File
	log *slog.Logger
	now func() time.Time
}

// AuditEvent is one line of the audit file.
type AuditEvent struct {
	Time      time.Time `json:"time"`
	Event     string    `json:"event"` // login, login_refused, logout, held, protected, released, failed
	Clinician string    `json:"clinician,omitempty"`
	Envelope  string    `json:"envelope,omitempty"`
	Source    string    `json:"source,omitempty"`
	SOP       string    `json:"sop_instance_uid,omitempty"`
	HeldSince time.Time `json:"held_since,omitzero"`
	Reason    string    `json:"reason,omitempty"`
	ClockSane bool      `json:"clock_sane"`
	// For protected and released images: raw pixel bytes, envelope bytes,
	// and the marked image's quality against the original.
	Bytes         int     `json:"original_bytes,omitempty"`
	EnvelopeBytes int     `json:"envelope_bytes,omitempty"`
	PSNR          float64 `json:"psnr_db,omitempty"`
	SSIM          float64 `json:"ssim,omitempty"`
}

func openAudit(path string, log *slog.Logger, now func() time.Time) (*Audit, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("appliance: audit: %w", err)
	}
	return &Audit{f: f, log: log, now: now}, nil
}

// Record appends ev; a failure to write is logged, never fatal: the image's
// durability is the outbox's, not the audit's.
func (a *Audit) Record(ev AuditEvent) {
	if ev.Time.IsZero() {
		ev.Time = a.now()
	}
	// JSON has no infinity: a mark that changed nothing has no finite PSNR.
	if math.IsInf(ev.PSNR, 0) || math.IsNaN(ev.PSNR) {
		ev.PSNR = 0
	}
	b, err := json.Marshal(ev)
	if err != nil {
		a.log.Error("appliance: audit", "err", err)
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	_, err = a.f.Write(append(b, '\n'))
	if err == nil {
		err = a.f.Sync()
	}
	if err != nil {
		a.log.Error("appliance: audit write", "err", err)
	}
}

func (a *Audit) Close() error { return a.f.Close() }
