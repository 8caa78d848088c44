package main

import (
	"path/filepath"
	"testing"

	"edge/internal/hub"
)

// TestHubInitPACS writes either PACS flag into hub.json, and refuses both.
func TestHubInitPACS(t *testing.T) {
	dicom := filepath.Join(t.TempDir(), "hub")
	if code, _, errs := runUplinkCLI("hub", "init", "--dir", dicom, "--pacs-dicom", "PACS@127.0.0.1:104"); code != 0 {
		t.Fatalf("--pacs-dicom: exit %d: %s", code, errs)
	}
	c, err := hub.LoadConfig(filepath.Join(dicom, hub.ConfigFile))
	if err != nil || c.PACS.DICOMAddress != "127.0.0.1:104" || c.PACS.CalledAE != "PACS" || c.PACS.OrthancURL != "" {
		t.Fatalf("config %+v, %v", c, err)
	}
	rest := filepath.Join(t.TempDir(), "hub")
	if code, _, errs := runUplinkCLI("hub", "init", "--dir", rest, "--pacs-url", "http://127.0.0.1:8042"); code != 0 {
		t.Fatalf("--pacs-url: exit %d: %s", code, errs)
	}
	if c, err = hub.LoadConfig(filepath.Join(rest, hub.ConfigFile)); err != nil || c.PACS.OrthancURL != "http://127.0.0.1:8042" || c.PACS.DICOMAddress != "" {
		t.Fatalf("config %+v, %v", c, err)
	}
	both := filepath.Join(t.TempDir(), "hub")
	if code, _, _ := runUplinkCLI("hub", "init", "--dir", both, "--pacs-url", "http://x", "--pacs-dicom", "P@x:104"); code != 1 {
		t.Fatalf("both flags: exit %d, want 1", code)
	}
}
