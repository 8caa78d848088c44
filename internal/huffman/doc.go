// Package huffman is the appliance's lossless image codec: a predictive coder
// with canonical, length-limited Huffman codes for 1- to 16-bit gray and RGB
// images (scheme v1), and a zero-order Huffman coder over the sample values
// themselves (scheme paper, the design of the publication the product
// reproduces).
//
// Encoder writes predictive streams in format version 4 where a stripe
// takes a chroma palette and version 3 otherwise (the same bytes a version
// 3 encoder wrote), and zero-order streams in version 1; Decoder reads
// predictive versions 1 to 4 and zero-order version 1, so envelopes sealed
// by older firmware still open.
//
// # Stream
//
// A stream is a header followed by a payload of the size the header gives,
// so a decoder reads exactly one stream's bytes and streams can follow each
// other. Integers in the header are unsigned LEB128 varints (uvarint).
//
//	"EHUF"                  magic
//	1 to 4                  format version (2 to 4: predictive only)
//	kind                    1 predictive, 2 zero-order
//	uvarint width, height, frames
//	channels                1, or 3 for interleaved RGB
//	bits allocated          8 or 16
//	bits stored             1 .. bits allocated
//	flags                   bit 0: signed (two's complement); others zero
//	photometric             1 MONOCHROME1, 2 MONOCHROME2, 3 RGB, 4 PALETTE COLOR,
//	                        or 0 then a length byte (≤ 16) and the printable name
//	uvarint payload size    in bytes
//	payload
//
// The payload is a bit string, most significant bit first, zero-padded to a
// whole byte; a decoder refuses unused bytes and non-zero padding.
//
// # Code tables
//
// Every code is a canonical Huffman code: codes are assigned in order of
// length, then symbol, so the lengths alone define it, and no code is longer
// than 20 bits (a limiter halves the frequencies and rebuilds where an optimal
// code would be longer). A table is written as: the number of used symbols
// U (Exp-Golomb, order 0); then for each used symbol in increasing order the
// gap to the previous used symbol (Exp-Golomb) and, when U ≥ 2, its length as
// the zigzag-coded difference from the previous length (first previous length
// 0). U = 0 is an empty table; U = 1 gives its symbol a zero-bit code, so a
// flat plane costs nothing but its table. A decoder refuses codes that are
// over-subscribed or incomplete (Kraft sum ≠ 1).
//
// # Predictive payload, version 4
//
// Version 4 is version 3 with one more colour transform for RGB stripes,
// t = 3, the chroma palette; the two bits after t are then zero. After the
// 4 mode bits, before the tables, comes the stripe's palette of chroma
// pairs (R−G, B−G), none of them (0, 0):
//
//	P                       the number of entries, at most 4096 (Exp-Golomb)
//	P pairs                 each entry's R−G and B−G minus the entry
//	                        before's ((0, 0) before the first), zigzag
//	                        coded, Exp-Golomb; every entry in [−top, top]
//
// The planes are G, then the index plane J, a plane of values in
// [0, P + 1] coded like a gray one, that gives each pixel's chroma:
//
//	J = 0                   (0, 0): the pixel is gray
//	J = 1                   the chroma of the last pixel before it in the
//	                        stripe with the same G and J ≥ 2, (0, 0) if none
//	J = k ≥ 2               palette entry k − 2
//
// R and B are then G plus the chroma, and must lie in [0, top]. The encoder
// tries the palette on stripes with at most 1024 distinct non-gray chroma
// pairs and keeps it when the sampled rows (as for the transform) cost fewer
// bits with it, palette included: an ultrasound's gray image with a
// pseudo-colour overlay codes its colour at a fraction of what the two
// difference planes cost at every edge between gray and colour.
//
// # Predictive payload, version 3
//
// Version 3 has version 2's payload layout (mapping, stripe lengths,
// stripes, all as below) with this bit string for a stripe:
//
//	RGB only: 4 bits        colour transform t (2 bits, 0 to 2), then one bit
//	                        each for the R−G and third planes: 1 means
//	                        predicted from the colour map
//	3 code tables           run lengths (121 symbols), run interruption with
//	                        left ≠ above, with left = above (68 symbols each)
//	33 bits                 for residual classes 1 to 33 in turn, 1 when the
//	                        class opens a new table group, 0 when it shares
//	                        the group of the class before (class 0 opens
//	                        group 0)
//	one code table          per group, in group order (68 symbols each); a
//	                        class's residuals use its group's table
//	the planes              gray; or for RGB G, R−G, then B−G (t = 0), B−R
//	                        (t = 1) or B − ⌊(R+G)/2⌋ (t = 2)
//
// Each plane is coded as in version 1 (spread, samples, run mode, contexts,
// bias correction, residual reduction and tokens) with two changes.
//
// The class: every sample leaves an error e, prediction minus sample: 0 for
// a sample of a run, b − x for a run interruption x (b the above neighbour,
// a on the first row; this is also its prediction where left = above), and
// the final prediction (after bias correction and clamping) minus x for a
// regular-mode sample. A regular-mode sample's class comes from the
// expectation E = (A + N·me) / N, with A/N the context's mean |residual|
// and me the largest of the |e| of its neighbours left, above, above-left
// and above-right and ⌊3|e|/4⌋ of the sample two to the left; outside the
// plane and at a plane's start e = 0. E maps to a class as in version 1 (0
// for E ≤ 1, else 2k−1 or 2k, at most 33).
//
// The colour map: a plane flagged for it is predicted, in regular mode, not
// by the median edge detector and bias correction but as map[g], clamped to
// the plane's range, g being the pixel's G sample (coded value, already
// decoded in the first plane). map starts all zero at the plane's start and
// map[g] takes each regular-mode sample's value once it is coded; runs and
// interruptions do not change it. The context, its sign, its update and
// the class work as for any regular-mode sample.
//
// # Predictive payload, version 2
//
// Version 2 codes the samples as the data use them, in stripes coded
// independently (and in parallel) whose layout is fixed by the geometry:
//
//	mapping                 0 range, 1 palette
//	uvarint zigzag(lo)      the lowest sample
//	uvarint top             coded values lie in [0, top]
//	palette only: top uvarints, each the gap to the next distinct value − 1
//	per stripe: uvarint     its length in bytes
//	the stripes
//
// With the range mapping a sample v is coded as v − lo, with top = highest −
// lowest sample; with the palette, as the index of v among the top + 1
// distinct values, lo first (the encoder takes the palette when fewer than
// half the values of the range occur, 16 samples or more per value, and, on
// images of up to 2²⁰ samples, only when it makes the smaller stream). Every
// frame is cut into stripes of ⌈2¹⁸ / width⌉ rows (the last one shorter),
// frame after frame. A stripe is a bit string in the version 1 layout below,
// over its own rows as if they were a whole frame of coded values in
// [0, top] (so RGB differences lie in [−top, top]), with its own 37 tables,
// whose residual classes have 68 symbols (residuals below 2¹⁷, which 16-bit
// RGB differences need); its rows are not predicted from the stripe above.
//
// # Predictive payload, version 1
//
// 37 code tables in this order: run lengths (121 symbols), run interruption
// with left ≠ above, run interruption with left = above, then 34 residual
// classes (64 symbols each). Then each plane: the frames in order, within a
// frame the gray plane, or for RGB the planes G, R−G and B−G. A plane starts
// with its value spread (maximum minus minimum sample, Exp-Golomb), then its
// samples in raster order.
//
// The model is JPEG-LS's (ITU-T T.87) in lossless form, reset at each plane:
// neighbours a (left), b (above), c (above-left), d (above-right); outside the
// plane a row start takes a = c = b, a row end d = b, and the first row b = c
// = d = a, with a = 0 clamped into range before the first sample. Gradient
// thresholds follow T.87's defaults with MAXVAL = the plane's value spread.
// Where a = b = c = d the coder is in run mode: the number of samples equal
// to a is coded (symbol 0: the run reaches the row end; otherwise 1 + the
// run-length token), then, unless the row ended, the interrupting sample's
// residual against b (negated when a > b, table 1) or against a when a = b
// (table 2). Otherwise a sample is predicted by the median edge detector
// plus the context's bias correction, its residual is negated for contexts of
// negative sign, reduced modulo the plane's range, zigzag-mapped to m ≥ 0 and
// coded with the table of its class. The class comes from the expectation
// E = (3A + N·l) / 4N, with A/N the context's mean |residual| and l the
// |residual| of the plane's previous regular-mode sample (0 at plane start):
// class 0 for E ≤ 1, else 2k−1 or 2k for 2^(k−1) < E ≤ 2^k, the larger when
// E > 1.5·2^(k−1), at most 33.
// Contexts update as in T.87 A.6 (RESET 64, bias correction in [−128, 127]).
//
// A value m (residual or run length) is sent as a token and extra bits: m < 16
// is its own token; otherwise, with n the index of m's leading one bit, the
// token is 16 + 4(n−4) + the two bits below the leading one, followed by the
// n−2 low bits of m. RGB differences span twice the sample range; residuals
// in those planes are reduced modulo that larger range.
//
// # Zero-order payload
//
// One code table over the sample values minus the range minimum (2^bits stored
// symbols), then every sample's code in storage order.
//
// # Limits
//
// The decoder checks the declared geometry against Limits (default
// medimg.MaxSamples samples), the declared payload size against what that
// geometry can need, and in versions 2 and 3 the mapping and every stripe
// length against the payload, before allocating, grows its payload buffer only as bytes
// arrive, and reports damage as a *CorruptInputError carrying the byte
// offset. The stream carries no checksum: integrity is the envelope's work.
package huffman
