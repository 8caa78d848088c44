package hub

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tus/tusd/v2/pkg/filestore"
	"github.com/tus/tusd/v2/pkg/handler"

	"edge/internal/fsutil"
	"edge/internal/medimg"
	"edge/internal/uplink"
)

// Forward states of a Record.
const (
	forwardPending = "pending"
	forwardDone    = "done"
	forwardRefused = "refused"
)

// rejection is a check the envelope failed: final, reported to the device.
type rejection struct{ reason string }

func (r *rejection) Error() string { return r.reason }

func reject(format string, args ...any) error {
	return &rejection{reason: fmt.Sprintf(format, args...)}
}

// process turns a complete upload into a stored image, a duplicate or a
// rejection, records it with its receipt, and removes the upload's files. It
// is idempotent: an upload already processed gets its first receipt again.
// An error means the hub could not decide for reasons of its own; the
// upload stays and is processed again later.
func (h *Hub) process(ctx context.Context, info handler.FileInfo) (*uplink.Receipt, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if rc, err := h.idx.receipt(info.ID); err != nil || rc != nil {
		return rc, err
	}
	start := h.now()
	rec := &Record{
		UploadID:   info.ID,
		EnvelopeID: info.MetaData[MetaEnvelopeID],
		DeviceID:   info.MetaData[MetaDeviceID],
		Received:   start.UTC(),
	}
	bin := info.Storage[filestore.StorageKeyPath]
	err := h.restore(ctx, info, bin, rec)
	var rj *rejection
	switch {
	case errors.As(err, &rj):
		rec.Outcome, rec.Reason = uplink.OutcomeRejected, rj.reason
		if rec.Path, err = h.keepRejected(info.ID, bin, rj.reason); err != nil {
			return nil, err
		}
	case err != nil:
		return nil, err
	}
	rc := &uplink.Receipt{UploadID: info.ID, EnvelopeID: rec.EnvelopeID, Outcome: rec.Outcome, Reason: rec.Reason, Received: rec.Received}
	if err := h.idx.commit(rec, rc); err != nil {
		return nil, err
	}
	h.removeUpload(info.ID)
	h.m.outcomes.WithLabelValues(rec.Outcome).Inc()
	h.m.processSeconds.Observe(h.now().Sub(start).Seconds())
	lg := h.log.With("upload", info.ID, "envelope", rec.EnvelopeID, "device", rec.DeviceID, "outcome", rec.Outcome)
	if rec.Outcome == uplink.OutcomeRejected {
		lg.Warn("hub: envelope rejected", "reason", rec.Reason)
	} else {
		lg.Info("hub: envelope received", "path", rec.Path)
	}
	if rec.Forward == forwardPending {
		select {
		case h.kick <- struct{}{}:
		default:
		}
	}
	return rc, nil
}

// restore verifies, opens and restores the envelope of an upload and fills
// rec. Any check the envelope fails is a *rejection.
func (h *Hub) restore(ctx context.Context, info handler.FileInfo, bin string, rec *Record) error {
	env, err := readEnvelope(bin, info.Size, int64(h.cfg.Limits.MaxEnvelopeBytes))
	if err != nil {
		return err
	}
	// Open inside Recover checks the device and the signature before the
	// hub's HPKE key is used, and everything else before anything is decoded.
	r, err := h.opener.Recover(ctx, env)
	if err != nil {
		if ctx.Err() != nil {
			return err
		}
		return reject("%v", err)
	}
	id := hex.EncodeToString(r.Header.ID[:])
	if id != rec.EnvelopeID {
		return reject("envelope id %s, upload metadata said %s", id, rec.EnvelopeID)
	}
	if r.Header.DeviceID != rec.DeviceID {
		return reject("envelope signed by device %s, uploaded by device %s", r.Header.DeviceID, rec.DeviceID)
	}
	ber, nc := r.BER, r.NC
	rec.ClinicianID, rec.BER, rec.NC = r.ClinicianID, &ber, &nc
	rec.Captured = time.Unix(0, r.Header.Created).UTC()
	rec.Container = string(r.Container.Format)
	if h.clin != nil {
		score, ok, err := h.clin.Verify(r.ClinicianID, r)
		if err != nil {
			return fmt.Errorf("hub: clinician registry: %w", err)
		}
		rec.MatchScore = &score
		if !ok {
			return reject("the mark does not match clinician %q's registered template (score %.3f)", r.ClinicianID, score)
		}
	}
	if prev, err := h.idx.stored(id); err != nil {
		return err
	} else if prev != nil {
		rec.Outcome, rec.Path = uplink.OutcomeDuplicate, prev.Path
		return nil
	}
	ext := ".png"
	if r.Container.Format == medimg.FormatDICOM {
		ext = ".dcm"
	}
	rec.Path = filepath.Join(h.cfg.Path(h.cfg.Store), imagesDir, id+ext)
	if err := medimg.WriteFile(rec.Path, r.Image, r.Container); err != nil {
		return fmt.Errorf("hub: store restored image: %w", err)
	}
	rec.Outcome = uplink.OutcomeStored
	if ext == ".dcm" && h.fwd != nil {
		rec.Forward = forwardPending
	}
	return nil
}

// keepRejected moves a refused envelope into rejected/ beside its reason.
func (h *Hub) keepRejected(uploadID, bin, reason string) (string, error) {
	dir := filepath.Join(h.cfg.Path(h.cfg.Store), rejectedDir)
	dst := filepath.Join(dir, uploadID+".edge")
	if err := fsutil.WriteFile(filepath.Join(dir, uploadID+".reason"), 0o600, func(w io.Writer) error {
		_, err := io.WriteString(w, strings.ReplaceAll(reason, "\n", " ")+"\n")
		return err
	}); err != nil {
		return "", fmt.Errorf("hub: keep rejected: %w", err)
	}
	if err := os.Rename(bin, dst); err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("hub: keep rejected: %w", err)
	}
	if err := fsutil.SyncDir(dir); err != nil {
		return "", err
	}
	return dst, nil
}
