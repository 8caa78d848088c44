package sensor

import "fmt"

// Code is a module's confirmation code, the first byte of every
// acknowledgement. A non-zero Code is an error; compare with errors.Is:
//
//	if errors.Is(err, sensor.NoFinger) { … }
type Code byte

// Confirmation codes with the meanings the ZhianTec/Grow manuals give them.
const (
	OK                Code = 0x00
	PacketReceiveErr  Code = 0x01 // the module got a broken command packet
	NoFinger          Code = 0x02
	EnrollFailed      Code = 0x03 // could not take the image
	ImageTooDry       Code = 0x04
	ImageTooWet       Code = 0x05
	ImageMessy        Code = 0x06
	TooFewFeatures    Code = 0x07
	NoMatch           Code = 0x08
	NotFound          Code = 0x09
	MergeFailed       Code = 0x0A
	BadLocation       Code = 0x0B // page id outside the library
	ReadTemplateErr   Code = 0x0C
	UploadFeatureErr  Code = 0x0D
	DataPacketErr     Code = 0x0E // the module cannot take the following data packets
	UploadImageErr    Code = 0x0F
	DeleteFailed      Code = 0x10
	ClearFailed       Code = 0x11
	WrongPassword     Code = 0x13
	NoValidImage      Code = 0x15 // no valid primary image to generate from
	FlashErr          Code = 0x18
	UndefinedErr      Code = 0x19
	BadRegister       Code = 0x1A
	BadRegisterConfig Code = 0x1B
	BadNotepadPage    Code = 0x1C
	PortErr           Code = 0x1D
	AddressErr        Code = 0x20
	PasswordRequired  Code = 0x21 // the password must be verified first
)

var codeText = map[Code]string{
	OK:                "success",
	PacketReceiveErr:  "error when receiving the command packet",
	NoFinger:          "no finger on the sensor",
	EnrollFailed:      "failed to take the fingerprint image",
	ImageTooDry:       "image too dry or too light",
	ImageTooWet:       "image too wet or too dark",
	ImageMessy:        "image too messy to generate features",
	TooFewFeatures:    "too few feature points in the image",
	NoMatch:           "fingers do not match",
	NotFound:          "no matching fingerprint in the library",
	MergeFailed:       "failed to combine the character files",
	BadLocation:       "template page id beyond the finger library",
	ReadTemplateErr:   "error reading the template from the library",
	UploadFeatureErr:  "error uploading the template",
	DataPacketErr:     "module cannot receive the following data packets",
	UploadImageErr:    "error uploading the image",
	DeleteFailed:      "failed to delete the template",
	ClearFailed:       "failed to clear the finger library",
	WrongPassword:     "wrong password",
	NoValidImage:      "no valid primary image to generate the image from",
	FlashErr:          "error writing flash",
	UndefinedErr:      "undefined error",
	BadRegister:       "invalid register number",
	BadRegisterConfig: "incorrect register configuration",
	BadNotepadPage:    "wrong notepad page number",
	PortErr:           "failed to operate the communication port",
	AddressErr:        "address code error",
	PasswordRequired:  "password must be verified first",
}

func (c Code) Error() string {
	if t, ok := codeText[c]; ok {
		return fmt.Sprintf("sensor: confirmation code %#02x: %s", byte(c), t)
	}
	return fmt.Sprintf("sensor: confirmation code %#02x: unknown to this driver", byte(c))
}
