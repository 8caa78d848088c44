package biometric

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"edge/internal/biometric/minutiae"
	"edge/internal/fsutil"
)

// The minutiae records of a clinician's enrollment impressions live in
// ID.mnt beside ID.tmpl, sealed under the same store key with their own
// associated data (so neither file can stand in for the other): the
// ResNet152 template stays the source of the clinician's key and protected
// template, the records are what the login decision is taken on.
const (
	printsExt     = ".mnt"
	printsMagic   = "EBM1"
	printsSeal    = "EBMS"
	printsAAD     = "edge biometric minutiae\x00"
	printsVersion = 1
	// MaxPrintsFile bounds what is read of a records file: MaxPrints
	// records of at most minutiae.MaxRecordLen bytes, and the framing.
	MaxPrintsFile = sealHeader + nonceSize + 5 + MaxPrints*(2+minutiae.MaxRecordLen) + tagSize
)

// ErrNoPrints is returned for a clinician whose enrollment has no minutiae
// records: they were enrolled before the store kept them, and must enroll
// again before they can log in by print.
var ErrNoPrints = errors.New("biometric: no minutiae records for this clinician (enrolled before login by print: enroll again)")

// ErrNoMinutiaeThreshold is returned when the calibration was measured
// without the minutiae matcher.
var ErrNoMinutiaeThreshold = errors.New("biometric: the calibration has no minutiae threshold: measure one with edge eval-biometrics --store")

// PrintError says which print of several could not be used, keeping the
// matcher's error (a *minutiae.QualityError for "no usable fingerprint").
type PrintError struct {
	Index int // 1-based
	Err   error
}

func (e *PrintError) Error() string { return fmt.Sprintf("biometric: print %d: %v", e.Index, e.Err) }
func (e *PrintError) Unwrap() error { return e.Err }

// ExtractPrint finds the minutiae of a print scanned at dpi (0: 500). A
// print that cannot be matched gives the matcher's *minutiae.QualityError,
// with its quality score, wrapped; errors.Is(err, minutiae.ErrNoFingerprint)
// holds.
func ExtractPrint(img image.Image, dpi int) (*minutiae.Template, error) {
	t, _, err := minutiae.Extract(img, dpi)
	if err != nil {
		return nil, fmt.Errorf("biometric: %w", err)
	}
	return t, nil
}

func (s *Store) printsPath(id string) string { return filepath.Join(s.dir, id+printsExt) }

// sealPrints encodes and seals the records of id's impressions.
func sealPrints(key []byte, id string, ts []*minutiae.Template, random io.Reader) ([]byte, error) {
	if len(ts) < 1 || len(ts) > MaxPrints {
		return nil, fmt.Errorf("biometric: %d minutiae records, want 1..%d", len(ts), MaxPrints)
	}
	plain := append([]byte(printsMagic), byte(len(ts)))
	for i, t := range ts {
		rec, err := t.Encode()
		if err != nil {
			return nil, fmt.Errorf("biometric: minutiae record %d: %w", i+1, err)
		}
		if len(rec) > minutiae.MaxRecordLen {
			return nil, fmt.Errorf("biometric: minutiae record %d is %d bytes, more than %d", i+1, len(rec), minutiae.MaxRecordLen)
		}
		plain = binary.LittleEndian.AppendUint16(plain, uint16(len(rec)))
		plain = append(plain, rec...)
	}
	aead, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	if random == nil {
		random = rand.Reader
	}
	out := make([]byte, sealHeader+nonceSize, sealHeader+nonceSize+len(plain)+tagSize)
	copy(out, printsSeal)
	out[4] = printsVersion
	if _, err := io.ReadFull(random, out[sealHeader:]); err != nil {
		return nil, fmt.Errorf("biometric: minutiae nonce: %w", err)
	}
	aad := append(append([]byte(printsAAD), id...), out[:sealHeader]...)
	return aead.Seal(out, out[sealHeader:], plain, aad), nil
}

// openPrints decrypts and decodes what sealPrints made.
func openPrints(key []byte, id string, sealed []byte) ([]*minutiae.Template, error) {
	if len(sealed) > MaxPrintsFile {
		return nil, fmt.Errorf("biometric: minutiae of %q are %d bytes, more than %d", id, len(sealed), MaxPrintsFile)
	}
	if len(sealed) < sealHeader+nonceSize+tagSize || string(sealed[:4]) != printsSeal || sealed[4] != printsVersion {
		return nil, fmt.Errorf("biometric: minutiae of %q are not a sealed records file", id)
	}
	aead, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	aad := append(append([]byte(printsAAD), id...), sealed[:sealHeader]...)
	plain, err := aead.Open(nil, sealed[sealHeader:sealHeader+nonceSize], sealed[sealHeader+nonceSize:], aad)
	if err != nil {
		return nil, fmt.Errorf("%w: minutiae of %q", ErrOpen, id)
	}
	return decodePrints(plain)
}

// decodePrints parses the plaintext of a records file; every length is
// checked against what is left before it is used.
func decodePrints(b []byte) ([]*minutiae.Template, error) {
	if len(b) < 5 || string(b[:4]) != printsMagic {
		return nil, errors.New("biometric: minutiae records: bad header")
	}
	n := int(b[4])
	if n < 1 || n > MaxPrints {
		return nil, fmt.Errorf("biometric: minutiae records: %d records, want 1..%d", n, MaxPrints)
	}
	p := b[5:]
	ts := make([]*minutiae.Template, 0, n)
	for i := 0; i < n; i++ {
		if len(p) < 2 {
			return nil, fmt.Errorf("biometric: minutiae record %d: truncated", i+1)
		}
		l := int(binary.LittleEndian.Uint16(p))
		p = p[2:]
		if l > len(p) {
			return nil, fmt.Errorf("biometric: minutiae record %d: %d bytes declared, %d left", i+1, l, len(p))
		}
		t, err := minutiae.Decode(p[:l])
		if err != nil {
			return nil, fmt.Errorf("biometric: minutiae record %d: %w", i+1, err)
		}
		ts = append(ts, t)
		p = p[l:]
	}
	if len(p) != 0 {
		return nil, fmt.Errorf("biometric: minutiae records: %d bytes after the last record", len(p))
	}
	return ts, nil
}

// LoadPrints reads the minutiae records of id's enrollment impressions.
func (s *Store) LoadPrints(id string) ([]*minutiae.Template, error) {
	if err := ValidateID(id); err != nil {
		return nil, err
	}
	path := s.printsPath(id)
	if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %q (no %s)", ErrNoPrints, id, path)
	}
	b, err := fsutil.ReadPrivate(path, MaxPrintsFile)
	if err != nil {
		return nil, fmt.Errorf("biometric: minutiae of %q: %w", id, err)
	}
	return openPrints(s.key, id, b)
}

// EnrollPrints checks a clinician's enrollment impressions against each
// other with the minutiae matcher: each impression's best score against the
// others must reach the calibrated minutiae threshold, so that a smudged
// print or another finger is caught at the device. It returns the
// leave-one-out scores either way (an *AgreementError when they do not
// agree).
func EnrollPrints(prints []*minutiae.Template, cal *Calibration) ([]float64, error) {
	if cal == nil {
		return nil, errNoCalibration
	}
	if cal.MinutiaeThreshold <= 0 {
		return nil, ErrNoMinutiaeThreshold
	}
	if len(prints) < minutiae.MinImpressions || len(prints) > MaxPrints {
		return nil, fmt.Errorf("biometric: enrollment takes %d..%d prints, got %d", minutiae.MinImpressions, MaxPrints, len(prints))
	}
	ps := make([]*minutiae.Prepared, len(prints))
	for i, t := range prints {
		if t == nil {
			return nil, fmt.Errorf("biometric: print %d has no minutiae", i+1)
		}
		ps[i] = minutiae.Prepare(t)
	}
	scores := make([]float64, len(ps))
	agree := true
	for i := range ps {
		for j := range ps {
			if i != j {
				scores[i] = max(scores[i], ps[i].Compare(ps[j]))
			}
		}
		if scores[i] < cal.MinutiaeThreshold {
			agree = false
		}
	}
	if !agree {
		return scores, &AgreementError{Scores: scores, Threshold: cal.MinutiaeThreshold}
	}
	return scores, nil
}

// SavePrints keeps a clinician's enrollment: the ResNet152 template t and
// the minutiae records of the same impressions, both sealed and 0600, under
// one hold of the store's lock. The records are written first, so a
// template never sits beside the records of an older enrollment that
// would then decide its logins; replace follows Save.
func (s *Store) SavePrints(id string, t *Template, prints []*minutiae.Template, replace bool) error {
	if err := ValidateID(id); err != nil {
		return err
	}
	sealed, err := sealPrints(s.key, id, prints, nil)
	if err != nil {
		return err
	}
	return s.locked(func() error {
		if !replace {
			if _, err := os.Lstat(s.templatePath(id)); err == nil {
				return fmt.Errorf("%w: %q (%s exists)", ErrExists, id, s.templatePath(id))
			}
		}
		if err := fsutil.WriteFile(s.printsPath(id), 0o600, func(w io.Writer) error { _, err := w.Write(sealed); return err }); err != nil {
			return err
		}
		return s.save(id, t, replace)
	})
}

// VerifyPrint is login by print: the print's minutiae, scanned at dpi (0:
// 500), are compared with id's enrollment impressions and decide; on a match
// the ResNet152 features probe, made by model from the same print, make the
// clinician's Identity as Login does. No match gives the decision and a nil
// Identity. A print the matcher cannot use is an error wrapping its
// *minutiae.QualityError (errors.Is(err, minutiae.ErrNoFingerprint)), never
// a decision.
func (s *Store) VerifyPrint(id string, print image.Image, dpi int, model [32]byte, probe []float32) (Decision, *Identity, error) {
	d, t, cal, err := s.matchPrint(id, print, dpi, model)
	if err != nil || !d.Match {
		return d, nil, err
	}
	ident, err := identityFor(id, t, model, cal, probe)
	return d, ident, err
}

// MatchPrint is VerifyPrint's decision alone, for a command that answers
// "is this clinician id?" and makes no session.
func (s *Store) MatchPrint(id string, print image.Image, dpi int, model [32]byte) (Decision, error) {
	d, _, _, err := s.matchPrint(id, print, dpi, model)
	return d, err
}

func (s *Store) matchPrint(id string, print image.Image, dpi int, model [32]byte) (Decision, *Template, *Calibration, error) {
	t, err := s.Load(id)
	if err != nil {
		return Decision{}, nil, nil, err
	}
	cal, err := s.Calibration(model)
	if err != nil {
		return Decision{}, nil, nil, err
	}
	if cal.MinutiaeThreshold <= 0 {
		return Decision{}, nil, nil, ErrNoMinutiaeThreshold
	}
	if t.Model != model {
		return Decision{}, nil, nil, fmt.Errorf("biometric: %q was enrolled with model %x…, the extractor runs %x…: enroll again", id, t.Model[:8], model[:8])
	}
	prints, err := s.LoadPrints(id)
	if err != nil {
		return Decision{}, nil, nil, err
	}
	pt, err := ExtractPrint(print, dpi)
	if err != nil {
		return Decision{}, nil, nil, err
	}
	score := enrolledScore(prints, minutiae.Prepare(pt))
	return Decision{ID: id, Score: score, Threshold: cal.MinutiaeThreshold, Match: score >= cal.MinutiaeThreshold}, t, cal, nil
}

// enrolledScore is the best score of the probe against any impression.
func enrolledScore(prints []*minutiae.Template, probe *minutiae.Prepared) float64 {
	var best float64
	for _, t := range prints {
		best = max(best, minutiae.Prepare(t).Compare(probe))
	}
	return best
}

func identityFor(id string, t *Template, model [32]byte, cal *Calibration, probe []float32) (*Identity, error) {
	if err := checkVector(probe); err != nil {
		return nil, fmt.Errorf("biometric: features of %q's print: %w", id, err)
	}
	if t.Secret == (Secret{}) {
		return nil, fmt.Errorf("%w (%q)", ErrNoSecret, id)
	}
	return newIdentity(id, model, true, t.Generation, &t.Secret, cal, probe)
}

// IdentifyPrint is 1:N login by print among every clinician with minutiae
// records: the best minutiae score decides (ties go to the earlier id), and
// only a match makes an Identity, from the ResNet152 features probe as
// VerifyPrint does. On no match the Decision carries the best score but no
// id. Clinicians enrolled before the store kept minutiae records are not
// candidates; how many there were comes back.
func (s *Store) IdentifyPrint(ctx context.Context, print image.Image, dpi int, model [32]byte, probe []float32) (Decision, *Identity, int, error) {
	d, t, cal, n, err := s.findPrint(ctx, print, dpi, model)
	if err != nil || !d.Match {
		return d, nil, n, err
	}
	ident, err := identityFor(d.ID, t, model, cal, probe)
	return d, ident, n, err
}

// FindPrint is IdentifyPrint's decision alone, with the number of
// candidates.
func (s *Store) FindPrint(ctx context.Context, print image.Image, dpi int, model [32]byte) (Decision, int, error) {
	d, _, _, n, err := s.findPrint(ctx, print, dpi, model)
	return d, n, err
}

func (s *Store) findPrint(ctx context.Context, print image.Image, dpi int, model [32]byte) (Decision, *Template, *Calibration, int, error) {
	g, err := s.Gallery(ctx, model)
	if err != nil {
		return Decision{}, nil, nil, 0, err
	}
	d, t, err := g.find(ctx, print, dpi)
	return d, t, g.cal, g.Len(), err
}

// Gallery is the store's clinicians with minutiae records, prepared for 1:N
// search: preparing an impression costs a few milliseconds, so a login that
// runs for long holds one Gallery (and makes a new one after an enrollment)
// instead of preparing every clinician at every login as IdentifyPrint
// does. It is safe for concurrent use.
type Gallery struct {
	st      *Store
	model   [32]byte
	cal     *Calibration
	gallery []minutiae.Candidate
}

// Gallery loads and prepares every clinician with minutiae records, under
// the calibration of model. Clinicians enrolled before the store kept
// records are left out.
func (s *Store) Gallery(ctx context.Context, model [32]byte) (*Gallery, error) {
	cal, err := s.Calibration(model)
	if err != nil {
		return nil, err
	}
	if cal.MinutiaeThreshold <= 0 {
		return nil, ErrNoMinutiaeThreshold
	}
	ids, err := s.IDs()
	if err != nil {
		return nil, err
	}
	g := &Gallery{st: s, model: model, cal: cal}
	for _, id := range ids {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		prints, err := s.LoadPrints(id)
		if errors.Is(err, ErrNoPrints) {
			continue
		}
		if err != nil {
			return nil, err
		}
		e, err := minutiae.Enroll(prints)
		if err != nil {
			return nil, fmt.Errorf("biometric: minutiae of %q: %w", id, err)
		}
		g.gallery = append(g.gallery, minutiae.Candidate{ID: id, Enrolled: e})
	}
	if len(g.gallery) == 0 {
		return nil, fmt.Errorf("biometric: identify: the store %s holds no clinician with minutiae records: enroll one", s.dir)
	}
	return g, nil
}

// Len is the number of candidates.
func (g *Gallery) Len() int { return len(g.gallery) }

// Find is FindPrint against the prepared gallery.
func (g *Gallery) Find(ctx context.Context, print image.Image, dpi int) (Decision, error) {
	d, _, err := g.find(ctx, print, dpi)
	return d, err
}

// Identify is IdentifyPrint against the prepared gallery.
func (g *Gallery) Identify(ctx context.Context, print image.Image, dpi int, probe []float32) (Decision, *Identity, error) {
	d, t, err := g.find(ctx, print, dpi)
	if err != nil || !d.Match {
		return d, nil, err
	}
	ident, err := identityFor(d.ID, t, g.model, g.cal, probe)
	return d, ident, err
}

func (g *Gallery) find(ctx context.Context, print image.Image, dpi int) (Decision, *Template, error) {
	pt, err := ExtractPrint(print, dpi)
	if err != nil {
		return Decision{}, nil, err
	}
	hits, err := minutiae.Identify(ctx, minutiae.Prepare(pt), g.gallery)
	if err != nil {
		return Decision{}, nil, fmt.Errorf("biometric: %w", err)
	}
	best := hits[0]
	d := Decision{Score: best.Score, Threshold: g.cal.MinutiaeThreshold, Match: best.Score >= g.cal.MinutiaeThreshold}
	if !d.Match {
		return d, nil, nil
	}
	d.ID = best.ID
	t, err := g.st.Load(best.ID)
	if err != nil {
		return d, nil, err
	}
	if t.Model != g.model {
		return d, nil, fmt.Errorf("biometric: %q was enrolled with model %x…, the extractor runs %x…: enroll again", best.ID, t.Model[:8], g.model[:8])
	}
	return d, t, nil
}

// NewTemplate makes a clinician's ResNet152 template from the features of
// their enrollment prints, made by model, without Enroll's agreement test on
// the features: with login by print, EnrollPrints decides whether the
// prints agree, and the features only key the clinician.
func NewTemplate(model [32]byte, vectors [][]float32) (*Template, error) {
	t := &Template{Model: model, Vectors: make([][]float32, len(vectors))}
	for i, v := range vectors {
		t.Vectors[i] = append([]float32(nil), v...)
	}
	if err := t.validate(); err != nil {
		return nil, err
	}
	return t, nil
}
