package hub

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// sweepEvery is how often the hub looks for abandoned uploads.
const sweepEvery = time.Hour

// sweepLoop runs SweepAbandoned now and every sweepEvery until ctx is done.
func (h *Hub) sweepLoop(ctx context.Context) {
	for {
		if _, err := h.SweepAbandoned(ctx); err != nil && ctx.Err() == nil {
			h.log.Warn("hub: sweeping abandoned uploads", "err", err)
		}
		t := time.NewTimer(sweepEvery)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// SweepAbandoned removes the incomplete uploads whose files nobody has
// written for limits.abandoned_upload_hours, and returns how many. A device
// that had given up on one keeps no claim to the disk it holds; one that
// comes back to it finds it gone, learns there is no receipt, and sends
// the envelope again (package tus), so nothing is lost but the bytes
// already sent. Complete uploads are left to processing.
func (h *Hub) SweepAbandoned(ctx context.Context) (int, error) {
	age := h.cfg.Limits.AbandonedUploads()
	dir := filepath.Join(h.cfg.Path(h.cfg.Store), uploadsDir)
	infos, err := filepath.Glob(filepath.Join(dir, "*.info"))
	if err != nil {
		return 0, fmt.Errorf("hub: sweep: %w", err)
	}
	removed := 0
	for _, p := range infos {
		if err := ctx.Err(); err != nil {
			return removed, err
		}
		id := strings.TrimSuffix(filepath.Base(p), ".info")
		if !untouched(dir, id, h.now().Add(-age)) {
			continue
		}
		gone, err := h.sweepOne(ctx, dir, id, age)
		if err != nil {
			return removed, err
		}
		if gone {
			removed++
		}
	}
	return removed, nil
}

// sweepOne removes upload id if, under its lock, it is still incomplete and
// untouched: a device resuming it at that moment holds the lock or has just
// written to it.
func (h *Hub) sweepOne(ctx context.Context, dir, id string, age time.Duration) (bool, error) {
	lock, err := h.locker.NewLock(id)
	if err != nil {
		return false, fmt.Errorf("hub: sweep %s: %w", id, err)
	}
	lctx, cancel := context.WithTimeout(ctx, time.Second)
	err = lock.Lock(lctx, func() {})
	cancel()
	if err != nil {
		return false, nil // in use: not abandoned
	}
	defer lock.Unlock()
	if !untouched(dir, id, h.now().Add(-age)) {
		return false, nil
	}
	up, err := h.store.GetUpload(ctx, id)
	if err != nil {
		return false, nil // Recover deals with an unreadable upload at start
	}
	info, err := up.GetInfo(ctx)
	if err != nil || info.Offset >= info.Size {
		return false, nil
	}
	h.removeUpload(id)
	h.m.abandoned.Inc()
	h.log.Info("hub: removed an upload left incomplete", "upload", id, "device", info.MetaData["device_id"],
		"received", info.Offset, "size", info.Size, "untouched_for", age)
	return true, nil
}

// untouched reports whether both files of upload id were last written
// before cut (a missing data file counts as old).
func untouched(dir, id string, cut time.Time) bool {
	for _, p := range []string{filepath.Join(dir, id+".info"), filepath.Join(dir, id)} {
		st, err := os.Stat(p)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil || !st.ModTime().Before(cut) {
			return false
		}
	}
	return true
}
