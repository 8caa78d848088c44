package appliance

import (
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
	"time"
)

// notifier speaks systemd's sd_notify protocol: one datagram per message
// ("READY=1", "WATCHDOG=1", "STOPPING=1", "STATUS=…") to the unix socket
// named by NOTIFY_SOCKET, a leading '@' naming an abstract socket. Without
// NOTIFY_SOCKET (not run by systemd, or not Type=notify) it does nothing.
type notifier struct {
	addr string
}

func newNotifier() *notifier {
	return &notifier{addr: os.Getenv("NOTIFY_SOCKET")}
}

func (n *notifier) send(msg string) error {
	if n.addr == "" {
		return nil
	}
	name := n.addr
	if name[0] == '@' {
		name = "\x00" + name[1:]
	}
	c, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: name, Net: "unixgram"})
	if err != nil {
		return fmt.Errorf("appliance: sd_notify %s: %w", n.addr, err)
	}
	defer c.Close()
	if _, err := c.Write([]byte(msg)); err != nil {
		return fmt.Errorf("appliance: sd_notify %q: %w", msg, err)
	}
	return nil
}

// watchdogInterval is half the WatchdogSec systemd asked for
// (WATCHDOG_USEC, for this process when WATCHDOG_PID names one), 0 when
// no watchdog is armed.
func watchdogInterval() time.Duration {
	us, err := strconv.ParseInt(os.Getenv("WATCHDOG_USEC"), 10, 64)
	if err != nil || us <= 0 {
		return 0
	}
	if p := os.Getenv("WATCHDOG_PID"); p != "" && p != strconv.Itoa(os.Getpid()) {
		return 0
	}
	return time.Duration(us) * time.Microsecond / 2
}

// loginStuckAfter bounds the work on one captured print (features and the
// match): seconds on the slowest board, so minutes mean it will not return.
const loginStuckAfter = 5 * time.Minute

// alive is what the watchdog asks before each pet: the outbox answers, and
// the login station is not stuck on a print.
func (a *Appliance) alive() error {
	if _, err := a.out.Stats(); err != nil {
		return err
	}
	if a.station != nil {
		return a.station.Stuck(loginStuckAfter)
	}
	return nil
}

// runWatchdog pets systemd's watchdog at half its period while alive says
// the appliance's loops are answering; a hung appliance stops petting and
// systemd restarts it.
func (a *Appliance) runWatchdog(ctx context.Context, alive func() error) error {
	iv := watchdogInterval()
	if iv == 0 {
		return nil
	}
	a.log.Info("appliance: systemd watchdog armed", "every", iv)
	t := time.NewTicker(iv)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if err := alive(); err != nil {
				a.log.Error("appliance: not petting the watchdog", "err", err)
				continue
			}
			if err := a.notify.send("WATCHDOG=1"); err != nil {
				a.log.Warn("appliance: watchdog", "err", err)
			}
		}
	}
}
