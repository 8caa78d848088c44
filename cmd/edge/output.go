package main

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"edge/internal/fsutil"
	"edge/internal/medimg"
)

// pathFlag is a path and the flag that gave it.
type pathFlag struct{ flag, path string }

// checkOutputs runs before a command does any work: every output path is
// distinct from the others and from the inputs, none exists unless force,
// and temporary files a power loss left for them are removed.
func checkOutputs(force bool, inputs, outputs []pathFlag) error {
	var seen []pathFlag
	for _, o := range outputs {
		if o.path == "" {
			continue
		}
		for _, q := range seen {
			if fsutil.SameFile(o.path, q.path) {
				return fmt.Errorf("%w: --%s and --%s name the same file %s", errUsage, q.flag, o.flag, o.path)
			}
		}
		for _, in := range inputs {
			if fsutil.SameFile(o.path, in.path) {
				return fmt.Errorf("%w: --%s would overwrite the input --%s %s", errUsage, o.flag, in.flag, o.path)
			}
		}
		seen = append(seen, o)
		p := o.path
		if err := fsutil.CheckOutput(p, force); err != nil {
			return err
		}
		if err := fsutil.RemoveStaleFor(p); err != nil {
			return err
		}
	}
	return nil
}

// writeOutput writes a command's output file with mode 0600 (images,
// envelopes and reports are patient data); unless force it is created
// with link semantics, so a file that appeared meanwhile is not replaced.
func writeOutput(path string, force bool, fill func(w io.Writer) error) error {
	if force {
		return fsutil.WriteFile(path, 0o600, fill)
	}
	return fsutil.WriteNew(path, 0o600, fill)
}

// writeImage writes im in the format path's extension names: .png from any
// container, .dcm/.dicom only with the DICOM container the image came with.
func writeImage(path string, im *medimg.Image, c *medimg.Container, force bool) error {
	isDICOM := c != nil && c.Format == medimg.FormatDICOM
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".png":
		c = nil
	case ".dcm", ".dicom":
		if !isDICOM {
			return fmt.Errorf("%s: writing DICOM needs the DICOM header of the original, and this image has none (write .png instead)", path)
		}
	case "":
	default:
		return fmt.Errorf("%s: unknown extension %q, want .png or .dcm", path, ext)
	}
	return writeOutput(path, force, func(w io.Writer) error {
		if err := medimg.Encode(w, im, c); err != nil {
			return fmt.Errorf("%w (writing %s)", err, path)
		}
		return nil
	})
}

// dropsDataSet reports whether writing an image of container c to path
// loses its DICOM data set (patient, study, UIDs): a DICOM image to .png.
func dropsDataSet(path string, c *medimg.Container) bool {
	return c != nil && c.Format == medimg.FormatDICOM && strings.EqualFold(filepath.Ext(path), ".png")
}
