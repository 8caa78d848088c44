// Package sensor drives ZhianTec/Grow optical fingerprint modules (R30x,
// AS608, ZFM20, R503) over a serial line.
//
// # Wire format
//
// Every packet, in both directions, is
//
//	EF 01 | A3 A2 A1 A0 | PID | LH LL | payload … | SH SL
//
// all big-endian: the start code 0xEF01, the module's 4-byte address
// (0xFFFFFFFF unless changed), a packet identifier (0x01 command, 0x02 data
// with more to follow, 0x07 acknowledgement, 0x08 last data packet), a
// length that counts the payload and the 2-byte checksum, the payload, and
// the checksum: the 16-bit sum of PID, both length bytes and every payload
// byte. A command payload starts with the instruction code, an
// acknowledgement payload with the confirmation code (0x00 success, see
// [Code]).
//
// # Image upload
//
// UpImage (0x0A) is answered by an acknowledgement and then by the image in
// data packets of the module's data packet size (ReadSysPara's code 0–3:
// 32, 64, 128 or 256 bytes), the last one with PID 0x08. The image is
// 256×288 pixels at 4 bits per pixel, two pixels per byte with the left one
// in the high nibble: 36,864 bytes, 288 packets of 128 bytes at the default
// size. The driver widens each nibble v to the 8-bit value 17·v, so 0 and 15
// map to black and white.
//
// The protocol has no per-packet retransmission, so a corrupted packet costs
// a new UpImage: the module keeps the image in its buffer and sends it again.
// The driver keeps every packet it could place from earlier tries and only
// needs the missing ones from later tries. A packet is placed by its offset
// in the stream after the acknowledgement, and only when the packet passed
// its checksum, has exactly the packet size, and the end packet of the same
// try sits where the geometry says it must; see [Dev.UpImage].
//
// # Line rate
//
// A module talks at 9,600·N baud, N 1 to 12 (57,600 from the factory).
// SetSysPara (0x0E) with parameter number 4 and the value N changes it:
//
//	EF 01 | address | 01 | 00 05 | 0E 04 N | sum
//
// The module acknowledges at the old rate (confirmation 0x00; 0x1A, wrong
// register number, for an unknown parameter; an N outside 1 to 12 is
// refused too, and the simulator answers 0x1B), then talks at the new one, and keeps it in flash across power cycles; ReadSysPara reports N
// in its last two bytes. [Dev.SetBaud] sends it once (a lost answer leaves
// the module at either rate) and then sets the port, a [SpeedPort]: the
// serial port [OpenSerial] returns changes its speed through termios after
// the bytes written have left (tcdrain), and [Reconnecting] sets the rate
// last set on every device it opens again. [Dev.Switch] picks the fastest
// rate of [SwitchRates] (the module rates that are standard termios rates:
// 9,600, 19,200, 38,400, 57,600, 115,200) that the adapter holds, switches,
// checks with a ReadSysPara at the new rate, and when the check fails looks
// for the module at the old rate and then at every rate ([Dev.Locate]), so
// a module that missed the switch, or took it while its answer was lost, is
// found wherever it is. Because the rate persists, every handshake
// ([ProbePort], and the login station's) looks for the module at the other
// rates when it is silent at the expected one.
//
// # Transport
//
// The driver reads and writes through [Port], the three methods of a serial
// port it needs; the application opens and closes the device ([OpenSerial],
// [Find], [Reconnecting]). A read that returns (0, nil) is a read timeout, as
// go.bug.st/serial reports it, never end of file. Every blocking call takes a
// context; the driver reads in short slices so that a cancelled context ends
// a call within one slice.
package sensor
