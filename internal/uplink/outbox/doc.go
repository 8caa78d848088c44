// Package outbox keeps envelopes on the device until the hub has confirmed
// that it stored them durably. It knows envelopes only as signed bytes with
// a header (uplink.PeekHeader); how they travel is the tus client's business.
//
// # On disk
//
// An outbox is one folder:
//
//	DIR/.lock                         flock(2) held for every change, by any process
//	DIR/full                          the quota alarm: when and why an Enqueue was refused
//	DIR/q/T-ID.edge                   one queued envelope, mode 0600
//	DIR/q/T-ID.upload                 the upload URL of that envelope, once one was created
//	DIR/rejected/T-ID.edge            envelopes the hub refused, with
//	DIR/rejected/T-ID.reason          the hub's reason, one line
//
// T is the enqueue time in Unix nanoseconds, 20 decimal digits, and ID the
// envelope id, 32 lowercase hex digits; names sort oldest first.
//
// Every file is written by fsutil.WriteFile: a temporary file (a name
// beginning with a dot) in the same folder, fsynced, renamed into place, and
// the folder fsynced. Enqueue returns only after that, so an envelope it
// reported queued survives a kill -9 or a power cut. A reader lists only
// names of the form above; temporary files are never sent, and the next
// change under the lock removes them. An entry leaves q/ by Ack (the hub
// stored it, or told us it is a duplicate) or Reject (the hub refused it for
// good): the .edge file first, then the .upload file, then a folder fsync; a
// crash between the two leaves an .upload file without an envelope, which
// the next change removes.
//
// # Quota
//
// Options.MaxBytes and Options.MaxCount bound q/. An Enqueue that would pass
// either fails with a *FullError (errors.Is(err, ErrFull)) and changes
// nothing but raising the alarm (DIR/full, a warning in the log, Stats.Full
// and the edge_outbox_full gauge) until an Enqueue succeeds; the intake turns it into a refusal to the modality, which keeps
// the image and retries. Nothing already queued is ever dropped to make room.
//
// Several processes may share an outbox (the intake enqueuing while the
// sender drains): changes hold the lock file, reads list the folder.
package outbox
