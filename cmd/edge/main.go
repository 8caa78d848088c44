// Command edge is the appliance's one binary: it protects images at the
// bedside, recovers them at the hub, talks to the fingerprint sensor and runs
// the evaluation. Run "edge help" for the list of subcommands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

// env is what a subcommand may touch of the process: commands take it instead
// of reaching for os.Stdout so tests can run them in-process.
type env struct {
	stdout, stderr io.Writer
}

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, e env, args []string) error
}

// commands lists the subcommands in the order "edge help" prints them.
func commands() []command {
	return []command{
		{"keys", "keys init --hub DIR | --device DIR [--hub-pub P]: make the hub's or a device's key pair, apart", runKeys},
		{"protect", "mark, compress, encrypt and seal an image", runProtect},
		{"recover", "open an envelope and restore the original image", runRecover},
		{"eval", "measure quality, compression and cipher strength over a folder of images", runEval},
		{"chaos", "chaos keystream --key HEX: write the conditioned keystream to stdout", runChaos},
		{"model", "model build --out F | model quantize --in F --out F: write the int8 ResNet152 feature model", runModel},
		{"infer", "infer info: ONNX Runtime version, the providers it offers and the one in use", runInfer},
		{"features", "features --fingerprint FP --out F.f32: a print's 2048 features", runFeatures},
		{"enroll", "enroll --id ID --store DIR FP1 FP2 FP3…: store a clinician's encrypted fingerprint template", runEnroll},
		{"verify", "verify --id ID --store DIR FP: is this the clinician? (exit 0 match, 1 no match)", runVerify},
		{"identify", "identify --store DIR FP: which enrolled clinician is this? (exit 0 match, 1 no match)", runIdentify},
		{"revoke", "revoke --id ID --store DIR --registration-out F: a new template secret; old images stop matching", runRevoke},
		{"registration", "registration --id ID --store DIR --out F: the clinician's current registration for the hub", runRegistration},
		{"registry", "registry add --registry DIR F… | registry revoke --registry DIR --id ID: the hub's protected templates", runRegistry},
		{"eval-biometrics", "FAR, FRR, EER and ROC over prints named F_I.png; --store keeps the calibration", runEvalBiometrics},
		{"synth-print", "draw a synthetic fingerprint (for demos and the sensor simulator)", runSynthPrint},
		{"sensor", "fingerprint sensor: list, info, capture, led, enroll, login, simulate", runSensor},
		{"modality", "modality listen --ae AE --port N --out DIR | modality watch --in DIR --out DIR: DICOM intake", runModality},

		{"hub", "hub init|trust|audit, or hub --config FILE: receive envelopes, restore, forward to the PACS", runHub},
		{"uplink", "uplink enqueue|send|status --outbox DIR: queue envelopes and send them to the hub", runUplink},
		{"run", "run --config FILE [--board NAME]: the appliance: login, intake, protect, outbox, uplink, status page", runRun},
	}
}

// errUsage marks a command-line mistake: exit status 2 instead of 1.
var errUsage = errors.New("usage")

// exitStatus gives a command's failure an exit status of its own.
type exitStatus struct {
	code int
	err  error
}

func (e *exitStatus) Error() string { return e.err.Error() }
func (e *exitStatus) Unwrap() error { return e.err }

// gcPercent is the collector's target unless GOGC says otherwise. The heap
// is a few image-sized buffers without pointers, which a collection marks at
// almost no cost; at Go's default of 100 garbage let a 3072² protect grow to
// 181 MiB where it holds at most about 110, on a board whose 1 GB also holds
// the ResNet152 session. At 25 it peaked at 133 MiB, no slower.
const gcPercent = 25

func main() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(gcPercent)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, env{os.Stdout, os.Stderr}, os.Args[1:])
	stop()
	os.Exit(code)
}

func run(ctx context.Context, e env, args []string) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(e.stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, e, args[1:])
		var es *exitStatus
		switch {
		case err == nil:
			return 0
		case errors.Is(err, flag.ErrHelp):
			return 0
		case errors.Is(err, errUsage):
			fmt.Fprintf(e.stderr, "edge %s: %v\n", c.name, err)
			return 2
		case errors.As(err, &es):
			fmt.Fprintf(e.stderr, "edge %s: %v\n", c.name, err)
			return es.code
		default:
			fmt.Fprintf(e.stderr, "edge %s: %v\n", c.name, err)
			return 1
		}
	}
	fmt.Fprintf(e.stderr, "edge: unknown command %q (see edge help)\n", args[0])
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: edge COMMAND [flags]")
	fmt.Fprintln(w)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-16s %s\n", c.name, c.summary)
	}
}

// newFlags makes a flag set that reports errors instead of exiting, with its
// usage text going where the command's errors go.
func newFlags(e env, name string) *flag.FlagSet {
	fs := flag.NewFlagSet("edge "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	return fs
}

// parseFlags parses args and turns a flag error into a usage error.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	return nil
}

// required reports the first of the named string flags left empty.
func required(fs *flag.FlagSet, names ...string) error {
	for _, n := range names {
		if f := fs.Lookup(n); f == nil || f.Value.String() == "" {
			return fmt.Errorf("%w: -%s is required", errUsage, n)
		}
	}
	return nil
}
