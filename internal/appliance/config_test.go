package appliance

import (
	"strings"
	"testing"
	"time"
)

const minimal = `{"state_dir": "/var/lib/edge", "keys": "/var/lib/edge/keys", "store": "/var/lib/edge/templates"`

func TestConfigUnknownKeyNamed(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{minimal + `, "idle": 5}`, `unknown key "idle"`},
		{minimal + `, "session": {"idle_timeout": 5}}`, `unknown key "idle_timeout"`},
		{minimal + `, "uplink": {"hub": "http://x:1", "pin": "p"}}`, "not https"},
		{minimal + `, "uplink": {"hub": "https://x:1"}}`, "go together"},
		{minimal + `, "status": {"listen": "0.0.0.0:8080"}}`, "status.password"},
		{minimal + `, "scheme": "v9"}`, `unknown scheme "v9"`},
		{minimal + `, "sensor": {"address": "zz"}}`, "sensor.address"},
		{minimal + `, "sensor": {"max_baud": 100000}}`, "sensor.max_baud"},
		{minimal + `, "clock": {"not_before": "soon"}}`, "clock.not_before"},
		{minimal + `, "modality": {"allow_sources": ["nowhere"]}}`, "allow_sources"},
		{`{"keys": "k", "store": "s"}`, "state_dir"},
		{minimal + `} {}`, "more than one"},
	} {
		t.Setenv("STATE_DIRECTORY", "")
		_, err := ParseConfig([]byte(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.in, err, tc.want)
		}
	}
}

func TestConfigMaxBaud(t *testing.T) {
	t.Setenv("STATE_DIRECTORY", "")
	c, err := ParseConfig([]byte(minimal + `, "sensor": {"max_baud": 921600}}`))
	if err != nil || c.Sensor.MaxBaud != 921600 {
		t.Fatalf("sensor.max_baud 921600: %+v, %v", c.Sensor, err)
	}
}

func TestConfigDefaults(t *testing.T) {
	c, err := ParseConfig([]byte(minimal + `}`))
	if err != nil {
		t.Fatal(err)
	}
	if c.DeviceKey != "/var/lib/edge/keys/device.key" || c.HubPub != "/var/lib/edge/keys/hub.pub" ||
		c.Modality.Listen != DefaultModality || c.Status.Listen != DefaultStatusListen || c.IdleTimeout() != DefaultIdleTimeout ||
		c.Scheme != "v1" || c.Uplink.Hub != "" {
		t.Errorf("defaults: %+v", c)
	}
	t.Setenv("STATE_DIRECTORY", "/run/state")
	c, err = ParseConfig([]byte(`{"keys": "k", "store": "s", "status": {"listen": "[::1]:0"}, "session": {"idle_timeout_seconds": 30}}`))
	if err != nil {
		t.Fatal(err)
	}
	if c.StateDir != "/run/state" || c.IdleTimeout() != 30*time.Second {
		t.Errorf("state dir %q, idle %v", c.StateDir, c.IdleTimeout())
	}
}

func TestLogUnderJournald(t *testing.T) {
	c, err := ParseConfig([]byte(minimal + `}`))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	t.Setenv("JOURNAL_STREAM", "8:1234")
	newLogger(c, &b).Info("appliance: hello", "k", 1)
	if got := b.String(); strings.Contains(got, "time=") || !strings.Contains(got, `msg="appliance: hello" k=1`) {
		t.Errorf("journald line %q", got)
	}
}
