// Package dimse parses and writes DIMSE command sets (PS3.7 E, 9.3.1,
// 9.3.5) for C-ECHO and C-STORE.
//
// A command set is a sequence of group 0000 elements in implicit VR little
// endian: tag group (2 bytes), tag element (2), value length (4), value. It
// starts with Command Group Length (0000,0000), a 4-byte UL whose value is
// the number of bytes after it; the elements read are Affected SOP Class UID
// (0000,0002), Command Field (0000,0100), Message ID (0000,0110), Message ID
// Being Responded To (0000,0120), Priority (0000,0700), Command Data Set Type
// (0000,0800; 0x0101 means no data set follows), Status (0000,0900), Error
// Comment (0000,0902), Affected SOP Instance UID (0000,1000) and the Move
// Originator elements (0000,1030), (0000,1031).
//
// Parse checks, in order: the whole set within MaxCommandLen; each element
// header complete, in group 0000, in ascending tag order, and its length
// within what is left; US values 2 bytes, UI values at most 64; Command
// Group Length first and equal to the bytes after it (so nothing may follow
// the command); Command Field and Command Data Set Type present. Each
// failure is a *FormatError with the byte offset.
package dimse
