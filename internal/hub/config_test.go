package hub

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestInitWritesWorkingConfig(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "h")
	pin, err := Init(dir, InitOptions{Listen: "127.0.0.1:9999", PACSURL: "http://127.0.0.1:8042"})
	if err != nil {
		t.Fatal(err)
	}
	if len(pin) != 64 {
		t.Fatalf("pin %q", pin)
	}
	c, err := LoadConfig(filepath.Join(dir, ConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != "127.0.0.1:9999" || c.PACS.OrthancURL != "http://127.0.0.1:8042" || c.Limits.MaxSamples != DefaultMaxSamples {
		t.Fatalf("config %+v", c)
	}
	if got, err := Pin(c); err != nil || got != pin {
		t.Fatalf("pin of the written certificate %q, %v; init printed %q", got, err, pin)
	}
	for _, f := range []string{"hub.key", "tls.key"} {
		st, err := os.Stat(filepath.Join(dir, f))
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v %v", f, st.Mode(), err)
		}
	}
	// Every key of the struct is in the file, so the file shows them all.
	b, _ := os.ReadFile(filepath.Join(dir, ConfigFile))
	for _, k := range []string{"listen", "tls_cert", "tls_key", "hub_key", "trusted_dir", "store", "clinician_store",
		"orthanc_url", "username", "password", "dicom_address", "called_ae", "calling_ae", "connect_timeout_seconds",
		"retry_max_seconds", "request_timeout_seconds",
		"max_envelope_bytes", "max_body_bytes", "max_dicom_bytes", "max_samples"} {
		if !strings.Contains(string(b), `"`+k+`"`) {
			t.Errorf("hub.json lacks %q", k)
		}
	}
	if _, err := Init(dir, InitOptions{}); err == nil {
		t.Fatal("a second init over the same folder was allowed")
	}
	if lim := c.UplinkLimits(); lim.MaxSamples != DefaultMaxSamples || lim.MaxEnvelope != DefaultMaxEnvelopeBytes {
		t.Fatalf("limits %+v", lim)
	}
}

func TestInitDICOMPACS(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "h")
	if _, err := Init(dir, InitOptions{PACSDICOM: "PACS_1@pacs.example:104"}); err != nil {
		t.Fatal(err)
	}
	c, err := LoadConfig(filepath.Join(dir, ConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	p := c.PACS
	if p.DICOMAddress != "pacs.example:104" || p.CalledAE != "PACS_1" || p.CallingAE != DefaultCallingAE || p.OrthancURL != "" ||
		p.ConnectTimeoutSec != DefaultConnectTimeout {
		t.Fatalf("pacs %+v", p)
	}
	for _, bad := range []InitOptions{
		{PACSDICOM: "pacs.example:104"},
		{PACSDICOM: "@pacs.example:104"},
		{PACSDICOM: "PACS@pacs.example"},
		{PACSDICOM: "PACS@pacs.example:104", PACSURL: "http://127.0.0.1:8042"},
	} {
		if _, err := Init(filepath.Join(t.TempDir(), "h"), bad); err == nil {
			t.Errorf("init accepted %+v", bad)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	good := `{"listen":"x:1","tls_cert":"a","tls_key":"b","hub_key":"c","trusted_dir":"d","store":"e","clinician_store":"",
"pacs":{"orthanc_url":"","username":"","password":"","retry_max_seconds":5,"request_timeout_seconds":5},
"limits":{"max_envelope_bytes":100,"max_body_bytes":100,"max_dicom_bytes":100,"max_samples":100}}`
	if _, err := ParseConfig([]byte(good)); err != nil {
		t.Fatalf("good config: %v", err)
	}
	for _, tc := range []struct{ name, cfg, want string }{
		{"unknown top key", strings.Replace(good, `"store":"e"`, `"store":"e","stroe":"f"`, 1), `"stroe"`},
		{"unknown nested key", strings.Replace(good, `"max_samples":100`, `"max_samples":100,"max_sample":1`, 1), `"max_sample"`},
		{"empty listen", strings.Replace(good, `"listen":"x:1"`, `"listen":""`, 1), `"listen"`},
		{"zero limit", strings.Replace(good, `"max_samples":100`, `"max_samples":0`, 1), `limits.max_samples`},
		{"limit above format", strings.Replace(good, `"max_envelope_bytes":100`, `"max_envelope_bytes":999999999999`, 1), `max_envelope_bytes`},
		{"bad pacs url", strings.Replace(good, `"orthanc_url":""`, `"orthanc_url":"ftp://x"`, 1), `pacs.orthanc_url`},
		{"trailing data", good + "{}", "after"},
		{"both pacs", strings.Replace(good, `"orthanc_url":""`, `"orthanc_url":"http://x","dicom_address":"x:104","called_ae":"P"`, 1), `both`},
		{"dicom address", strings.Replace(good, `"orthanc_url":""`, `"dicom_address":"x","called_ae":"P"`, 1), `pacs.dicom_address`},
		{"dicom port", strings.Replace(good, `"orthanc_url":""`, `"dicom_address":"x:0","called_ae":"P"`, 1), `pacs.dicom_address`},
		{"no called ae", strings.Replace(good, `"orthanc_url":""`, `"dicom_address":"x:104","calling_ae":"H"`, 1), `pacs.called_ae`},
		{"long calling ae", strings.Replace(good, `"orthanc_url":""`, `"dicom_address":"x:104","called_ae":"P","calling_ae":"ABCDEFGHIJKLMNOPQ"`, 1), `pacs.calling_ae`},
		{"backslash ae", strings.Replace(good, `"orthanc_url":""`, `"dicom_address":"x:104","called_ae":"P\\\\Q","calling_ae":"H"`, 1), `pacs.called_ae`},
		{"negative connect", strings.Replace(good, `"orthanc_url":""`, `"connect_timeout_seconds":-1`, 1), `pacs.connect_timeout_seconds`},
		{"wrong type", strings.Replace(good, `"listen":"x:1"`, `"listen":1`, 1), "listen"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseConfig([]byte(tc.cfg))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error naming %s", err, tc.want)
			}
		})
	}
}

func TestParseUploadMeta(t *testing.T) {
	dev := "0123456789abcdef"
	env := strings.Repeat("ab", 16)
	ok := "envelope_id " + b64(env) + ",device_id " + b64(dev)
	m, err := parseUploadMeta(ok, dev)
	if err != nil || m.EnvelopeID != env || m.DeviceID != dev {
		t.Fatalf("%+v, %v", m, err)
	}
	for _, tc := range []struct{ name, h string }{
		{"other device", "envelope_id " + b64(env) + ",device_id " + b64("fedcba9876543210")},
		{"extra key", ok + ",filename " + b64("x")},
		{"repeated key", "envelope_id " + b64(env) + ",envelope_id " + b64(env)},
		{"upper hex", "envelope_id " + b64(strings.ToUpper(env)) + ",device_id " + b64(dev)},
		{"zero id", "envelope_id " + b64(strings.Repeat("0", 32)) + ",device_id " + b64(dev)},
		{"short id", "envelope_id " + b64("abcd") + ",device_id " + b64(dev)},
		{"not base64", "envelope_id !!!,device_id " + b64(dev)},
		{"empty", ""},
		{"huge", strings.Repeat("a", 10000)},
	} {
		if _, err := parseUploadMeta(tc.h, dev); err == nil {
			t.Errorf("%s: accepted", tc.name)
		}
	}
}
