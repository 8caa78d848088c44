package hub

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"time"

	"edge/internal/hub/orthanc"
	"edge/internal/modality/scu"
	"edge/internal/uplink"
)

func newOrthanc(c PACSConfig) Forwarder {
	return &orthanc.Client{
		URL:      c.OrthancURL,
		Username: c.Username,
		Password: c.Password,
		Timeout:  time.Duration(c.RequestTimeoutSec) * time.Second,
	}
}

// dicomForwarder stores each file on a PACS by C-STORE. The PACS's name for
// the instance is its SOP Instance UID.
type dicomForwarder struct{ c *scu.Client }

func newDICOM(c PACSConfig, log *slog.Logger) Forwarder {
	connect := c.ConnectTimeoutSec
	if connect == 0 {
		connect = DefaultConnectTimeout
	}
	return &dicomForwarder{c: &scu.Client{
		Addr: c.DICOMAddress, CalledAE: c.CalledAE, CallingAE: c.CallingAE,
		ConnectTimeout: time.Duration(connect) * time.Second,
		Timeout:        time.Duration(c.RequestTimeoutSec) * time.Second,
		Log:            log,
	}}
}

func (d *dicomForwarder) Forward(ctx context.Context, dicom []byte) (string, error) {
	res, err := d.c.Store(ctx, dicom)
	if err != nil {
		return "", err
	}
	return res.SOPInstanceUID, nil
}

// fileRefuser is an error by which a PACS refuses one file for what it is
// (its SOP class, a data set it cannot take), not for its own state: the
// forwarders' errors (scu.StatusError, scu.ContextRefusedError,
// orthanc.HTTPError) say which they are.
type fileRefuser interface{ FileRefused() bool }

func fileRefused(err error) bool {
	var r fileRefuser
	return errors.As(err, &r) && r.FileRefused()
}

// forwardLoop sends stored DICOM to the PACS, oldest first, until ctx is
// done. One pass is forwardOnce; a failed pass waits a capped, jittered
// backoff. A new stored image wakes it at once.
func (h *Hub) forwardLoop(ctx context.Context) {
	bo := uplink.Backoff{Min: time.Second, Max: time.Duration(h.cfg.PACS.RetryMaxSeconds) * time.Second}
	rnd := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 0x6564676568756221))
	failures := 0
	for {
		wait := time.Minute
		if err := h.forwardOnce(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			wait = bo.Delay(failures, rnd)
			failures++
			h.log.Warn("hub: forward to the PACS failed; retrying", "err", err, "in", wait.Round(time.Millisecond))
		} else {
			failures = 0
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-h.kick:
			if failures == 0 {
				t.Stop()
				continue
			}
			// A failing PACS is not retried faster because more images arrive.
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
		case <-t.C:
		}
	}
}

// forwardOnce forwards every pending record and marks each done as soon as
// the PACS confirmed it. A crash between the two sends it again; the PACS
// keys instances by SOP Instance UID and keeps one. A file the PACS refuses
// for what it is (fileRefused) is marked refused and passed over; any other
// failure ends the pass, to be retried in order.
func (h *Hub) forwardOnce(ctx context.Context) error {
	// One pass at a time, so a record is never posted by two passes at once.
	h.fwdMu.Lock()
	defer h.fwdMu.Unlock()
	seqs, err := h.idx.pending()
	if err != nil {
		return fmt.Errorf("hub: forward queue: %w", err)
	}
	for _, seq := range seqs {
		rec, err := h.idx.record(seq)
		if err != nil {
			return fmt.Errorf("hub: forward queue: %w", err)
		}
		b, err := os.ReadFile(rec.Path)
		if err != nil {
			return fmt.Errorf("hub: forward %s: %w", rec.EnvelopeID, err)
		}
		id, err := h.fwd.Forward(ctx, b)
		if err != nil && fileRefused(err) {
			// Sending it again cannot help, and holding back the
			// images behind it would keep them from the clinicians.
			h.m.forwards.WithLabelValues("refused").Inc()
			h.log.Error("hub: the PACS refused a file; it stays stored here and goes on with the others",
				"envelope", rec.EnvelopeID, "path", rec.Path, "err", err)
			if err := h.idx.refused(seq, err.Error(), h.now().UTC()); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			h.m.forwards.WithLabelValues("error").Inc()
			return fmt.Errorf("hub: forward %s: %w", rec.EnvelopeID, err)
		}
		if err := h.idx.forwarded(seq, id, h.now().UTC()); err != nil {
			return err
		}
		h.m.forwards.WithLabelValues("ok").Inc()
		h.log.Info("hub: forwarded to the PACS", "envelope", rec.EnvelopeID, "pacs_id", id)
	}
	return nil
}

// ForwardPending runs one forwarding pass; for tests and tools.
func (h *Hub) ForwardPending(ctx context.Context) error {
	if h.fwd == nil {
		return nil
	}
	return h.forwardOnce(ctx)
}
