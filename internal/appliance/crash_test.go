package appliance_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"edge/internal/appliance"
	"edge/internal/medimg"
	"edge/internal/testenv"
)

const childEnv = "EDGE_APPLIANCE_CHILD" // config path; the addresses go to that path + ".addrs"

// TestMain is edge run in a child process for TestKill9, which kills it
// like a board losing power, when started with childEnv set; otherwise it
// runs the tests.
func TestMain(m *testing.M) {
	if cfg := os.Getenv(childEnv); cfg != "" {
		applianceChild(cfg)
	}
	os.Exit(m.Run())
}

func applianceChild(cfg string) {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	err := appliance.Run(ctx, cfg, appliance.Options{
		Extractor: blockExtractor{}, Poll: 50 * time.Millisecond,
		Ready: func(a appliance.Addrs) {
			b, _ := json.Marshal(a)
			os.WriteFile(cfg+".addrs.tmp", b, 0o600)
			os.Rename(cfg+".addrs.tmp", cfg+".addrs")
		},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// TestKill9 sends sample DICOMs with storescu into edge run while killing it
// with SIGKILL at random moments and starting it again, each time with
// nobody logged in until the sensor's finger logs the clinician in. A
// C-STORE that failed (the appliance died under it) is sent again, as a
// modality does. In the end every image is at the hub exactly once,
// restored exactly.
func TestKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("kills and restarts the appliance for a minute")
	}
	data := testenv.Path(t, "medical")
	storescu := testenv.Tool(t, "storescu", "dcmtk")
	work := t.TempDir()
	th := startHub(t, filepath.Join(work, "hub"), filepath.Join(work, "keys"))
	enroll(t, filepath.Join(work, "templates"), "dr.k", synth(9))
	startSim(t, filepath.Join(work, "sensor"), synth(9))
	cfgPath := filepath.Join(work, "edge.json")
	writeJSON(t, cfgPath, map[string]any{
		"state_dir": "state", "keys": "keys", "store": "templates",
		"sensor":   map[string]any{"port": "sensor"},
		"modality": map[string]any{"listen": "127.0.0.1:0"},
		"uplink":   map[string]any{"hub": th.url, "pin": th.pin},
		"status":   map[string]any{"listen": "127.0.0.1:0"},
		"log":      map[string]any{"level": "warn"},
	})
	var child *exec.Cmd
	var logs syncBuffer
	start := func() string {
		t.Helper()
		os.Remove(cfgPath + ".addrs")
		c, err := testenv.SelfCommand()
		if err != nil {
			t.Fatal(err)
		}
		child = c
		child.Env = append(os.Environ(), childEnv+"="+cfgPath)
		child.Stderr = &logs
		if err := child.Start(); err != nil {
			t.Fatal(err)
		}
		var a appliance.Addrs
		waitFor(t, 30*time.Second, "the child to listen", func() bool {
			b, err := os.ReadFile(cfgPath + ".addrs")
			return err == nil && json.Unmarshal(b, &a) == nil
		})
		return a.DICOM
	}
	kill := func() {
		child.Process.Kill()
		child.Wait()
	}
	defer func() {
		if child != nil && child.Process != nil && child.ProcessState == nil {
			kill()
		}
		if t.Failed() {
			t.Logf("child logs:\n%s", logs.String())
		}
	}()

	names := []string{"CT_small.dcm", "MR_small.dcm", "pet-1.dcm", "mr-brain-0051.dcm", "US1_UNCR.dcm", "MR2_UNCR.dcm"}
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 1))
	t.Logf("kill moments from seed %d", seed)
	addr := start()
	kills, tries := 0, 0
	for _, n := range names {
		for {
			tries++
			// Kill somewhere in the next 0–1.5 s, or not at all this time.
			killIn := time.Duration(rng.IntN(1500)) * time.Millisecond
			killed := make(chan bool, 1)
			doKill := rng.IntN(3) > 0 && kills < 8
			var timer *time.Timer
			if doKill {
				timer = time.AfterFunc(killIn, func() { kill(); killed <- true })
			}
			_, port, _ := strings.Cut(addr, ":")
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			out, err := exec.CommandContext(ctx, storescu, "-aec", "EDGE", "-aet", "MODALITY", "127.0.0.1", port, filepath.Join(data, n)).CombinedOutput()
			cancel()
			ok := err == nil && !strings.Contains(string(out), "E:")
			if timer != nil && timer.Stop() {
				doKill = false
			}
			if doKill {
				<-killed
				kills++
				addr = start()
			}
			if ok {
				break
			}
		}
	}
	// A last crash with everything possibly still in the outbox, then a
	// clean run to the end.
	kill()
	kills++
	start()
	waitFor(t, 3*time.Minute, "every image at the hub", func() bool { return len(th.stored(t)) >= len(names) })
	time.Sleep(time.Second) // a duplicate would land now
	child.Process.Signal(syscall.SIGTERM)
	if err := child.Wait(); err != nil {
		t.Errorf("child after SIGTERM: %v", err)
	}
	t.Logf("%d kills over %d sends", kills, tries)
	recs := th.stored(t)
	seen := map[string]int{}
	for _, r := range recs {
		im, _, err := medimg.ReadFile(r.Path)
		if err != nil {
			t.Fatal(err)
		}
		seen[pixelKey(im)]++
		if r.ClinicianID != "dr.k" {
			t.Errorf("%s carries %q", r.EnvelopeID, r.ClinicianID)
		}
	}
	for _, n := range names {
		im, _, err := medimg.ReadFile(filepath.Join(data, n))
		if err != nil {
			t.Fatal(err)
		}
		if c := seen[pixelKey(im)]; c != 1 {
			t.Errorf("%s reached the hub %d times, want exactly once", n, c)
		}
	}
	if len(recs) != len(names) {
		t.Errorf("hub stored %d images, want %d", len(recs), len(names))
	}
}
