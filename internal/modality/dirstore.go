package modality

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"edge/internal/fsutil"
)

// DirStore is a Consumer that keeps each object as a file in Dir, named by
// its SOP Instance UID (like dcmtk's storescp), durably: the file is complete
// and synced, and the folder synced, before Store returns. An object sent
// again replaces the earlier file.
type DirStore struct {
	Dir string
	// Copy makes Store copy even where a hard link would do: for files that
	// stay in a folder others write to (the watch folder's done/), so that
	// the stored object never shares its bytes with them.
	Copy bool
}

var _ Consumer = (*DirStore)(nil)

// Store implements Consumer.
func (d *DirStore) Store(ctx context.Context, obj *Object) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	dst := filepath.Join(d.Dir, FileName(obj.SOPInstanceUID))
	name, err := randomName()
	if err != nil {
		return err
	}
	tmp := filepath.Join(d.Dir, "."+name+dirStoreTmp)
	// A spool file in the same file system is linked, not copied: it is
	// already synced, and a 500 MB object is not written twice.
	if d.Copy || os.Link(obj.Path, tmp) != nil {
		if err := copyFile(tmp, obj.Path); err != nil {
			return err
		}
	}
	if err := os.Rename(tmp, dst); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("modality: store %s: %w", dst, err)
	}
	return fsutil.SyncDir(d.Dir)
}

const dirStoreTmp = ".store-tmp"

// Clean removes the temporary files a Store cut short by a crash left in Dir;
// call it before the first Store, while no other process stores into Dir.
func (d *DirStore) Clean() error {
	ents, err := os.ReadDir(d.Dir)
	if err != nil {
		return fmt.Errorf("modality: clean %s: %w", d.Dir, err)
	}
	for _, e := range ents {
		if n := e.Name(); e.Type().IsRegular() && strings.HasPrefix(n, ".") && strings.HasSuffix(n, dirStoreTmp) {
			if err := os.Remove(filepath.Join(d.Dir, n)); err != nil {
				return fmt.Errorf("modality: clean %s: %w", d.Dir, err)
			}
		}
	}
	return nil
}

func copyFile(dst, src string) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("modality: open %s: %w", src, err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("modality: create %s: %w", dst, err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		os.Remove(dst)
		return fmt.Errorf("modality: copy to %s: %w", dst, err)
	}
	if err := out.Sync(); err != nil {
		out.Close()
		os.Remove(dst)
		return fmt.Errorf("modality: sync %s: %w", dst, err)
	}
	if err := out.Close(); err != nil {
		os.Remove(dst)
		return fmt.Errorf("modality: close %s: %w", dst, err)
	}
	return nil
}

// FileName is the name DirStore gives an object: its SOP Instance UID and
// ".dcm" when the UID is a plain UID, else a hash of it, so that no UID a
// modality sends can name a path outside the folder.
func FileName(sopInstanceUID string) string {
	ok := sopInstanceUID != "" && len(sopInstanceUID) <= 64
	for i := 0; ok && i < len(sopInstanceUID); i++ {
		c := sopInstanceUID[i]
		ok = (c >= '0' && c <= '9') || (c == '.' && i > 0)
	}
	if ok {
		return sopInstanceUID + ".dcm"
	}
	h := sha256.Sum256([]byte(sopInstanceUID))
	return "uid-" + hex.EncodeToString(h[:16]) + ".dcm"
}
