package appliance

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
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

// TestWatchdogWithholdsWhileNotAlive: while the liveness check fails (a
// login stuck on a print, an outbox that does not answer) the watchdog is
// not petted, so systemd restarts the appliance; once it passes, it is.
func TestWatchdogWithholdsWhileNotAlive(t *testing.T) {
	t.Setenv("WATCHDOG_USEC", "100000") // petted every 50 ms
	t.Setenv("WATCHDOG_PID", "")
	path := filepath.Join(t.TempDir(), "notify")
	c := listenNotify(t, path)
	a := &Appliance{log: slog.New(slog.DiscardHandler), notify: &notifier{addr: path}}
	var stuck atomic.Bool
	stuck.Store(true)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- a.runWatchdog(ctx, func() error {
			if stuck.Load() {
				return errors.New("stuck")
			}
			return nil
		})
	}()
	c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if n, err := c.Read(make([]byte, 64)); err == nil {
		t.Fatalf("petted while not alive (%d bytes)", n)
	}
	stuck.Store(false)
	if got := readNotify(t, c); got != "WATCHDOG=1" {
		t.Fatalf("got %q once alive", got)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
