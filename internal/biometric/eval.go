package biometric

import (
	"context"
	"edge/internal/biometric/roc"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"edge/internal/biometric/minutiae"
)

// Print is one file of an evaluation set, named F_I.ext: finger F,
// impression I.
type Print struct {
	Finger     string
	Impression int
	Path       string
}

// MaxEvalPrints bounds the prints one evaluation reads.
const MaxEvalPrints = 100000

// ParsePrintName splits "F_I.png" into finger F and impression I ≥ 1. The
// finger is everything before the last '_', so "left-3_2.png" is finger
// "left-3".
func ParsePrintName(name string) (finger string, impression int, ok bool) {
	ext := strings.ToLower(filepath.Ext(name))
	switch ext {
	case ".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff":
	default:
		return "", 0, false
	}
	base := strings.TrimSuffix(name, filepath.Ext(name))
	i := strings.LastIndexByte(base, '_')
	if i <= 0 {
		return "", 0, false
	}
	n, err := strconv.Atoi(base[i+1:])
	if err != nil || n < 1 || n > 1_000_000 {
		return "", 0, false
	}
	return base[:i], n, true
}

// ListPrints finds the prints named F_I.ext in dir, ordered by finger
// (numerically where both names are numbers) and impression. Other files are
// ignored.
func ListPrints(dir string) ([]Print, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("biometric: list prints: %w", err)
	}
	var ps []Print
	for _, e := range ents {
		f, n, ok := ParsePrintName(e.Name())
		if !ok || !e.Type().IsRegular() {
			continue
		}
		if len(ps) == MaxEvalPrints {
			return nil, fmt.Errorf("biometric: %s holds more than %d prints", dir, MaxEvalPrints)
		}
		ps = append(ps, Print{Finger: f, Impression: n, Path: filepath.Join(dir, e.Name())})
	}
	sort.Slice(ps, func(i, j int) bool {
		if ps[i].Finger != ps[j].Finger {
			return fingerLess(ps[i].Finger, ps[j].Finger)
		}
		return ps[i].Impression < ps[j].Impression
	})
	for i := 1; i < len(ps); i++ {
		if ps[i].Finger == ps[i-1].Finger && ps[i].Impression == ps[i-1].Impression {
			return nil, fmt.Errorf("biometric: finger %q impression %d twice: %s and %s", ps[i].Finger, ps[i].Impression, ps[i-1].Path, ps[i].Path)
		}
	}
	return ps, nil
}

func fingerLess(a, b string) bool {
	x, errA := strconv.Atoi(a)
	y, errB := strconv.Atoi(b)
	if errA == nil && errB == nil && x != y {
		return x < y
	}
	return a < b
}

// Finger is the feature vectors of one finger's impressions, in impression
// order.
type Finger struct {
	Name    string
	Vectors [][]float32
}

// Report is the result of an evaluation; it is also the JSON that
// eval-biometrics writes.
type Report struct {
	Model   string `json:"model_sha256"`
	Enroll  int    `json:"enroll"`
	Fingers int    `json:"fingers"`
	Probes  int    `json:"probes"`
	// Standardised says whether scores were taken after standardising the
	// features with the enrollment impressions' statistics.
	Standardised bool        `json:"standardised"`
	Rule         string      `json:"rule"`
	Operating    roc.Point   `json:"operating_point"`
	EER          float64     `json:"eer"`
	EERPoint     roc.Point   `json:"eer_point"`
	AUC          float64     `json:"auc"`
	Genuine      []float64   `json:"genuine"`
	Impostor     []float64   `json:"impostor"`
	ROC          []roc.Point `json:"roc"`
	// Codes compares the raw binarised code with the protected template
	// on the same prints (the hub's view of recognition).
	Codes *CodeComparison `json:"codes,omitempty"`
	// Minutiae is the minutiae matcher's evaluation on the same prints,
	// whose threshold decides logins by print.
	Minutiae *MinutiaeReport `json:"minutiae,omitempty"`

	centre, scale []float32
}

// Calibration is what a store keeps of the evaluation.
func (r *Report) Calibration() *Calibration {
	c := &Calibration{
		Threshold: r.Operating.Threshold, Rule: r.Rule,
		FAR: r.Operating.FAR, FRR: r.Operating.FRR, EER: r.EER,
		Genuine: len(r.Genuine), Impostor: len(r.Impostor), Enroll: r.Enroll,
		Model: r.Model, Centre: r.centre, Scale: r.scale,
		ProtectedThreshold: r.protectedThreshold(),
	}
	if m := r.Minutiae; m != nil {
		c.MinutiaeThreshold, c.MinutiaeRule = m.Threshold, m.Rule
		c.MinutiaeFMR, c.MinutiaeFNMR = m.FMR, m.FNMR
	}
	return c
}

// protectedThreshold is the measured threshold on protected-template
// distances, or 0 when none was measured or it is no better than chance.
func (r *Report) protectedThreshold() float64 {
	if r.Codes == nil || !(r.Codes.Protected.Threshold >= 0 && r.Codes.Protected.Threshold < 0.5) {
		return 0
	}
	return r.Codes.Protected.Threshold
}

// Scores enrolls the first enroll vectors of every finger and scores each
// remaining vector against every finger's template: genuine against its
// own, impostor against the others'. With standardise, the features are
// first standardised (see FitStandardisation) with the statistics of the
// enrollment vectors only, never the probes, as a deployed store would be
// calibrated on its enrolled population; the calibration returned carries
// them. Every finger needs at least enroll vectors, and at least two
// fingers are needed.
func Scores(fingers []Finger, enroll int, standardise bool) (genuine, impostor []float64, cal *Calibration, err error) {
	if enroll < 1 || enroll > MaxPrints {
		return nil, nil, nil, fmt.Errorf("biometric: enroll on %d impressions, want 1..%d", enroll, MaxPrints)
	}
	if len(fingers) < 2 {
		return nil, nil, nil, fmt.Errorf("biometric: evaluation needs at least 2 fingers, have %d", len(fingers))
	}
	cal = &Calibration{}
	var cohort [][]float32
	tmpl := make([]*Template, len(fingers))
	for i, f := range fingers {
		if len(f.Vectors) < enroll {
			return nil, nil, nil, fmt.Errorf("biometric: finger %q has %d impressions, enrolling takes %d", f.Name, len(f.Vectors), enroll)
		}
		tmpl[i] = &Template{Vectors: f.Vectors[:enroll]}
		cohort = append(cohort, f.Vectors[:enroll]...)
	}
	if standardise {
		if err := cal.FitStandardisation(cohort); err != nil {
			return nil, nil, nil, err
		}
	}
	for i, f := range fingers {
		for _, probe := range f.Vectors[enroll:] {
			for j, t := range tmpl {
				s, err := t.Score(cal, probe)
				if err != nil {
					return nil, nil, nil, fmt.Errorf("biometric: finger %q against %q: %w", f.Name, fingers[j].Name, err)
				}
				if i == j {
					genuine = append(genuine, s)
				} else {
					impostor = append(impostor, s)
				}
			}
		}
	}
	if len(genuine) == 0 {
		return nil, nil, nil, fmt.Errorf("biometric: no finger has more than %d impressions, nothing left to test", enroll)
	}
	return genuine, impostor, cal, nil
}

// Summarize turns score lists into a report. With targetFAR > 0 the
// operating point is the best one with FAR ≤ targetFAR, otherwise the EER
// point.
func Summarize(genuine, impostor []float64, targetFAR float64) (*Report, error) {
	pts, err := roc.Points(genuine, impostor)
	if err != nil {
		return nil, err
	}
	eerPt, eer := roc.EER(pts)
	r := &Report{Genuine: genuine, Impostor: impostor, ROC: pts, EER: eer, EERPoint: eerPt, AUC: roc.AUC(pts)}
	if targetFAR > 0 {
		r.Rule = "far<=" + strconv.FormatFloat(targetFAR, 'g', -1, 64)
		r.Operating = roc.AtFAR(pts, targetFAR)
	} else {
		r.Rule = "eer"
		r.Operating = eerPt
	}
	return r, nil
}

// EvalOptions configures Evaluate.
type EvalOptions struct {
	Enroll    int     // impressions per finger to enroll; 3 when 0
	TargetFAR float64 // operating point at this FAR; the EER point when 0
	// Raw compares unit-length features without standardising them.
	Raw   bool
	Model [32]byte
	// Load decodes a print; LoadImage (PNG and JPEG) when nil.
	Load func(path string) (image.Image, error)
	// Progress, when set, is called after each print's features.
	Progress func(done, total int, p Print)
	// Minutiae also evaluates the minutiae matcher on the same prints,
	// scanned at DPI (0: 500), and sets Report.Minutiae; a print it
	// refuses counts as a failure to acquire, never as an error.
	Minutiae bool
	DPI      int
}

// Evaluate extracts the features of every print, scores them (see Scores)
// and summarises the result. A finger's impressions are enrolled in the
// order they appear in prints (ListPrints sorts them).
func Evaluate(ctx context.Context, ext Extractor, prints []Print, opt EvalOptions) (*Report, error) {
	if opt.Enroll == 0 {
		opt.Enroll = 3
	}
	if opt.Load == nil {
		opt.Load = LoadImage
	}
	var fingers []Finger
	var tmpls [][]*minutiae.Template
	index := map[string]int{}
	for i, p := range prints {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		img, err := opt.Load(p.Path)
		if err != nil {
			return nil, err
		}
		v, err := ext.Features(ctx, img)
		if err != nil {
			return nil, fmt.Errorf("biometric: features of %s: %w", p.Path, err)
		}
		if err := checkVector(v); err != nil {
			return nil, fmt.Errorf("biometric: features of %s: %w", p.Path, err)
		}
		k, ok := index[p.Finger]
		if !ok {
			k = len(fingers)
			index[p.Finger] = k
			fingers = append(fingers, Finger{Name: p.Finger})
			tmpls = append(tmpls, nil)
		}
		fingers[k].Vectors = append(fingers[k].Vectors, v)
		if opt.Minutiae {
			t, err := ExtractPrint(img, opt.DPI)
			if err != nil && !errors.Is(err, minutiae.ErrNoFingerprint) {
				return nil, fmt.Errorf("biometric: minutiae of %s: %w", p.Path, err)
			}
			tmpls[k] = append(tmpls[k], t)
		}
		if opt.Progress != nil {
			opt.Progress(i+1, len(prints), p)
		}
	}
	gen, imp, cal, err := Scores(fingers, opt.Enroll, !opt.Raw)
	if err != nil {
		return nil, err
	}
	r, err := Summarize(gen, imp, opt.TargetFAR)
	if err != nil {
		return nil, err
	}
	if r.Codes, err = CompareCodes(fingers, opt.Enroll, cal, opt.TargetFAR); err != nil {
		return nil, err
	}
	if opt.Minutiae {
		if r.Minutiae, err = evaluateMinutiae(ctx, fingers, tmpls, opt.Enroll, cal, opt.TargetFAR); err != nil {
			return nil, err
		}
	}
	r.Standardised = !opt.Raw
	r.centre, r.scale = cal.Centre, cal.Scale
	r.Model = hex.EncodeToString(opt.Model[:])
	r.Enroll = opt.Enroll
	r.Fingers = len(fingers)
	r.Probes = len(gen)
	return r, nil
}
