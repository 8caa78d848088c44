package sim

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"
)

// PTY is a pseudo-terminal pair with a symlink to its slave, the device a
// driver opens.
type PTY struct {
	Master *os.File
	slave  *os.File // held open so the master never sees a hangup between clients
	Name   string   // the slave, /dev/pts/N
	Link   string
}

var bauds = map[int]uint32{9600: unix.B9600, 19200: unix.B19200, 38400: unix.B38400, 57600: unix.B57600, 115200: unix.B115200}

// OpenPTY makes a pty in raw mode at baud (which a pty records but does not
// enforce) and points link at its slave, replacing what link was.
func OpenPTY(link string, baud int) (*PTY, error) {
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		return nil, fmt.Errorf("sim: open /dev/ptmx: %w", err)
	}
	var n int
	err = control(m, func(fd int) error {
		if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
			return fmt.Errorf("unlock: %w", err)
		}
		var err error
		n, err = unix.IoctlGetInt(fd, unix.TIOCGPTN)
		return err
	})
	if err != nil {
		m.Close()
		return nil, fmt.Errorf("sim: pty: %w", err)
	}
	name := fmt.Sprintf("/dev/pts/%d", n)
	s, err := os.OpenFile(name, os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		m.Close()
		return nil, fmt.Errorf("sim: open pty slave: %w", err)
	}
	if err := control(s, func(fd int) error { return makeRaw(fd, baud) }); err != nil {
		m.Close()
		s.Close()
		return nil, fmt.Errorf("sim: raw mode on %s: %w", name, err)
	}
	p := &PTY{Master: m, slave: s, Name: name, Link: link}
	if link != "" {
		tmp := filepath.Join(filepath.Dir(link), "."+filepath.Base(link)+".new")
		os.Remove(tmp)
		if err := os.Symlink(name, tmp); err != nil {
			p.close()
			return nil, fmt.Errorf("sim: link %s: %w", link, err)
		}
		if err := os.Rename(tmp, link); err != nil {
			os.Remove(tmp)
			p.close()
			return nil, fmt.Errorf("sim: link %s: %w", link, err)
		}
	}
	return p, nil
}

func control(f *os.File, fn func(fd int) error) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := rc.Control(func(fd uintptr) { ferr = fn(int(fd)) }); err != nil {
		return err
	}
	return ferr
}

func makeRaw(fd, baud int) error {
	t, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return err
	}
	t.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	t.Oflag &^= unix.OPOST
	t.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	t.Cflag &^= unix.CSIZE | unix.PARENB
	t.Cflag |= unix.CS8
	t.Cc[unix.VMIN] = 1
	t.Cc[unix.VTIME] = 0
	if b, ok := bauds[baud]; ok {
		t.Cflag = t.Cflag&^unix.CBAUD | b
		t.Ispeed, t.Ospeed = b, b
	}
	return unix.IoctlSetTermios(fd, unix.TCSETS, t)
}

// LineRate is the rate the slave is set to now: the one the driver asked
// for with termios (a pty keeps it, though it moves bytes at any speed).
func (p *PTY) LineRate() (int, error) {
	var rate int
	err := control(p.slave, func(fd int) error {
		// TCGETS2 gives a BOTHER rate; where it is missing (qemu-user
		// does not pass it through) TCGETS gives every standard one.
		t, err := unix.IoctlGetTermios(fd, unix.TCGETS2)
		if err != nil {
			if t, err = unix.IoctlGetTermios(fd, unix.TCGETS); err != nil {
				return err
			}
		}
		if t.Cflag&unix.CBAUD == unix.BOTHER {
			rate = int(t.Ospeed)
			return nil
		}
		for r, b := range bauds {
			if t.Cflag&unix.CBAUD == b {
				rate = r
				return nil
			}
		}
		return fmt.Errorf("speed code %#o unknown to the simulator", t.Cflag&unix.CBAUD)
	})
	if err != nil {
		return 0, fmt.Errorf("sim: line rate of %s: %w", p.Name, err)
	}
	return rate, nil
}

// line is the master side with the rate the driver set on the slave.
type line struct {
	*os.File
	pty *PTY
}

func (l line) LineRate() (int, error) { return l.pty.LineRate() }

func (p *PTY) close() {
	p.Master.Close()
	p.slave.Close()
}

// Close hangs up the line and removes the link if it still points here.
func (p *PTY) Close() error {
	if p.Link != "" {
		if t, err := os.Readlink(p.Link); err == nil && t == p.Name {
			os.Remove(p.Link)
		}
	}
	p.close()
	return nil
}

// Run serves s on a fresh pty linked at link until ctx ends. When the
// simulator hangs up the line (Options.DisconnectAfter), the device is gone
// for back, then comes back on a new pty at the same link, as an
// adapter plugged in again; back ≤ 0 ends Run with ErrHangup instead. ready,
// when not nil, is called with each pty once its link exists.
func Run(ctx context.Context, s *Sim, link string, back time.Duration, ready func(*PTY)) error {
	for {
		// A module switched to another rate comes back at it.
		p, err := OpenPTY(link, s.Baud())
		if err != nil {
			return err
		}
		if ready != nil {
			ready(p)
		}
		stop := context.AfterFunc(ctx, func() { p.Master.SetDeadline(time.Now()) })
		err = s.Serve(ctx, line{p.Master, p})
		stop()
		p.Close()
		if ctx.Err() != nil {
			return nil
		}
		if !errors.Is(err, ErrHangup) || back <= 0 {
			return err
		}
		if err := sleep(ctx, back); err != nil {
			return nil
		}
	}
}
