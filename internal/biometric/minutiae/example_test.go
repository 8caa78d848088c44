package minutiae_test

import (
	"fmt"

	"edge/internal/biometric/minutiae"
)

// A template travels as an ISO/IEC 19794-2:2005 record: 24 bytes of header,
// 4 per finger view, 6 per minutia and 2 for the extended-data length.
func ExampleTemplate_Encode() {
	t := &minutiae.Template{Width: 248, Height: 338, Quality: 90, Minutiae: []minutiae.Minutia{
		{X: 120, Y: 200, Angle: 64, Kind: minutiae.Ending, Quality: 80},
		{X: 60, Y: 90, Angle: 200, Kind: minutiae.Bifurcation, Quality: 70},
	}}
	rec, err := t.Encode()
	if err != nil {
		fmt.Println(err)
		return
	}
	back, err := minutiae.Decode(rec)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%d bytes, %q, %d minutiae, first at (%d,%d)\n", len(rec), rec[:3], len(back.Minutiae), back.Minutiae[0].X, back.Minutiae[0].Y)
	_, err = minutiae.Decode(rec[:30])
	fmt.Println(err)
	// Output:
	// 42 bytes, "FMR", 2 minutiae, first at (120,200)
	// minutiae: record: at byte 8: record length field 42, have 30 bytes
}
