// Package ul reads and writes the PDUs of the DICOM upper layer (PS3.8 9.3)
// for an association acceptor.
//
// # PDUs
//
// Every PDU is a 6-byte header — type (1 byte), reserved (1), length of what
// follows (4, big endian) — then the body:
//
//	0x01 A-ASSOCIATE-RQ  protocol version (2), reserved (2), called AE (16),
//	                     calling AE (16), reserved (32), then items
//	0x02 A-ASSOCIATE-AC  the same fixed part, then items
//	0x03 A-ASSOCIATE-RJ  reserved, result, source, reason (1 byte each)
//	0x04 P-DATA-TF       one or more PDVs
//	0x05 A-RELEASE-RQ    4 reserved bytes
//	0x06 A-RELEASE-RP    4 reserved bytes
//	0x07 A-ABORT         reserved (2), source, reason
//
// An item is type (1), reserved (1), length (2, big endian), value: 0x10
// application context name; 0x20 presentation context (RQ: ID, 3 reserved,
// then one 0x30 abstract syntax and one or more 0x40 transfer syntax
// sub-items) and 0x21 (AC: ID, reserved, result, reserved, one 0x40); 0x50
// user information with sub-items 0x51 maximum length (4 bytes, big endian:
// the largest P-DATA-TF body the sender receives; 0 is no limit), 0x52
// implementation class UID, 0x55 implementation version name. Other user
// information sub-items (role selection, asynchronous operations window,
// extended negotiation, user identity) are read over and not answered, so
// PS3.7's defaults hold; items of unknown type are ignored.
//
// A PDV is its length (4, big endian, counting what follows), presentation
// context ID (1), message control header (1: bit 0 set for a command
// fragment, bit 1 set for the last fragment), then the fragment.
//
// # Checks, in the order a reader makes them
//
// Reader.Next reads the header; an unknown type is refused (A-ABORT reason
// 1) before any body is read, a declared length over the caller's limit (the
// maximum PDU length told to the peer, or a bound for A-ASSOCIATE-RQ) or a
// fixed-size PDU of another length is refused (reason 6) before anything is
// allocated. ParseAssociateRQ checks the fixed part's length, then every item
// and sub-item length against the bytes left, UIDs (1 to 64 characters of
// digits and dots), at most 128 presentation contexts with odd, distinct
// IDs, one abstract syntax and 1 to 64 transfer syntaxes each, one
// application context. EachPDV checks each PDV's length (at least 2, within
// the PDU) and that no reserved bit of the control header is set. Each
// failure is a *ProtocolError carrying the A-ABORT reason to send.
//
// The requester's side reads the answer to its request the same way:
// ParseAssociateAC checks the fixed part, protocol version 1, DICOM's
// application context, one user information item, and each presentation
// context result (odd distinct IDs, result 0 to 4, at most one transfer
// syntax, exactly one valid UID when accepted); ParseAssociateRJ checks the
// result (1 or 2) and source (1 to 3) and, as an error, names the reason.
package ul
