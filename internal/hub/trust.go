package hub

import (
	"crypto/ed25519"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"edge/internal/uplink"
)

// trustDir is the trusted folder, re-read when its modification time changes
// so that `edge hub trust` takes effect without a restart. It implements
// uplink.Trust.
type trustDir struct {
	dir string

	mu      sync.Mutex
	mtime   time.Time
	devices uplink.Devices
	logged  bool // a refresh error was logged; log the next only after a success
	log     func(msg string, args ...any)
}

func newTrustDir(dir string) (*trustDir, error) {
	t := &trustDir{dir: dir}
	if err := t.refresh(); err != nil {
		return nil, err
	}
	return t, nil
}

func (t *trustDir) refresh() error {
	st, err := os.Stat(t.dir)
	if err != nil {
		return fmt.Errorf("hub: trusted devices: %w", err)
	}
	if st.ModTime().Equal(t.mtime) && t.devices != nil {
		return nil
	}
	paths, err := filepath.Glob(filepath.Join(t.dir, "*.pub"))
	if err != nil {
		return fmt.Errorf("hub: trusted devices: %w", err)
	}
	d := uplink.Devices{}
	for _, p := range paths {
		if strings.HasPrefix(filepath.Base(p), ".") {
			continue
		}
		pub, err := uplink.LoadDevicePublicKey(p)
		if err != nil {
			return fmt.Errorf("hub: trusted devices: %w", err)
		}
		d.Add(pub)
	}
	t.devices, t.mtime = d, st.ModTime()
	return nil
}

// DeviceKey implements uplink.Trust. A folder that cannot be re-read keeps
// the last list it could, and the error shows in the log once.
func (t *trustDir) DeviceKey(id string) (ed25519.PublicKey, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.refresh(); err != nil {
		if !t.logged && t.log != nil {
			t.log("hub: trusted devices not re-read; keeping the last list", "err", err)
		}
		t.logged = true
	} else {
		t.logged = false
	}
	return t.devices.DeviceKey(id)
}

func (t *trustDir) count() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.devices)
}

var _ uplink.Trust = (*trustDir)(nil)
