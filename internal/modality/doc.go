// Package modality receives images from the connected modality: a DICOM
// C-ECHO and C-STORE service class provider (Server) and a watch folder
// (Watcher), both handing each object to a Consumer.
//
// # Association
//
// Server runs the acceptor's side of the PS3.8 state machine (the table in
// association.go, by the standard's state and action names) on each
// connection, with the PDUs of package ul. An A-ASSOCIATE-RQ must arrive
// within the ARTIM timeout; it is rejected (A-ASSOCIATE-RJ, permanent) when
// the protocol version or application context is not DICOM's (source 2
// reason 2; source 1 reason 2), the called AE title is not Config.AETitle
// (source 1 reason 7), the calling AE title is not on Config.AllowCallingAE
// (source 1 reason 3) or the source address not in Config.AllowSources
// (source 1 reason 1), and transiently (source 3 reason 2, local limit
// exceeded) when Config.MaxAssociations are already open. Each presentation
// context is accepted for Verification and the storage SOP classes of
// syntax.go, with explicit VR little endian, else implicit VR little endian;
// another abstract syntax gets "abstract syntax not supported", a context
// offering neither transfer syntax "transfer syntaxes not supported" (the
// protect pipeline decodes only uncompressed little endian data sets).
//
// # DIMSE
//
// Command sets (package dimse) are reassembled from PDV fragments on one
// context; a C-STORE's data set follows on the same context and is written
// fragment by fragment to a spool file, never held whole in memory: the
// Part 10 file meta (with the accepted transfer syntax and the calling AE as
// Source Application Entity Title), then the data set bytes exactly as
// received. Once the last fragment is in, the file is synced and renamed,
// its SOP Class and Instance UIDs are checked against the command's (A900
// when they differ), and it is handed to the Consumer; the C-STORE-RSP says
// success only when the consumer returned nil, otherwise A700, A900 or C000
// with an Error Comment (see failureStatus). An object over
// Config.MaxObjectSize is drained and answered A700.
//
// A PDU that breaks PS3.8 (unknown type, a length past Config.MaxPDULength
// or past the PDU, a PDV of a context that was not accepted, a data set
// fragment without a command, a command that is not well formed or has
// bytes after it) gets an A-ABORT and the connection is closed; nothing is
// stored for an object whose transfer did not complete.
//
// # Durability
//
// Spool files are written under a temporary name and renamed once synced;
// a restart removes whatever the spool folder holds, because no modality
// was told those objects were stored.
//
// # Watch folder
//
// Watcher lists its folder every Poll. A regular file (not hidden, not named
// like a copy in progress: .tmp, .part, .partial, .crdownload) is complete
// when its size and modification time have not changed for Settle, or at
// once when inotify reports it renamed into the folder. Its file meta must
// name a storage SOP class and a transfer syntax the provider would accept;
// its key is its SOP Instance UID and the SHA-256 of its bytes. A key the
// journal already holds is not handed over again (the file goes to done/);
// otherwise the Consumer gets the file where it lies, and on success the key
// is appended to the journal and synced, then the file is renamed into
// done/; on failure <name>.reason.txt is written into failed/ and the file
// renamed beside it. A restart between the hand-over and the journal's sync
// hands that one file over again: a Consumer that must see each object once
// dedupes by SOP Instance UID (DirStore replaces the file with the same
// bytes).
package modality
