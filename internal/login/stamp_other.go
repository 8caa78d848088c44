//go:build !linux

package login

import (
	"os"
	"time"
)

// fileStamp without inodes and change times: the modification time and the
// size (which storeVersion lists) are what is left.
func fileStamp(fi os.FileInfo) (mtime, ctime time.Time, ino uint64) {
	return fi.ModTime(), fi.ModTime(), 0
}
