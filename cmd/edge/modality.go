package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"edge/internal/modality"
)

func runModality(ctx context.Context, e env, args []string) error {
	subs := map[string]func(context.Context, env, []string) error{
		"listen": runModalityListen,
		"watch":  runModalityWatch,
	}
	if len(args) == 0 || subs[args[0]] == nil {
		fmt.Fprintln(e.stderr, "usage: edge modality listen|watch [flags] (edge modality CMD -h for its flags)")
		if len(args) == 0 {
			return fmt.Errorf("%w: missing modality command", errUsage)
		}
		if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
			return flag.ErrHelp
		}
		return fmt.Errorf("%w: unknown modality command %q", errUsage, args[0])
	}
	return subs[args[0]](ctx, e, args[1:])
}

func modalityLog(e env) *slog.Logger {
	return slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

func runModalityListen(ctx context.Context, e env, args []string) error {
	fs := newFlags(e, "modality listen")
	ae := fs.String("ae", "", "this provider's AE title, the one the modality calls (required)")
	host := fs.String("host", "", "address to listen on (default: all)")
	port := fs.Int("port", 11112, "TCP port (0: any free one, logged)")
	out := fs.String("out", "", "folder the objects are stored in, as <SOP Instance UID>.dcm (required)")
	allow := fs.String("allow", "", "calling AE titles accepted, comma-separated (default: any)")
	sources := fs.String("allow-source", "", "source address prefixes accepted, comma-separated, e.g. 10.1.0.0/16 (default: any)")
	maxAssoc := fs.Int("max-associations", modality.DefaultMaxAssociations, "associations at once")
	maxPDU := fs.Uint("max-pdu", modality.DefaultMaxPDULength, "maximum PDU length received, bytes")
	idle := fs.Duration("idle", modality.DefaultIdleTimeout, "abort an association silent this long")
	artim := fs.Duration("artim", modality.DefaultARTIMTimeout, "ARTIM timeout")
	maxObj := fs.Int64("max-object", modality.DefaultMaxObjectSize, "largest data set accepted, bytes")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := required(fs, "ae", "out"); err != nil {
		return err
	}
	if *port < 0 || *port > 65535 {
		return fmt.Errorf("%w: -port %d out of range", errUsage, *port)
	}
	if *maxPDU > 1<<32-1 {
		return fmt.Errorf("%w: -max-pdu %d out of range", errUsage, *maxPDU)
	}
	cfg := modality.Config{
		Addr:            net.JoinHostPort(*host, strconv.Itoa(*port)),
		AETitle:         *ae,
		AllowCallingAE:  modalityList(*allow),
		MaxAssociations: *maxAssoc,
		MaxPDULength:    uint32(*maxPDU),
		IdleTimeout:     *idle,
		ARTIMTimeout:    *artim,
		MaxObjectSize:   *maxObj,
	}
	for _, s := range modalityList(*sources) {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return fmt.Errorf("%w: -allow-source %q: %v", errUsage, s, err)
		}
		cfg.AllowSources = append(cfg.AllowSources, p)
	}
	return modality.ListenToDir(ctx, cfg, *out, modalityLog(e))
}

func runModalityWatch(ctx context.Context, e env, args []string) error {
	fs := newFlags(e, "modality watch")
	in := fs.String("in", "", "folder the modality exports DICOM files into (required)")
	out := fs.String("out", "", "folder the objects are stored in, as <SOP Instance UID>.dcm (required)")
	journal := fs.String("journal", "", "file remembering what was handed over (default: OUT/.watch-journal)")
	settle := fs.Duration("settle", 2*time.Second, "a file unchanged this long is taken as complete")
	poll := fs.Duration("poll", time.Second, "how often the folder is listed")
	maxObj := fs.Int64("max-object", modality.DefaultMaxObjectSize, "largest file accepted, bytes")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := required(fs, "in", "out"); err != nil {
		return err
	}
	cfg := modality.WatchConfig{In: *in, Journal: *journal, Settle: *settle, Poll: *poll, MaxObjectSize: *maxObj}
	return modality.WatchToDir(ctx, cfg, *out, modalityLog(e))
}

func modalityList(s string) []string {
	var r []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			r = append(r, f)
		}
	}
	return r
}
