package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"edge/internal/uplink"
	"edge/internal/uplink/outbox"
	"edge/internal/uplink/tus"
)

// runUplink handles "edge uplink enqueue|send|status".
func runUplink(ctx context.Context, e env, args []string) error {
	sub := ""
	if len(args) > 0 {
		sub = args[0]
	}
	switch sub {
	case "enqueue":
		return runUplinkEnqueue(ctx, e, args[1:])
	case "send":
		return runUplinkSend(ctx, e, args[1:])
	case "status":
		return runUplinkStatus(e, args[1:])
	}
	return fmt.Errorf("%w: want \"uplink enqueue|send|status\", got subcommand %q", errUsage, sub)
}

func runUplinkEnqueue(ctx context.Context, e env, args []string) error {
	fs := newFlags(e, "uplink enqueue")
	dir := fs.String("outbox", "", "outbox folder (created with mode 0700)")
	maxBytes := fs.Int64("max-bytes", 0, "quota: envelope bytes the outbox may hold (0: no bound)")
	maxCount := fs.Int("max-count", 0, "quota: envelopes the outbox may hold (0: no bound)")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if err := required(fs, "outbox"); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return fmt.Errorf("%w: give one or more envelope files", errUsage)
	}
	o, err := outbox.Open(*dir, outbox.Options{MaxBytes: *maxBytes, MaxCount: *maxCount, Logger: slog.New(slog.NewTextHandler(e.stderr, nil))})
	if err != nil {
		return err
	}
	defer o.Close()
	for _, p := range fs.Args() {
		en, err := o.EnqueueFile(ctx, p)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "%s: queued envelope %s\n", p, en.IDHex())
	}
	return nil
}

func runUplinkSend(ctx context.Context, e env, args []string) error {
	fs := newFlags(e, "uplink send")
	var (
		dir   = fs.String("outbox", "", "outbox folder")
		hub   = fs.String("hub", "", "hub URL, https://host:port")
		pin   = fs.String("pin", "", "hub certificate pin (SPKI SHA-256, hex), as edge hub init printed it")
		key   = fs.String("device-key", "", "device private key (device.key)")
		once  = fs.Bool("once", false, "exit 0 once the outbox is empty and every envelope confirmed; non-zero on a lasting error")
		rate  = fs.Int64("rate", 0, "upload cap in bits per second (0: none)")
		chunk = fs.Int("chunk", tus.DefaultChunkSize, "PATCH size in bytes")
		par   = fs.Int("parallel", 4, "envelopes in flight at once (the next one moves while the hub restores one)")
		maxBO = fs.Duration("max-backoff", 5*time.Minute, "longest wait between retries")
	)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := required(fs, "outbox", "hub", "pin", "device-key"); err != nil {
		return err
	}
	lg := slog.New(slog.NewTextHandler(e.stderr, nil))
	return tus.Drain(ctx, tus.DrainOptions{
		Outbox: *dir, Hub: *hub, Pin: *pin, DeviceKey: *key, Once: *once, RateBits: *rate, ChunkSize: *chunk, Parallel: *par,
		Backoff: uplink.Backoff{Min: time.Second, Max: *maxBO}, Logger: lg,
		OnReceipt: func(en outbox.Entry, r *uplink.Receipt) {
			fmt.Fprintf(e.stdout, "%s %s %s\n", en.IDHex(), r.Outcome, r.Reason)
		},
	})
}

func runUplinkStatus(e env, args []string) error {
	fs := newFlags(e, "uplink status")
	dir := fs.String("outbox", "", "outbox folder")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := required(fs, "outbox"); err != nil {
		return err
	}
	o, err := outbox.Open(*dir, outbox.Options{})
	if err != nil {
		return err
	}
	defer o.Close()
	s, err := o.Stats()
	if err != nil {
		return err
	}
	st := map[string]any{"depth": s.Depth, "bytes": s.Bytes, "oldest_age_seconds": s.OldestAge.Seconds(), "full": s.Full}
	if s.Full {
		st["full_since"] = s.FullSince
	}
	return printJSON(e.stdout, st)
}
