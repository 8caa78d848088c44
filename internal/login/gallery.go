package login

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"edge/internal/biometric"
)

// racyWindow is how close to the snapshot a file's timestamps may be and
// still be trusted to move on the next change: the coarsest timestamps of
// the file systems a store may sit on (FAT keeps two seconds). Within it a
// second change in the same tick could leave the listing as it was, so the
// gallery is rebuilt at the next login instead, as git treats an index
// entry as racily clean.
const racyWindow = 2 * time.Second

// galleryCache keeps the store's minutiae gallery prepared across logins
// (preparing every clinician's impressions costs far more than a search)
// and prepares it again only when the store's folder changed.
//
// The store has no change counter and its readers take no lock; every
// change to it (enroll, replace, revoke, calibration, a file removed by
// hand) is a file created, renamed over or removed in its folder. So the
// listing (name, inode, size, modification and change times of every entry,
// and of the folder) is the store's version, and it is taken before the
// gallery is read: a change that lands while the gallery is being read
// makes the next listing differ, and the next login reads the store again.
type galleryCache struct {
	mu     sync.Mutex
	g      *biometric.Gallery
	ver    string
	racy   bool
	builds int // galleries prepared, for tests
	// window is racyWindow unless a test set it; negative means 0.
	window time.Duration
}

// get returns a gallery as current as the store's folder at the call.
func (c *galleryCache) get(ctx context.Context, st *biometric.Store, model [32]byte) (*biometric.Gallery, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	w := c.window
	if w == 0 {
		w = racyWindow
	}
	ver, racy, err := storeVersion(st.Dir(), time.Now(), max(w, 0))
	if err != nil {
		return nil, err
	}
	if c.g != nil && !c.racy && ver == c.ver {
		return c.g, nil
	}
	g, err := st.Gallery(ctx, model)
	if err != nil {
		c.g = nil
		return nil, err
	}
	c.g, c.ver, c.racy = g, ver, racy
	c.builds++
	return g, nil
}

// storeVersion lists dir as described at galleryCache; racy says a
// timestamp in it is too recent to be trusted.
func storeVersion(dir string, now time.Time, window time.Duration) (string, bool, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return "", false, fmt.Errorf("login: list the store: %w", err)
	}
	var b strings.Builder
	racy := false
	add := func(name string, fi os.FileInfo) {
		m, ch, ino := fileStamp(fi)
		if now.Sub(m) < window || now.Sub(ch) < window {
			racy = true
		}
		b.WriteString(strconv.Quote(name))
		for _, v := range []int64{int64(ino), fi.Size(), m.UnixNano(), ch.UnixNano()} {
			b.WriteByte(' ')
			b.WriteString(strconv.FormatInt(v, 10))
		}
		b.WriteByte('\n')
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return "", false, fmt.Errorf("login: look at the store: %w", err)
	}
	add(".", fi)
	names := make([]string, 0, len(ents))
	for _, e := range ents {
		// The lock file only changes while a writer holds it, and what the
		// writer writes is listed itself.
		if e.Name() != ".lock" {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	for _, n := range names {
		fi, err := os.Lstat(dir + string(os.PathSeparator) + n)
		if os.IsNotExist(err) {
			// Gone between the listing and now: a change, seen next time.
			racy = true
			continue
		}
		if err != nil {
			return "", false, fmt.Errorf("login: look at the store: %w", err)
		}
		add(n, fi)
	}
	return b.String(), racy, nil
}
