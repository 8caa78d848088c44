package appliance

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"edge/internal/fsutil"
	"edge/internal/modality"
	"edge/internal/uplink"
)

// received remembers every object the modality was told is stored, so an
// object sent again (the modality never heard the answer: the appliance was
// killed or lost power after making the object durable) is answered
// "stored" without a second envelope. An object is known by its key,
// SHA-256 of its SOP Instance UID and of its bytes.
//
// state_dir/received.journal holds one line per object, "KEY ENVELOPE" or
// "KEY held", appended and fsynced. At every moment an object the modality
// may have been told about is findable: first as a pending file named by
// its key (pending/T-KEY.dcm) or a staged envelope (intake/KEY.edge), then
// in the journal, which is written before either of those is removed.
//
// The journal keeps the newest keep objects: when it holds twice that many
// it is rewritten (temp file, fsync, rename) with the newest half, so that
// neither the file nor the map grows without end. A modality resends an
// object it heard no answer for within minutes; one sent again after more
// than keep others becomes a second envelope of the same image, which the
// PACS files under its one SOP Instance UID.
type received struct {
	mu      sync.Mutex
	path    string
	staging string
	f       *os.File
	keys    map[string]string
	order   []string // keys, oldest first
	keep    int
}

const maxJournalLine = 200

// journalKeep is how many objects the journal remembers: about 14 MB of
// journal and map, weeks of a busy modality.
const journalKeep = 100_000

func openReceived(state string, keep int) (*received, error) {
	r := &received{path: filepath.Join(state, "received.journal"), staging: filepath.Join(state, "intake"), keys: map[string]string{}, keep: keep}
	if err := os.MkdirAll(r.staging, 0o700); err != nil {
		return nil, fmt.Errorf("appliance: %w", err)
	}
	f, err := os.OpenFile(r.path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("appliance: received journal: %w", err)
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, maxJournalLine), maxJournalLine)
	for sc.Scan() {
		// A torn last line (power lost mid-append) is skipped.
		k, v, ok := strings.Cut(sc.Text(), " ")
		if ok && len(k) == 64 {
			r.remember(k, v)
		}
	}
	if err := sc.Err(); err != nil {
		f.Close()
		return nil, fmt.Errorf("appliance: received journal %s: %w", r.path, err)
	}
	r.f = f
	if len(r.order) > 2*r.keep {
		if err := r.compact(); err != nil {
			r.f.Close()
			return nil, err
		}
	}
	return r, nil
}

func (r *received) remember(k, v string) {
	if _, ok := r.keys[k]; !ok {
		r.order = append(r.order, k)
	}
	r.keys[k] = v
}

// compact rewrites the journal with the newest keep objects. A crash
// leaves the old journal or the new one whole: both know every object the
// new one does.
func (r *received) compact() error {
	drop := r.order[:len(r.order)-r.keep]
	kept := r.order[len(drop):]
	err := fsutil.WriteFile(r.path, 0o600, func(w io.Writer) error {
		bw := bufio.NewWriter(w)
		for _, k := range kept {
			fmt.Fprintf(bw, "%s %s\n", k, r.keys[k])
		}
		return bw.Flush()
	})
	if err != nil {
		return fmt.Errorf("appliance: compact received journal: %w", err)
	}
	f, err := os.OpenFile(r.path, os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("appliance: received journal: %w", err)
	}
	r.f.Close()
	r.f = f
	for _, k := range drop {
		delete(r.keys, k)
	}
	r.order = append(make([]string, 0, 2*r.keep+1), kept...)
	return nil
}

func (r *received) Close() error { return r.f.Close() }

// objectKey is the key of the object at obj.Path: its SOP Instance UID
// and the bytes of its data set after the file meta group, which the
// receiver writes and may word differently (the calling AE) from one
// association to the next.
func objectKey(obj *modality.Object) (string, error) {
	f, err := os.Open(obj.Path)
	if err != nil {
		return "", fmt.Errorf("appliance: %w", err)
	}
	defer f.Close()
	var head [144]byte
	off := int64(0)
	if _, err := io.ReadFull(f, head[:]); err == nil && string(head[128:132]) == "DICM" &&
		string(head[132:136]) == "\x02\x00\x00\x00" && string(head[136:138]) == "UL" {
		off = 144 + int64(binary.LittleEndian.Uint32(head[140:144]))
	}
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		return "", fmt.Errorf("appliance: read object: %w", err)
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("appliance: read object: %w", err)
	}
	k := sha256.New()
	k.Write([]byte(obj.SOPInstanceUID))
	k.Write([]byte{0})
	k.Write(h.Sum(nil))
	return hex.EncodeToString(k.Sum(nil)), nil
}

func (r *received) lookup(key string) (string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	v, ok := r.keys[key]
	return v, ok
}

func (r *received) add(key, value string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, err := fmt.Fprintf(r.f, "%s %s\n", key, value); err != nil {
		return fmt.Errorf("appliance: received journal: %w", err)
	}
	if err := r.f.Sync(); err != nil {
		return fmt.Errorf("appliance: received journal: %w", err)
	}
	r.remember(key, value)
	if len(r.order) > 2*r.keep {
		return r.compact()
	}
	return nil
}

func (r *received) stagePath(key string) string { return filepath.Join(r.staging, key+pendingEnvelope) }

// known reports an object already made durable: in the journal, staged,
// or held.
func (a *Appliance) known(key string) (string, bool) {
	if v, ok := a.recv.lookup(key); ok {
		return v, true
	}
	if _, err := os.Stat(a.recv.stagePath(key)); err == nil {
		return "staged", true
	}
	if m, _ := filepath.Glob(filepath.Join(a.pendingDir, "*-"+key+pendingObject)); len(m) > 0 {
		return "held", true
	}
	if m, _ := filepath.Glob(filepath.Join(a.pendingDir, "*-"+key+pendingEnvelope)); len(m) > 0 {
		return "held", true
	}
	return "", false
}

// stageAndQueue makes a sealed envelope durable in intake/, enqueues it,
// journals the key and removes the staged copy.
func (a *Appliance) stageAndQueue(ctx context.Context, key string, env []byte, id string) error {
	p := a.recv.stagePath(key)
	if err := fsutil.WriteFile(p, 0o600, func(w io.Writer) error { _, err := w.Write(env); return err }); err != nil {
		return fmt.Errorf("appliance: stage envelope: %w", err)
	}
	if err := a.enqueue(ctx, env); err != nil {
		// Nothing was promised yet: drop the staged copy so that the
		// modality's retry is sealed afresh.
		os.Remove(p)
		return err
	}
	if err := a.recv.add(key, id); err != nil {
		return err
	}
	if err := os.Remove(p); err != nil {
		return fmt.Errorf("appliance: %w", err)
	}
	return fsutil.SyncDir(a.recv.staging)
}

// recoverStaged finishes what a crash interrupted in intake/: each staged
// envelope is enqueued (the outbox and the hub deduplicate by envelope id)
// and journalled. It runs before the modality is listened to.
func (a *Appliance) recoverStaged(ctx context.Context) error {
	ents, err := os.ReadDir(a.recv.staging)
	if err != nil {
		return fmt.Errorf("appliance: %w", err)
	}
	for _, e := range ents {
		key, ok := strings.CutSuffix(e.Name(), pendingEnvelope)
		if !ok || len(key) != 64 {
			continue
		}
		p := filepath.Join(a.recv.staging, e.Name())
		env, err := os.ReadFile(p)
		if err != nil {
			return fmt.Errorf("appliance: %w", err)
		}
		h, err := uplink.PeekHeader(env)
		if err != nil {
			a.log.Error("appliance: staged envelope unreadable; removed", "file", p, "err", err)
			os.Remove(p)
			continue
		}
		if err := a.enqueue(ctx, env); err != nil {
			return err
		}
		if err := a.recv.add(key, hex.EncodeToString(h.ID[:])); err != nil {
			return err
		}
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("appliance: %w", err)
		}
		a.log.Info("appliance: staged envelope queued after a restart", "envelope", hex.EncodeToString(h.ID[:]))
	}
	return fsutil.SyncDir(a.recv.staging)
}
