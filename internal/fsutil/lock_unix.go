//go:build unix

package fsutil

import (
	"fmt"
	"os"
	"syscall"
)

// Lock holds an exclusive advisory lock on a lock file.
type Lock struct{ f *os.File }

// LockFile takes an exclusive lock on path (created 0600 if absent),
// waiting for any other holder, in this process or another, to let go. The
// lock dies with the process, so a crash never leaves a store locked.
func LockFile(path string) (*Lock, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("fsutil: open lock %s: %w", path, err)
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("fsutil: lock %s: %w", path, err)
	}
	return &Lock{f: f}, nil
}

// Unlock lets the lock go.
func (l *Lock) Unlock() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	if err != nil {
		return fmt.Errorf("fsutil: unlock: %w", err)
	}
	return nil
}
