package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"edge/internal/uplink"
)

// runKeys handles "edge keys init (--hub DIR | --device DIR [--hub-pub P]) [--force]".
// The hub's and a device's keys are made apart, in separate folders, so
// that the hub's private key is never in a set that goes onto a device.
func runKeys(ctx context.Context, e env, args []string) error {
	const usage = "keys init --hub DIR | keys init --device DIR [--hub-pub HUB.pub] [--force]"
	if len(args) == 0 || args[0] != "init" {
		sub := ""
		if len(args) > 0 {
			sub = args[0]
		}
		return fmt.Errorf("%w: want %q, got subcommand %q", errUsage, usage, sub)
	}
	fs := newFlags(e, "keys init")
	hubDir := fs.String("hub", "", "make the hub's key set here: hub.key (0600) and hub.pub")
	devDir := fs.String("device", "", "make a device's key set here: device.key (0600) and device.pub")
	hubPub := fs.String("hub-pub", "", "with --device: the hub's public key to place in the device set as hub.pub")
	dir := fs.String("dir", "", "no longer accepted: hub and device sets are made apart (use --hub and --device)")
	force := fs.Bool("force", false, "replace existing key files (envelopes sealed to an old hub key become unreadable)")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if *dir != "" {
		return fmt.Errorf("%w: --dir made the hub's and a device's keys in one folder; make them apart: keys init --hub DIR, keys init --device DIR", errUsage)
	}
	if (*hubDir == "") == (*devDir == "") {
		return fmt.Errorf("%w: give exactly one of --hub DIR and --device DIR (%s)", errUsage, usage)
	}
	if *hubPub != "" && *devDir == "" {
		return fmt.Errorf("%w: --hub-pub goes with --device", errUsage)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	hint := func(err error) error {
		if errors.Is(err, uplink.ErrKeysExist) {
			return fmt.Errorf("%w (pass --force to replace the keys)", err)
		}
		return err
	}
	if *hubDir != "" {
		hub, err := uplink.WriteHubKeys(*hubDir, nil, *force)
		if err != nil {
			return hint(err)
		}
		fmt.Fprintf(e.stdout, "wrote %s, %s\n", filepath.Join(*hubDir, uplink.HubKeyFile), filepath.Join(*hubDir, uplink.HubPubFile))
		fmt.Fprintf(e.stdout, "hub key fingerprint: %s\n", hub.Fingerprint())
		return nil
	}
	var hp *uplink.HubPublicKey
	if *hubPub != "" {
		k, err := uplink.LoadHubPublicKey(*hubPub)
		if err != nil {
			return err
		}
		hp = &k
	}
	dev, err := uplink.WriteDeviceKeys(*devDir, nil, hp, *force)
	if err != nil {
		return hint(err)
	}
	fmt.Fprintf(e.stdout, "wrote %s, %s", filepath.Join(*devDir, uplink.DeviceKeyFile), filepath.Join(*devDir, uplink.DevicePubFile))
	if hp != nil {
		fmt.Fprintf(e.stdout, ", %s", filepath.Join(*devDir, uplink.HubPubFile))
	}
	fmt.Fprintf(e.stdout, "\ndevice id: %s\n", dev.ID())
	return nil
}
