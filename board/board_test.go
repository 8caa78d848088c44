package board

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestBuiltInProfilesLoad(t *testing.T) {
	names := Names()
	if len(names) < 3 {
		t.Fatalf("only %d profiles", len(names))
	}
	for _, n := range names {
		p, err := Load(n)
		if err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		if p.Name != n {
			t.Errorf("profile file %s names itself %q", n, p.Name)
		}
		if p.ORTLibrary != "" && p.ExecutionProviders[len(p.ExecutionProviders)-1] != "cpu" {
			t.Errorf("%s: execution providers %v do not end with cpu", n, p.ExecutionProviders)
		}
		if _, err := os.Stat(p.SystemdUnit); err != nil {
			t.Errorf("%s: systemd unit: %v", n, err)
		}
	}
}

func TestBadProfiles(t *testing.T) {
	for name, js := range map[string]string{
		"unknown field": `{"name":"x","goarch":"arm64","gpu":"yes"}`,
		"bad arch":      `{"name":"x","goarch":"mips"}`,
		"arm no goarm":  `{"name":"x","goarch":"arm"}`,
		"bad baud":      `{"name":"x","goarch":"arm64","serial":{"baud":12345}}`,
		"no providers":  `{"name":"x","goarch":"arm64","ort_library":"/x.so"}`,
		"not json":      `name=x`,
	} {
		if _, err := Parse([]byte(js)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := Load("no-such-board"); err == nil || !strings.Contains(err.Error(), "rpi4") {
		t.Errorf("unknown board error does not list the known ones: %v", err)
	}
}

func TestLoadFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "mine.json")
	os.WriteFile(p, []byte(`{"name":"mine","goarch":"arm64","serial":{"port":"/dev/ttyS3","baud":115200}}`), 0o644)
	got, err := Load(p)
	if err != nil || got.Serial.Port != "/dev/ttyS3" || got.Serial.Baud != 115200 {
		t.Fatalf("%+v %v", got, err)
	}
}
