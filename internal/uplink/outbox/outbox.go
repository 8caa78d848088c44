package outbox

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"edge/internal/fsutil"
	"edge/internal/uplink"
)

// File and folder names; doc.go describes the layout.
const (
	queueDir    = "q"
	rejectedDir = "rejected"
	lockFile    = ".lock"
	alarmFile   = "full"
	envExt      = ".edge"
	uploadExt   = ".upload"
	reasonExt   = ".reason"
	timeDigits  = 20
	idDigits    = 32
	nameLen     = timeDigits + 1 + idDigits
	// maxURL bounds an .upload file: a tus upload URL is well under 1 KiB.
	maxURL = 4096
	// maxReason bounds the reason kept beside a rejected envelope.
	maxReason = 1024
)

// ErrFull is what a *FullError matches with errors.Is.
var ErrFull = errors.New("outbox: full")

// ErrCorrupt marks an entry whose file is not the envelope its name says.
var ErrCorrupt = errors.New("outbox: corrupt entry")

// FullError says which quota an Enqueue would have passed.
type FullError struct {
	Count, MaxCount int
	Bytes, MaxBytes int64
	// Need is the size of the envelope that was refused.
	Need int64
}

func (e *FullError) Error() string {
	return fmt.Sprintf("outbox: full: %d envelopes of %d allowed, %d bytes + %d new of %d allowed",
		e.Count, e.MaxCount, e.Bytes, e.Need, e.MaxBytes)
}

// Is makes errors.Is(err, ErrFull) true for a *FullError.
func (e *FullError) Is(target error) bool { return target == ErrFull }

// Options configure an outbox. The zero value has no quota.
type Options struct {
	// MaxBytes bounds the envelope bytes queued; 0 means no bound.
	MaxBytes int64
	// MaxCount bounds the envelopes queued; 0 means no bound.
	MaxCount int
	// MaxEnvelope bounds one envelope (default uplink.DefaultMaxEnvelope).
	MaxEnvelope int64
	// Logger gets the quota alarm and cleanup notes; nil means slog.Default().
	Logger *slog.Logger
	// Now stamps entries; nil means time.Now.
	Now func() time.Time
}

// Outbox is an open outbox folder. Its methods are safe for concurrent use,
// also by other processes holding the same folder open.
type Outbox struct {
	dir  string
	opt  Options
	log  *slog.Logger
	lock *os.File

	mu        sync.Mutex // guards the fields below and serialises flock use
	lastErr   string
	lastErrAt time.Time
}

// Entry is one queued envelope.
type Entry struct {
	// Name is the entry's file name without extension, T-ID.
	Name     string
	ID       [16]byte
	Enqueued time.Time
	Size     int64
	// UploadURL is where an upload of this envelope was created, "" if none yet.
	UploadURL string
}

// IDHex is the envelope id in hex, as logs and the hub show it.
func (e Entry) IDHex() string { return hex.EncodeToString(e.ID[:]) }

// Stats is what the appliance shows of its outbox.
type Stats struct {
	Depth     int
	Bytes     int64
	OldestAge time.Duration
	// Full is the quota alarm: an Enqueue was refused and none has succeeded
	// since, in any process (it is kept in DIR/full).
	Full      bool
	FullSince time.Time
	LastError string
	// LastErrorAt is when LastError was recorded; zero when there was none.
	LastErrorAt time.Time
}

// Open opens the outbox in dir, creating it with mode 0700 when needed.
func Open(dir string, opt Options) (*Outbox, error) {
	if opt.MaxEnvelope <= 0 {
		opt.MaxEnvelope = uplink.DefaultMaxEnvelope
	}
	if opt.MaxBytes < 0 || opt.MaxCount < 0 {
		return nil, fmt.Errorf("outbox: negative quota %d bytes, %d envelopes", opt.MaxBytes, opt.MaxCount)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	lg := opt.Logger
	if lg == nil {
		lg = slog.Default()
	}
	for _, d := range []string{dir, filepath.Join(dir, queueDir), filepath.Join(dir, rejectedDir)} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("outbox: create %s: %w", d, err)
		}
	}
	lf, err := os.OpenFile(filepath.Join(dir, lockFile), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("outbox: open lock file: %w", err)
	}
	return &Outbox{dir: dir, opt: opt, log: lg.With("outbox", dir), lock: lf}, nil
}

// Close releases the lock file.
func (o *Outbox) Close() error { return o.lock.Close() }

// Dir is the outbox folder.
func (o *Outbox) Dir() string { return o.dir }

// locked runs f holding the outbox's flock, after removing what crashed
// changes left behind.
func (o *Outbox) locked(ctx context.Context, f func() error) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	for {
		err := unix.Flock(int(o.lock.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, unix.EWOULDBLOCK) && !errors.Is(err, unix.EINTR) {
			return fmt.Errorf("outbox: lock %s: %w", o.dir, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("outbox: waiting for the lock on %s: %w", o.dir, ctx.Err())
		case <-time.After(5 * time.Millisecond):
		}
	}
	defer unix.Flock(int(o.lock.Fd()), unix.LOCK_UN)
	if err := o.sweep(); err != nil {
		return err
	}
	return f()
}

// sweep removes temporary files and .upload files without an envelope. It
// runs under the lock, so no change in progress owns them.
func (o *Outbox) sweep() error {
	q := filepath.Join(o.dir, queueDir)
	des, err := os.ReadDir(q)
	if err != nil {
		return fmt.Errorf("outbox: list %s: %w", q, err)
	}
	have := make(map[string]bool, len(des))
	for _, de := range des {
		if n, ok := strings.CutSuffix(de.Name(), envExt); ok {
			have[n] = true
		}
	}
	removed := false
	for _, de := range des {
		n := de.Name()
		stale := strings.HasPrefix(n, ".")
		if base, ok := strings.CutSuffix(n, uploadExt); ok && !have[base] {
			stale = true
		}
		if !stale {
			continue
		}
		if err := os.Remove(filepath.Join(q, n)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("outbox: remove leftover %s: %w", n, err)
		}
		o.log.Info("outbox: removed leftover of an interrupted change", "file", n)
		removed = true
	}
	if removed {
		return fsutil.SyncDir(q)
	}
	return nil
}

// Enqueue stores env durably and returns its entry. It returns only once the
// envelope is on disk and would survive a power cut. An envelope whose id is
// already queued is not stored twice; its entry is returned. When the quota
// would be passed, it returns a *FullError and raises the alarm.
func (o *Outbox) Enqueue(ctx context.Context, env []byte) (Entry, error) {
	if int64(len(env)) > o.opt.MaxEnvelope {
		return Entry{}, fmt.Errorf("outbox: envelope is %d bytes, more than %d", len(env), o.opt.MaxEnvelope)
	}
	h, err := uplink.PeekHeader(env)
	if err != nil {
		return Entry{}, fmt.Errorf("outbox: enqueue: %w", err)
	}
	var e Entry
	err = o.locked(ctx, func() error {
		es, err := o.list()
		if err != nil {
			return err
		}
		var bytes int64
		for _, x := range es {
			if x.ID == h.ID {
				e = x
				return nil
			}
			bytes += x.Size
		}
		need := int64(len(env))
		now := o.opt.Now()
		if (o.opt.MaxCount > 0 && len(es)+1 > o.opt.MaxCount) || (o.opt.MaxBytes > 0 && bytes+need > o.opt.MaxBytes) {
			fe := &FullError{Count: len(es), MaxCount: o.opt.MaxCount, Bytes: bytes, MaxBytes: o.opt.MaxBytes, Need: need}
			return errors.Join(fe, o.raiseAlarm(now, fe))
		}
		e = Entry{Name: entryName(now, h.ID), ID: h.ID, Enqueued: time.Unix(0, now.UnixNano()), Size: need}
		path := filepath.Join(o.dir, queueDir, e.Name+envExt)
		if err := fsutil.WriteFile(path, 0o600, func(w io.Writer) error { _, err := w.Write(env); return err }); err != nil {
			return err
		}
		return o.clearAlarm()
	})
	o.mu.Lock()
	defer o.mu.Unlock()
	if err != nil {
		if errors.Is(err, ErrFull) {
			o.log.Warn("outbox: full, envelope refused", "envelope", hex.EncodeToString(h.ID[:]), "err", err)
		}
		o.recordLocked(err)
		return Entry{}, err
	}
	return e, nil
}

// raiseAlarm records the refusal in DIR/full, so that every process on the
// outbox (the status page, `edge uplink status`) sees the alarm; it stays
// until an Enqueue succeeds. The first refusal's time is kept.
func (o *Outbox) raiseAlarm(now time.Time, fe *FullError) error {
	p := filepath.Join(o.dir, alarmFile)
	if _, err := os.Stat(p); err == nil {
		return nil
	}
	return fsutil.WriteFile(p, 0o600, func(w io.Writer) error {
		_, err := fmt.Fprintf(w, "%s %s\n", now.UTC().Format(time.RFC3339Nano), fe.Error())
		return err
	})
}

func (o *Outbox) clearAlarm() error {
	p := filepath.Join(o.dir, alarmFile)
	if err := os.Remove(p); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("outbox: clear alarm: %w", err)
	}
	return fsutil.SyncDir(o.dir)
}

// alarm reads DIR/full: when the quota first refused an envelope, zero if it does not.
func (o *Outbox) alarm() time.Time {
	b, err := readBounded(filepath.Join(o.dir, alarmFile), 4096)
	if err != nil {
		return time.Time{}
	}
	ts, _, _ := strings.Cut(string(b), " ")
	t, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		return o.opt.Now() // present but unreadable: still an alarm
	}
	return t
}

func entryName(t time.Time, id [16]byte) string {
	ns := t.UnixNano()
	if ns < 0 {
		ns = 0
	}
	return fmt.Sprintf("%0*d-%s", timeDigits, ns, hex.EncodeToString(id[:]))
}

// parseName reads T-ID back; ok is false for any other name.
func parseName(n string) (t time.Time, id [16]byte, ok bool) {
	if len(n) != nameLen || n[timeDigits] != '-' {
		return t, id, false
	}
	for _, c := range n[:timeDigits] {
		if c < '0' || c > '9' {
			return t, id, false
		}
	}
	ns, err := strconv.ParseInt(n[:timeDigits], 10, 64)
	if err != nil {
		return t, id, false
	}
	hx := n[timeDigits+1:]
	if strings.ToLower(hx) != hx {
		return t, id, false
	}
	if _, err := hex.Decode(id[:], []byte(hx)); err != nil {
		return t, id, false
	}
	return time.Unix(0, ns), id, true
}

// Entries lists the queued envelopes, oldest first.
func (o *Outbox) Entries() ([]Entry, error) { return o.list() }

func (o *Outbox) list() ([]Entry, error) {
	q := filepath.Join(o.dir, queueDir)
	des, err := os.ReadDir(q)
	if err != nil {
		return nil, fmt.Errorf("outbox: list %s: %w", q, err)
	}
	names := make(map[string]bool)
	var es []Entry
	for _, de := range des {
		n := de.Name()
		if base, ok := strings.CutSuffix(n, uploadExt); ok {
			names[base] = true
			continue
		}
		base, ok := strings.CutSuffix(n, envExt)
		if !ok || !de.Type().IsRegular() {
			continue
		}
		t, id, ok := parseName(base)
		if !ok {
			continue
		}
		info, err := de.Info()
		if errors.Is(err, fs.ErrNotExist) {
			continue // acked by another process while we listed
		}
		if err != nil {
			return nil, fmt.Errorf("outbox: stat %s: %w", n, err)
		}
		es = append(es, Entry{Name: base, ID: id, Enqueued: t, Size: info.Size()})
	}
	for i := range es {
		if !names[es[i].Name] {
			continue
		}
		u, err := o.readUploadURL(es[i].Name)
		if err != nil {
			return nil, err
		}
		es[i].UploadURL = u
	}
	// ReadDir sorts by name, and names sort by time; sort anyway so the
	// order does not rest on that.
	slices.SortFunc(es, func(a, b Entry) int { return strings.Compare(a.Name, b.Name) })
	return es, nil
}

func (o *Outbox) readUploadURL(name string) (string, error) {
	p := filepath.Join(o.dir, queueDir, name+uploadExt)
	b, err := readBounded(p, maxURL)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

// Read returns the envelope of e, checked to be the envelope its name says.
func (o *Outbox) Read(e Entry) ([]byte, error) {
	p := filepath.Join(o.dir, queueDir, e.Name+envExt)
	b, err := readBounded(p, o.opt.MaxEnvelope)
	if err != nil {
		return nil, err
	}
	h, err := uplink.PeekHeader(b)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrCorrupt, p, err)
	}
	if h.ID != e.ID {
		return nil, fmt.Errorf("%w: %s holds envelope %x", ErrCorrupt, p, h.ID)
	}
	return b, nil
}

func readBounded(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("outbox: stat %s: %w", path, err)
	}
	if st.Size() > limit {
		return nil, fmt.Errorf("%w: %s is %d bytes, more than %d", ErrCorrupt, path, st.Size(), limit)
	}
	b := make([]byte, st.Size())
	if _, err := io.ReadFull(f, b); err != nil {
		return nil, fmt.Errorf("outbox: read %s: %w", path, err)
	}
	return b, nil
}

// SetUploadURL records where the upload of e was created, durably, so that a
// restarted sender resumes it instead of starting over.
func (o *Outbox) SetUploadURL(ctx context.Context, e Entry, url string) error {
	if len(url) > maxURL || strings.ContainsAny(url, "\r\n") {
		return fmt.Errorf("outbox: upload URL of %d bytes for %s is not one line under %d bytes", len(url), e.Name, maxURL)
	}
	return o.locked(ctx, func() error {
		envPath := filepath.Join(o.dir, queueDir, e.Name+envExt)
		if _, err := os.Stat(envPath); err != nil {
			return fmt.Errorf("outbox: set upload URL: %w", err)
		}
		p := filepath.Join(o.dir, queueDir, e.Name+uploadExt)
		if url == "" {
			if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("outbox: %w", err)
			}
			return fsutil.SyncDir(filepath.Dir(p))
		}
		return fsutil.WriteFile(p, 0o600, func(w io.Writer) error { _, err := io.WriteString(w, url+"\n"); return err })
	})
}

// Ack removes e: the hub has confirmed durable storage of its envelope (or
// that it already had it). Acking an entry that is gone is not an error.
func (o *Outbox) Ack(ctx context.Context, e Entry) error {
	return o.locked(ctx, func() error { return o.remove(e) })
}

func (o *Outbox) remove(e Entry) error {
	q := filepath.Join(o.dir, queueDir)
	for _, ext := range []string{envExt, uploadExt} {
		if err := os.Remove(filepath.Join(q, e.Name+ext)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("outbox: remove %s: %w", e.Name+ext, err)
		}
	}
	return fsutil.SyncDir(q)
}

// Reject moves e out of the queue into rejected/ with the hub's reason: the
// hub refused it for good, and sending it again would be refused again.
func (o *Outbox) Reject(ctx context.Context, e Entry, reason string) error {
	if len(reason) > maxReason {
		reason = reason[:maxReason]
	}
	reason = strings.Map(func(r rune) rune {
		if r < ' ' {
			return ' '
		}
		return r
	}, reason)
	o.log.Warn("outbox: envelope rejected by the hub", "envelope", e.IDHex(), "reason", reason)
	return o.locked(ctx, func() error {
		rd := filepath.Join(o.dir, rejectedDir)
		src := filepath.Join(o.dir, queueDir, e.Name+envExt)
		if _, err := os.Stat(src); errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err := fsutil.WriteFile(filepath.Join(rd, e.Name+reasonExt), 0o600, func(w io.Writer) error {
			_, err := io.WriteString(w, reason+"\n")
			return err
		}); err != nil {
			return err
		}
		if err := os.Rename(src, filepath.Join(rd, e.Name+envExt)); err != nil {
			return fmt.Errorf("outbox: move %s to %s: %w", src, rd, err)
		}
		if err := fsutil.SyncDir(rd); err != nil {
			return err
		}
		return o.remove(e)
	})
}

// RecordError keeps err as the last error the status page shows.
func (o *Outbox) RecordError(err error) {
	if err == nil {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.recordLocked(err)
}

func (o *Outbox) recordLocked(err error) {
	o.lastErr = err.Error()
	o.lastErrAt = o.opt.Now()
}

// Stats reports depth, bytes, the oldest entry's age, the quota alarm and the
// last error recorded.
func (o *Outbox) Stats() (Stats, error) {
	es, err := o.list()
	if err != nil {
		return Stats{}, err
	}
	var s Stats
	s.Depth = len(es)
	for _, e := range es {
		s.Bytes += e.Size
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(es) > 0 {
		s.OldestAge = o.opt.Now().Sub(es[0].Enqueued)
	}
	s.FullSince = o.alarm()
	s.Full = !s.FullSince.IsZero()
	s.LastError, s.LastErrorAt = o.lastErr, o.lastErrAt
	return s, nil
}

// EnqueueFile enqueues the envelope in a file, read with the outbox's size bound.
func (o *Outbox) EnqueueFile(ctx context.Context, path string) (Entry, error) {
	b, err := readBounded(path, o.opt.MaxEnvelope)
	if err != nil {
		return Entry{}, err
	}
	e, err := o.Enqueue(ctx, b)
	if err != nil {
		return Entry{}, fmt.Errorf("%w (%s)", err, path)
	}
	return e, nil
}
