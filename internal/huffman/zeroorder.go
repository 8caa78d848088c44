package huffman

import (
	"fmt"
	"io"

	"edge/internal/medimg"
)

// EncodeZeroOrder writes im with one Huffman code over the sample values
// themselves, no prediction: the design of the paper this product reproduces
// for comparison (scheme "paper"), whose size is bounded below by the
// zero-order entropy of the histogram. DecodeZeroOrder and Decoder read it.
func EncodeZeroOrder(w io.Writer, im *medimg.Image) error {
	e := NewEncoder(w)
	return e.EncodeZeroOrder(im)
}

// EncodeZeroOrder is the package function EncodeZeroOrder reusing e's buffers.
func (e *Encoder) EncodeZeroOrder(im *medimg.Image) error {
	if err := im.Validate(); err != nil {
		return fmt.Errorf("huffman: encode: %w", err)
	}
	if err := checkPhotometric(im.Photometric); err != nil {
		return err
	}
	lo, hi := im.Range()
	s := &e.zs
	hist := resize(s.hist[0], int(hi-lo)+1)
	clear(hist)
	for _, v := range im.Pix {
		hist[v-lo]++
	}
	s.hist[0] = hist
	t := &s.tabs[0]
	s.b.build(t, hist)
	s.w.reset()
	writeTable(&s.w, t, hist)
	if t.used > 1 {
		for _, v := range im.Pix {
			s.w.write(t.code[v-lo], uint(t.len[v-lo]))
		}
	}
	s.w.flush()
	return e.write(version1, kindZeroOrder, im, s.w.buf)
}

// DecodeZeroOrder reads one stream written by EncodeZeroOrder, refusing any
// other kind.
func DecodeZeroOrder(r io.Reader, lim Limits) (*medimg.Image, error) {
	d := NewDecoder(r, lim)
	d.zeroOnly = true
	return d.Decode()
}

func (d *planeDecoder) decodeZeroOrder(im *medimg.Image) error {
	lo, hi := im.Range()
	t := &d.tabs[0]
	if err := t.read(&d.br, int(hi-lo)+1); err != nil {
		return d.corrupt("value table: %v", err)
	}
	if t.used == 0 {
		return d.corrupt("value table is empty")
	}
	br := &d.br
	for i := range im.Pix {
		if i&0xffff == 0 && br.overrun() {
			return d.corrupt("sample %d", i)
		}
		br.refill()
		im.Pix[i] = int32(t.decode(br)) + lo
	}
	return nil
}
