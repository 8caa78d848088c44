// Package medimg reads and writes the images the appliance handles: PNG
// (8/16-bit gray, 8-bit RGB, palette expanded) and DICOM with an uncompressed
// transfer syntax. A DICOM file is kept as its bytes before and after the pixel
// data value, so that writing it back with the same pixels gives the file as it
// was, byte for byte; the parsed attributes only describe the pixels.
package medimg
