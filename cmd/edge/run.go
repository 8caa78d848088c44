package main

import (
	"context"
	"errors"

	"edge/internal/appliance"
	"edge/internal/boardcfg"
)

// exitNoInference is edge run's status on a board that extracts no
// features (EX_CONFIG): the units' RestartPreventExitStatus names it, so
// systemd leaves the unit failed with the reason in the journal instead of
// restarting it every few seconds to no end.
const exitNoInference = 78

// runRun: edge run --config FILE [--board NAME], the appliance daemon that
// board/edge.service starts.
func runRun(ctx context.Context, e env, args []string) error {
	fs := newFlags(e, "run")
	config := fs.String("config", "", "the appliance's config (edge.json; internal/appliance/doc.go lists every key)")
	loadBoard := addBoardFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := required(fs, "config"); err != nil {
		return err
	}
	prof, err := loadBoard()
	if err != nil {
		return err
	}
	err = appliance.Run(ctx, *config, appliance.Options{Board: prof, Stderr: e.stderr})
	if errors.Is(err, context.Canceled) {
		return nil
	}
	if errors.Is(err, boardcfg.ErrNoInference) {
		return &exitStatus{exitNoInference, err}
	}
	return err
}
