package uplink_test

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"log"

	"edge/internal/uplink"
)

// A device seals an image's contents to the hub; the hub, trusting the
// device's key, opens them.
func Example() {
	hub, err := uplink.GenerateHubKey(nil)
	if err != nil {
		log.Fatal(err)
	}
	dev, err := uplink.GenerateDeviceKey(nil)
	if err != nil {
		log.Fatal(err)
	}

	c := &uplink.Contents{
		KBio:            bytes.Repeat([]byte{1}, uplink.KBioSize),
		Salt:            bytes.Repeat([]byte{2}, 16),
		ClinicianID:     "clin-7",
		PayloadBits:     2048,
		PayloadRef:      make([]byte, 256),
		Width:           4,
		Height:          4,
		Frames:          1,
		Channels:        1,
		BitsAllocated:   8,
		BitsStored:      8,
		Photometric:     "MONOCHROME2",
		ContainerFormat: uplink.ContainerPNG,
		PixelSHA256:     sha256.Sum256(make([]byte, 16)),
		Body:            []byte("compressed, encrypted pixels"),
	}
	env, err := uplink.Seal(uplink.Header{Scheme: uplink.SchemeV1, Created: 1}, c, hub.Public(), dev, nil)
	if err != nil {
		log.Fatal(err)
	}

	h, got, err := uplink.Open(env, hub, uplink.TrustDevices(dev.Public()), uplink.Limits{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(h.Scheme, h.DeviceID == dev.ID(), got.ClinicianID, string(got.Body))

	env[len(env)/2] ^= 1
	_, _, err = uplink.Open(env, hub, uplink.TrustDevices(dev.Public()), uplink.Limits{})
	fmt.Println(errors.Is(err, uplink.ErrSignature))
	// Output:
	// v1 true clin-7 compressed, encrypted pixels
	// true
}
