package uplink

import "fmt"

// checkMsgp checks that b is exactly one MessagePack object, containers
// nested at most maxDepth deep, whose every declared length and element count
// fits in what is left of b. It runs before any msgp decoder sees outside
// bytes: msgp v1.6.5 turns a 32-bit length into an int, which on 32-bit
// boards (GOARCH=arm, 386) is negative from 2³¹ up and makes its byte-slice
// readers slice out of range and panic, and its Skip add sizes in a uintptr
// that wraps. After this check every length is below len(b), itself bounded
// by Limits, so neither can happen.
func checkMsgp(b []byte, maxDepth int) error {
	w := msgpWalker{b: b}
	if err := w.object(maxDepth); err != nil {
		return err
	}
	if w.pos != len(b) {
		return fmt.Errorf("msgp: %d bytes after the object at offset %d", len(b)-w.pos, w.pos)
	}
	return nil
}

type msgpWalker struct {
	b   []byte
	pos int
}

func (w *msgpWalker) left() uint64 { return uint64(len(w.b) - w.pos) }

// uint reads a big-endian length of size bytes.
func (w *msgpWalker) uint(size int) (uint64, error) {
	if w.left() < uint64(size) {
		return 0, fmt.Errorf("msgp: truncated length at offset %d", w.pos)
	}
	var v uint64
	for _, c := range w.b[w.pos : w.pos+size] {
		v = v<<8 | uint64(c)
	}
	w.pos += size
	return v, nil
}

func (w *msgpWalker) object(depth int) error {
	if w.left() == 0 {
		return fmt.Errorf("msgp: truncated at offset %d", w.pos)
	}
	at := w.pos
	lead := w.b[w.pos]
	w.pos++
	var skip, items uint64 // payload bytes, then child objects
	var err error
	switch {
	case lead <= 0x7f || lead >= 0xe0 || lead == 0xc0 || lead == 0xc2 || lead == 0xc3:
		return nil // fixints, nil, false, true: the lead byte is all
	case lead&0xf0 == 0x80:
		items = 2 * uint64(lead&0x0f)
	case lead&0xf0 == 0x90:
		items = uint64(lead & 0x0f)
	case lead&0xe0 == 0xa0:
		skip = uint64(lead & 0x1f)
	default:
		switch lead {
		case 0xc4, 0xd9: // bin8, str8
			skip, err = w.uint(1)
		case 0xc5, 0xda: // bin16, str16
			skip, err = w.uint(2)
		case 0xc6, 0xdb: // bin32, str32
			skip, err = w.uint(4)
		case 0xc7: // ext8: length, type, data
			skip, err = w.uint(1)
			skip++
		case 0xc8:
			skip, err = w.uint(2)
			skip++
		case 0xc9:
			skip, err = w.uint(4)
			skip++
		case 0xcc, 0xd0:
			skip = 1
		case 0xcd, 0xd1:
			skip = 2
		case 0xca, 0xce, 0xd2:
			skip = 4
		case 0xcb, 0xcf, 0xd3:
			skip = 8
		case 0xd4, 0xd5, 0xd6, 0xd7, 0xd8: // fixext 1, 2, 4, 8, 16 and a type byte
			skip = 1 + 1<<(lead-0xd4)
		case 0xdc:
			items, err = w.uint(2)
		case 0xdd:
			items, err = w.uint(4)
		case 0xde:
			items, err = w.uint(2)
			items *= 2
		case 0xdf:
			items, err = w.uint(4)
			items *= 2
		default:
			return fmt.Errorf("msgp: invalid type byte %#02x at offset %d", lead, at)
		}
		if err != nil {
			return err
		}
	}
	if skip > w.left() {
		return fmt.Errorf("msgp: object at offset %d declares %d bytes, %d left", at, skip, w.left())
	}
	w.pos += int(skip)
	if items == 0 {
		return nil
	}
	if depth <= 0 {
		return fmt.Errorf("msgp: container at offset %d nested too deep", at)
	}
	// Every element takes at least one byte.
	if items > w.left() {
		return fmt.Errorf("msgp: container at offset %d declares %d elements, %d bytes left", at, items, w.left())
	}
	for range items {
		if err := w.object(depth - 1); err != nil {
			return err
		}
	}
	return nil
}
