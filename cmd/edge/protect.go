package main

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strings"

	"edge/internal/biometric"
	"edge/internal/boardcfg"
	"edge/internal/fsutil"
	"edge/internal/infer"
	"edge/internal/infer/features"
	"edge/internal/medimg"
	"edge/internal/protect"
	imgquality "edge/internal/quality"
	"edge/internal/uplink"
)

// report is the JSON both protect and recover write; recover fills the
// last fields. Sizes are bytes; original_bytes counts the raw pixel bytes.
// It carries no template material: neither the payload nor the protected
// template, only their sizes.
type report struct {
	Scheme          string `json:"scheme"`
	EnvelopeID      string `json:"envelope_id"`
	DeviceID        string `json:"device_id"`
	ClinicianID     string `json:"clinician_id"`
	ModelSHA256     string `json:"model_sha256"`
	Width           int    `json:"width"`
	Height          int    `json:"height"`
	Frames          int    `json:"frames"`
	Channels        int    `json:"channels"`
	BitsStored      int    `json:"bits_stored"`
	Signed          bool   `json:"signed"`
	PayloadBits     int    `json:"payload_bits"`
	OriginalBytes   int    `json:"original_bytes"`
	BodyBytes       int    `json:"body_bytes"`
	CompressedBytes int    `json:"compressed_bytes"`
	// RestoreBytes is the sealed restore record of a mark that is not
	// self-contained (see internal/embed), 0 otherwise.
	RestoreBytes  int     `json:"restore_bytes"`
	SavingPercent float64 `json:"saving_percent"`
	PSNR          float64 `json:"psnr_db,omitempty"`
	SSIM          float64 `json:"ssim,omitempty"`
	// ClinicianVerified: protect sealed for a clinician who logged in
	// with a fingerprint on this device just now.
	ClinicianVerified *bool `json:"clinician_verified,omitempty"`
	// MarkedUID is the new SOP Instance UID of a marked DICOM copy.
	MarkedUID string   `json:"marked_sop_instance_uid,omitempty"`
	BER       *float64 `json:"ber,omitempty"`
	NC        *float64 `json:"nc,omitempty"`
	Exact     *bool    `json:"exact,omitempty"`
	// Clinician is the hub registry's decision on the image's protected
	// template (distance and threshold, no template).
	Clinician *biometric.HubDecision `json:"clinician,omitempty"`
	// DataSetDropped: a DICOM original written as PNG, without its data set.
	DataSetDropped bool `json:"dicom_data_set_dropped,omitempty"`
}

func newReport(h uplink.Header, im *medimg.Image, payload []byte, body, envelope int) *report {
	return &report{
		Scheme:          h.Scheme,
		EnvelopeID:      hex.EncodeToString(h.ID[:]),
		DeviceID:        h.DeviceID,
		ModelSHA256:     hex.EncodeToString(h.ModelHash[:]),
		Width:           im.Width,
		Height:          im.Height,
		Frames:          im.Frames,
		Channels:        im.Channels,
		BitsStored:      im.BitsStored,
		Signed:          im.Signed,
		PayloadBits:     8 * len(payload),
		OriginalBytes:   im.RawSize(),
		BodyBytes:       body,
		CompressedBytes: envelope,
		SavingPercent:   100 * (1 - float64(body)/float64(im.RawSize())),
	}
}

// writeJSON writes a report or an evaluation file, mode 0600: reports sit
// beside patient images and name clinicians.
func writeJSON(path string, v any) error {
	return fsutil.WriteFile(path, 0o600, func(w io.Writer) error { return printJSON(w, v) })
}

// loginIdentity makes the clinician's identity for protect: from a
// fingerprint, verified by the minutiae matcher against their enrolled
// impressions; or, with
// --unverified, from a feature file (the hub refuses those unless it is
// configured for tests or evaluation).
func loginIdentity(ctx context.Context, e env, clinician, store, storeKey, print, featPath string, unverified bool, inf inferFlags) (*biometric.Identity, error) {
	if print != "" {
		x, err := inf.open(ctx, e)
		if err != nil {
			return nil, err
		}
		defer x.Close()
		img, feats, err := readPrint(ctx, x, print)
		if err != nil {
			return nil, err
		}
		st, err := biometric.OpenStoreKey(store, storeKey)
		if err != nil {
			return nil, err
		}
		// The minutiae matcher decides (a 500 dpi print); the features
		// make the identity's key and protected template.
		d, ident, err := st.VerifyPrint(clinician, img, 500, x.ModelHash(), feats)
		if err != nil {
			return nil, err
		}
		if ident == nil {
			return nil, fmt.Errorf("%s does not match %s (score %.6f, threshold %.6f): not sealing for an unverified clinician", print, clinician, d.Score, d.Threshold)
		}
		return ident, nil
	}
	feats, err := features.ReadFeatures(featPath)
	if err != nil {
		return nil, err
	}
	if store != "" {
		st, err := biometric.OpenStoreKey(store, storeKey)
		if err != nil {
			return nil, err
		}
		return st.FileIdentity(clinician, feats)
	}
	// No store: a secret for this run only. The hub cannot match the
	// protected template to any registration, and says so.
	secret, err := biometric.NewSecret(nil)
	if err != nil {
		return nil, err
	}
	return biometric.FileIdentity(clinician, &secret, nil, feats)
}

func runProtect(ctx context.Context, e env, args []string) error {
	fs := newFlags(e, "protect")
	var (
		in         = fs.String("image", "", "image to protect (PNG or DICOM)")
		print      = fs.String("fingerprint", "", "the clinician's fingerprint, taken now: verified against their template in --store")
		featPath   = fs.String("features", "", "features from a file instead (raw little-endian float32, 2048 values): needs --unverified")
		unverified = fs.Bool("unverified", false, "accept --features: the envelope carries a zero model hash, which a hub refuses unless configured for tests or evaluation")
		store      = fs.String("store", "", "template store of the clinician (with --fingerprint; optional with --features)")
		storeKey   = fs.String("store-key", "", "the store's key file (default: beside the store, DIR.key)")
		hubPub     = fs.String("hub-pub", "", "hub public key (hub.pub)")
		devKey     = fs.String("device-key", "", "device private key (device.key)")
		out        = fs.String("out", "", "envelope to write (.edge)")
		scheme     = fs.String("scheme", protect.SchemeV1, "v1 (predictive Huffman + chaotic keystream) or paper (chaotic permutation + zero-order Huffman)")
		clinician  = fs.String("clinician", "", "clinician id: who is logging in (1..64 characters from [A-Za-z0-9._-])")
		markedOut  = fs.String("marked-out", "", "also write the marked image (PNG, or DICOM for .dcm: a new SOP Instance UID, DERIVED)")
		uidRoot    = fs.String("uid-root", "", "UID root for the marked DICOM copy's new SOP Instance UID (default 2.25, UUID-derived)")
		reportOut  = fs.String("report-json", "", "write a JSON report here (mode 0600)")
		force      = fs.Bool("force", false, "replace existing output files")
		inferOpt   = addInferFlags(fs)
	)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := required(fs, "image", "hub-pub", "device-key", "out", "clinician"); err != nil {
		return err
	}
	if (*featPath == "") == (*print == "") {
		return fmt.Errorf("%w: give exactly one of --fingerprint and --features", errUsage)
	}
	if *print != "" && *store == "" {
		return fmt.Errorf("%w: --fingerprint needs --store, the clinician's enrolled template to verify against", errUsage)
	}
	if *featPath != "" && !*unverified {
		return fmt.Errorf("%w: --features seals for a clinician nobody verified; pass --unverified to mean it (for tests and evaluation)", errUsage)
	}
	if err := biometric.ValidateID(*clinician); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if err := protect.CheckScheme(*scheme); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if err := checkOutputs(*force,
		[]pathFlag{{"image", *in}, {"features", *featPath}, {"fingerprint", *print}, {"hub-pub", *hubPub}, {"device-key", *devKey}},
		[]pathFlag{{"out", *out}, {"marked-out", *markedOut}, {"report-json", *reportOut}}); err != nil {
		return err
	}
	hub, err := uplink.LoadHubPublicKey(*hubPub)
	if err != nil {
		return err
	}
	dev, err := uplink.LoadDeviceKey(*devKey)
	if err != nil {
		return err
	}
	ident, err := loginIdentity(ctx, e, *clinician, *store, *storeKey, *print, *featPath, *unverified, inferOpt)
	if err != nil {
		return err
	}
	prof, err := inferOpt.board()
	if err != nil {
		return err
	}
	im, c, err := boardcfg.MedImg(prof).ReadFile(*in)
	if err != nil {
		return err
	}
	s := &protect.Sealer{Hub: hub, Device: dev, RequireVerified: !*unverified}
	p, err := s.Protect(ctx, &protect.Request{Image: im, Container: c, Identity: ident, Scheme: *scheme})
	if err != nil {
		return fmt.Errorf("%s: %w", *in, err)
	}
	if err := writeOutput(*out, *force, func(w io.Writer) error { _, err := w.Write(p.Envelope); return err }); err != nil {
		return err
	}
	r := newReport(p.Header, im, p.Payload, p.BodyBytes, len(p.Envelope))
	if *markedOut != "" {
		mc, uid, err := medimg.Derive(c, *uidRoot, nil)
		if err != nil {
			return err
		}
		if err := writeImage(*markedOut, p.Marked, mc, *force); err != nil {
			return err
		}
		if !dropsDataSet(*markedOut, c) {
			r.MarkedUID = uid
		}
	}
	verified := ident.Verified()
	r.ClinicianID = ident.ClinicianID()
	r.ClinicianVerified = &verified
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

// modelHashes hashes the model files a hub accepts features from.
func modelHashes(paths string) ([][32]byte, error) {
	var out [][32]byte
	for _, p := range strings.Split(paths, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		h, err := infer.ModelHash(p)
		if err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, nil
}

func runRecover(ctx context.Context, e env, args []string) error {
	fs := newFlags(e, "recover")
	var (
		in         = fs.String("in", "", "envelope to open (.edge)")
		hubKey     = fs.String("hub-key", "", "hub private key (hub.key)")
		devPub     = fs.String("device-pub", "", "public key of the device that sealed it (device.pub)")
		out        = fs.String("out", "", "restored image (.dcm for a DICOM original; .png of a DICOM original drops its data set and needs --force)")
		markedOut  = fs.String("marked-out", "", "also write the marked image (a DICOM copy gets a new SOP Instance UID and DERIVED)")
		uidRoot    = fs.String("uid-root", "", "UID root for the marked DICOM copy (default 2.25)")
		reportOut  = fs.String("report-json", "", "write a JSON report here (mode 0600)")
		models     = fs.String("models", "", "comma-separated model files whose features the hub accepts")
		unverified = fs.Bool("allow-unverified", false, "accept envelopes from feature files (zero model hash) or unlisted models: tests and evaluation only")
		registry   = fs.String("registry", "", "registry of clinicians' protected templates: verify the image's clinician against it")
		force      = fs.Bool("force", false, "replace existing output files; write a DICOM original as PNG")
	)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := required(fs, "in", "hub-key", "device-pub", "out"); err != nil {
		return err
	}
	if *models == "" && !*unverified {
		return fmt.Errorf("%w: give --models (the feature models this hub accepts) or --allow-unverified", errUsage)
	}
	if err := checkOutputs(*force,
		[]pathFlag{{"in", *in}, {"hub-key", *hubKey}, {"device-pub", *devPub}},
		[]pathFlag{{"out", *out}, {"marked-out", *markedOut}, {"report-json", *reportOut}}); err != nil {
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
	accepted, err := modelHashes(*models)
	if err != nil {
		return err
	}
	env, err := readLimited(*in, uplink.DefaultMaxEnvelope)
	if err != nil {
		return err
	}
	o := &protect.Opener{Hub: hub, Trust: uplink.TrustDevices(pub), Models: accepted, AllowUnverified: *unverified}
	if *registry != "" {
		reg, err := biometric.OpenRegistry(*registry)
		if err != nil {
			return err
		}
		o.Clinicians = reg
	}
	// Only the envelope's size is needed after Recover: not keeping it
	// lets its bytes go while the image is restored.
	envBytes := len(env)
	r, err := o.Recover(ctx, env)
	if err != nil {
		return fmt.Errorf("%s: %w", *in, err)
	}
	dropped := dropsDataSet(*out, r.Container)
	if dropped && !*force {
		return fmt.Errorf("%s: the envelope holds a DICOM image; writing %s as PNG drops its data set (patient, study, UIDs, pixel representation): write .dcm, or pass --force", *in, *out)
	}
	if err := writeImage(*out, r.Image, r.Container, *force); err != nil {
		return err
	}
	rep := newReport(r.Header, r.Image, r.Payload, r.BodyBytes, envBytes)
	rep.DataSetDropped = dropped
	if dropped {
		fmt.Fprintf(e.stderr, "%s: DICOM data set dropped: PNG keeps the pixels only\n", *out)
	}
	if *markedOut != "" {
		mc, uid, err := medimg.Derive(r.Container, *uidRoot, nil)
		if err != nil {
			return err
		}
		if err := writeImage(*markedOut, r.Marked, mc, *force); err != nil {
			return err
		}
		if !dropsDataSet(*markedOut, r.Container) {
			rep.MarkedUID = uid
		}
	}
	rep.ClinicianID = r.ClinicianID
	rep.Clinician = r.Clinician
	rep.BER, rep.NC, rep.Exact = &r.BER, &r.NC, &r.Exact
	if *reportOut != "" {
		// Only the report shows them; measured over the whole image they
		// would cost recover more than the restore.
		rep.PSNR, rep.SSIM = quality(r.Image, r.Marked)
		if err := writeJSON(*reportOut, rep); err != nil {
			return err
		}
	}
	who := "not verified (no --registry)"
	if r.Clinician != nil {
		who = fmt.Sprintf("verified (distance %.4f ≤ %.4f)", r.Clinician.Distance, r.Clinician.Threshold)
	}
	fmt.Fprintf(e.stdout, "%s: restored %d×%d from device %s, clinician %q %s, exact %v, BER %g, NC %g\n",
		*out, r.Image.Width, r.Image.Height, r.Header.DeviceID, r.ClinicianID, who, r.Exact, r.BER, r.NC)
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
	if st.Mode().IsRegular() {
		// One buffer of the file's size, not ReadAll's doubling copies;
		// a file that grew since Stat is still read to the limit.
		b := make([]byte, st.Size(), st.Size()+1)
		if _, err := io.ReadFull(f, b); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		rest, err := io.ReadAll(io.LimitReader(f, limit+1-st.Size()))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return append(b, rest...), nil
	}
	return io.ReadAll(io.LimitReader(f, limit+1))
}

// quality is the marked image's PSNR and SSIM against the original.
func quality(orig, marked *medimg.Image) (psnr, ssim float64) {
	return imgquality.PSNR(orig, marked), imgquality.SSIM(orig, marked)
}
