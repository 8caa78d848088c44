package modality

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
)

// ListenToDir runs a provider that stores each object durably into dir, as
// <SOP Instance UID>.dcm, until ctx is done: the bench and field check that
// dcmtk's storescp is elsewhere. Objects arrive in dir/.incoming unless
// cfg.SpoolDir says otherwise.
func ListenToDir(ctx context.Context, cfg Config, dir string, log *slog.Logger) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("modality: output folder: %w", err)
	}
	if cfg.SpoolDir == "" {
		cfg.SpoolDir = filepath.Join(dir, ".incoming")
	}
	store := &DirStore{Dir: dir}
	if err := store.Clean(); err != nil {
		return err
	}
	srv, err := NewServer(cfg, store, log)
	if err != nil {
		return err
	}
	return srv.ListenAndServe(ctx)
}

// WatchToDir watches cfg.In and stores each complete DICOM file durably
// into dir until ctx is done; the journal is dir/.watch-journal unless
// cfg.Journal says otherwise.
func WatchToDir(ctx context.Context, cfg WatchConfig, dir string, log *slog.Logger) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("modality: output folder: %w", err)
	}
	if cfg.Journal == "" {
		cfg.Journal = filepath.Join(dir, ".watch-journal")
	}
	store := &DirStore{Dir: dir, Copy: true}
	if err := store.Clean(); err != nil {
		return err
	}
	w, err := NewWatcher(cfg, store, log)
	if err != nil {
		return err
	}
	defer w.Close()
	return w.Run(ctx)
}
