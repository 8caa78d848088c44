package modality

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"edge/internal/fsutil"
)

// WatchConfig configures a watch folder.
type WatchConfig struct {
	In string // the folder a modality exports files into
	// Done and Failed receive each file once handled (defaults In/done and
	// In/failed); a failed file gets <name>.reason.txt beside it.
	Done, Failed string
	// Journal is the file that remembers which objects were handed over,
	// by SOP Instance UID and content hash, across restarts. It must not
	// be lost with In (it lives on the appliance, not on the stick).
	Journal string
	// Settle is how long a file's size and modification time must stay
	// the same before it is taken as complete (default 2 s). A file
	// renamed into the folder is taken at once where the system says so
	// (inotify on Linux).
	Settle        time.Duration
	Poll          time.Duration // how often the folder is listed (default 1 s)
	MaxObjectSize int64         // larger files fail (default 2 GiB)
}

// Watcher hands each complete DICOM file that appears in a folder to a
// Consumer once, then moves it to Done or Failed.
type Watcher struct {
	cfg      WatchConfig
	consumer Consumer
	log      *slog.Logger
	journal  *journal
	seen     map[string]observation
}

type observation struct {
	size  int64
	mtime time.Time
	since time.Time
	moved bool // renamed into place: complete now
}

// NewWatcher checks cfg, creates Done and Failed and opens the journal.
func NewWatcher(cfg WatchConfig, c Consumer, log *slog.Logger) (*Watcher, error) {
	if cfg.In == "" || cfg.Journal == "" {
		return nil, errors.New("modality: watch folder needs In and Journal")
	}
	if c == nil {
		return nil, errors.New("modality: no consumer")
	}
	if cfg.Done == "" {
		cfg.Done = filepath.Join(cfg.In, "done")
	}
	if cfg.Failed == "" {
		cfg.Failed = filepath.Join(cfg.In, "failed")
	}
	if cfg.Settle <= 0 {
		cfg.Settle = 2 * time.Second
	}
	if cfg.Poll <= 0 {
		cfg.Poll = time.Second
	}
	if cfg.MaxObjectSize <= 0 {
		cfg.MaxObjectSize = DefaultMaxObjectSize
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	for _, d := range []string{cfg.In, cfg.Done, cfg.Failed} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("modality: watch folder: %w", err)
		}
	}
	j, err := openJournal(cfg.Journal)
	if err != nil {
		return nil, err
	}
	return &Watcher{cfg: cfg, consumer: c, log: log.With("watch", cfg.In), journal: j, seen: map[string]observation{}}, nil
}

// Close closes the journal.
func (w *Watcher) Close() error { return w.journal.close() }

// Run scans the folder every Poll (and whenever a file is renamed into it)
// until ctx is done.
func (w *Watcher) Run(ctx context.Context) error {
	moved, stop := watchMoves(w.cfg.In, w.log)
	defer stop()
	t := time.NewTicker(w.cfg.Poll)
	defer t.Stop()
	for {
		if err := w.Scan(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			w.log.Error("modality: watch folder scan failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case name := <-moved:
			o, ok := w.seen[name]
			if !ok {
				o.size = -1
			}
			o.moved = true
			w.seen[name] = o
		}
	}
}

// Scan lists the folder once and handles every file found complete.
func (w *Watcher) Scan(ctx context.Context) error {
	ents, err := os.ReadDir(w.cfg.In)
	if err != nil {
		return fmt.Errorf("modality: list %s: %w", w.cfg.In, err)
	}
	now := time.Now()
	present := map[string]bool{}
	for _, e := range ents {
		name := e.Name()
		if !e.Type().IsRegular() || ignoredName(name) {
			continue
		}
		present[name] = true
		info, err := e.Info()
		if err != nil {
			continue
		}
		o, ok := w.seen[name]
		if !ok || o.size != info.Size() || !o.mtime.Equal(info.ModTime()) {
			// New or changed: the settle time starts again, unless the
			// file was renamed into place, which makes it complete now.
			o = observation{size: info.Size(), mtime: info.ModTime(), since: now, moved: ok && o.moved}
			w.seen[name] = o
			if !o.moved {
				continue
			}
		}
		if !o.moved && now.Sub(o.since) < w.cfg.Settle {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := w.handle(ctx, name); err != nil {
			return err
		}
		delete(w.seen, name)
	}
	for name := range w.seen {
		if !present[name] && !w.seen[name].moved {
			delete(w.seen, name)
		}
	}
	return nil
}

// ignoredName skips hidden files and the names copy tools give files they
// are still writing.
func ignoredName(name string) bool {
	if strings.HasPrefix(name, ".") || strings.HasPrefix(name, "~") {
		return true
	}
	for _, s := range []string{".tmp", ".part", ".partial", ".crdownload", ".reason.txt"} {
		if strings.HasSuffix(strings.ToLower(name), s) {
			return true
		}
	}
	return false
}

// handle hands one complete file over and moves it. It returns an error
// only when the file must stay where it is (the context ended, the folders
// cannot be written); a file the consumer refuses goes to Failed.
func (w *Watcher) handle(ctx context.Context, name string) error {
	path := filepath.Join(w.cfg.In, name)
	log := w.log.With("file", name)
	obj, key, err := w.describe(path)
	if err != nil {
		log.Warn("modality: watched file refused", "outcome", "failed", "err", err)
		return w.fail(name, err)
	}
	log = log.With("sop_instance_uid", obj.SOPInstanceUID)
	if w.journal.has(key) {
		log.Info("modality: watched file already handed over", "outcome", "duplicate")
		return w.move(name, w.cfg.Done)
	}
	if err := w.consumer.Store(ctx, obj); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		log.Warn("modality: watched file", "outcome", "failed", "err", err)
		return w.fail(name, err)
	}
	if err := w.journal.add(key, name); err != nil {
		return err
	}
	log.Info("modality: watched file", "outcome", "stored", "bytes", obj.Size)
	return w.move(name, w.cfg.Done)
}

// describe reads a file's meta and hashes its content.
func (w *Watcher) describe(path string) (*Object, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, "", fmt.Errorf("modality: open %s: %w", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, "", fmt.Errorf("modality: stat %s: %w", path, err)
	}
	if st.Size() > w.cfg.MaxObjectSize {
		return nil, "", fmt.Errorf("modality: %d bytes, more than the %d allowed", st.Size(), w.cfg.MaxObjectSize)
	}
	h := sha256.New()
	br := bufio.NewReaderSize(io.TeeReader(f, h), 64<<10)
	m, err := readMeta(br)
	if err != nil {
		return nil, "", err
	}
	if !IsTransferSyntax(m.TransferSyntaxUID) {
		return nil, "", fmt.Errorf("modality: transfer syntax %s not supported (uncompressed little endian only)", m.TransferSyntaxUID)
	}
	if !IsStorageClass(m.SOPClassUID) {
		return nil, "", fmt.Errorf("modality: SOP class %s not supported", m.SOPClassUID)
	}
	if _, err := io.Copy(io.Discard, br); err != nil {
		return nil, "", fmt.Errorf("modality: read %s: %w", path, err)
	}
	obj := &Object{
		RemoteAddr: filepath.Base(path), SOPClassUID: m.SOPClassUID, SOPInstanceUID: m.SOPInstanceUID,
		TransferSyntaxUID: m.TransferSyntaxUID, Path: path, Size: st.Size(),
	}
	return obj, m.SOPInstanceUID + " " + hex.EncodeToString(h.Sum(nil)), nil
}

func (w *Watcher) fail(name string, cause error) error {
	if err := fsutil.WriteFile(filepath.Join(w.cfg.Failed, name+".reason.txt"), 0o644, func(wr io.Writer) error {
		_, err := fmt.Fprintln(wr, cause.Error())
		return err
	}); err != nil {
		return err
	}
	return w.move(name, w.cfg.Failed)
}

// move renames In/name into dir, under a new name when dir already holds
// one, and syncs both folders.
func (w *Watcher) move(name, dir string) error {
	dst := filepath.Join(dir, name)
	for i := 1; ; i++ {
		if _, err := os.Lstat(dst); errors.Is(err, os.ErrNotExist) {
			break
		}
		dst = filepath.Join(dir, fmt.Sprintf("%s.%d", name, i))
	}
	if err := os.Rename(filepath.Join(w.cfg.In, name), dst); err != nil {
		return fmt.Errorf("modality: move %s: %w", name, err)
	}
	if err := fsutil.SyncDir(dir); err != nil {
		return err
	}
	return fsutil.SyncDir(w.cfg.In)
}

// journal is an append-only file of handed-over keys, one line each
// ("<SOP Instance UID> <SHA-256 hex>\t<file name>"), synced after every
// line. A line cut short by a crash is dropped when the journal is opened.
type journal struct {
	f    *os.File
	keys map[string]bool
}

const maxJournalLine = 1024

func openJournal(path string) (*journal, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("modality: open journal: %w", err)
	}
	j := &journal{f: f, keys: map[string]bool{}}
	br := bufio.NewReader(f)
	var good int64
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			if errors.Is(err, bufio.ErrBufferFull) || len(line) > maxJournalLine {
				f.Close()
				return nil, fmt.Errorf("modality: journal %s: line longer than %d bytes at byte %d", path, maxJournalLine, good)
			}
			break // io.EOF: a last line without its newline was cut short
		}
		good += int64(len(line))
		if key, _, ok := strings.Cut(strings.TrimSuffix(string(line), "\n"), "\t"); ok {
			j.keys[key] = true
		}
	}
	if err := f.Truncate(good); err != nil {
		f.Close()
		return nil, fmt.Errorf("modality: journal: %w", err)
	}
	if _, err := f.Seek(good, io.SeekStart); err != nil {
		f.Close()
		return nil, fmt.Errorf("modality: journal: %w", err)
	}
	return j, nil
}

func (j *journal) has(key string) bool { return j.keys[key] }

func (j *journal) add(key, name string) error {
	name = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' {
			return '_'
		}
		return r
	}, name)
	line := key + "\t" + name + "\n"
	if len(line) > maxJournalLine {
		line = key + "\t\n"
	}
	if _, err := j.f.WriteString(line); err != nil {
		return fmt.Errorf("modality: journal: %w", err)
	}
	if err := j.f.Sync(); err != nil {
		return fmt.Errorf("modality: journal: %w", err)
	}
	j.keys[key] = true
	return nil
}

func (j *journal) close() error { return j.f.Close() }
