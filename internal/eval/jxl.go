package eval

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"edge/internal/medimg"
)

// JXL measures JPEG XL lossless on the same pixels with libjxl's cjxl at
// distance 0 and effort 7 (its default effort): the size of the .jxl file,
// whose few bytes of container header are part of what a PACS would store.
// The image goes to cjxl as PNG (signed samples as their two's complement
// pattern, as EncodePNG writes them); multi-frame images have no figure.
type JXL struct {
	// Tool is the cjxl executable.
	Tool string
	// Dir holds the temporary files.
	Dir string
}

// FindJXL returns a JXL when cjxl is installed (Debian's libjxl-tools).
func FindJXL(dir string) (*JXL, bool) {
	p, err := exec.LookPath("cjxl")
	if err != nil {
		return nil, false
	}
	return &JXL{Tool: p, Dir: dir}, true
}

// Size compresses im and returns the size of the JPEG XL file.
func (j *JXL) Size(ctx context.Context, im *medimg.Image) (int, error) {
	in := filepath.Join(j.Dir, "jxl-in.png")
	out := filepath.Join(j.Dir, "jxl-out.jxl")
	defer os.Remove(in)
	defer os.Remove(out)
	var buf bytes.Buffer
	if err := medimg.EncodePNG(&buf, im); err != nil {
		return 0, fmt.Errorf("eval: PNG for cjxl: %w", err)
	}
	if err := os.WriteFile(in, buf.Bytes(), 0o600); err != nil {
		return 0, err
	}
	cmd := exec.CommandContext(ctx, j.Tool, "-d", "0", "-e", "7", "--quiet", in, out)
	if msg, err := cmd.CombinedOutput(); err != nil {
		return 0, fmt.Errorf("eval: cjxl: %v: %s", err, bytes.TrimSpace(msg))
	}
	st, err := os.Stat(out)
	if err != nil {
		return 0, err
	}
	return int(st.Size()), nil
}
