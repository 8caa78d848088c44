// Package appliance is `edge run`: the parts made one device. A clinician
// logs in with a finger on the sensor (internal/login); every image the
// modality sends (DICOM C-STORE, or the watch folder) is protected for the
// clinician logged in (internal/protect, with Sealer.RequireVerified) and
// durably in the outbox before the modality hears "stored"; the uplink
// drains the outbox to the hub in the background; a bedside status page,
// /metrics and /healthz are served on loopback; systemd hears READY=1,
// WATCHDOG=1 and STOPPING=1.
//
// One file per concern: config.go (edge.json), session.go (login loop and
// the session), intake.go (the modality's Consumer and the pending folder),
// protect.go (one Sealer, thumbnails), uplink.go (the tus sender), clock.go
// (a board without a real-time clock), status.go (page, /healthz,
// /metrics), metrics.go, watchdog.go (sd_notify), audit.go (the device's
// audit file), run.go (wiring, SIGTERM).
//
// # edge.json
//
// A JSON object; an unknown key is an error naming it. Relative paths are
// relative to the folder holding the file. Only store, the keys and a state
// folder are required.
//
//	board                       board profile (built-in name or .json file) when --board is not given:
//	                            serial port, baud, GPIO pins, ONNX Runtime library, providers, model
//	state_dir                   the appliance's own folder (mode 0700): outbox/, pending/, spool/,
//	                            failed/, watch.journal, audit.jsonl; default $STATE_DIRECTORY
//	                            (systemd's StateDirectory=)
//	keys                        folder holding device.key and hub.pub (edge keys init --device)
//	device_key, hub_pub         the two files, when not in keys
//	store, store_key            the clinicians' template store and its key (default store + ".key")
//	model                       the feature model (default: the board's installed model)
//	ort_lib, providers          ONNX Runtime library and execution providers (default: the board's)
//	scheme                      "v1" (default) or "paper"
//	sensor.port                 serial device of the module ("" finds it among USB-serial adapters)
//	sensor.baud                 its line rate, 9600..115200 (default: the board's, else 57600)
//	sensor.max_baud             fastest rate the serial adapter holds, a standard rate from 9600; the module
//	                            is switched to the fastest rate it and the adapter hold (default 115200)
//	sensor.address              module address, e.g. "0xFFFFFFFF" (default: the board's)
//	sensor.password             module password (default: the board's, else 0)
//	session.idle_timeout_seconds a session ends when no image came for this long (default 600)
//	session.touch_logout        a second touch (after the finger was lifted) logs out (default true)
//	modality.listen             DICOM C-STORE address, e.g. ":11112" (the default when watch.in is
//	                            empty too)
//	modality.ae_title           the called AE title the modality must use (default "EDGE")
//	modality.allow_calling_ae   calling AE titles accepted; empty accepts any
//	modality.allow_sources      source addresses or CIDR prefixes accepted; empty accepts any
//	modality.max_associations   concurrent associations (default 4)
//	modality.max_object_bytes   largest object accepted (default 2 GiB)
//	watch.in                    watch folder a modality exports DICOM files into ("" for none)
//	watch.settle_seconds        how long a file must stay unchanged to be complete (default 2)
//	uplink.hub, uplink.pin      the hub's https://host:port and its certificate's SPKI pin
//	                            (edge hub init prints it); without them envelopes stay queued
//	uplink.rate_bits            cap on the upload rate in bits per second (0: none)
//	uplink.parallel             envelopes in flight at once (default: the tus client's)
//	outbox.max_bytes, outbox.max_count  the outbox's quota (0: none); past it the modality is
//	                            refused with A700 and retries
//	status.listen               the status page's address (default "127.0.0.1:8080")
//	status.password             required when status.listen is not loopback: logging out asks for it
//	clock.not_before            a clock earlier than this date (YYYY-MM-DD, default 2026-01-01) is
//	                            not set: images are held, the uplink waits
//	log.level, log.format       debug|info|warn|error (default info); text (default) or json
//
// # Durability
//
// An image reaches the outbox (fsynced) before the modality is told it is
// stored. With nobody logged in, or a clock not yet set, the object itself is
// held in pending/ (fsynced) instead, and released to the first clinician who
// logs in; audit.jsonl says "held", then "released" with held_since. See
// intake.go for why a crash while releasing never makes a second envelope.
package appliance
