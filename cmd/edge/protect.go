package main

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"os"

	"edge/internal/fsutil"
	"edge/internal/infer/features"
	"edge/internal/medimg"
	"edge/internal/protect"
	imgquality "edge/internal/quality"
	"edge/internal/uplink"
)

// report is the JSON both protect and recover write; recover fills the last
// three fields. Sizes are bytes; original_bytes counts the raw pixel bytes.
type report struct {
	Scheme          string `json:"scheme"`
	EnvelopeID      string `json:"envelope_id"`
	DeviceID        string `json:"device_id"`
	ClinicianID     string `json:"clinician_id"`
	Width           int    `json:"width"`
	Height          int    `json:"height"`
	Frames          int    `json:"frames"`
	Channels        int    `json:"channels"`
	BitsStored      int    `json:"bits_stored"`
	Signed          bool   `json:"signed"`
	PayloadHex      string `json:"payload_hex"`
	PayloadBits     int    `json:"payload_bits"`
	OriginalBytes   int    `json:"original_bytes"`
	BodyBytes       int    `json:"body_bytes"`
	CompressedBytes int    `json:"compressed_bytes"`
	// RestoreBytes is the sealed restore record of a mark that is not
	// self-contained (see internal/embed), 0 otherwise.
	RestoreBytes  int      `json:"restore_bytes"`
	SavingPercent float64  `json:"saving_percent"`
	PSNR          float64  `json:"psnr_db,omitempty"`
	SSIM          float64  `json:"ssim,omitempty"`
	BER           *float64 `json:"ber,omitempty"`
	NC            *float64 `json:"nc,omitempty"`
	Exact         *bool    `json:"exact,omitempty"`
}

func newReport(h uplink.Header, im *medimg.Image, payload []byte, body, envelope int) *report {
	return &report{
		Scheme:          h.Scheme,
		EnvelopeID:      hex.EncodeToString(h.ID[:]),
		DeviceID:        h.DeviceID,
		Width:           im.Width,
		Height:          im.Height,
		Frames:          im.Frames,
		Channels:        im.Channels,
		BitsStored:      im.BitsStored,
		Signed:          im.Signed,
		PayloadHex:      hex.EncodeToString(payload),
		PayloadBits:     8 * len(payload),
		OriginalBytes:   im.RawSize(),
		BodyBytes:       body,
		CompressedBytes: envelope,
		SavingPercent:   100 * (1 - float64(body)/float64(im.RawSize())),
	}
}

func writeJSON(path string, v any) error {
	return fsutil.WriteFile(path, 0o644, func(w io.Writer) error { return printJSON(w, v) })
}

func runProtect(ctx context.Context, e env, args []string) error {
	fs := newFlags(e, "protect")
	var (
		in        = fs.String("image", "", "image to protect (PNG or DICOM)")
		featPath  = fs.String("features", "", "clinician's features: raw little-endian float32, 2048 values (.f32)")
		print     = fs.String("fingerprint", "", "clinician's fingerprint image: run the model on it instead of reading -features")
		hubPub    = fs.String("hub-pub", "", "hub public key (hub.pub)")
		devKey    = fs.String("device-key", "", "device private key (device.key)")
		out       = fs.String("out", "", "envelope to write (.edge)")
		scheme    = fs.String("scheme", protect.SchemeV1, "v1 (predictive Huffman + chaotic keystream) or paper (chaotic permutation + zero-order Huffman)")
		clinician = fs.String("clinician", "", "clinician id to hide beside the features")
		markedOut = fs.String("marked-out", "", "also write the marked image (PNG, or DICOM for .dcm)")
		reportOut = fs.String("report-json", "", "write a JSON report here")
		inferOpt  = addInferFlags(fs)
	)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := required(fs, "image", "hub-pub", "device-key", "out"); err != nil {
		return err
	}
	if (*featPath == "") == (*print == "") {
		return fmt.Errorf("%w: give exactly one of -features and -fingerprint", errUsage)
	}
	if err := protect.CheckScheme(*scheme); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	hub, err := uplink.LoadHubPublicKey(*hubPub)
	if err != nil {
		return err
	}
	dev, err := uplink.LoadDeviceKey(*devKey)
	if err != nil {
		return err
	}
	var (
		feats     []float32
		modelHash [32]byte
	)
	if *featPath != "" {
		feats, err = features.ReadFeatures(*featPath)
	} else {
		feats, modelHash, err = fingerprintFeatures(ctx, e, *print, inferOpt)
	}
	if err != nil {
		return err
	}
	im, c, err := medimg.ReadFile(*in)
	if err != nil {
		return err
	}
	s := &protect.Sealer{Hub: hub, Device: dev}
	p, err := s.Protect(ctx, &protect.Request{Image: im, Container: c, Features: feats, ClinicianID: *clinician, Scheme: *scheme, ModelHash: modelHash})
	if err != nil {
		return fmt.Errorf("%s: %w", *in, err)
	}
	if err := fsutil.WriteFile(*out, 0o644, func(w io.Writer) error { _, err := w.Write(p.Envelope); return err }); err != nil {
		return err
	}
	if *markedOut != "" {
		if err := medimg.WriteFile(*markedOut, p.Marked, c); err != nil {
			return err
		}
	}
	r := newReport(p.Header, im, p.Payload, p.BodyBytes, len(p.Envelope))
	r.ClinicianID = *clinician
	r.RestoreBytes = p.RestoreBytes
	r.PSNR, r.SSIM = p.PSNR, p.SSIM
	if *reportOut != "" {
		if err := writeJSON(*reportOut, r); err != nil {
			return err
		}
	}
	fmt.Fprintf(e.stdout, "%s: %s %d×%d, %d raw bytes → body %d bytes (%.1f %% saved), envelope %d bytes, PSNR %.2f dB\n",
		*out, r.Scheme, im.Width, im.Height, r.OriginalBytes, r.BodyBytes, r.SavingPercent, r.CompressedBytes, r.PSNR)
	return nil
}

func runRecover(ctx context.Context, e env, args []string) error {
	fs := newFlags(e, "recover")
	var (
		in        = fs.String("in", "", "envelope to open (.edge)")
		hubKey    = fs.String("hub-key", "", "hub private key (hub.key)")
		devPub    = fs.String("device-pub", "", "public key of the device that sealed it (device.pub)")
		out       = fs.String("out", "", "restored image (.png, or .dcm for a DICOM original)")
		markedOut = fs.String("marked-out", "", "also write the marked image")
		reportOut = fs.String("report-json", "", "write a JSON report here")
	)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := required(fs, "in", "hub-key", "device-pub", "out"); err != nil {
		return err
	}
	hub, err := uplink.LoadHubPrivateKey(*hubKey)
	if err != nil {
		return err
	}
	pub, err := uplink.LoadDevicePublicKey(*devPub)
	if err != nil {
		return err
	}
	env, err := readLimited(*in, uplink.DefaultMaxEnvelope)
	if err != nil {
		return err
	}
	o := &protect.Opener{Hub: hub, Trust: uplink.TrustDevices(pub)}
	r, err := o.Recover(ctx, env)
	if err != nil {
		return fmt.Errorf("%s: %w", *in, err)
	}
	if err := medimg.WriteFile(*out, r.Image, r.Container); err != nil {
		return err
	}
	if *markedOut != "" {
		if err := medimg.WriteFile(*markedOut, r.Marked, r.Container); err != nil {
			return err
		}
	}
	rep := newReport(r.Header, r.Image, r.Payload, r.BodyBytes, len(env))
	rep.ClinicianID = r.ClinicianID
	rep.PSNR, rep.SSIM = quality(r.Image, r.Marked)
	rep.BER, rep.NC, rep.Exact = &r.BER, &r.NC, &r.Exact
	if *reportOut != "" {
		if err := writeJSON(*reportOut, rep); err != nil {
			return err
		}
	}
	fmt.Fprintf(e.stdout, "%s: restored %d×%d from device %s, clinician %q, exact %v, BER %g, NC %g\n",
		*out, r.Image.Width, r.Image.Height, r.Header.DeviceID, r.ClinicianID, r.Exact, r.BER, r.NC)
	return nil
}

// readLimited reads a whole file, refusing one larger than limit before reading it.
func readLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() > limit {
		return nil, fmt.Errorf("%s is %d bytes, more than the %d accepted", path, st.Size(), limit)
	}
	return io.ReadAll(io.LimitReader(f, limit+1))
}

// quality is the marked image's PSNR and SSIM against the original.
func quality(orig, marked *medimg.Image) (psnr, ssim float64) {
	return imgquality.PSNR(orig, marked), imgquality.SSIM(orig, marked)
}
