package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image"
	"io"
	"os"
	"strings"

	"edge/internal/biometric"
	"edge/internal/biometric/minutiae"
	"edge/internal/fsutil"
	"edge/internal/infer"
	"edge/internal/infer/prep"
)

// The model's extractor is what the biometric package needs.
var _ biometric.Extractor = (*infer.Extractor)(nil)

// errNoMatch makes verify and identify exit with status 1 when the print
// matches no one: a login script tests the status, a person reads the
// "match"/"no match" line on stdout. Errors also exit 1 but print no such
// line.
var errNoMatch = errors.New("no match")

// parseWithPrints parses flags that may come before, between or after the
// print paths, and returns the paths.
func parseWithPrints(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, fmt.Errorf("%w: %v", errUsage, err)
		}
		rest := fs.Args()
		if used := len(args) - len(rest); used > 0 && args[used-1] == "--" {
			return append(pos, rest...), nil
		}
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// loadPrint decodes a print with the same format support and size limits as
// the feature extractor's own file reader.
func loadPrint(path string) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	img, err := prep.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return img, nil
}

// readPrint decodes a print and computes its ResNet152 features: the
// image goes to the minutiae matcher, the features key the clinician.
func readPrint(ctx context.Context, x *infer.Extractor, path string) (image.Image, []float32, error) {
	img, err := loadPrint(path)
	if err != nil {
		return nil, nil, err
	}
	v, err := x.Features(ctx, img)
	if err != nil {
		return nil, nil, fmt.Errorf("features of %s: %w", path, err)
	}
	return img, v, nil
}

// dpiFlag is the scan resolution of the prints, which the minutiae matcher
// needs to work in physical sizes.
func dpiFlag(fs *flag.FlagSet) *int {
	return fs.Int("dpi", 500, "scan resolution of the prints, dots per inch")
}

func checkDPI(dpi int) error {
	if dpi < 250 || dpi > 2000 {
		return fmt.Errorf("%w: --dpi %d, want 250..2000", errUsage, dpi)
	}
	return nil
}

// printJSON answers on stdout, indented for a person reading it.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func runEnroll(ctx context.Context, e env, args []string) error {
	fs := newFlags(e, "enroll")
	id := fs.String("id", "", "clinician id: 1..64 characters from [A-Za-z0-9._-]")
	store := fs.String("store", "", "template store folder (made on first use, with its key)")
	storeKey := fs.String("store-key", "", "the store's key file (default: beside the store, DIR.key)")
	replace := fs.Bool("replace", false, "replace the clinician's existing template (a new secret: their old protected templates stop matching)")
	regOut := fs.String("registration-out", "", "write the clinician's registration for the hub here (protected template, mode 0600)")
	force := fs.Bool("force", false, "replace an existing --registration-out file")
	dpi := dpiFlag(fs)
	inf := addInferFlags(fs)
	fs.Usage = func() {
		fmt.Fprintln(e.stderr, "usage: edge enroll --id ID --store DIR [--store-key K] [--replace] [--registration-out F] [--dpi N] [--model M] [--ort-lib P] FP1 FP2 FP3 [FP4…]")
		fs.PrintDefaults()
	}
	prints, err := parseWithPrints(fs, args)
	if err != nil {
		return err
	}
	if err := required(fs, "id", "store"); err != nil {
		return err
	}
	if len(prints) < minutiae.MinImpressions || len(prints) > biometric.MaxPrints {
		return fmt.Errorf("%w: enrollment takes %d..%d prints, got %d", errUsage, minutiae.MinImpressions, biometric.MaxPrints, len(prints))
	}
	if err := checkDPI(*dpi); err != nil {
		return err
	}
	if err := biometric.ValidateID(*id); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if err := checkOutputs(*force, nil, []pathFlag{{"registration-out", *regOut}}); err != nil {
		return err
	}
	st, err := biometric.CreateStoreKey(*store, *storeKey)
	if err != nil {
		return err
	}
	if has, err := st.Has(*id); err != nil {
		return err
	} else if has && !*replace {
		return fmt.Errorf("%w: %q (use --replace to enroll again)", biometric.ErrExists, *id)
	}
	x, err := inf.open(ctx, e)
	if err != nil {
		return err
	}
	defer x.Close()
	model := x.ModelHash()
	cal, err := st.Calibration(model)
	if err != nil {
		return err
	}
	vectors := make([][]float32, len(prints))
	mts := make([]*minutiae.Template, len(prints))
	for i, p := range prints {
		img, v, err := readPrint(ctx, x, p)
		if err != nil {
			return err
		}
		vectors[i] = v
		if mts[i], err = biometric.ExtractPrint(img, *dpi); err != nil {
			return fmt.Errorf("print %d (%s): %w", i+1, p, err)
		}
	}
	scores, err := biometric.EnrollPrints(mts, cal)
	if err != nil {
		return err
	}
	tmpl, err := biometric.NewTemplate(model, vectors)
	if err != nil {
		return err
	}
	if err := st.SavePrints(*id, tmpl, mts, *replace); err != nil {
		return err
	}
	if err := writeRegistration(st, *id, *regOut, *force); err != nil {
		return err
	}
	parts := make([]string, len(scores))
	for i, s := range scores {
		parts[i] = fmt.Sprintf("%.6f", s)
	}
	fmt.Fprintf(e.stdout, "enrolled %s from %d prints (minutiae, each against the others: %s; threshold %.6f)\n", *id, len(prints), strings.Join(parts, " "), cal.MinutiaeThreshold)
	return nil
}

func runVerify(ctx context.Context, e env, args []string) error {
	fs := newFlags(e, "verify")
	id := fs.String("id", "", "clinician id to verify")
	store := fs.String("store", "", "template store folder")
	storeKey := fs.String("store-key", "", "the store's key file (default: beside the store, DIR.key)")
	asJSON := fs.Bool("json", false, "answer in JSON")
	dpi := dpiFlag(fs)
	inf := addInferFlags(fs)
	fs.Usage = func() {
		fmt.Fprintln(e.stderr, "usage: edge verify --id ID --store DIR [--json] [--dpi N] FP")
		fmt.Fprintln(e.stderr, "exit status 0: match, 1: no match or an error (stdout says \"no match\" only for a decision)")
		fs.PrintDefaults()
	}
	prints, err := parseWithPrints(fs, args)
	if err != nil {
		return err
	}
	if err := required(fs, "id", "store"); err != nil {
		return err
	}
	if len(prints) != 1 {
		return fmt.Errorf("%w: verify takes one print, got %d", errUsage, len(prints))
	}
	if err := checkDPI(*dpi); err != nil {
		return err
	}
	st, err := biometric.OpenStoreKey(*store, *storeKey)
	if err != nil {
		return err
	}
	if _, err := st.Load(*id); err != nil {
		return err
	}
	x, err := inf.open(ctx, e)
	if err != nil {
		return err
	}
	defer x.Close()
	img, err := loadPrint(prints[0])
	if err != nil {
		return err
	}
	d, err := st.MatchPrint(*id, img, *dpi, x.ModelHash())
	if err != nil {
		return err
	}
	if *asJSON {
		if err := printJSON(e.stdout, d); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(e.stdout, "%s %s score %.6f threshold %.6f\n", decisionWord(d.Match), d.ID, d.Score, d.Threshold)
	}
	if !d.Match {
		return errNoMatch
	}
	return nil
}

func decisionWord(match bool) string {
	if match {
		return "match"
	}
	return "no match"
}

// identifyAnswer is identify's JSON. On no match the id stays empty: the
// nearest clinician is no one's business at a failed login.
type identifyAnswer struct {
	Match      bool    `json:"match"`
	ID         string  `json:"id,omitempty"`
	Score      float64 `json:"score"`
	Threshold  float64 `json:"threshold"`
	Candidates int     `json:"candidates"`
}

func runIdentify(ctx context.Context, e env, args []string) error {
	fs := newFlags(e, "identify")
	store := fs.String("store", "", "template store folder")
	storeKey := fs.String("store-key", "", "the store's key file (default: beside the store, DIR.key)")
	asJSON := fs.Bool("json", false, "answer in JSON")
	dpi := dpiFlag(fs)
	inf := addInferFlags(fs)
	fs.Usage = func() {
		fmt.Fprintln(e.stderr, "usage: edge identify --store DIR [--json] [--dpi N] FP")
		fmt.Fprintln(e.stderr, "exit status 0: match, 1: no match or an error (stdout says \"no match\" only for a decision)")
		fs.PrintDefaults()
	}
	prints, err := parseWithPrints(fs, args)
	if err != nil {
		return err
	}
	if err := required(fs, "store"); err != nil {
		return err
	}
	if len(prints) != 1 {
		return fmt.Errorf("%w: identify takes one print, got %d", errUsage, len(prints))
	}
	if err := checkDPI(*dpi); err != nil {
		return err
	}
	st, err := biometric.OpenStoreKey(*store, *storeKey)
	if err != nil {
		return err
	}
	ids, err := st.IDs()
	if err != nil {
		return err
	}
	if len(ids) == 0 {
		return fmt.Errorf("store %s holds no templates: enroll a clinician first", *store)
	}
	x, err := inf.open(ctx, e)
	if err != nil {
		return err
	}
	defer x.Close()
	img, err := loadPrint(prints[0])
	if err != nil {
		return err
	}
	best, n, err := st.FindPrint(ctx, img, *dpi, x.ModelHash())
	if err != nil {
		return err
	}
	a := identifyAnswer{Match: best.Match, Score: best.Score, Threshold: best.Threshold, Candidates: n}
	if best.Match {
		a.ID = best.ID
	}
	if *asJSON {
		if err := printJSON(e.stdout, a); err != nil {
			return err
		}
	} else if a.Match {
		fmt.Fprintf(e.stdout, "match %s score %.6f threshold %.6f\n", a.ID, a.Score, a.Threshold)
	} else {
		fmt.Fprintf(e.stdout, "no match: best score %.6f is below threshold %.6f (%d enrolled)\n", a.Score, a.Threshold, a.Candidates)
	}
	if !a.Match {
		return errNoMatch
	}
	return nil
}

func runEvalBiometrics(ctx context.Context, e env, args []string) error {
	fs := newFlags(e, "eval-biometrics")
	dir := fs.String("fingerprints", "", "folder of prints named F_I.png (finger F, impression I)")
	jsonOut := fs.String("json", "", "write the report (scores, ROC points, EER, threshold) to this JSON file")
	plotOut := fs.String("plot", "", "draw the ResNet152 features' ROC curve into this PNG file")
	mPlotOut := fs.String("minutiae-plot", "", "draw the minutiae matcher's ROC curve into this PNG file")
	dpi := dpiFlag(fs)
	enroll := fs.Int("enroll", 3, "impressions of each finger to enroll; the rest are probes")
	targetFAR := fs.Float64("target-far", 0, "operating threshold at this FAR instead of the EER point")
	store := fs.String("store", "", "keep the measured calibration (standardisation and thresholds) in this template store")
	storeKey := fs.String("store-key", "", "the store's key file (default: beside the store, DIR.key)")
	raw := fs.Bool("raw", false, "score raw cosine of unit-length features, without standardising them")
	inf := addInferFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := required(fs, "fingerprints"); err != nil {
		return err
	}
	if *enroll < 1 || *enroll > biometric.MaxPrints {
		return fmt.Errorf("%w: --enroll %d, want 1..%d", errUsage, *enroll, biometric.MaxPrints)
	}
	if *targetFAR < 0 || *targetFAR >= 1 {
		return fmt.Errorf("%w: --target-far %v, want [0, 1)", errUsage, *targetFAR)
	}
	if err := checkDPI(*dpi); err != nil {
		return err
	}
	prints, err := biometric.ListPrints(*dir)
	if err != nil {
		return err
	}
	if len(prints) == 0 {
		return fmt.Errorf("no prints named F_I.png in %s", *dir)
	}
	x, err := inf.open(ctx, e)
	if err != nil {
		return err
	}
	defer x.Close()
	r, err := biometric.Evaluate(ctx, x, prints, biometric.EvalOptions{
		Enroll: *enroll, TargetFAR: *targetFAR, Model: x.ModelHash(), Load: loadPrint, Raw: *raw,
		Minutiae: true, DPI: *dpi,
		Progress: func(done, total int, p biometric.Print) {
			if done%16 == 0 || done == total {
				fmt.Fprintf(e.stderr, "features of %d of %d prints\n", done, total)
			}
		},
	})
	if err != nil {
		return err
	}
	if *jsonOut != "" {
		if err := writeJSON(*jsonOut, r); err != nil {
			return err
		}
	}
	if *plotOut != "" {
		if err := fsutil.WriteFile(*plotOut, 0o600, func(w io.Writer) error { return biometric.WritePNG(w, r) }); err != nil {
			return err
		}
	}
	if *mPlotOut != "" {
		if err := fsutil.WriteFile(*mPlotOut, 0o600, func(w io.Writer) error { return biometric.WritePNG(w, r.Minutiae.Plot()) }); err != nil {
			return err
		}
	}
	scoring := "standardised cosine"
	if *raw {
		scoring = "raw cosine"
	}
	fmt.Fprintf(e.stdout, "%d fingers, enroll %d: %d genuine, %d impostor scores (%s)\n", r.Fingers, r.Enroll, len(r.Genuine), len(r.Impostor), scoring)
	fmt.Fprintf(e.stdout, "EER %.2f%% at threshold %.6f (FAR %.2f%%, FRR %.2f%%), AUC %.4f\n", 100*r.EER, r.EERPoint.Threshold, 100*r.EERPoint.FAR, 100*r.EERPoint.FRR, r.AUC)
	fmt.Fprintf(e.stdout, "operating point (%s): threshold %.6f, FAR %.2f%%, FRR %.2f%%\n", r.Rule, r.Operating.Threshold, 100*r.Operating.FAR, 100*r.Operating.FRR)
	if c := r.Codes; c != nil {
		for _, k := range []biometric.CodeScores{c.Raw, c.Protected} {
			fmt.Fprintf(e.stdout, "%s (Hamming): EER %.2f%%, AUC %.4f, threshold distance %.4f (FAR %.2f%%, FRR %.2f%%)\n",
				k.Kind, 100*k.EER, k.AUC, k.Threshold, 100*k.FAR, 100*k.FRR)
		}
		fmt.Fprintf(e.stdout, "revoked: %d of %d genuine protected templates still match after a new secret\n", c.Revoked, c.RevokedTried)
	}
	writeMinutiaeReport(e.stdout, r.Minutiae)
	if *store != "" {
		st, err := biometric.CreateStoreKey(*store, *storeKey)
		if err != nil {
			return err
		}
		if err := st.SaveCalibration(r.Calibration()); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "calibration kept in %s\n", *store)
	}
	return nil
}

// writeRegistration writes the hub's registration of id, when asked.
func writeRegistration(st *biometric.Store, id, path string, force bool) error {
	if path == "" {
		return nil
	}
	reg, err := st.Registration(id)
	if err != nil {
		return err
	}
	return biometric.WriteRegistration(path, reg, force)
}

// runRevoke gives a clinician's template a new secret: every image marked
// under the old one stops matching their registration at the hub once the
// new registration is there.
func runRevoke(ctx context.Context, e env, args []string) error {
	fs := newFlags(e, "revoke")
	id := fs.String("id", "", "clinician id")
	store := fs.String("store", "", "template store folder")
	storeKey := fs.String("store-key", "", "the store's key file (default: beside the store, DIR.key)")
	regOut := fs.String("registration-out", "", "write the new registration for the hub here (mode 0600)")
	force := fs.Bool("force", false, "replace an existing --registration-out file")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := required(fs, "id", "store", "registration-out"); err != nil {
		return err
	}
	if err := checkOutputs(*force, nil, []pathFlag{{"registration-out", *regOut}}); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	st, err := biometric.OpenStoreKey(*store, *storeKey)
	if err != nil {
		return err
	}
	t, err := st.Revoke(*id)
	if err != nil {
		return err
	}
	if err := writeRegistration(st, *id, *regOut, *force); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "revoked %s: new secret, generation %d; registration in %s\n", *id, t.Generation, *regOut)
	return nil
}

// runRegistration writes a clinician's current registration for the hub:
// after a new calibration every protected template changes, and the hub
// needs the new ones.
func runRegistration(ctx context.Context, e env, args []string) error {
	fs := newFlags(e, "registration")
	id := fs.String("id", "", "clinician id")
	store := fs.String("store", "", "template store folder")
	storeKey := fs.String("store-key", "", "the store's key file (default: beside the store, DIR.key)")
	out := fs.String("out", "", "registration file to write (mode 0600)")
	force := fs.Bool("force", false, "replace an existing --out file")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := required(fs, "id", "store", "out"); err != nil {
		return err
	}
	if err := checkOutputs(*force, nil, []pathFlag{{"out", *out}}); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	st, err := biometric.OpenStoreKey(*store, *storeKey)
	if err != nil {
		return err
	}
	if err := writeRegistration(st, *id, *out, *force); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "wrote the registration of %s to %s\n", *id, *out)
	return nil
}

// writeMinutiaeReport prints the minutiae matcher's figures, the ones the
// login decision rests on.
func writeMinutiaeReport(w io.Writer, m *biometric.MinutiaeReport) {
	fmt.Fprintf(w, "minutiae: %d prints, %d refused (no usable fingerprint), failure to enroll %d of %d fingers (FTE %.2f%%)\n",
		m.Prints, m.FailedToAcquire, m.FailedToEnroll, m.Fingers, 100*m.FTE)
	for _, p := range []struct {
		name string
		r    minutiae.Rates
	}{{fmt.Sprintf("enroll %d, probe the rest", m.Enroll), m.Split}, {"FVC protocol", m.FVC}, {"all pairs", m.AllPairs}} {
		fmt.Fprintf(w, "minutiae %s: %d genuine, %d impostor: EER %.2f%%, FMR100 %.2f%%, FMR1000 %.2f%%, ZeroFMR %.2f%% (lowest genuine %.4f, highest impostor %.4f)\n",
			p.name, p.r.Genuine, p.r.Impostor, 100*p.r.EER, 100*p.r.FMR100, 100*p.r.FMR1000, 100*p.r.ZeroFMR, p.r.MinGenuine, p.r.MaxImpostor)
	}
	fmt.Fprintf(w, "minutiae operating point (%s over all impostor pairs): threshold %.6f, split FMR %.2f%%, FNMR %.2f%%, AUC %.4f\n",
		m.Rule, m.Threshold, 100*m.FMR, 100*m.FNMR, m.AUC)
	if f := m.Fusion; f != nil {
		verdict := "does not help: the decision is the minutiae score alone"
		if f.Helps {
			verdict = "helps on these prints (weights tried on the scores they are judged on)"
		}
		fmt.Fprintf(w, "fusion with the ResNet152 score (weight %.2f, z-normalised): EER %.2f%%, ZeroFMR %.2f%% against minutiae alone EER %.2f%%, ZeroFMR %.2f%%: %s\n",
			f.Weight, 100*f.Fused.EER, 100*f.Fused.ZeroFMR, 100*f.Minutiae.EER, 100*f.Minutiae.ZeroFMR, verdict)
	}
}
