// Package eval measures the product the way the publication did and beyond:
// per image and averaged, the quality of the marked image (PSNR, SSIM), the
// hidden payload's integrity (BER, NC), compression beside PNG and JPEG-LS,
// exact restore, and the cipher's statistics (entropy, NPCR, UACI, adjacent-
// sample correlation, key sensitivity). It drives the same protect pipeline
// the appliance and the hub use, with keys it makes for the run.
package eval

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"image/png"
	"io"
	"time"

	"edge/internal/biometric"
	"edge/internal/embed"
	"edge/internal/medimg"
	"edge/internal/protect"
	"edge/internal/uplink"
)

// Source is one image to evaluate.
type Source struct {
	Name      string
	Image     *medimg.Image
	Container *medimg.Container
	Features  []float32
}

// Options configure a run.
type Options struct {
	Schemes []string
	// JPEGLS, when set, measures dcmcjpls beside our codec.
	JPEGLS *JPEGLS
	// JXL, when set, measures JPEG XL lossless (cjxl) beside our codec.
	JXL *JXL
	// Rand supplies keys and salts; nil means crypto/rand.
	Rand io.Reader
}

// ImageResult is one image's row in the tables.
type ImageResult struct {
	Name        string `json:"name"`
	Width       int    `json:"width"`
	Height      int    `json:"height"`
	Frames      int    `json:"frames"`
	Channels    int    `json:"channels"`
	BitsStored  int    `json:"bits_stored"`
	Signed      bool   `json:"signed"`
	RawBytes    int    `json:"raw_bytes"`
	PNGBytes    int    `json:"png_best_bytes"`
	JPEGLSBytes int    `json:"jpegls_bytes,omitempty"`
	// JPEGLSError says why JPEG-LS has no figure, when it has none.
	JPEGLSError string `json:"jpegls_error,omitempty"`
	JXLBytes    int    `json:"jxl_bytes,omitempty"`
	// JXLError says why JPEG XL has no figure, when it has none.
	JXLError string          `json:"jxl_error,omitempty"`
	Plain    Correlations    `json:"plain_correlation"`
	Schemes  []*SchemeResult `json:"schemes"`
}

// Correlations of adjacent samples.
type Correlations struct {
	H float64 `json:"h"`
	V float64 `json:"v"`
	D float64 `json:"d"`
}

// SchemeResult is one scheme on one image.
type SchemeResult struct {
	Scheme        string  `json:"scheme"`
	PSNR          float64 `json:"psnr_db"`
	SSIM          float64 `json:"ssim"`
	BER           float64 `json:"ber"`
	NC            float64 `json:"nc"`
	PayloadBits   int     `json:"payload_bits"`
	BodyBytes     int     `json:"body_bytes"`
	EnvelopeBytes int     `json:"envelope_bytes"`
	// RestoreBytes is the sealed restore record of a mark that is not
	// self-contained, 0 when the marked image alone restores the original.
	RestoreBytes  int     `json:"restore_bytes"`
	SavingPercent float64 `json:"saving_percent"`
	Exact         bool    `json:"exact"`
	// Error is set when protect or recover failed; the other figures are then empty.
	Error string `json:"error,omitempty"`
	// Cipher statistics with a fixed K_bio, so the cipher layer is measured
	// alone (a real envelope also draws a fresh salt, so two envelopes of one
	// image never share a key at all).
	BodyEntropy float64 `json:"body_entropy_bits_per_byte"`
	NPCR        float64 `json:"npcr_percent"`
	UACI        float64 `json:"uaci_percent"`
	// Cipher is the correlation of the paper scheme's encrypted (permuted) image.
	Cipher *Correlations `json:"cipher_correlation,omitempty"`
	// KeySensitivity is the share of the body (bytes for v1, samples for
	// paper) that changes when one bit of K_bio is flipped.
	KeySensitivity float64 `json:"key_sensitivity_percent"`
	// WrongKeyRejected says that deciphering with the flipped key did not give the image back.
	WrongKeyRejected bool    `json:"wrong_key_rejected"`
	ProtectMillis    float64 `json:"protect_ms"`
	RecoverMillis    float64 `json:"recover_ms"`
}

// Run evaluates every source with every scheme.
func Run(ctx context.Context, srcs []Source, opt Options) ([]*ImageResult, error) {
	hub, err := uplink.GenerateHubKey(opt.Rand)
	if err != nil {
		return nil, err
	}
	dev, err := uplink.GenerateDeviceKey(opt.Rand)
	if err != nil {
		return nil, err
	}
	sealer := &protect.Sealer{Hub: hub.Public(), Device: dev, Rand: opt.Rand}
	opener := &protect.Opener{Hub: hub, Trust: uplink.TrustDevices(dev.Public()), AllowUnverified: true}
	var out []*ImageResult
	for _, s := range srcs {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		r, err := one(ctx, s, sealer, opener, opt)
		if err != nil {
			return out, fmt.Errorf("eval: %s: %w", s.Name, err)
		}
		out = append(out, r)
	}
	return out, nil
}

func one(ctx context.Context, s Source, sealer *protect.Sealer, opener *protect.Opener, opt Options) (*ImageResult, error) {
	im := s.Image
	r := &ImageResult{
		Name: s.Name, Width: im.Width, Height: im.Height, Frames: im.Frames, Channels: im.Channels,
		BitsStored: im.BitsStored, Signed: im.Signed, RawBytes: im.RawSize(),
	}
	if n, err := pngBestSize(im); err == nil {
		r.PNGBytes = n
	}
	if opt.JPEGLS != nil {
		n, err := opt.JPEGLS.Size(ctx, im, s.Container)
		if err != nil {
			r.JPEGLSError = err.Error()
		} else {
			r.JPEGLSBytes = n
		}
	}
	if opt.JXL != nil {
		if n, err := opt.JXL.Size(ctx, im); err != nil {
			r.JXLError = err.Error()
		} else {
			r.JXLBytes = n
		}
	}
	r.Plain.H, r.Plain.V, r.Plain.D = Correlation(im)
	for _, scheme := range opt.Schemes {
		sr, err := runScheme(ctx, s, scheme, sealer, opener)
		if err != nil {
			return nil, err
		}
		r.Schemes = append(r.Schemes, sr)
	}
	return r, nil
}

func runScheme(ctx context.Context, s Source, scheme string, sealer *protect.Sealer, opener *protect.Opener) (*SchemeResult, error) {
	sr := &SchemeResult{Scheme: scheme}
	t0 := time.Now()
	secret := biometric.Secret(sha256.Sum256([]byte("eval secret " + s.Name)))
	ident, err := biometric.FileIdentity("eval", &secret, nil, s.Features)
	if err != nil {
		return nil, err
	}
	p, err := sealer.Protect(ctx, &protect.Request{Image: s.Image, Container: s.Container, Identity: ident, Scheme: scheme})
	if err != nil {
		sr.Error = err.Error()
		return sr, nil
	}
	t1 := time.Now()
	rec, err := opener.Recover(ctx, p.Envelope)
	t2 := time.Now()
	if err != nil {
		sr.Error = err.Error()
		return sr, nil
	}
	sr.ProtectMillis = float64(t1.Sub(t0).Microseconds()) / 1000
	sr.RecoverMillis = float64(t2.Sub(t1).Microseconds()) / 1000
	sr.PSNR, sr.SSIM = p.PSNR, p.SSIM
	sr.BER, sr.NC, sr.Exact = rec.BER, rec.NC, rec.Exact && bytes.Equal(rec.Image.RawBytes(), s.Image.RawBytes())
	sr.PayloadBits = 8 * len(p.Payload)
	sr.BodyBytes = p.BodyBytes
	sr.EnvelopeBytes = len(p.Envelope)
	sr.RestoreBytes = p.RestoreBytes
	sr.SavingPercent = 100 * (1 - float64(p.BodyBytes)/float64(s.Image.RawSize()))
	if err := cipherStats(sr, s, scheme, p.Payload); err != nil {
		return nil, err
	}
	return sr, nil
}

// cipherStats measures the cipher layer with a fixed key derived from the
// image's name, so the figures are repeatable run to run.
func cipherStats(sr *SchemeResult, s Source, scheme string, payload []byte) error {
	pl, err := protect.ParsePayload(payload)
	if err != nil {
		return err
	}
	salt := sha256.Sum256([]byte("eval salt " + s.Name))
	kbio, err := protect.DeriveKBio(pl.Template, salt[:])
	if err != nil {
		return err
	}
	enc := func(im *medimg.Image, key []byte) (*embed.Mark, []byte, error) {
		m, err := protect.Mark(im, payload, key)
		if err != nil {
			return nil, nil, err
		}
		b, err := protect.Encipher(scheme, m.Image, key)
		return m, b, err
	}
	mark, body, err := enc(s.Image, kbio)
	if err != nil {
		return err
	}
	sr.BodyEntropy = Entropy(body)
	mark2, body2, err := enc(onePixelChanged(s.Image), kbio)
	if err != nil {
		return err
	}
	flipped := append([]byte(nil), kbio...)
	flipped[0] ^= 1
	markK, bodyK, err := enc(s.Image, flipped)
	if err != nil {
		return err
	}
	if scheme == protect.SchemePaper {
		// The paper scheme's cipher image is the permuted marked image,
		// measured sample by sample rather than through its Huffman code.
		c1, err := protect.Scramble(mark.Image, kbio)
		if err != nil {
			return err
		}
		c2, err := protect.Scramble(mark2.Image, kbio)
		if err != nil {
			return err
		}
		ck, err := protect.Scramble(markK.Image, flipped)
		if err != nil {
			return err
		}
		sr.NPCR, sr.UACI = NPCRUACIImages(c1, c2)
		sr.KeySensitivity, _ = NPCRUACIImages(c1, ck)
		var c Correlations
		c.H, c.V, c.D = Correlation(c1)
		sr.Cipher = &c
	} else {
		sr.NPCR, sr.UACI = NPCRUACIBytes(body, body2)
		sr.KeySensitivity, _ = NPCRUACIBytes(body, bodyK)
	}
	sr.WrongKeyRejected = !wrongKeyRestores(scheme, body, flipped, mark.Restore, s.Image)
	return nil
}

// wrongKeyRestores reports whether deciphering and unmarking with a wrong key
// somehow gives the original back, even with the right restore record.
func wrongKeyRestores(scheme string, body, key, restore []byte, orig *medimg.Image) bool {
	want := *orig
	want.Pix = nil
	m, err := protect.Decipher(scheme, body, key, &want)
	if err != nil {
		return false
	}
	_, o, err := protect.Unmark(m, key, restore)
	if err != nil {
		return false
	}
	return bytes.Equal(o.RawBytes(), orig.RawBytes())
}

// onePixelChanged returns im with its middle sample moved by one grey level,
// the NPCR/UACI experiment's plain-image change.
func onePixelChanged(im *medimg.Image) *medimg.Image {
	c := im.Clone()
	i := len(c.Pix) / 2
	if _, hi := c.Range(); c.Pix[i] < hi {
		c.Pix[i]++
	} else {
		c.Pix[i]--
	}
	return c
}

// pngBestSize is the image as PNG at the best compression Go's encoder has.
func pngBestSize(im *medimg.Image) (int, error) {
	img, err := medimg.StdImage(im)
	if err != nil {
		return 0, err
	}
	var n countWriter
	if err := (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&n, img); err != nil {
		return 0, err
	}
	return int(n), nil
}

type countWriter int

func (c *countWriter) Write(p []byte) (int, error) { *c += countWriter(len(p)); return len(p), nil }
