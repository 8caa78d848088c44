package hub

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/tus/tusd/v2/pkg/filestore"
	"github.com/tus/tusd/v2/pkg/handler"

	"edge/internal/fsutil"
)

// syncStore is tusd's file store with the fsyncs it leaves out: the new
// upload's files and folder on creation, and the data after every chunk, so
// that an offset the hub reports (HEAD, PATCH answer) is on disk and a power
// cut never makes the hub ask a device to resume past bytes it lost.
type syncStore struct {
	filestore.FileStore
}

func (s syncStore) NewUpload(ctx context.Context, info handler.FileInfo) (handler.Upload, error) {
	up, err := s.FileStore.NewUpload(ctx, info)
	if err != nil {
		return nil, err
	}
	fi, err := up.GetInfo(ctx)
	if err != nil {
		return nil, err
	}
	for _, p := range []string{fi.Storage[filestore.StorageKeyInfoPath], fi.Storage[filestore.StorageKeyPath]} {
		if err := syncFile(p); err != nil {
			return nil, err
		}
	}
	if err := fsutil.SyncDir(s.Path); err != nil {
		return nil, err
	}
	return syncUpload{up, fi.Storage[filestore.StorageKeyPath]}, nil
}

func (s syncStore) GetUpload(ctx context.Context, id string) (handler.Upload, error) {
	up, err := s.FileStore.GetUpload(ctx, id)
	if err != nil {
		return nil, err
	}
	fi, err := up.GetInfo(ctx)
	if err != nil {
		return nil, err
	}
	bin := fi.Storage[filestore.StorageKeyPath]
	if bin == "" {
		bin = filepath.Join(s.Path, id)
	}
	return syncUpload{up, bin}, nil
}

type syncUpload struct {
	handler.Upload
	bin string
}

func (u syncUpload) WriteChunk(ctx context.Context, offset int64, src io.Reader) (int64, error) {
	n, err := u.Upload.WriteChunk(ctx, offset, src)
	// Even a chunk cut short by the link is kept and counted: sync what arrived.
	if serr := syncFile(u.bin); serr != nil && err == nil {
		err = serr
	}
	return n, err
}

func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("hub: sync upload file: %w", err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("hub: sync %s: %w", path, err)
	}
	return nil
}

var _ handler.DataStore = syncStore{}
