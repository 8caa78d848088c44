package medimg

import "fmt"

// FormatError reports input that is not a well-formed PNG or DICOM file: a
// truncated stream, a length that runs past the end, pixel data shorter than
// the geometry needs.
type FormatError struct {
	File   string // the file, when read by ReadFile
	Format Format // the format the bytes were taken for; empty when neither matched
	Offset int64  // byte offset of the problem, or -1 when it has none
	Msg    string
}

func (e *FormatError) Error() string {
	s := "medimg: "
	if e.File != "" {
		s += e.File + ": "
	}
	if e.Format == "" {
		return s + e.Msg
	}
	s += "malformed " + e.Format.name()
	if e.Offset >= 0 {
		s += fmt.Sprintf(" at byte %d", e.Offset)
	}
	return s + ": " + e.Msg
}

// UnsupportedError reports a well-formed file this package does not handle:
// a compressed transfer syntax, a YBR photometric, 32 bits allocated, an image
// larger than MaxSamples.
type UnsupportedError struct {
	File string // the file, when read by ReadFile
	What string // e.g. "transfer syntax 1.2.840.10008.1.2.4.90 (JPEG 2000 Image Compression (Lossless Only))"
}

func (e *UnsupportedError) Error() string {
	s := "medimg: "
	if e.File != "" {
		s += e.File + ": "
	}
	return s + "unsupported " + e.What
}

func dicomError(off int, format string, args ...any) error {
	return &FormatError{Format: FormatDICOM, Offset: int64(off), Msg: fmt.Sprintf(format, args...)}
}

func pngError(format string, args ...any) error {
	return &FormatError{Format: FormatPNG, Offset: -1, Msg: fmt.Sprintf(format, args...)}
}

func unsupported(format string, args ...any) error {
	return &UnsupportedError{What: fmt.Sprintf(format, args...)}
}
