package login

import (
	"os"
	"syscall"
	"time"
)

// fileStamp is a file's modification time, its change time (which no one
// can set back) and its inode (new for every file renamed into place).
func fileStamp(fi os.FileInfo) (mtime, ctime time.Time, ino uint64) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fi.ModTime(), fi.ModTime(), 0
	}
	return fi.ModTime(), time.Unix(int64(st.Ctim.Sec), int64(st.Ctim.Nsec)), uint64(st.Ino)
}
