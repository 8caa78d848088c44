package board

import (
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
)

func TestBuiltInProfilesLoad(t *testing.T) {
	names := Names()
	for _, want := range []string{"rpi5", "rpi4", "jetson-orin", "imx8mp", "rpi3-armv7", "x86-64"} {
		if _, err := Raw(want); err != nil {
			t.Errorf("no %s profile: %v", want, err)
		}
	}
	for _, n := range names {
		p, err := Load(n)
		if err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		if p.Name != n {
			t.Errorf("profile file %s names itself %q", n, p.Name)
		}
		if p.ORTLibrary != "" {
			if eps := p.ExecutionProviders; eps[len(eps)-1] != "cpu" {
				t.Errorf("%s: execution providers %v do not end with cpu", n, eps)
			}
			if p.Install.Model == "" {
				t.Errorf("%s: infers but installs no model", n)
			}
		} else if p.Install.Model != "" {
			t.Errorf("%s: installs a model %s it has no runtime for", n, p.Install.Model)
		}
		if p.MemoryMiB == 0 || p.Serial.Baud == 0 || p.Install.Binary == "" || p.Install.Config == "" ||
			p.Install.Profile == "" || p.Install.State == "" || p.Install.Unit == "" {
			t.Errorf("%s: a built-in profile leaves a setting empty: %+v", n, p)
		}
		if path.Base(p.Install.Unit) != "edge.service" {
			t.Errorf("%s: unit installed as %s, the service is called edge.service", n, p.Install.Unit)
		}
		u, err := Unit(p.SystemdUnit)
		if err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		if err := p.CheckUnit(u); err != nil {
			t.Errorf("%s: %v", n, err)
		}
	}
}

// The limits are what the board's memory holds at protect's measured peak,
// and a 16-bit image at the sample limit fits in the byte limit.
func TestImageLimitsFitMemory(t *testing.T) {
	for _, n := range Names() {
		p, _ := Load(n)
		l := p.Limits()
		if l != p.Images {
			t.Errorf("%s: Limits() %+v differ from the profile's %+v", n, l, p.Images)
		}
		free := int64(p.MemoryMiB-p.ReservedMiB()) << 20
		if l.MaxSamples <= 0 || l.MaxSamples*PeakBytesPerSample > free {
			t.Errorf("%s: %d samples need %d MiB at the peak, %d MiB are free", n, l.MaxSamples, l.MaxSamples*PeakBytesPerSample>>20, free>>20)
		}
		if l.MaxBytes < 2*l.MaxSamples || l.MaxBytes > free/4 {
			t.Errorf("%s: max_bytes %d for %d samples", n, l.MaxBytes, l.MaxSamples)
		}
		// A 1024×1024 CT slice is the least a board must take.
		if l.MaxSamples < 1024*1024 {
			t.Errorf("%s: %d samples is less than one CT slice", n, l.MaxSamples)
		}
	}
	p := &Profile{Name: "x", GOARCH: "arm64", MemoryMiB: 1024}
	if l := p.Limits(); l.MaxSamples != (1024-256)<<20/PeakBytesPerSample || l.MaxBytes != 2*l.MaxSamples+1<<20 {
		t.Errorf("limits from memory: %+v", l)
	}
	if l := (&Profile{Name: "x"}).Limits(); l != (ImageLimits{}) {
		t.Errorf("no memory, no limits: %+v", l)
	}
}

func TestBadProfiles(t *testing.T) {
	for name, c := range map[string]struct{ js, want string }{
		"unknown key":        {`{"name":"x","goarch":"arm64","gpu":"yes"}`, `"gpu"`},
		"unknown nested key": {`{"name":"x","goarch":"arm64","serial":{"parity":"even"}}`, `"parity"`},
		"unknown install":    {`{"name":"x","goarch":"arm64","install":{"lib":"/opt"}}`, `"lib"`},
		"bad arch":           {`{"name":"x","goarch":"mips"}`, `"mips"`},
		"arm no goarm":       {`{"name":"x","goarch":"arm"}`, "goarm"},
		"goarm on arm64":     {`{"name":"x","goarch":"arm64","goarm":"7"}`, "goarm"},
		"bad baud":           {`{"name":"x","goarch":"arm64","serial":{"baud":12345}}`, "12345"},
		"no providers":       {`{"name":"x","goarch":"arm64","ort_library":"/x.so"}`, "no execution providers"},
		"providers, no lib":  {`{"name":"x","goarch":"arm64","execution_providers":["cpu"]}`, "no ONNX Runtime library"},
		"relative lib":       {`{"name":"x","goarch":"arm64","ort_library":"lib/x.so","execution_providers":["cpu"]}`, "absolute"},
		"relative install":   {`{"name":"x","goarch":"arm64","install":{"binary":"bin/edge"}}`, "install.binary"},
		"unclean install":    {`{"name":"x","goarch":"arm64","install":{"state":"/var/lib/../edge"}}`, "install.state"},
		"negative limits":    {`{"name":"x","goarch":"arm64","image_limits":{"max_samples":-1}}`, "image limits"},
		"wrong type":         {`{"name":"x","goarch":"arm64","memory_mib":"lots"}`, "memory_mib"},
		"no name":            {`{"goarch":"arm64"}`, "without a name"},
		"two objects":        {`{"name":"x","goarch":"arm64"}{}`, "more after"},
		"not json":           {`name=x`, "profile"},
	} {
		_, err := Parse([]byte(c.js))
		if err == nil {
			t.Errorf("%s: accepted", name)
		} else if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %q does not say %q", name, err, c.want)
		}
	}
	if _, err := Load("no-such-board"); err == nil || !strings.Contains(err.Error(), "rpi5") {
		t.Errorf("unknown board error does not list the known ones: %v", err)
	}
	big := filepath.Join(t.TempDir(), "big.json")
	if err := os.WriteFile(big, []byte(`{"name":"x","description":"`+strings.Repeat("a", maxProfile)+`","goarch":"arm64"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(big); err == nil || !strings.Contains(err.Error(), "more than") {
		t.Errorf("oversized profile: %v", err)
	}
	if _, err := Unit("../profiles/rpi5.json"); err == nil {
		t.Error("Unit read a file that is not a unit")
	}
	if _, err := Unit("nosuch.service"); err == nil {
		t.Error("Unit found a unit that does not exist")
	}
}

func TestLoadFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "mine.json")
	if err := os.WriteFile(p, []byte(`{"name":"mine","goarch":"arm64","serial":{"port":"/dev/ttyS3","baud":115200}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := Load(p)
	if err != nil || got.Serial.Port != "/dev/ttyS3" || got.Serial.Baud != 115200 {
		t.Fatalf("%+v %v", got, err)
	}
	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(bad, []byte(`{"name":"bad","goarch":"arm64","serail":{}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(bad); err == nil || !strings.Contains(err.Error(), `"serail"`) || !strings.Contains(err.Error(), bad) {
		t.Errorf("misspelt key in a file: %v", err)
	}
}

func TestCheckUnitCatchesDisagreement(t *testing.T) {
	p, err := Load("rpi5")
	if err != nil {
		t.Fatal(err)
	}
	u, err := Unit(p.SystemdUnit)
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct{ from, to, want string }{
		"other binary":  {"ExecStart=/opt/edge/bin/edge", "ExecStart=/usr/bin/edge", "installs the binary"},
		"other config":  {"--config /etc/edge/edge.json", "--config /etc/edge.json", "--config"},
		"other state":   {"WorkingDirectory=/var/lib/edge", "WorkingDirectory=/srv/edge", "state"},
		"state dir":     {"StateDirectory=edge", "StateDirectory=edge2", "StateDirectory"},
		"library path":  {"LD_LIBRARY_PATH=/opt/edge/lib", "LD_LIBRARY_PATH=/usr/lib", "LD_LIBRARY_PATH"},
		"no gpio group": {"SupplementaryGroups=dialout gpio", "SupplementaryGroups=dialout", "gpio"},
		"no dialout":    {"SupplementaryGroups=dialout gpio", "SupplementaryGroups=gpio", "dialout"},
		"not key=value": {"Restart=on-failure", "Restart on-failure", "KEY=VALUE"},
	} {
		bad := strings.Replace(string(u), c.from, c.to, 1)
		if bad == string(u) {
			t.Fatalf("%s: %q not in the unit", name, c.from)
		}
		if err := p.CheckUnit([]byte(bad)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v", name, err)
		}
	}
}
