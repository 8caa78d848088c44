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
//     restarted device resumes this upload rather than starting another.
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
// # Retries
//
// One attempt is a function; Sender.Run loops over the oldest entry,
// waiting uplink.Backoff (capped, jittered) after a failed attempt and
// starting again from the first backoff step when an attempt moved bytes. A
// PermanentError (the hub refused the device or the metadata, the pin does
// not match, the entry is corrupt) is not retried by a Sender with Once set.
package tus
