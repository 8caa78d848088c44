package hub_test

import (
	"bytes"
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"edge/internal/hub"
	"edge/internal/medimg"
	"edge/internal/protect"
	"edge/internal/testenv"
	"edge/internal/uplink"
	"edge/internal/uplink/outbox"
	"edge/internal/uplink/tus"
	"edge/internal/uplink/uplinktest"
)

// testHub is a hub serving on loopback from a folder made by hub.Init.
type testHub struct {
	dir, url, pin string
	cfg           *hub.Config
	hub           *hub.Hub
	stop          func()
}

func startHub(t testing.TB, dir string, opt hub.Options) *testHub {
	t.Helper()
	cfg, err := hub.LoadConfig(filepath.Join(dir, hub.ConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.NewTextHandler(tlog{t}, nil))
	}
	h, err := hub.New(cfg, opt)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	pin, err := hub.Pin(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.Serve(ctx, l) }()
	th := &testHub{dir: dir, url: "https://" + l.Addr().String(), pin: pin, cfg: cfg, hub: h}
	stopped := false
	th.stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("hub serve: %v", err)
		}
		h.Close()
	}
	t.Cleanup(th.stop)
	return th
}

// newHubDir makes a hub folder trusting the named test devices.
func newHubDir(t testing.TB, devices ...uplink.DeviceKey) string {
	t.Helper()
	return newHubDirWith(t, hub.InitOptions{}, devices...)
}

// newHubDirWith is newHubDir with init options (the PACS) of the test's.
func newHubDirWith(t testing.TB, opt hub.InitOptions, devices ...uplink.DeviceKey) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "hub")
	opt.Listen, opt.AllowUnverifiedModels = "127.0.0.1:0", true
	if _, err := hub.Init(dir, opt); err != nil {
		t.Fatal(err)
	}
	cfg, err := hub.LoadConfig(filepath.Join(dir, hub.ConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	for i, d := range devices {
		p := filepath.Join(t.TempDir(), "device.pub")
		writeDevicePub(t, p, d)
		if ids, err := hub.Trust(cfg, p); err != nil || ids[0] != d.ID() {
			t.Fatalf("trust device %d: %v %v", i, ids, err)
		}
	}
	return dir
}

func writeDevicePub(t testing.TB, path string, d uplink.DeviceKey) {
	t.Helper()
	b := pem.EncodeToMemory(&pem.Block{Type: uplink.DevicePublicBlock, Bytes: d.Public()})
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func hubPub(t testing.TB, dir string) uplink.HubPublicKey {
	t.Helper()
	k, err := uplink.LoadHubPublicKey(filepath.Join(dir, uplink.HubPubFile))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func synthetic(w, h int, seed uint64) *medimg.Image {
	im := &medimg.Image{Width: w, Height: h, Frames: 1, Channels: 1, BitsAllocated: 16, BitsStored: 12, Photometric: medimg.Monochrome2}
	r := rand.New(rand.NewPCG(seed, 2))
	im.Pix = make([]int32, w*h)
	for y := range h {
		for x := range w {
			v := 2048 + 1500*math.Sin(float64(x)/7)*math.Cos(float64(y)/11)
			im.Pix[y*w+x] = int32(v) + int32(r.IntN(9)) - 4
		}
	}
	return im
}

func features(seed uint64) []float32 {
	r := rand.New(rand.NewPCG(seed, 1))
	f := make([]float32, protect.FeatureCount)
	for i := range f {
		f[i] = float32(r.NormFloat64())
	}
	return f
}

func seal(t testing.TB, hp uplink.HubPublicKey, dev uplink.DeviceKey, im *medimg.Image, c *medimg.Container) []byte {
	t.Helper()
	p, err := (&protect.Sealer{Hub: hp, Device: dev}).Protect(context.Background(), &protect.Request{
		Image: im, Container: c, Identity: identity(7, "dr-test"),
	})
	if err != nil {
		t.Fatal(err)
	}
	return p.Envelope
}

type device struct {
	key    uplink.DeviceKey
	outbox *outbox.Outbox
	client *tus.Client
}

func newDevice(t testing.TB, th *testHub, key uplink.DeviceKey) *device {
	t.Helper()
	o, err := outbox.Open(t.TempDir(), outbox.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { o.Close() })
	cert, err := key.TLSCertificate(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	hc, err := tus.NewHTTPClient(th.pin, cert)
	if err != nil {
		t.Fatal(err)
	}
	return &device{key: key, outbox: o, client: &tus.Client{Hub: th.url, HTTP: hc, DeviceID: key.ID()}}
}

// drain sends everything queued and returns the receipts by envelope id.
func (d *device) drain(t testing.TB) (map[string]*uplink.Receipt, error) {
	t.Helper()
	got := map[string]*uplink.Receipt{}
	s := &tus.Sender{Client: d.client, Outbox: d.outbox, Once: true, MaxStalled: 2,
		Backoff:   uplink.Backoff{Min: 10 * time.Millisecond, Max: 50 * time.Millisecond},
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
		OnReceipt: func(e outbox.Entry, r *uplink.Receipt) { got[e.IDHex()] = r }}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return got, s.Run(ctx)
}

func (d *device) enqueue(t testing.TB, env []byte) string {
	t.Helper()
	e, err := d.outbox.Enqueue(context.Background(), env)
	if err != nil {
		t.Fatal(err)
	}
	return e.IDHex()
}

func audit(t testing.TB, th *testHub) []hub.Record {
	t.Helper()
	recs, err := th.hub.Audit()
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func TestStoredThenDuplicate(t *testing.T) {
	dev := uplinktest.DeviceKey(t, "a")
	dir := newHubDir(t, dev)
	th := startHub(t, dir, hub.Options{})
	im := synthetic(64, 64, 1)
	env := seal(t, hubPub(t, dir), dev, im, nil)

	d := newDevice(t, th, dev)
	id := d.enqueue(t, env)
	got, err := d.drain(t)
	if err != nil {
		t.Fatal(err)
	}
	if r := got[id]; r == nil || r.Outcome != uplink.OutcomeStored {
		t.Fatalf("receipt %+v, want stored", r)
	}
	if es, _ := d.outbox.Entries(); len(es) != 0 {
		t.Fatalf("outbox still holds %d entries", len(es))
	}
	recs := audit(t, th)
	if len(recs) != 1 || recs[0].EnvelopeID != id || recs[0].Outcome != uplink.OutcomeStored || recs[0].ClinicianID != "dr-test" ||
		recs[0].BER == nil || *recs[0].BER != 0 || recs[0].NC == nil || *recs[0].NC != 1 {
		t.Fatalf("audit %+v", recs)
	}
	back, _, err := medimg.ReadFile(recs[0].Path)
	if err != nil {
		t.Fatal(err)
	}
	if !equalPix(back, im) {
		t.Fatal("restored image differs from the original")
	}

	// The same envelope again, from a device that lost its ack: one copy.
	d2 := newDevice(t, th, dev)
	d2.enqueue(t, env)
	got, err = d2.drain(t)
	if err != nil {
		t.Fatal(err)
	}
	if r := got[id]; r == nil || r.Outcome != uplink.OutcomeDuplicate {
		t.Fatalf("replay receipt %+v, want duplicate", r)
	}
	recs = audit(t, th)
	if len(recs) != 2 || recs[1].Outcome != uplink.OutcomeDuplicate || recs[1].Path != recs[0].Path {
		t.Fatalf("audit after replay %+v", recs)
	}
	imgs, _ := filepath.Glob(filepath.Join(dir, "store", "images", "*"))
	if len(imgs) != 1 {
		t.Fatalf("%d stored images after a replay, want 1", len(imgs))
	}
}

// TestAuditWhileServing: edge hub audit reads a serving hub's audit
// through its admin socket (the hub holds the index file), and the stopped
// hub's from the file.
func TestAuditWhileServing(t *testing.T) {
	dev := uplinktest.DeviceKey(t, "a")
	dir := newHubDir(t, dev)
	th := startHub(t, dir, hub.Options{})
	d := newDevice(t, th, dev)
	id := d.enqueue(t, seal(t, hubPub(t, dir), dev, synthetic(64, 64, 1), nil))
	if _, err := d.drain(t); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "store", "admin.sock")
	if st, err := os.Stat(sock); err != nil || st.Mode()&os.ModeSocket == 0 || st.Mode().Perm() != 0o600 {
		t.Fatalf("admin socket: %v, %v", st, err)
	}
	for _, when := range []string{"serving", "stopped"} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		recs, err := hub.ReadAudit(ctx, th.cfg)
		cancel()
		if err != nil || len(recs) != 1 || recs[0].EnvelopeID != id || recs[0].Outcome != uplink.OutcomeStored {
			t.Fatalf("%s: audit %+v, %v", when, recs, err)
		}
		th.stop()
		if _, err := os.Stat(sock); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("the stopped hub left its admin socket: %v", err)
		}
	}
}

func equalPix(a, b *medimg.Image) bool {
	if a.Width != b.Width || a.Height != b.Height || a.Channels != b.Channels || len(a.Pix) != len(b.Pix) {
		return false
	}
	for i := range a.Pix {
		if a.Pix[i] != b.Pix[i] {
			return false
		}
	}
	return true
}

// pacs records what the hub forwards.
type pacs struct {
	mu   sync.Mutex
	got  [][]byte
	fail bool
}

func (p *pacs) Forward(_ context.Context, b []byte) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fail {
		return "", errors.New("pacs down")
	}
	p.got = append(p.got, b)
	return fmt.Sprintf("instance-%d", len(p.got)), nil
}

func (p *pacs) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.got)
}

func TestRejections(t *testing.T) {
	dev := uplinktest.DeviceKey(t, "a")
	dir := newHubDir(t, dev)
	fwd := &pacs{}
	th := startHub(t, dir, hub.Options{Forwarder: fwd})
	// A DICOM when the samples are there, so that "never forwarded" means something.
	im, cont := synthetic(64, 64, 2), (*medimg.Container)(nil)
	if p := optionalSample("medical/CT_small.dcm"); p != "" {
		if i, c, err := medimg.ReadFile(p); err == nil {
			im, cont = i, c
		}
	}
	good := seal(t, hubPub(t, dir), dev, im, cont)

	flipped := bytes.Clone(good)
	flipped[len(flipped)/2] ^= 0x10
	other := seal(t, uplinktest.HubKey(t, "other").Public(), dev, im, cont)

	d := newDevice(t, th, dev)
	idFlip := d.enqueue(t, flipped)
	idOther := d.enqueue(t, other)
	got, err := d.drain(t)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ id, want string }{{idFlip, "signature"}, {idOther, "not sealed to this hub"}} {
		r := got[c.id]
		if r == nil || r.Outcome != uplink.OutcomeRejected || !strings.Contains(r.Reason, c.want) {
			t.Errorf("envelope %s: receipt %+v, want rejected for %q", c.id, r, c.want)
		}
		reason, err := os.ReadFile(filepath.Join(d.outbox.Dir(), "rejected", findName(t, d.outbox.Dir(), c.id)+".reason"))
		if err != nil || !strings.Contains(string(reason), c.want) {
			t.Errorf("device kept reason %q, %v", reason, err)
		}
	}
	recs := audit(t, th)
	if len(recs) != 2 {
		t.Fatalf("audit %+v", recs)
	}
	for _, r := range recs {
		if r.Outcome != uplink.OutcomeRejected || r.Path == "" {
			t.Errorf("audit record %+v", r)
		}
		if _, err := os.Stat(r.Path); err != nil {
			t.Errorf("rejected envelope not kept: %v", err)
		}
		if b, err := os.ReadFile(strings.TrimSuffix(r.Path, ".edge") + ".reason"); err != nil || strings.TrimSpace(string(b)) != r.Reason {
			t.Errorf("hub reason file %q, %v", b, err)
		}
	}
	if imgs, _ := filepath.Glob(filepath.Join(dir, "store", "images", "*")); len(imgs) != 0 {
		t.Fatalf("rejected envelopes were stored: %v", imgs)
	}
	if err := th.hub.ForwardPending(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := fwd.count(); n != 0 {
		t.Fatalf("%d rejected envelopes forwarded to the PACS", n)
	}
	// The good one is stored and, for a DICOM, forwarded once.
	d.enqueue(t, good)
	if _, err := d.drain(t); err != nil {
		t.Fatal(err)
	}
	if err := th.hub.ForwardPending(context.Background()); err != nil {
		t.Fatal(err)
	}
	if want := map[bool]int{true: 1, false: 0}[cont != nil]; fwd.count() != want {
		t.Fatalf("PACS got %d files for the good envelope, want %d", fwd.count(), want)
	}

	// A valid envelope of a good image, from an untrusted device: refused at
	// the handshake, before any upload exists.
	stranger := uplinktest.DeviceKey(t, "stranger")
	ds := newDevice(t, th, stranger)
	ds.enqueue(t, seal(t, hubPub(t, dir), stranger, im, nil))
	_, err = ds.drain(t)
	var pe *tus.PermanentError
	if !errors.As(err, &pe) {
		t.Fatalf("untrusted device: %v, want a permanent error", err)
	}
	if es, _ := ds.outbox.Entries(); len(es) != 1 {
		t.Fatal("the untrusted device's envelope left its outbox")
	}
	if ups, _ := filepath.Glob(filepath.Join(dir, "store", "uploads", "*")); len(ups) != 0 {
		t.Fatalf("an untrusted device created uploads: %v", ups)
	}
}

func findName(t testing.TB, dir, id string) string {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(dir, "rejected", "*-"+id+".edge"))
	if len(m) != 1 {
		t.Fatalf("device rejected/ holds %v for %s", m, id)
	}
	return strings.TrimSuffix(filepath.Base(m[0]), ".edge")
}

// sendPart sends part of the device's first envelope, slowly, and cuts
// the attempt; it returns the upload URL saved beside the entry.
func (d *device) sendPart(t testing.TB) string {
	t.Helper()
	d.client.ChunkSize = 8 << 10
	d.client.RateBits = 8 * 40 << 10 // 40 KiB/s: the envelope takes a few seconds
	es, _ := d.outbox.Entries()
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	_, moved, err := d.client.Send(ctx, d.outbox, es[0])
	cancel()
	if err == nil || !moved {
		t.Fatalf("cut attempt: moved %v, err %v; want a partial upload", moved, err)
	}
	es, _ = d.outbox.Entries()
	if es[0].UploadURL == "" {
		t.Fatal("upload URL not saved beside the entry")
	}
	return es[0].UploadURL
}

func TestResumeAfterCut(t *testing.T) {
	dev := uplinktest.DeviceKey(t, "a")
	dir := newHubDir(t, dev)
	th := startHub(t, dir, hub.Options{})
	env := seal(t, hubPub(t, dir), dev, synthetic(200, 160, 3), nil)
	d := newDevice(t, th, dev)
	id := d.enqueue(t, env)
	d.sendPart(t)
	// A restarted device: a new client and outbox handle on the same folder.
	o2, err := outbox.Open(d.outbox.Dir(), outbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer o2.Close()
	d.client.RateBits = 0
	d.outbox = o2
	got, err := d.drain(t)
	if err != nil || got[id] == nil || got[id].Outcome != uplink.OutcomeStored {
		t.Fatalf("resumed: %+v, %v", got[id], err)
	}
	m := scrape(t, th)
	recv := metricValue(t, m, "tusd_bytes_received")
	if recv < float64(len(env)) || recv > float64(len(env))*1.2 {
		t.Fatalf("hub received %v bytes for a %d-byte envelope: not resumed", recv, len(env))
	}
	if !strings.Contains(m, `edge_hub_envelopes_total{outcome="stored"} 1`) {
		t.Fatalf("metrics lack the stored count:\n%s", m)
	}
}

func scrape(t testing.TB, th *testHub) string {
	t.Helper()
	cert, _ := uplinktest.DeviceKey(t, "a").TLSCertificate(time.Now())
	hc, _ := tus.NewHTTPClient(th.pin, cert)
	resp, err := hc.Get(th.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func metricValue(t testing.TB, m, name string) float64 {
	t.Helper()
	for _, l := range strings.Split(m, "\n") {
		if f := strings.Fields(l); len(f) == 2 && f[0] == name {
			var v float64
			if _, err := fmt.Sscan(f[1], &v); err == nil {
				return v
			}
		}
	}
	t.Fatalf("metric %s not in\n%s", name, m)
	return 0
}

// TestSweepAbandoned: an upload left incomplete stays while it is fresh,
// is removed once untouched for limits.abandoned_upload_hours, and the
// device that comes back to it sends the envelope again and has it stored.
func TestSweepAbandoned(t *testing.T) {
	dev := uplinktest.DeviceKey(t, "a")
	dir := newHubDir(t, dev)
	th := startHub(t, dir, hub.Options{})
	env := seal(t, hubPub(t, dir), dev, synthetic(200, 160, 3), nil)
	d := newDevice(t, th, dev)
	id := d.enqueue(t, env)
	up := path.Base(d.sendPart(t))
	files := []string{filepath.Join(dir, "store", "uploads", up), filepath.Join(dir, "store", "uploads", up+".info")}
	if n, err := th.hub.SweepAbandoned(context.Background()); err != nil || n != 0 {
		t.Fatalf("a fresh partial upload swept: %d, %v", n, err)
	}
	old := time.Now().Add(-time.Duration(hub.DefaultAbandonedUploadHours+1) * time.Hour)
	for _, f := range files {
		if err := os.Chtimes(f, old, old); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := th.hub.SweepAbandoned(context.Background()); err != nil || n != 1 {
		t.Fatalf("an abandoned upload: swept %d, %v", n, err)
	}
	for _, f := range files {
		if _, err := os.Stat(f); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("%s still there: %v", f, err)
		}
	}
	if m := scrape(t, th); metricValue(t, m, "edge_hub_abandoned_uploads_removed_total") != 1 {
		t.Fatal("the removal was not counted")
	}
	d.client.RateBits = 0
	got, err := d.drain(t)
	if err != nil || got[id] == nil || got[id].Outcome != uplink.OutcomeStored {
		t.Fatalf("the device coming back: %+v, %v", got[id], err)
	}
}

func TestHealthz(t *testing.T) {
	dev := uplinktest.DeviceKey(t, "a")
	th := startHub(t, newHubDir(t, dev), hub.Options{})
	cert, _ := dev.TLSCertificate(time.Now())
	hc, _ := tus.NewHTTPClient(th.pin, cert)
	resp, err := hc.Get(th.url + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), `"trusted_devices":1`) {
		t.Fatalf("healthz %s: %s", resp.Status, b)
	}
	// A wrong pin is refused by the device before it sends anything.
	bad, _ := tus.NewHTTPClient(strings.Repeat("ab", 32), cert)
	if _, err := bad.Get(th.url + "/healthz"); err == nil || !strings.Contains(err.Error(), "pin") {
		t.Fatalf("wrong pin: %v", err)
	}
}

type tlog struct{ t testing.TB }

func (l tlog) Write(p []byte) (int, error) { l.t.Log(strings.TrimSpace(string(p))); return len(p), nil }

// verifier is a clinician registry that knows one clinician.
type verifier struct{ known string }

func (v verifier) Verify(id string, r *protect.Recovered) (float64, bool, error) {
	if r == nil || r.Image == nil {
		return 0, false, errors.New("no recovered image")
	}
	if id == v.known {
		return 0.93, true, nil
	}
	return 0.12, false, nil
}

func TestClinicianMatch(t *testing.T) {
	dev := uplinktest.DeviceKey(t, "a")
	dir := newHubDir(t, dev)
	if _, err := hub.New(withClinicians(t, dir), hub.Options{}); err == nil || !strings.Contains(err.Error(), "clinician_store") {
		t.Fatalf("clinician_store without a registry to open it: %v", err)
	}
	th := startHub(t, dir, hub.Options{OpenClinicians: func(string) (hub.ClinicianVerifier, error) { return verifier{"dr-test"}, nil }})
	d := newDevice(t, th, dev)
	good := d.enqueue(t, seal(t, hubPub(t, dir), dev, synthetic(64, 64, 5), nil))
	p, err := (&protect.Sealer{Hub: hubPub(t, dir), Device: dev}).Protect(context.Background(), &protect.Request{
		Image: synthetic(64, 64, 6), Identity: identity(8, "dr-unknown")})
	if err != nil {
		t.Fatal(err)
	}
	bad := d.enqueue(t, p.Envelope)
	got, err := d.drain(t)
	if err != nil {
		t.Fatal(err)
	}
	if got[good].Outcome != uplink.OutcomeStored || got[bad].Outcome != uplink.OutcomeRejected || !strings.Contains(got[bad].Reason, "dr-unknown") {
		t.Fatalf("receipts %+v %+v", got[good], got[bad])
	}
	for _, r := range audit(t, th) {
		if r.MatchScore == nil {
			t.Errorf("record %s has no match score", r.EnvelopeID)
		}
	}
}

// withClinicians sets clinician_store in a hub folder's config.
func withClinicians(t *testing.T, dir string) *hub.Config {
	t.Helper()
	p := filepath.Join(dir, hub.ConfigFile)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	b = bytes.Replace(b, []byte(`"clinician_store": ""`), []byte(`"clinician_store": "clinicians"`), 1)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := hub.LoadConfig(p)
	if err != nil || cfg.ClinicianStore != "clinicians" {
		t.Fatalf("config: %+v, %v", cfg, err)
	}
	return cfg
}

// optionalSample is a shared sample's path, "" when it is absent: for tests
// that are stronger with it but meaningful without it.
func optionalSample(rel string) string {
	d := os.Getenv("EDGE_DATA")
	if d == "" {
		root, err := testenv.ModuleRoot()
		if err != nil {
			return ""
		}
		d = filepath.Join(root, "..", "shared", "data")
	}
	p := filepath.Join(d, rel)
	if _, err := os.Stat(p); err != nil {
		return ""
	}
	return p
}

func TestForwardRetriesUntilPACSConfirms(t *testing.T) {
	p := optionalSample("medical/CT_small.dcm")
	if p == "" {
		t.Skip("needs ../shared/data/medical/CT_small.dcm (set EDGE_DATA)")
	}
	im, cont, err := medimg.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	dev := uplinktest.DeviceKey(t, "a")
	dir := newHubDir(t, dev)
	fwd := &pacs{fail: true}
	th := startHub(t, dir, hub.Options{Forwarder: fwd})
	d := newDevice(t, th, dev)
	d.enqueue(t, seal(t, hubPub(t, dir), dev, im, cont))
	if _, err := d.drain(t); err != nil {
		t.Fatal(err)
	}
	if err := th.hub.ForwardPending(context.Background()); err == nil {
		t.Fatal("a failing PACS gave no error")
	}
	if r := audit(t, th)[0]; r.Forward != "pending" {
		t.Fatalf("after a failed forward: %+v", r)
	}
	fwd.mu.Lock()
	fwd.fail = false
	fwd.mu.Unlock()
	if err := th.hub.ForwardPending(context.Background()); err != nil {
		t.Fatal(err)
	}
	r := audit(t, th)[0]
	if r.Forward != "done" || r.PACSID != "instance-1" || fwd.count() != 1 {
		t.Fatalf("after the PACS came back: %+v, %d files", r, fwd.count())
	}
	orig, _ := os.ReadFile(p)
	if !bytes.Equal(fwd.got[0], orig) {
		t.Fatal("the PACS got other bytes than the original DICOM")
	}
}

func TestOversizeRefusedBeforeBody(t *testing.T) {
	dev := uplinktest.DeviceKey(t, "a")
	dir := newHubDir(t, dev)
	p := filepath.Join(dir, hub.ConfigFile)
	b, _ := os.ReadFile(p)
	b = bytes.Replace(b, []byte(`"max_envelope_bytes": 67108864`), []byte(`"max_envelope_bytes": 3000`), 1)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	th := startHub(t, dir, hub.Options{})
	d := newDevice(t, th, dev)
	env := seal(t, hubPub(t, dir), dev, synthetic(64, 64, 9), nil)
	if len(env) <= 3000 {
		t.Fatalf("test envelope is only %d bytes", len(env))
	}
	id := d.enqueue(t, env)
	got, err := d.drain(t)
	if err != nil {
		t.Fatal(err)
	}
	if r := got[id]; r == nil || r.Outcome != uplink.OutcomeRejected || !strings.Contains(r.Reason, "413") {
		t.Fatalf("receipt %+v, want a local rejection for the hub's 413", r)
	}
	if ups, _ := filepath.Glob(filepath.Join(dir, "store", "uploads", "*")); len(ups) != 0 {
		t.Fatalf("an oversize envelope created uploads: %v", ups)
	}
	if m := scrape(t, th); !strings.Contains(m, "tusd_bytes_received 0") {
		t.Fatalf("the hub read body bytes of a refused upload:\n%s", m)
	}
}
