package main

import (
	"context"
	"fmt"

	"edge/internal/biometric"
)

// runRegistry handles the hub's registry of clinicians' protected
// templates: "registry add --registry DIR FILE…" and "registry revoke
// --registry DIR --id ID".
func runRegistry(ctx context.Context, e env, args []string) error {
	if len(args) == 0 || (args[0] != "add" && args[0] != "revoke") {
		return fmt.Errorf("%w: want `registry add --registry DIR FILE…` or `registry revoke --registry DIR --id ID`", errUsage)
	}
	sub := args[0]
	fs := newFlags(e, "registry "+sub)
	dir := fs.String("registry", "", "the hub's registry folder (made 0700 on first use)")
	id := fs.String("id", "", "with revoke: the clinician whose registration goes")
	files, err := parseWithPrints(fs, args[1:])
	if err != nil {
		return err
	}
	if err := required(fs, "registry"); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	reg, err := biometric.OpenRegistry(*dir)
	if err != nil {
		return err
	}
	if sub == "revoke" {
		if *id == "" || len(files) != 0 {
			return fmt.Errorf("%w: registry revoke takes --id and no files", errUsage)
		}
		if err := reg.Revoke(*id); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "revoked %s: none of their images verifies until they register again\n", *id)
		return nil
	}
	if len(files) == 0 || *id != "" {
		return fmt.Errorf("%w: registry add takes registration files and no --id", errUsage)
	}
	for _, f := range files {
		r, err := biometric.ReadRegistration(f)
		if err != nil {
			return err
		}
		if err := reg.Register(r); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "registered %s, generation %d (threshold %.4f)\n", r.ID, r.Generation, r.Threshold)
	}
	return nil
}
