package modality

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"edge/internal/fsutil"
)

// headLen is how much of a data set's start is kept in memory to find its
// SOP Class and Instance UIDs.
const headLen = 4 << 10

const partSuffix = ".part"

// spoolFile is one object being received: the Part 10 file is written as
// fragments arrive, into a temporary name, and renamed into place only once
// complete and synced.
type spoolFile struct {
	dir, tmp string
	f        *os.File
	bw       *bufio.Writer
	n        int64 // data set bytes written
	head     []byte
}

func newSpoolFile(dir string, m meta) (*spoolFile, error) {
	name, err := randomName()
	if err != nil {
		return nil, err
	}
	tmp := filepath.Join(dir, "."+name+partSuffix)
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("modality: create spool file: %w", err)
	}
	s := &spoolFile{dir: dir, tmp: tmp, f: f, bw: bufio.NewWriterSize(f, 64<<10)}
	if _, err := s.bw.Write(appendMeta(nil, m)); err != nil {
		s.discard()
		return nil, fmt.Errorf("modality: write %s: %w", tmp, err)
	}
	return s, nil
}

func (s *spoolFile) write(p []byte) error {
	if len(s.head) < headLen {
		s.head = append(s.head, p[:min(len(p), headLen-len(s.head))]...)
	}
	if _, err := s.bw.Write(p); err != nil {
		return fmt.Errorf("modality: write %s: %w", s.tmp, err)
	}
	s.n += int64(len(p))
	return nil
}

// commit makes the file durable under its final name and returns that name
// and the file's size.
func (s *spoolFile) commit() (string, int64, error) {
	if err := s.bw.Flush(); err != nil {
		s.discard()
		return "", 0, fmt.Errorf("modality: write %s: %w", s.tmp, err)
	}
	st, err := s.f.Stat()
	if err != nil {
		s.discard()
		return "", 0, fmt.Errorf("modality: stat %s: %w", s.tmp, err)
	}
	if err := s.f.Sync(); err != nil {
		s.discard()
		return "", 0, fmt.Errorf("modality: sync %s: %w", s.tmp, err)
	}
	if err := s.f.Close(); err != nil {
		os.Remove(s.tmp)
		return "", 0, fmt.Errorf("modality: close %s: %w", s.tmp, err)
	}
	final := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(s.tmp), "."), partSuffix) + ".dcm"
	final = filepath.Join(s.dir, final)
	// The folder is not synced: the bytes are, which is what the consumer
	// reads, links or copies, and a restart empties the spool anyway. The
	// consumer makes its own copy durable before it returns.
	if err := os.Rename(s.tmp, final); err != nil {
		os.Remove(s.tmp)
		return "", 0, fmt.Errorf("modality: rename spool file: %w", err)
	}
	return final, st.Size(), nil
}

// discard removes the unfinished file.
func (s *spoolFile) discard() {
	s.f.Close()
	os.Remove(s.tmp)
}

func randomName() (string, error) {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("modality: random name: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// cleanSpool removes what an earlier run left in the spool folder: files of
// objects whose transfer was cut, and complete ones no modality was told
// were stored (it sends them again).
func cleanSpool(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("modality: spool folder: %w", err)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("modality: spool folder: %w", err)
	}
	for _, e := range ents {
		n := e.Name()
		if e.Type().IsRegular() && (strings.HasSuffix(n, partSuffix) || strings.HasSuffix(n, ".dcm")) {
			if err := os.Remove(filepath.Join(dir, n)); err != nil {
				return fmt.Errorf("modality: clean spool folder: %w", err)
			}
		}
	}
	return fsutil.SyncDir(dir)
}
