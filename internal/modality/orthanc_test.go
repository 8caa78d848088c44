package modality

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"edge/internal/medimg"
)

// orthanc runs Debian's Orthanc as a second real C-STORE requester, with its
// own ports and storage, sending to the provider under test.
type orthanc struct {
	http string
}

func startOrthanc(t *testing.T, scpPort string) *orthanc {
	t.Helper()
	bin := needTool(t, "Orthanc")
	dir := t.TempDir()
	httpPort, dicomPort := freePort(t), freePort(t)
	cfg := map[string]any{
		"Name": "edge-test", "StorageDirectory": filepath.Join(dir, "db"), "IndexDirectory": filepath.Join(dir, "db"),
		"HttpPort": mustAtoi(httpPort), "DicomPort": mustAtoi(dicomPort), "DicomAet": "ORTHANC",
		"RemoteAccessAllowed": false, "AuthenticationEnabled": false, "Plugins": []string{},
		"DicomModalities": map[string]any{"edge": []any{testAE, "127.0.0.1", mustAtoi(scpPort)}},
	}
	b, _ := json.Marshal(cfg)
	cf := filepath.Join(dir, "orthanc.json")
	os.WriteFile(cf, b, 0o644)
	cmd := exec.Command(bin, cf)
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("Orthanc log:\n%s", log.String())
		}
	})
	o := &orthanc{http: "http://127.0.0.1:" + httpPort}
	deadline := time.Now().Add(20 * time.Second)
	for {
		if r, err := http.Get(o.http + "/system"); err == nil {
			r.Body.Close()
			if r.StatusCode == 200 {
				return o
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("Orthanc did not start")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func mustAtoi(s string) int {
	var n int
	fmt.Sscan(s, &n)
	return n
}

func (o *orthanc) post(t *testing.T, path string, body []byte) (int, []byte) {
	t.Helper()
	r, err := http.Post(o.http+path, "application/octet-stream", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	return r.StatusCode, b
}

// upload gives Orthanc a file and returns its instance ID.
func (o *orthanc) upload(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	code, resp := o.post(t, "/instances", b)
	var r struct{ ID string }
	if code != 200 || json.Unmarshal(resp, &r) != nil || r.ID == "" {
		t.Fatalf("upload %s: %d %s", path, code, resp)
	}
	return r.ID
}

func TestOrthancStores(t *testing.T) {
	supported, _ := sampleFiles(t)
	ts := startServer(t, nil, nil)
	o := startOrthanc(t, ts.port)
	var ids []string
	for _, p := range supported {
		ids = append(ids, o.upload(t, p))
	}
	body, _ := json.Marshal(map[string]any{"Resources": ids, "Synchronous": true})
	if code, resp := o.post(t, "/modalities/edge/store", body); code != 200 {
		t.Fatalf("Orthanc C-STORE: %d %s", code, resp)
	}
	for _, p := range supported {
		got := filepath.Join(ts.out, FileName(fileMeta(t, p).SOPInstanceUID))
		if d0, d1 := dump(t, p), dump(t, got); d0 != d1 {
			t.Errorf("%s: dcmdump differs after Orthanc sent it:\n%s", filepath.Base(p), firstDiff(d0, d1))
		}
		im0, _, err0 := medimg.ReadFile(p)
		im1, _, err1 := medimg.ReadFile(got)
		if err0 == nil && (err1 != nil || !slices.Equal(im0.Pix, im1.Pix)) {
			t.Errorf("%s: pixels differ or unreadable: %v", filepath.Base(p), err1)
		}
	}
	if !strings.Contains(ts.logs.String(), "calling_ae=ORTHANC") {
		t.Error("log does not name Orthanc's AE")
	}
}

func TestOrthancSeesConsumerFailure(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "x.dcm")
	synthObject(t, p, secondaryCapture, "1.2.3.19.1", 10000)
	ts := startServer(t, nil, failingStore{fmt.Errorf("outbox full: %w", ErrOutOfResources)})
	o := startOrthanc(t, ts.port)
	id := o.upload(t, p)
	body, _ := json.Marshal(map[string]any{"Resources": []string{id}, "Synchronous": true})
	code, resp := o.post(t, "/modalities/edge/store", body)
	if code == 200 || !bytes.Contains(resp, []byte("DIMSE status 0xA700")) {
		t.Fatalf("Orthanc does not report the A700 failure: %d %s", code, resp)
	}
}
