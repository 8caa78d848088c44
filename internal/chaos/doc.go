// Package chaos is the publication's two-dimensional chaotic map used as a
// keystream generator and as a keyed permutation, with the same bits on
// every architecture.
//
// # The map
//
// State (x, y) in [0, 1), a = 0.115, b = 0.564:
//
//	x' = x³ + y·x + 2ab        y' = √(x + y) + 2y
//	x'' = 4x'·sin(1 − x')      y'' = 4y'·cos(1 − y')
//	(x, y) ← (x'' mod 1, y'' mod 1), taken into [0, 1)
//
// # Key and raw output
//
// A key is KeySize (32) bytes read as eight big-endian 32-bit words w₀…w₇;
// value i starts at wᵢ/2³², which is exact. As in the authors' published
// code, 32 warm-up rounds apply the map to the neighbouring pairs (7, 0),
// (0, 1), (1, 2), … in turn, writing x back to the first index and y to the
// second. After that each round updates the next pair in the same order but
// writes the new x to the second index and the new y to the first (the
// published code swaps them here), and emits the pair's two values, first
// index first, as the words floor(v·2³²). Raw gives these words; its byte
// form is little-endian, the order the published code wrote them in.
//
// # Bit-identical arithmetic
//
// The device is ARM and the hub is usually x86, and both must derive the same
// keystream. The map is kept in float64, as published, rather than moved to
// fixed point, so it stays the map the publication analyses; the arithmetic
// is pinned instead:
//
//   - +, −, × and √ are correctly rounded IEEE-754 binary64 operations on
//     every Go port (amd64 and 386 use SSE2, arm64 and ARMv7 their FPUs), so
//     math.Sqrt and math.Floor are used as they are.
//   - Go lets a compiler fuse x*y + z into one multiply-add, which skips a
//     rounding; arm64 does. Every product here is wrapped in an explicit
//     float64 conversion, which the language spec says rounds and so forbids
//     the fusion.
//   - math.Sin and math.Cos differ between ports (assembly on some, and the
//     pure Go code is itself compiled with fused multiply-adds on arm64), so
//     the package has its own: Cody–Waite reduction by π/2 and Taylor
//     polynomials on [−π/4, π/4], evaluated with rounded products.
//
// Golden vectors in testdata, checked on amd64, 386, arm64 and ARMv7 (the
// last two under qemu-user), hold this in place.
//
// # Conditioning
//
// The raw words are far from uniform: as bytes, 8 MiB of them give ent a
// chi-square of about 147 000 where 255 is expected. Stream therefore
// conditions them. Output block i (32 bytes) is
//
//	SHA-256( key ‖ "edge/chaos keystream v1" ‖ zeros to 64 bytes ‖
//	         i as 64-bit big-endian ‖ the next 10 raw words, little-endian )
//
// so each block compresses 40 bytes of map output. The first 64-byte
// SHA-256 block holds only the key; the second holds the counter, the map
// words and SHA-256's padding, so each output block is one application of
// the SHA-256 compression function keyed by the chaining value the key
// produced. That is the construction whose pseudorandomness the security
// proof of NMAC/HMAC rests on (the compression function is a PRF when keyed
// through its chaining value). Why it is sound:
//
//   - The counter makes every input distinct, so the output cannot repeat
//     even if the finite-precision map falls into a cycle, which chaotic maps
//     computed in floating point can do.
//   - A PRF on distinct inputs gives output that cannot be told from
//     uniform, whatever the distribution of the map words it is fed: the
//     bias the map has does not reach the keystream.
//   - The key in the first block means the keystream's unpredictability does
//     not rest on the map keeping the key's entropy through its orbit.
//   - Every output block depends on the map words fed to it, so the stream
//     remains the map's: change the map and the stream changes.
//
// The map is the costly part (about 30 ns per pair update on a 2020s x86
// core against well under 100 ns for the SHA-256 compression per 32 bytes),
// and its evaluation is tuned for that: Estrin's scheme for the polynomials
// and branch-free quadrant selection, because each update depends on the one
// before.
//
// # Permutation
//
// NewPermutation is a Fisher–Yates shuffle of 0…n−1 driven by the keystream
// of the same key: for i from n−1 down to 1, j is drawn uniformly from
// [0, i] by Lemire's multiply-and-reject method on 32-bit little-endian
// keystream words, and positions i and j are swapped. n is limited to
// MaxPermutation.
package chaos
