package main

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"

	"edge/internal/hub"
)

// runHub handles "edge hub init|trust|audit" and "edge hub --config FILE".
func runHub(ctx context.Context, e env, args []string) error {
	if len(args) > 0 {
		switch args[0] {
		case "init":
			return runHubInit(e, args[1:])
		case "trust":
			return runHubTrust(e, args[1:])
		case "audit":
			return runHubAudit(ctx, e, args[1:])
		}
	}
	fs := newFlags(e, "hub")
	cfg := fs.String("config", "", "hub.json made by edge hub init")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := required(fs, "config"); err != nil {
		return err
	}
	lg := slog.New(slog.NewTextHandler(e.stderr, nil))
	return hub.Run(ctx, *cfg, hub.Options{Logger: lg}, func(addr string) {
		fmt.Fprintf(e.stdout, "hub listening on %s\n", addr)
	})
}

func runHubInit(e env, args []string) error {
	fs := newFlags(e, "hub init")
	dir := fs.String("dir", "", "folder to create the hub in (hub.json, keys, trusted/, store/)")
	listen := fs.String("listen", hub.DefaultListen, "address the hub listens on")
	pacs := fs.String("pacs-url", "", "Orthanc REST URL to forward DICOM to (empty: none)")
	pacsDICOM := fs.String("pacs-dicom", "", "PACS to forward DICOM to by C-STORE, as CALLED_AE@HOST:PORT (empty: none; not with --pacs-url)")
	unverified := fs.Bool("allow-unverified-models", false, "also restore envelopes whose features came from a file, not a known model (tests, evaluation)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := required(fs, "dir"); err != nil {
		return err
	}
	pin, err := hub.Init(*dir, hub.InitOptions{Listen: *listen, PACSURL: *pacs, PACSDICOM: *pacsDICOM, AllowUnverifiedModels: *unverified})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "wrote %s and the hub's keys; add devices with edge hub trust --dir %s DEVICE.pub\n", filepath.Join(*dir, hub.ConfigFile), *dir)
	fmt.Fprintln(e.stdout, "certificate pin (SPKI SHA-256) for the devices' --pin:")
	fmt.Fprintln(e.stdout, pin)
	return nil
}

func runHubTrust(e env, args []string) error {
	fs := newFlags(e, "hub trust")
	dir := fs.String("dir", "", "hub folder made by edge hub init")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if err := required(fs, "dir"); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return fmt.Errorf("%w: give one or more DEVICE.pub files", errUsage)
	}
	cfg, err := hub.LoadConfig(filepath.Join(*dir, hub.ConfigFile))
	if err != nil {
		return err
	}
	ids, err := hub.Trust(cfg, fs.Args()...)
	for _, id := range ids {
		fmt.Fprintf(e.stdout, "trusted device %s\n", id)
	}
	return err
}

func runHubAudit(ctx context.Context, e env, args []string) error {
	fs := newFlags(e, "hub audit")
	dir := fs.String("dir", "", "hub folder made by edge hub init")
	asJSON := fs.Bool("json", false, "print the records as a JSON array")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := required(fs, "dir"); err != nil {
		return err
	}
	cfg, err := hub.LoadConfig(filepath.Join(*dir, hub.ConfigFile))
	if err != nil {
		return err
	}
	recs, err := hub.ReadAudit(ctx, cfg)
	if err != nil {
		return err
	}
	if *asJSON {
		if recs == nil {
			recs = []hub.Record{}
		}
		return printJSON(e.stdout, recs)
	}
	for _, r := range recs {
		fmt.Fprintf(e.stdout, "%s %s device %s %s %s %s", r.Received.Format("2006-01-02T15:04:05Z"), r.EnvelopeID, r.DeviceID, r.Outcome, r.Reason, r.Path)
		if r.Forward != "" {
			fmt.Fprintf(e.stdout, " forward %s", r.Forward)
		}
		if r.ForwardError != "" {
			fmt.Fprintf(e.stdout, " (PACS: %s)", r.ForwardError)
		}
		fmt.Fprintln(e.stdout)
	}
	return nil
}
