// Package hub is the receiving side of the uplink: a tus server (tusd's
// handler over its file store, with the fsyncs tusd leaves out) behind TLS
// that knows the devices by their keys, and a processing step that verifies,
// opens and restores each finished upload with internal/protect, keeps the
// restored image with an audit record, answers the device with a receipt and
// forwards DICOM to the PACS.
//
// # hub.json
//
// `edge hub init` writes every key. An unknown key is an error naming it.
// Relative paths are relative to the folder holding hub.json.
//
//	listen                        address to serve HTTPS on, e.g. "127.0.0.1:8443" or ":8443"
//	tls_cert, tls_key             the hub's certificate (PEM) and its key (PEM, mode 0600);
//	                              devices pin the SPKI SHA-256 of this key
//	hub_key                       hub.key, the X25519 key envelopes are sealed to (mode 0600)
//	trusted_dir                   folder of trusted device keys, DEVICEID.pub each; re-read on change
//	store                         folder of uploads, restored images, rejected envelopes and the index
//	clinician_store               optional: the clinician registry the mark is matched against
//	                              (opened by Options.OpenClinicians); "" to skip matching
//	accepted_models               hex SHA-256 of the feature models whose envelopes are restored
//	allow_unverified_models       also restore envelopes with a zero or unknown model hash (features
//	                              read from a file): for tests and evaluation, never in service
//	pacs.orthanc_url              Orthanc's REST root, e.g. "http://127.0.0.1:8042", to forward by
//	                              POST /instances; "" for none
//	pacs.username, pacs.password  HTTP basic credentials for Orthanc, "" for none
//	pacs.dicom_address            HOST:PORT of any PACS's DICOM storage service, to forward by
//	                              C-STORE instead; "" for none. At most one of orthanc_url and
//	                              dicom_address is set; with neither, nothing is forwarded
//	pacs.called_ae                the PACS's AE title (1 to 16 characters), needed with dicom_address
//	pacs.calling_ae               the hub's AE title towards the PACS (default "EDGE_HUB"); the PACS
//	                              may have to know it
//	pacs.connect_timeout_seconds  bound on the TCP connect with association negotiation, and on the
//	                              release, of one C-STORE (0 or absent: 10)
//	pacs.retry_max_seconds        longest wait between forwarding retries (backoff doubles from 1 s)
//	pacs.request_timeout_seconds  bound on one POST /instances, or one C-STORE association from
//	                              connect to release
//	limits.max_envelope_bytes     largest upload accepted (also tus's Tus-Max-Size)
//	limits.max_body_bytes         largest compressed body inside an envelope
//	limits.max_dicom_bytes        largest DICOM header plus trailer inside an envelope
//	limits.max_samples            largest image geometry (width·height·frames·channels) decoded
//	limits.abandoned_upload_hours an upload left incomplete and unwritten this long is removed
//	                              (0: the default, 168; a device coming back sends it again)
//
// The limits bound what a trusted device can make the hub allocate; the
// defaults (64 MiB, 64 MiB, 16 MiB, 64 Mi samples) are far below the format's.
//
// # Endpoints
//
//	POST  /files/            tus creation, or creation-with-upload (the body is the envelope or
//	                         its first part; the answer completing an upload carries the
//	                         receipt as PATCH's does); Upload-Metadata must hold exactly
//	                         envelope_id (32 lowercase hex digits) and device_id (the client
//	                         certificate's device); no body is read before these pass
//	HEAD  /files/ID          tus offset
//	PATCH /files/ID          tus data; the answer completing an upload carries the receipt
//	                         in the Edge-Receipt header (base64url of its JSON)
//	GET   /receipts/ID       the receipt of upload ID as JSON (processing it first if it is
//	                         complete but the hub died before deciding); 409 while incomplete
//	GET   /healthz           JSON status; no client certificate needed
//	GET   /metrics           Prometheus text format; no client certificate needed
//
// The hub speaks HTTP/2 (preferred in ALPN) and HTTP/1.1. A client
// certificate is optional at the handshake so that monitors can read /healthz
// and /metrics, but one that is offered must carry a trusted device key
// (uplink.PeerDevice), or the handshake fails: an unknown device cannot
// create an upload, let alone send a body. Upload ids are
// DEVICE-ENVELOPE-RANDOM, and a device reaching for another device's upload
// or receipt gets 404.
//
// # Processing an upload
//
// Once an upload is complete: read it (bounded by limits.max_envelope_bytes);
// protect.Opener.Recover, which checks device and signature before the hub
// key is used, then opens, decrypts, decodes, extracts the mark and restores
// the original, checked against its sealed SHA-256; the verified envelope id
// and device must be those of the metadata; with a clinician registry, the
// mark must match. An envelope failing any check is moved to
// store/rejected/UPLOAD.edge beside UPLOAD.reason, never forwarded, and the
// device told "rejected" with the reason. An envelope id already stored is a
// duplicate: nothing new is stored. Otherwise the restored image is written
// (fsync, rename) to store/images/ENVELOPE.dcm or .png, and then the audit
// record, the receipt and, for DICOM with a PACS, a forwarding job are
// committed in one bbolt transaction. Only after that commit does the device
// hear "stored", and only then does it drop the envelope. Uploads are
// processed one at a time.
//
// A serving hub holds the index exclusively; it answers GET /audit on the
// Unix socket store/admin.sock (mode 0600 in the 0700 store), which is how
// ReadAudit (edge hub audit) reads a running hub's records. With no hub
// running, ReadAudit opens the index read-only.
//
// # The index (store/index.db, bbolt)
//
//	stored    envelope id (hex) → audit sequence of the record that stored it
//	uploads   upload id → receipt JSON
//	audit     sequence (uint64 big-endian) → Record JSON
//	forward   sequence → nothing: stored DICOM not yet confirmed by the PACS
//	refused   sequence → nothing: stored DICOM the PACS refused for what it is
//
// The forwarder posts each queued file to Orthanc and deletes the job once
// Orthanc answers Success or AlreadyStored; a crash in between posts again,
// and Orthanc, keying instances by their UIDs, keeps one. Forwarding by
// C-STORE (package modality/scu) is the same: the job is deleted once the
// PACS answered success or a warning (B000, B006, B007; the record's pacs_id
// is then the SOP Instance UID), and a PACS keeps one instance per SOP
// Instance UID when a crash sends it twice.
//
// A PACS that refuses a file for what it is (a presentation context refused
// for its SOP class and transfer syntax; the C-STORE statuses 0117, 0122,
// A9xx and Cxxx; Orthanc's 400, 413 and 415) would refuse it again: the job
// moves to refused, the record says forward "refused" with the PACS's words
// (forward_error), an error is logged, edge_hub_forward_refused and /healthz
// count it, and the files behind it go on. The file stays in store/images,
// and each start of the hub queues the refused files again, so a restart
// after the PACS has been set up to take them sends them. Every other
// failure (no connection, a rejected association, an abort, out of
// resources, a server error, a timeout) is of the PACS's state: the job stays
// queued and is retried with backoff, and since forwarding is in order, the
// files behind it wait too.
package hub
