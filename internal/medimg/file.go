package medimg

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"edge/internal/fsutil"
)

// Format names the file format an image came in.
type Format string

const (
	FormatPNG   Format = "png"
	FormatDICOM Format = "dicom"
)

func (f Format) name() string {
	switch f {
	case FormatPNG:
		return "PNG"
	case FormatDICOM:
		return "DICOM"
	}
	return string(f)
}

// MaxFileSize bounds the files ReadFile and Decode accept: the largest image
// MaxSamples allows at 16 bits, plus headers, still fits in 32-bit int.
const MaxFileSize = 1<<31 - 1

// Container is what a file holds besides its pixels. For DICOM, Head is every
// byte before the first byte of the Pixel Data (7FE0,0010) value — preamble,
// file meta, all attributes (patient data among them), the pixel data tag, VR
// and length — and Tail every byte after the pixel samples: the pad byte of an
// odd-length value and any elements that follow. Head, pixels and Tail
// concatenated are the file. For PNG both are empty: a PNG is rebuilt from the
// Image alone.
type Container struct {
	Format     Format
	Head, Tail []byte
}

const pngSignature = "\x89PNG\r\n\x1a\n"

// Limits bound what the decoders accept; a board profile sets them from the
// board's memory. The zero value means the defaults, and no field can raise
// a limit past its default.
type Limits struct {
	// MaxSamples bounds Frames·Height·Width·Channels; 0 means
	// DefaultMaxSamples. The decoded image takes 4 bytes a sample.
	MaxSamples int64
	// MaxFileBytes bounds the file; 0 means MaxFileSize.
	MaxFileBytes int64
}

// DefaultMaxSamples is MaxSamples where the address space holds it, and
// 2²⁶ samples (256 MiB of decoded pixels) on 32-bit platforms, where a
// larger buffer cannot be allocated at all.
const DefaultMaxSamples = MaxSamples >> (4 * (1 - (^uint(0) >> 63)))

func (l Limits) maxSamples() uint64 {
	if l.MaxSamples <= 0 || l.MaxSamples > DefaultMaxSamples {
		return DefaultMaxSamples
	}
	return uint64(l.MaxSamples)
}

func (l Limits) maxFileBytes() int64 {
	if l.MaxFileBytes <= 0 || l.MaxFileBytes > MaxFileSize {
		return MaxFileSize
	}
	return l.MaxFileBytes
}

// Decode reads a PNG or DICOM image from data within the default Limits.
func Decode(data []byte) (*Image, *Container, error) { return Limits{}.Decode(data) }

// Decode reads a PNG or DICOM image from data, telling them apart by the PNG
// signature, by "DICM" at offset 128, or, for a DICOM stream without preamble,
// by a first tag in group 0002 or 0008. Input over l is an UnsupportedError,
// refused before its pixels are allocated.
func (l Limits) Decode(data []byte) (*Image, *Container, error) {
	if int64(len(data)) > l.maxFileBytes() {
		return nil, nil, unsupported("file of %d bytes (the limit is %d)", len(data), l.maxFileBytes())
	}
	switch {
	case len(data) >= len(pngSignature) && string(data[:len(pngSignature)]) == pngSignature:
		im, err := decodePNG(data, l)
		if err != nil {
			return nil, nil, err
		}
		return im, &Container{Format: FormatPNG}, nil
	case len(data) >= preambleLen+4 && string(data[preambleLen:preambleLen+4]) == "DICM",
		len(data) >= 8 && data[1] == 0 && (data[0] == 0x02 || data[0] == 0x08):
		return decodeDICOM(data, l)
	}
	return nil, nil, &FormatError{Offset: -1, Msg: "not a PNG or DICOM file"}
}

// ReadFile reads and decodes the PNG or DICOM file at path within the
// default Limits.
func ReadFile(path string) (*Image, *Container, error) { return Limits{}.ReadFile(path) }

// ReadFile reads and decodes the PNG or DICOM file at path within l.
func (l Limits) ReadFile(path string) (*Image, *Container, error) {
	data, err := readLimited(path, l.maxFileBytes())
	if err != nil {
		return nil, nil, err
	}
	im, c, err := l.Decode(data)
	if err != nil {
		var fe *FormatError
		var ue *UnsupportedError
		switch {
		case errors.As(err, &fe):
			fe.File = path
		case errors.As(err, &ue):
			ue.File = path
		default:
			err = fmt.Errorf("medimg: %s: %w", path, err)
		}
		return nil, nil, err
	}
	return im, c, nil
}

func readLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("medimg: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("medimg: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("medimg: %s is not a regular file", path)
	}
	if st.Size() > limit {
		return nil, &UnsupportedError{File: path, What: fmt.Sprintf("file of %d bytes (the limit is %d)", st.Size(), limit)}
	}
	// The size from Stat sizes the buffer; a file that grows meanwhile is
	// caught by reading one byte more.
	data := make([]byte, st.Size())
	if _, err := io.ReadFull(f, data); err != nil {
		return nil, fmt.Errorf("medimg: read %s: %w", path, err)
	}
	if n, _ := f.Read(make([]byte, 1)); n != 0 {
		return nil, fmt.Errorf("medimg: %s grew while being read", path)
	}
	return data, nil
}

// Encode writes im in the format of c. A DICOM container gives Head, the
// pixels in the layout Head describes, and Tail: with the pixels ReadFile
// returned this is the original file byte for byte, with other pixels of the
// same geometry the same file with those pixels. A nil or PNG container gives
// EncodePNG.
func Encode(w io.Writer, im *Image, c *Container) error {
	if c == nil || c.Format == FormatPNG {
		return EncodePNG(w, im)
	}
	if c.Format != FormatDICOM {
		return fmt.Errorf("medimg: unknown container format %q", c.Format)
	}
	return encodeDICOM(w, im, c)
}

// WriteFile writes im to path atomically (see fsutil.WriteFile), with mode
// 0600 because images are patient data. The extension chooses the format:
// ".png" writes PNG from any container; ".dcm" or ".dicom" writes DICOM and
// needs the DICOM container the image was read with; a path without an
// extension takes the container's format.
func WriteFile(path string, im *Image, c *Container) error {
	isDICOM := c != nil && c.Format == FormatDICOM
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".png":
		c = nil
	case ".dcm", ".dicom":
		if !isDICOM {
			return fmt.Errorf("medimg: %s: writing DICOM needs the DICOM header of the original, and this image has none (write .png instead)", path)
		}
	case "":
	default:
		return fmt.Errorf("medimg: %s: unknown extension %q, want .png or .dcm", path, ext)
	}
	return fsutil.WriteFile(path, 0o600, func(w io.Writer) error {
		if err := Encode(w, im, c); err != nil {
			return fmt.Errorf("%w (writing %s)", err, path)
		}
		return nil
	})
}
