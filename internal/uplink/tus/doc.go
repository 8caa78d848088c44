// Package tus moves envelopes from the outbox to the hub over tus 1.0
// (https://tus.io/protocols/resumable-upload): core protocol plus creation,
// over HTTPS with the hub's certificate pinned and the device's key as the
// TLS client certificate.
//
// # One envelope
//
// Client.Send makes one attempt at one outbox entry:
//
//  1. If the entry has an upload URL (saved beside it in the outbox), HEAD
//     it for Upload-Offset. A 404 or 410 means the hub finished with it: GET
//     /receipts/ID for its answer, or, if it has none, create anew.
//  2. Otherwise POST /files/ with Upload-Length and Upload-Metadata
//     "envelope_id" (32 hex digits) and "device_id" (16 hex digits), and save
//     the Location in the outbox before sending a byte of body, so a
//     restarted device resumes this upload rather than starting another. An
//     envelope of at most Client.WholeCreate bytes (32 KiB, never more than
//     a chunk) goes inside that POST instead (tus creation-with-upload): one
//     request, and the answer carries the receipt. A cut POST leaves nothing
//     to resume, so it costs at most that one chunk again, and the next
//     attempt at that envelope creates it empty first and is resumable.
//  3. PATCH from the offset in chunks of Client.ChunkSize, at most
//     Client.RateBits per second, each answer's Upload-Offset checked. A 409
//     (offset mismatch) goes back to HEAD.
//  4. The last PATCH answer carries the receipt in the Edge-Receipt header
//     (uplink.ParseReceiptHeader); without it, GET /receipts/ID.
//
// The receipt says stored, duplicate or rejected with a reason; Sender acks
// the entry for the first two and moves it aside with the reason for the
// third. A creation the hub refuses with 400 or 413 (the envelope's length
// or metadata) is treated as a rejection too. Anything else is an error, and
// the entry stays.
//
// # HTTP/2
//
// NewHTTPClient offers HTTP/2 and HTTP/1.1 in ALPN and the hub prefers
// HTTP/2: all of a device's uploads share one connection and one TLS
// handshake, and HPACK sends the headers that repeat as indexes. On the
// 100-envelope drain at 256 kbit/s that took what each envelope costs beyond
// its own bytes from about 700 bytes (HTTP/1.1 headers, a handshake per new
// connection) to about 240 with creation-with-upload. A tus server speaking
// only HTTP/1.1 is spoken to in HTTP/1.1.
//
// # Retries
//
// One attempt is a function; Sender.Run loops over the oldest entry,
// waiting uplink.Backoff (capped, jittered) after a failed attempt and
// starting again from the first backoff step when an attempt moved bytes. A
// PermanentError (the hub refused the device or the metadata, the pin does
// not match, the entry is corrupt) is not retried by a Sender with Once set.
package tus
