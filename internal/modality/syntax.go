package modality

// The transfer syntaxes accepted for data sets: the uncompressed little
// endian ones, which the protect pipeline (internal/medimg) decodes. Every
// other one — JPEG, JPEG-LS, JPEG 2000, RLE, deflate, big endian — is refused
// in negotiation with "transfer syntaxes not supported" for that context, so
// the modality never sends an object that would be accepted and then fail.
// Explicit VR comes first: it keeps the VRs of private elements that
// implicit VR loses.
const (
	ExplicitVRLittleEndian = "1.2.840.10008.1.2.1"
	ImplicitVRLittleEndian = "1.2.840.10008.1.2"
)

var transferSyntaxes = []string{ExplicitVRLittleEndian, ImplicitVRLittleEndian}

// VerificationSOPClass is the abstract syntax of C-ECHO.
const VerificationSOPClass = "1.2.840.10008.1.1"

// storageClasses are the storage SOP classes a bedside or ambulance device
// sends (PS3.4 B.5), with the retired ultrasound ones that older carts still
// use.
var storageClasses = map[string]string{
	"1.2.840.10008.5.1.4.1.1.1":      "CR Image Storage",
	"1.2.840.10008.5.1.4.1.1.1.1":    "Digital X-Ray Image Storage - For Presentation",
	"1.2.840.10008.5.1.4.1.1.1.1.1":  "Digital X-Ray Image Storage - For Processing",
	"1.2.840.10008.5.1.4.1.1.1.2":    "Digital Mammography X-Ray Image Storage - For Presentation",
	"1.2.840.10008.5.1.4.1.1.1.2.1":  "Digital Mammography X-Ray Image Storage - For Processing",
	"1.2.840.10008.5.1.4.1.1.1.3":    "Digital Intra-Oral X-Ray Image Storage - For Presentation",
	"1.2.840.10008.5.1.4.1.1.1.3.1":  "Digital Intra-Oral X-Ray Image Storage - For Processing",
	"1.2.840.10008.5.1.4.1.1.2":      "CT Image Storage",
	"1.2.840.10008.5.1.4.1.1.2.1":    "Enhanced CT Image Storage",
	"1.2.840.10008.5.1.4.1.1.3":      "Ultrasound Multi-frame Image Storage (Retired)",
	"1.2.840.10008.5.1.4.1.1.3.1":    "Ultrasound Multi-frame Image Storage",
	"1.2.840.10008.5.1.4.1.1.4":      "MR Image Storage",
	"1.2.840.10008.5.1.4.1.1.4.1":    "Enhanced MR Image Storage",
	"1.2.840.10008.5.1.4.1.1.6":      "Ultrasound Image Storage (Retired)",
	"1.2.840.10008.5.1.4.1.1.6.1":    "Ultrasound Image Storage",
	"1.2.840.10008.5.1.4.1.1.7":      "Secondary Capture Image Storage",
	"1.2.840.10008.5.1.4.1.1.7.1":    "Multi-frame Single Bit Secondary Capture Image Storage",
	"1.2.840.10008.5.1.4.1.1.7.2":    "Multi-frame Grayscale Byte Secondary Capture Image Storage",
	"1.2.840.10008.5.1.4.1.1.7.3":    "Multi-frame Grayscale Word Secondary Capture Image Storage",
	"1.2.840.10008.5.1.4.1.1.7.4":    "Multi-frame True Color Secondary Capture Image Storage",
	"1.2.840.10008.5.1.4.1.1.12.1":   "X-Ray Angiographic Image Storage",
	"1.2.840.10008.5.1.4.1.1.12.1.1": "Enhanced XA Image Storage",
	"1.2.840.10008.5.1.4.1.1.12.2":   "X-Ray Radiofluoroscopic Image Storage",
	"1.2.840.10008.5.1.4.1.1.12.2.1": "Enhanced XRF Image Storage",
	"1.2.840.10008.5.1.4.1.1.20":     "Nuclear Medicine Image Storage",
	"1.2.840.10008.5.1.4.1.1.128":    "Positron Emission Tomography Image Storage",
	"1.2.840.10008.5.1.4.1.1.130":    "Enhanced PET Image Storage",
}

// IsStorageClass reports whether uid is a storage SOP class this provider
// accepts.
func IsStorageClass(uid string) bool { _, ok := storageClasses[uid]; return ok }

// IsTransferSyntax reports whether a data set in transfer syntax uid is
// accepted.
func IsTransferSyntax(uid string) bool {
	for _, ts := range transferSyntaxes {
		if ts == uid {
			return true
		}
	}
	return false
}
