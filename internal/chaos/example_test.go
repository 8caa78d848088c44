package chaos_test

import (
	"encoding/hex"
	"fmt"

	"edge/internal/chaos"
)

func ExampleNewStream() {
	key, _ := hex.DecodeString("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")
	s, err := chaos.NewStream(key)
	if err != nil {
		fmt.Println(err)
		return
	}
	msg := []byte("pixels")
	s.XORKeyStream(msg, msg)
	fmt.Printf("%x\n", msg)

	// A second stream with the same key undoes it.
	s, _ = chaos.NewStream(key)
	s.XORKeyStream(msg, msg)
	fmt.Printf("%s\n", msg)
	// Output:
	// f8a65ca79329
	// pixels
}

func ExampleNewPermutation() {
	key := make([]byte, chaos.KeySize)
	p, err := chaos.NewPermutation(key, 8)
	if err != nil {
		fmt.Println(err)
		return
	}
	pix := []int32{10, 11, 12, 13, 14, 15, 16, 17}
	shuffled := make([]int32, len(pix))
	restored := make([]int32, len(pix))
	_ = p.Apply(shuffled, pix)
	_ = p.Invert(restored, shuffled)
	fmt.Println(shuffled)
	fmt.Println(restored)
	// Output:
	// [12 13 14 17 16 15 11 10]
	// [10 11 12 13 14 15 16 17]
}
