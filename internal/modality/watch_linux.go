package modality

import (
	"bytes"
	"encoding/binary"
	"log/slog"
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

// watchMoves reports the names of files renamed into dir (inotify's
// IN_MOVED_TO): a rename is atomic, so such a file is complete at once. When
// inotify is not available the channel stays silent and files are taken
// once settled.
func watchMoves(dir string, log *slog.Logger) (<-chan string, func()) {
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		log.Info("modality: no inotify, watching by settle time only", "err", err)
		return nil, func() {}
	}
	if _, err := unix.InotifyAddWatch(fd, dir, unix.IN_MOVED_TO); err != nil {
		unix.Close(fd)
		log.Info("modality: no inotify, watching by settle time only", "err", err)
		return nil, func() {}
	}
	// A non-blocking descriptor in an *os.File goes through the runtime's
	// poller, so Close wakes the blocked Read.
	f := os.NewFile(uintptr(fd), "inotify")
	ch := make(chan string, 64)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		buf := make([]byte, 64<<10)
		for {
			n, err := f.Read(buf)
			if err != nil || n <= 0 {
				return
			}
			for b := buf[:n]; len(b) >= unix.SizeofInotifyEvent; {
				l := int(binary.NativeEndian.Uint32(b[12:16]))
				if unix.SizeofInotifyEvent+l > len(b) {
					break
				}
				name := string(bytes.TrimRight(b[unix.SizeofInotifyEvent:unix.SizeofInotifyEvent+l], "\x00"))
				b = b[unix.SizeofInotifyEvent+l:]
				if name == "" {
					continue
				}
				select {
				case ch <- name:
				case <-done:
					return
				default: // the next poll finds it anyway
				}
			}
		}
	})
	return ch, func() {
		close(done)
		f.Close()
		wg.Wait()
	}
}
