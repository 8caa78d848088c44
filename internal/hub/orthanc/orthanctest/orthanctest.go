// Package orthanctest starts a real Orthanc (Debian's orthanc package) for
// tests: its own config, storage and loopback ports, no plugins.
package orthanctest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Server is a running Orthanc: its REST API at URL, and its DICOM storage
// service at DICOMAddr, which checks that the called AE title is AET.
type Server struct {
	URL       string
	DICOMAddr string
	AET       string
	cmd       *exec.Cmd
}

// AET is the AE title the test Orthanc answers to.
const AET = "ORTHANC"

// Start runs Orthanc in a temporary folder, or skips the test when the
// binary is not installed. It is stopped when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := exec.LookPath("Orthanc")
	if err != nil {
		t.Skip("Orthanc is not installed (apt-get install orthanc; scripts/install-deps.sh)")
	}
	dir := t.TempDir()
	httpPort, dicomPort := freePort(t), freePort(t)
	cfg := map[string]any{
		"Name":                  "edge-test",
		"StorageDirectory":      filepath.Join(dir, "db"),
		"IndexDirectory":        filepath.Join(dir, "db"),
		"HttpPort":              httpPort,
		"DicomPort":             dicomPort,
		"RemoteAccessAllowed":   false,
		"AuthenticationEnabled": false,
		"Plugins":               []string{},
		"StorageCompression":    false,
		"HttpServerEnabled":     true,
		"DicomServerEnabled":    true,
		"DicomAet":              AET,
		"DicomCheckCalledAet":   true,
		// Any calling AE may store, as a PACS that knows the hub would let it.
		"DicomAlwaysAllowStore": true,
	}
	b, _ := json.Marshal(cfg)
	cfgPath := filepath.Join(dir, "orthanc.json")
	if err := os.WriteFile(cfgPath, b, 0o600); err != nil {
		t.Fatal(err)
	}
	logf, err := os.Create(filepath.Join(dir, "orthanc.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, cfgPath)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &Server{URL: fmt.Sprintf("http://127.0.0.1:%d", httpPort), DICOMAddr: fmt.Sprintf("127.0.0.1:%d", dicomPort), AET: AET, cmd: cmd}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		logf.Close()
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := s.Get(context.Background(), "/system"); err == nil {
			if c, err := net.Dial("tcp", s.DICOMAddr); err == nil {
				c.Close()
				return s
			}
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(logf.Name())
			t.Fatalf("Orthanc did not answer on %s:\n%s", s.URL, log)
		}
		time.Sleep(50 * time.Millisecond)
	}
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

// Get returns the body of a GET on path, an error for any status but 200.
func (s *Server) Get(ctx context.Context, path string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+path, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s: %s", path, resp.Status, strings.TrimSpace(string(b)))
	}
	return b, nil
}

// Instances returns Orthanc's instance ids.
func (s *Server) Instances(ctx context.Context) ([]string, error) {
	b, err := s.Get(ctx, "/instances")
	if err != nil {
		return nil, err
	}
	var ids []string
	return ids, json.Unmarshal(b, &ids)
}

// SOPInstanceUIDs counts the instances by SOP Instance UID.
func (s *Server) SOPInstanceUIDs(ctx context.Context) (map[string]int, error) {
	ids, err := s.Instances(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]int{}
	for _, id := range ids {
		b, err := s.Get(ctx, "/instances/"+id)
		if err != nil {
			return nil, err
		}
		var v struct {
			MainDicomTags struct{ SOPInstanceUID string }
		}
		if err := json.Unmarshal(b, &v); err != nil {
			return nil, err
		}
		out[v.MainDicomTags.SOPInstanceUID]++
	}
	return out, nil
}

// File returns the DICOM file Orthanc keeps for an instance.
func (s *Server) File(ctx context.Context, id string) ([]byte, error) {
	return s.Get(ctx, "/instances/"+id+"/file")
}

// Lookup returns the id of the instance with a SOP Instance UID, an error
// when Orthanc has none or more than one.
func (s *Server) Lookup(ctx context.Context, sopInstanceUID string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL+"/tools/lookup", strings.NewReader(sopInstanceUID))
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var found []struct{ ID, Type string }
	if err := json.NewDecoder(resp.Body).Decode(&found); err != nil {
		return "", fmt.Errorf("lookup %s: %s: %w", sopInstanceUID, resp.Status, err)
	}
	var ids []string
	for _, f := range found {
		if f.Type == "Instance" {
			ids = append(ids, f.ID)
		}
	}
	if len(ids) != 1 {
		return "", fmt.Errorf("lookup %s: %d instances", sopInstanceUID, len(ids))
	}
	return ids[0], nil
}
