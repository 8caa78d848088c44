// Package prep turns a fingerprint image into the network's input tensor.
//
// Inputs are sensor captures (256×288 8-bit gray whose values come from 4-bit
// data, so multiples of 17) and ordinary print images in PNG, JPEG, BMP or
// TIFF: gray, 16-bit gray, palette, RGB and RGBA (transparent areas count as
// white paper). The steps, all in integer arithmetic so every architecture
// gives the same tensor:
//
//  1. gray: ITU-R BT.601 luma at 16 bits, (19595 R + 38470 G + 7471 B + 2¹⁵) >> 16;
//  2. contrast: the 1st and 99th percentiles of the gray histogram are
//     stretched to 0 and 65535 and values outside clipped, so a faint
//     capture and a dark ink print look alike to the network;
//  3. square: the image is centred on a white square of its longer side,
//     keeping the ridge geometry instead of stretching it;
//  4. resize: area averaging (each output pixel is the exact overlap-weighted
//     mean of the source pixels under it), separable, rounded to nearest
//     after each pass, to Size×Size;
//  5. tensor: value/65535 is normalised with the ImageNet mean and standard
//     deviation of each channel and the gray plane repeated into the three
//     channels, layout 1×3×Size×Size (NCHW) float32.
//
// Decode reads the image's header first and refuses images larger than
// MaxSide on either side before decoding, and images smaller than MinSide,
// which cannot hold a fingerprint.
package prep
