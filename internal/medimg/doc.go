// Package medimg reads and writes the images the appliance handles: PNG
// (8/16-bit gray and RGB, palette expanded) and DICOM with an uncompressed
// transfer syntax. A DICOM file is kept as its bytes before and after the pixel
// data value, so that writing it back with the same pixels gives the file as it
// was, byte for byte; the parsed attributes only describe the pixels.
//
// # Telling the formats apart
//
// Decode takes a PNG by its 8-byte signature, a DICOM file by "DICM" at offset
// 128, and a DICOM stream without preamble by a first tag in group 0002 (file
// meta follows) or 0008 (a bare data set, explicit VR when two capital letters
// of a known VR follow the tag, implicit VR otherwise, little endian either
// way). Anything else is "medimg: not a PNG or DICOM file".
//
// # DICOM
//
// The file is walked element by element with a small walker over the raw
// bytes: explicit VR little endian, implicit VR little endian and the retired
// explicit VR big endian. Every length is checked against the bytes left
// before it is used; sequences and items of defined length are stepped over,
// those of undefined length are walked to their delimiters, at most 32 deep;
// an element of VR UN with undefined length is read as implicit VR little
// endian (PS3.5 6.2.2). Only top-level attributes count, so an Icon Image
// Sequence's own Rows or Pixel Data is never taken for the image's. The walk
// stops at the top-level Pixel Data (7FE0,0010). The attributes read are
// Transfer Syntax UID, Samples per Pixel, Photometric Interpretation, Planar
// Configuration, Number of Frames, Rows, Columns, Bits Allocated, Bits Stored,
// High Bit and Pixel Representation.
//
// github.com/suyashkumar/dicom is used for the names of transfer syntaxes and,
// in tests, to cross-check the attributes; it does not parse outside bytes here,
// because it allocates whatever an element's declared length asks for, cannot
// read UN elements of undefined length or bare data sets, does not sign-extend
// signed pixels, and its writer does not give files back as they were.
//
// Samples are decoded from the raw bytes: 16-bit words as int16 when Pixel
// Representation is 1, else uint16 (8-bit bytes alike), in the file's byte
// order. Words are taken whole, high bits included, so that writing them back
// reproduces the file whatever the unused bits hold; Bits Stored is kept when
// every sample fits in it and High Bit is Bits Stored − 1, and is widened to
// Bits Allocated otherwise. Planar Configuration 1 (RRR…GGG…BBB per frame) is
// interleaved in Image.Pix and planarised again on writing. PALETTE COLOR is
// read as one channel of indices; the lookup tables stay in the header.
// Accepted: MONOCHROME1, MONOCHROME2, PALETTE COLOR (1 sample per pixel), RGB
// (3), 8 or 16 bits allocated, any number of frames. The Pixel Data value must
// hold exactly the samples the geometry needs, plus one pad byte when that is
// odd; fewer or more bytes is a FormatError.
//
// Container.Head is every byte before the first byte of the Pixel Data value
// (preamble, file meta, every attribute — patient data among them — and the
// pixel data tag, VR and length); Container.Tail every byte after the samples
// (the pad byte, trailing elements). Encode writes Head, the samples in the
// layout Head describes (parsed again from Head, and checked against the
// image's geometry), then Tail: with the pixels read, the original file; with a
// marked image of the same geometry, the same file with those pixels.
//
// Unsupported, each an UnsupportedError: compressed or deflated transfer
// syntaxes ("medimg: unsupported transfer syntax 1.2.840.10008.1.2.4.90 (JPEG
// 2000 Image Compression (Lossless Only))"), YBR_* and other photometrics,
// Bits Allocated other than 8 and 16, and images over MaxSamples.
//
// # PNG
//
// The header is checked (IHDR with its CRC, size against MaxSamples, and the
// declared pixel bytes against 1040 times the file size, more than deflate can
// expand) before image/png allocates anything. Then:
//
//   - gray of 1, 2 or 4 bits: scaled to 8 bits as image/png does (a 1-bit 1
//     is 255), 8 bits stored — the values a viewer shows, which PNG output can
//     write back;
//   - gray of 8 or 16 bits: as is, Bits Stored = bit depth;
//   - gray or RGB with an alpha channel or a tRNS colour: accepted with the
//     alpha dropped only when every pixel is opaque, otherwise a FormatError —
//     transparency is never lost silently;
//   - 8- or 16-bit RGB: 3 channels;
//   - palette: expanded, to gray when every palette entry is gray, else RGB;
//     an index past the palette (which image/png paints black) is an error;
//   - interlaced files are read by image/png like any other.
//
// PNG images are unsigned MONOCHROME2 or RGB with one frame. EncodePNG writes
// 8- or 16-bit gray or RGB; signed samples are written as their
// two's complement bit pattern (−1 as 0xFFFF), and Bits Stored, MONOCHROME1
// and palettes are not carried, so a DICOM image read back from PNG has the
// same sample bytes but not the same description. More than one frame is an
// error.
//
// # Errors and limits
//
// Decode fails with a *FormatError (malformed input, with the byte offset for
// DICOM) or an *UnsupportedError; ReadFile adds the file name to both. Files
// and images over the Limits the decoder was given (Limits.Decode,
// Limits.ReadFile; a board profile sets them from its memory, the zero value
// is DefaultMaxSamples and MaxFileSize, and DefaultMaxSamples is 2²⁶ on
// 32-bit platforms) are refused before their pixels are allocated, and the
// pixel buffer is never larger than four times the file for DICOM.
//
// NewDICOMContainer makes the header of a new Secondary Capture file for an
// image that came without one, so that it can go to a DICOM peer.
package medimg
