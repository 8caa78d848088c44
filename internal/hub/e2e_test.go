package hub_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"sync"
	"syscall"
	"testing"
	"time"

	"edge/internal/hub"
	"edge/internal/hub/orthanc/orthanctest"
	"edge/internal/medimg"
	"edge/internal/protect"
	"edge/internal/testenv"
	"edge/internal/uplink"
	"edge/internal/uplink/linktest"
	"edge/internal/uplink/outbox"
	"edge/internal/uplink/tus"
)

// The end-to-end tests run the hub and the sender as child processes (this
// test binary again, whose TestMain plays the role), so that they can be
// killed with SIGKILL like a board losing power, with a real Orthanc as the
// PACS and a TCP proxy as the link.

const (
	roleEnv   = "EDGE_E2E_ROLE"
	configEnv = "EDGE_E2E_CONFIG"
	sendEnv   = "EDGE_E2E_SEND" // JSON of tus.DrainOptions' plain fields
)

// TestMain is a hub or a sender when the end-to-end tests start it with
// roleEnv set; otherwise it runs the tests.
func TestMain(m *testing.M) {
	if role := os.Getenv(roleEnv); role != "" {
		e2eChild(role)
	}
	os.Exit(m.Run())
}

func e2eChild(role string) {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	lg := slog.New(slog.NewTextHandler(os.Stderr, nil))
	var err error
	switch role {
	case "hub":
		err = hub.Run(ctx, os.Getenv(configEnv), hub.Options{Logger: lg}, nil)
	case "send":
		var so sendOpts
		if err = json.Unmarshal([]byte(os.Getenv(sendEnv)), &so); err == nil {
			o := tus.DrainOptions{Outbox: so.Outbox, Hub: so.Hub, Pin: so.Pin, DeviceKey: so.DeviceKey, Once: true, RateBits: so.RateBits, ChunkSize: so.ChunkSize}
			o.Logger = lg
			o.Backoff = uplink.Backoff{Min: 50 * time.Millisecond, Max: time.Second}
			err = tus.Drain(ctx, o)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// sendOpts are the sender child's options.
type sendOpts struct {
	Outbox, Hub, Pin, DeviceKey string
	RateBits                    int64
	ChunkSize                   int
}

// original is one sample image and the envelope made of it.
type original struct {
	name  string
	file  []byte
	image *medimg.Image
	dicom bool
	env   []byte
}

type corpus struct {
	hubKey, hubPub []byte // hub.key and hub.pub files the envelopes are sealed to
	devDir         string // device.key and device.pub
	dev            uplink.DeviceKey
	items          map[string]*original // by envelope id
}

var (
	corpusOnce sync.Once
	corpusVal  *corpus
	corpusErr  error
)

// sealCorpus protects every sample image edge protect supports, once per
// test binary run: both end-to-end tests send the same envelopes.
func sealCorpus(t testing.TB) *corpus {
	t.Helper()
	dataDir := testenv.Path(t, "medical")
	corpusOnce.Do(func() { corpusVal, corpusErr = makeCorpus(t, dataDir) })
	if corpusErr != nil {
		t.Fatal(corpusErr)
	}
	return corpusVal
}

func makeCorpus(t testing.TB, dataDir string) (*corpus, error) {
	keysDir, err := os.MkdirTemp("", "edge-e2e-keys")
	if err != nil {
		return nil, err
	}
	hk, dev, err := writeKeysTogether(keysDir, nil, false)
	if err != nil {
		return nil, err
	}
	c := &corpus{devDir: keysDir, dev: dev, items: map[string]*original{}}
	if c.hubKey, err = os.ReadFile(filepath.Join(keysDir, uplink.HubKeyFile)); err != nil {
		return nil, err
	}
	if c.hubPub, err = os.ReadFile(filepath.Join(keysDir, uplink.HubPubFile)); err != nil {
		return nil, err
	}
	// The hub key set is the hub's: nothing but the public half stays beside the device key.
	os.Remove(filepath.Join(keysDir, uplink.HubKeyFile))
	names, err := filepath.Glob(filepath.Join(dataDir, "*"))
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	s := &protect.Sealer{Hub: hk.Public(), Device: dev}
	for _, p := range names {
		im, cont, err := medimg.ReadFile(p)
		if err != nil {
			t.Logf("%s: not an image edge protect reads (%v); left out", filepath.Base(p), err)
			continue
		}
		pr, err := s.Protect(context.Background(), &protect.Request{Image: im, Container: cont, Identity: identity(11, "dr-e2e")})
		if err != nil {
			t.Logf("%s: edge protect refuses it (%v); left out", filepath.Base(p), err)
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		id := fmt.Sprintf("%x", pr.Header.ID)
		c.items[id] = &original{name: filepath.Base(p), file: b, image: im, dicom: cont != nil && cont.Format == medimg.FormatDICOM, env: pr.Envelope}
	}
	if len(c.items) < 5 {
		return nil, fmt.Errorf("only %d sample images could be protected", len(c.items))
	}
	return c, nil
}

// e2e is one run: a hub folder, its child process, Orthanc and a proxy.
type e2e struct {
	t        testing.TB
	c        *corpus
	dir      string
	cfgPath  string
	hubAddr  string
	pin      string
	orthanc  *orthanctest.Server
	proxy    *linktest.Proxy
	outbox   string
	hubCmd   *exec.Cmd
	hubDone  chan error
	logs     string
	children int
	// dicom: the hub forwards by C-STORE to Orthanc's DICOM port, not by REST.
	dicom bool
}

func newE2E(t testing.TB, c *corpus, dicom bool) *e2e {
	t.Helper()
	e := &e2e{t: t, c: c, logs: t.TempDir(), dicom: dicom}
	e.orthanc = orthanctest.Start(t)
	e.hubAddr = fmt.Sprintf("127.0.0.1:%d", freePort(t))
	e.dir = filepath.Join(t.TempDir(), "hub")
	opt := hub.InitOptions{Listen: e.hubAddr, PACSURL: e.orthanc.URL, AllowUnverifiedModels: true}
	if dicom {
		opt.PACSURL, opt.PACSDICOM = "", e.orthanc.AET+"@"+e.orthanc.DICOMAddr
	}
	pin, err := hub.Init(e.dir, opt)
	if err != nil {
		t.Fatal(err)
	}
	e.pin = pin
	// The envelopes were sealed to one hub key for both runs; this hub gets it.
	if err := os.WriteFile(filepath.Join(e.dir, uplink.HubKeyFile), c.hubKey, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(e.dir, uplink.HubPubFile), c.hubPub, 0o644); err != nil {
		t.Fatal(err)
	}
	e.cfgPath = filepath.Join(e.dir, hub.ConfigFile)
	cfg, err := hub.LoadConfig(e.cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := hub.Trust(cfg, filepath.Join(c.devDir, uplink.DevicePubFile)); err != nil {
		t.Fatal(err)
	}
	e.proxy, err = linktest.Listen("127.0.0.1:0", e.hubAddr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.proxy.Close() })
	e.outbox = filepath.Join(t.TempDir(), "outbox")
	o, err := outbox.Open(e.outbox, outbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range c.items {
		if _, err := o.Enqueue(context.Background(), it.env); err != nil {
			t.Fatal(err)
		}
	}
	o.Close()
	t.Cleanup(func() {
		if e.hubCmd != nil {
			e.hubCmd.Process.Kill()
			<-e.hubDone
		}
		if t.Failed() {
			logs, _ := filepath.Glob(filepath.Join(e.logs, "*"))
			for _, l := range logs {
				b, _ := os.ReadFile(l)
				if len(b) > 4000 {
					b = b[len(b)-4000:]
				}
				t.Logf("--- %s:\n%s", filepath.Base(l), b)
			}
		}
	})
	return e
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func (e *e2e) child(role string, extra ...string) (*exec.Cmd, chan error) {
	e.t.Helper()
	e.children++
	cmd, err := testenv.SelfCommand()
	if err != nil {
		e.t.Fatal(err)
	}
	cmd.Env = append(os.Environ(), roleEnv+"="+role)
	cmd.Env = append(cmd.Env, extra...)
	logf, err := os.Create(filepath.Join(e.logs, fmt.Sprintf("%03d-%s.log", e.children, role)))
	if err != nil {
		e.t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait(); logf.Close() }()
	return cmd, done
}

func (e *e2e) startHub() {
	e.t.Helper()
	e.hubCmd, e.hubDone = e.child("hub", configEnv+"="+e.cfgPath)
	deadline := time.Now().Add(2 * time.Minute) // Recover may restore a large image first
	for {
		c, err := net.DialTimeout("tcp", e.hubAddr, time.Second)
		if err == nil {
			c.Close()
			return
		}
		select {
		case err := <-e.hubDone:
			e.t.Fatalf("hub exited while starting: %v", err)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			e.t.Fatal("hub does not listen")
		}
	}
}

func (e *e2e) killHub() {
	e.hubCmd.Process.Signal(syscall.SIGKILL)
	<-e.hubDone
	e.hubCmd = nil
}

func (e *e2e) stopHub() {
	e.t.Helper()
	e.hubCmd.Process.Signal(syscall.SIGTERM)
	if err := <-e.hubDone; err != nil {
		e.t.Errorf("hub exit: %v", err)
	}
	e.hubCmd = nil
}

func (e *e2e) startSender(rateBits int64) (*exec.Cmd, chan error) {
	b, err := json.Marshal(sendOpts{
		Outbox: e.outbox, Hub: "https://" + e.proxy.Addr(), Pin: e.pin,
		DeviceKey: filepath.Join(e.c.devDir, uplink.DeviceKeyFile), RateBits: rateBits, ChunkSize: 64 << 10,
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return e.child("send", sendEnv+"="+string(b))
}

// health reads the hub's /healthz directly (no client certificate needed).
func (e *e2e) health() (stored, pending int, err error) {
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	resp, err := hc.Get("https://" + e.hubAddr + "/healthz")
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	var h struct {
		Stored  int `json:"stored"`
		Pending int `json:"forward_pending"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
		return 0, 0, err
	}
	return h.Stored, h.Pending, nil
}

// waitForwarded waits until the hub has stored everything and Orthanc has it.
func (e *e2e) waitForwarded() {
	e.t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for {
		s, p, err := e.health()
		if err == nil && s == len(e.c.items) && p == 0 {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("hub has %d of %d stored, %d waiting for the PACS (%v)", s, len(e.c.items), p, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// verify checks, with the hub stopped, that every envelope is stored once,
// every DICOM is in Orthanc once and identical, every PNG restored exactly.
func (e *e2e) verify() {
	t := e.t
	t.Helper()
	cfg, err := hub.LoadConfig(e.cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := hub.ReadAudit(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	stored := map[string]hub.Record{}
	outcomes := map[string]int{}
	for _, r := range recs {
		outcomes[r.Outcome]++
		if r.Outcome == uplink.OutcomeRejected {
			t.Errorf("envelope %s rejected: %s", r.EnvelopeID, r.Reason)
		}
		if r.Outcome != uplink.OutcomeStored {
			continue
		}
		if _, dup := stored[r.EnvelopeID]; dup {
			t.Errorf("envelope %s stored twice", r.EnvelopeID)
		}
		stored[r.EnvelopeID] = r
	}
	t.Logf("audit: %v", outcomes)
	ctx := context.Background()
	uids, err := e.orthanc.SOPInstanceUIDs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	dicoms := 0
	for id, it := range e.c.items {
		r, ok := stored[id]
		if !ok {
			t.Errorf("%s (envelope %s) never stored", it.name, id)
			continue
		}
		restored, _, err := medimg.ReadFile(r.Path)
		if err != nil {
			t.Errorf("%s: restored file: %v", it.name, err)
			continue
		}
		if !equalPix(restored, it.image) {
			t.Errorf("%s: restored pixels differ from the original", it.name)
		}
		if !it.dicom {
			continue
		}
		dicoms++
		if r.Forward != "done" || r.PACSID == "" {
			t.Errorf("%s: not forwarded: %+v", it.name, r)
			continue
		}
		pacsID := r.PACSID
		if e.dicom {
			// C-STORE names an instance by its SOP Instance UID.
			if pacsID, err = e.orthanc.Lookup(ctx, r.PACSID); err != nil {
				t.Errorf("%s: %v", it.name, err)
				continue
			}
		}
		got, err := e.orthanc.File(ctx, pacsID)
		if err != nil {
			t.Errorf("%s: from Orthanc: %v", it.name, err)
			continue
		}
		if e.dicom {
			// Orthanc writes its own file meta around the data set it
			// received and re-encodes sequence lengths: the pixel data must
			// be the original's byte for byte, and the attributes the same
			// once both are written with explicit lengths by dcmconv.
			if !bytes.Equal(pixelData(t, got), pixelData(t, it.file)) {
				t.Errorf("%s: Orthanc's pixel data differs from the original's", it.name)
			}
			if a, b := canonical(t, got), canonical(t, it.file); !bytes.Equal(a, b) {
				t.Errorf("%s: Orthanc's attributes differ from the original's (%d and %d canonical bytes)", it.name, len(a), len(b))
			}
			continue
		}
		// The restored file is the original byte for byte, so its pixel
		// data and every attribute are intact; Orthanc gives back what it got.
		if !bytes.Equal(got, it.file) {
			t.Errorf("%s: Orthanc holds %d bytes (sha256 %x), the original is %d (sha256 %x)",
				it.name, len(got), sha256.Sum256(got), len(it.file), sha256.Sum256(it.file))
		}
	}
	total := 0
	for uid, n := range uids {
		total += n
		if n != 1 {
			t.Errorf("SOP Instance UID %s is in Orthanc %d times", uid, n)
		}
	}
	if total != dicoms {
		t.Errorf("Orthanc holds %d instances, %d DICOM images were sent", total, dicoms)
	}
	if es := outboxEntries(t, e.outbox); es != 0 {
		t.Errorf("outbox still holds %d envelopes", es)
	}
}

func outboxEntries(t testing.TB, dir string) int {
	o, err := outbox.Open(dir, outbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	es, err := o.Entries()
	if err != nil {
		t.Fatal(err)
	}
	return len(es)
}

func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end to end with child processes and Orthanc")
	}
	c := sealCorpus(t)
	e := newE2E(t, c, true)
	e.startHub()
	_, done := e.startSender(0)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("sender: %v", err)
		}
	case <-time.After(5 * time.Minute):
		t.Fatal("sender did not finish")
	}
	e.waitForwarded()
	e.stopHub()
	e.verify()
	t.Logf("%d images, %d bytes up and %d down on the link", len(c.items), e.proxy.Up(), e.proxy.Down())
}

// bytes is the envelopes' total size.
func (c *corpus) bytes() int64 {
	var n int64
	for _, it := range c.items {
		n += int64(len(it.env))
	}
	return n
}

// TestEndToEndKilled is TestEndToEnd with the sender killed ten times and
// the hub three, at random moments, over a link cut every few seconds.
func TestEndToEndKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("end to end with child processes and Orthanc")
	}
	c := sealCorpus(t)
	e := newE2E(t, c, false)
	rnd := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 11))
	t.Logf("seed-free run; kills at random moments")
	// A link of 800 kbit/s takes about 25 s for the full sample set, and a
	// few for the small one emulated tests get. So that the ten sender kills
	// land while envelopes are on the wire, however small the set or fast
	// the machine, each comes after a random time or after a random part
	// (0.3 to 1.2 sixteenths) of the envelope bytes went up, whichever is
	// first: the ten end before three quarters of the bytes are through.
	e.proxy.RateBits = 800_000
	e.proxy.CutEvery(2*time.Second, 4*time.Second, func(n int64) int64 { return rnd.Int64N(n) })
	step := c.bytes() / 16
	e.startHub()
	senderKills, hubKills := 0, 0
	cmd, done := e.startSender(0)
	deadline := time.Now().Add(8 * time.Minute)
kills:
	for {
		if time.Now().After(deadline) {
			t.Fatalf("not drained after %d sender and %d hub kills", senderKills, hubKills)
		}
		timer := time.NewTimer(time.Duration(200+rnd.IntN(1300)) * time.Millisecond)
		next := e.proxy.Up() + step*int64(3+rnd.IntN(10))/10
		poll := time.NewTicker(20 * time.Millisecond)
	wait:
		for {
			select {
			case err := <-done:
				timer.Stop()
				poll.Stop()
				var ee *exec.ExitError
				if err == nil && senderKills >= 10 && hubKills >= 3 {
					goto drained
				}
				if err != nil && !errors.As(err, &ee) {
					t.Fatal(err)
				}
				if err == nil && outboxEntries(t, e.outbox) == 0 {
					t.Fatalf("drained after only %d sender and %d hub kills", senderKills, hubKills)
				}
				// Gave up on a dead hub: a device's service manager starts
				// it again.
				cmd, done = e.startSender(0)
				continue kills
			case <-poll.C:
				if e.proxy.Up() < next {
					continue
				}
			case <-timer.C:
			}
			break wait
		}
		timer.Stop()
		poll.Stop()
		if senderKills < 10 {
			cmd.Process.Signal(syscall.SIGKILL)
			<-done
			senderKills++
			if senderKills%3 == 2 && hubKills < 3 {
				e.killHub()
				hubKills++
				e.startHub()
			}
			cmd, done = e.startSender(0)
		}
	}
drained:
	e.waitForwarded()
	e.stopHub()
	e.verify()
	t.Logf("%d images; sender killed %d times, hub %d times, link cut %d times; %d bytes up, %d down",
		len(c.items), senderKills, hubKills, e.proxy.Cuts(), e.proxy.Up(), e.proxy.Down())
}
