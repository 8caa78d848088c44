package appliance

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// listenNotify is a fake systemd: a unixgram socket receiving sd_notify
// datagrams.
func listenNotify(t *testing.T, name string) *net.UnixConn {
	t.Helper()
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: name, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func readNotify(t *testing.T, c *net.UnixConn) string {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	b := make([]byte, 4096)
	n, err := c.Read(b)
	if err != nil {
		t.Fatal(err)
	}
	return string(b[:n])
}

func TestNotifierPathAndAbstract(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notify")
	c := listenNotify(t, path)
	if err := (&notifier{addr: path}).send("READY=1"); err != nil {
		t.Fatal(err)
	}
	if got := readNotify(t, c); got != "READY=1" {
		t.Errorf("got %q", got)
	}
	name := "edge-test-" + strconv.Itoa(os.Getpid())
	ca := listenNotify(t, "\x00"+name)
	if err := (&notifier{addr: "@" + name}).send("WATCHDOG=1"); err != nil {
		t.Fatal(err)
	}
	if got := readNotify(t, ca); got != "WATCHDOG=1" {
		t.Errorf("abstract socket got %q", got)
	}
	if err := (&notifier{}).send("READY=1"); err != nil {
		t.Errorf("without NOTIFY_SOCKET: %v", err)
	}
}

func TestWatchdogInterval(t *testing.T) {
	t.Setenv("WATCHDOG_USEC", "30000000")
	t.Setenv("WATCHDOG_PID", "")
	if got := watchdogInterval(); got != 15*time.Second {
		t.Errorf("interval %v, want half of WatchdogSec=30s", got)
	}
	t.Setenv("WATCHDOG_PID", "1")
	if got := watchdogInterval(); got != 0 {
		t.Errorf("another process's watchdog: %v", got)
	}
	t.Setenv("WATCHDOG_USEC", "")
	if got := watchdogInterval(); got != 0 {
		t.Errorf("no watchdog: %v", got)
	}
}
