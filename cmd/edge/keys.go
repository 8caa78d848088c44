package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"edge/internal/uplink"
)

// runKeys handles "edge keys init --dir DIR [--force]".
func runKeys(ctx context.Context, e env, args []string) error {
	if len(args) == 0 || args[0] != "init" {
		sub := ""
		if len(args) > 0 {
			sub = args[0]
		}
		return fmt.Errorf("%w: want \"keys init --dir DIR [--force]\", got subcommand %q", errUsage, sub)
	}
	fs := newFlags(e, "keys init")
	dir := fs.String("dir", "", "folder for hub.key, hub.pub, device.key and device.pub (created with mode 0700)")
	force := fs.Bool("force", false, "replace existing key files (envelopes sealed to the old hub key become unreadable)")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if err := required(fs, "dir"); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	hub, dev, err := uplink.WriteKeys(*dir, nil, *force)
	if errors.Is(err, uplink.ErrKeysExist) {
		return fmt.Errorf("%w (pass --force to replace the keys)", err)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "wrote %s, %s, %s, %s\n",
		filepath.Join(*dir, uplink.HubKeyFile), filepath.Join(*dir, uplink.HubPubFile),
		filepath.Join(*dir, uplink.DeviceKeyFile), filepath.Join(*dir, uplink.DevicePubFile))
	fmt.Fprintf(e.stdout, "device id: %s\n", dev.ID())
	fmt.Fprintf(e.stdout, "hub key fingerprint: %s\n", hub.Fingerprint())
	return nil
}
