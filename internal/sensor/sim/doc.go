// Package sim is a ZhianTec/Grow fingerprint module in software: it speaks
// the packet protocol of package sensor on any byte stream, usually the
// master side of a pseudo-terminal whose slave a driver opens as if it were
// a USB-serial adapter.
//
// It serves one print, fitted to the module geometry (centre crop or pad
// with white, then quantised to 4 bits as v>>4), keeps a template library
// in memory, and paces its output at the configured line rate (10 bits per
// byte), because a pty moves bytes as fast as the reader takes them and a
// capture time measured on it would otherwise mean nothing.
//
// Faults are injected on request, each decided per packet sent with a
// seeded generator so that a run can be repeated: a corrupted packet has one
// byte changed, dropped or repeated; a stalled one pauses mid-packet. The
// module can also answer "no finger" a number of times, require a password
// the driver does not know, and hang up the line in the middle of an image
// upload.
//
// SetSysPara's baud rate (parameter 4) is taken as a module takes it: the
// acknowledgement at the old pace, everything after at the new one, kept
// across a simulated hang-up, reported by ReadSysPara; an N outside 1 to 12
// gets 0x1B. On a pty (Run) a paced module reads the rate the driver set on
// the slave with termios and drops the bytes that arrive while it differs
// from its own, as a UART at the wrong rate hears only noise; a pty moves
// bytes at any rate, so without this a driver at the wrong rate would pass.
//
// Character files and templates are not the module's minutiae format: a
// character file is the SHA-256 of the 4-bit image, so the same print always
// gives the same file and a search finds exactly the prints enrolled.
package sim
