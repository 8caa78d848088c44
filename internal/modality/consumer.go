package modality

import (
	"context"
	"errors"
	"syscall"

	"edge/internal/modality/dimse"
)

// Consumer takes each object the provider or the watch folder receives. The
// modality is told "stored" only after Store returned nil, so Store returns
// only once the object is durably where it goes (in the appliance: the
// protected envelope in the outbox).
//
// Store must not change or remove the file at obj.Path: it may read it, copy
// it or hard-link it. The caller removes or moves the file after Store
// returns.
type Consumer interface {
	Store(ctx context.Context, obj *Object) error
}

// Object is one received DICOM object.
type Object struct {
	CallingAE, CalledAE string // empty for the watch folder
	RemoteAddr          string // "host:port" of the modality; for the watch folder, the file's name
	SOPClassUID         string
	SOPInstanceUID      string
	TransferSyntaxUID   string
	// Path is a complete DICOM Part 10 file: 128-byte preamble, "DICM",
	// file meta information (explicit VR little endian, with the transfer
	// syntax the data set is in), then the data set exactly as received.
	Path string
	Size int64 // bytes in Path
}

// Errors a consumer wraps (or returns) to choose the failure status the
// modality gets: ErrOutOfResources gives A700, ErrDataSetMismatch A900.
// Anything else gives C000 "cannot understand", except an error wrapping
// ENOSPC or EDQUOT, which is A700 too.
var (
	ErrOutOfResources  = errors.New("modality: out of resources")
	ErrDataSetMismatch = errors.New("modality: data set does not match SOP class")
)

// StatusError lets a consumer choose the exact failure status: a code in
// A700–A7FF, A900–A9FF or C000–CFFF (PS3.4 B.2.3). Others are taken as C000.
type StatusError interface {
	error
	DIMSEStatus() uint16
}

// failureStatus maps a consumer's error onto a C-STORE failure status.
func failureStatus(err error) uint16 {
	var se StatusError
	if errors.As(err, &se) {
		s := se.DIMSEStatus()
		if s&0xFF00 == 0xA700 || s&0xFF00 == 0xA900 || s&0xF000 == 0xC000 {
			return s
		}
		return dimse.StatusCannotUnderstand
	}
	switch {
	case errors.Is(err, ErrOutOfResources), errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT):
		return dimse.StatusOutOfResources
	case errors.Is(err, ErrDataSetMismatch):
		return dimse.StatusDataSetMismatch
	}
	return dimse.StatusCannotUnderstand
}
