package features

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"

	"edge/internal/fsutil"
)

// Len is the number of features: ResNet152's pooled output.
const Len = 2048

// Size is the file size in bytes.
const Size = 4 * Len

// Encode returns the file bytes for f.
func Encode(f []float32) ([]byte, error) {
	if len(f) != Len {
		return nil, fmt.Errorf("features: %d values, want %d", len(f), Len)
	}
	b := make([]byte, Size)
	for i, v := range f {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil, fmt.Errorf("features: value %d is %v", i, v)
		}
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return b, nil
}

// Decode parses file bytes; NaN and infinities are refused because no model
// output contains them and a key derived from them would be meaningless.
func Decode(b []byte) ([]float32, error) {
	if len(b) != Size {
		return nil, fmt.Errorf("features: %d bytes, want %d (%d little-endian float32)", len(b), Size, Len)
	}
	f := make([]float32, Len)
	for i := range f {
		v := math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil, fmt.Errorf("features: value %d is %v", i, v)
		}
		f[i] = v
	}
	return f, nil
}

// WriteFeatures writes f to path atomically: a reader never sees half a file.
func WriteFeatures(path string, f []float32) error {
	b, err := Encode(f)
	if err != nil {
		return err
	}
	if err := fsutil.WriteFile(path, 0o600, func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	}); err != nil {
		return fmt.Errorf("features: write %s: %w", path, err)
	}
	return nil
}

// ReadFeatures reads a feature file, checking its size before reading it.
func ReadFeatures(path string) ([]float32, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("features: %w", err)
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return nil, fmt.Errorf("features: stat %s: %w", path, err)
	}
	if !st.Mode().IsRegular() || st.Size() != Size {
		return nil, fmt.Errorf("features: %s is %d bytes, want %d (%d little-endian float32)", path, st.Size(), Size, Len)
	}
	b := make([]byte, Size+1)
	n, err := io.ReadFull(fh, b)
	if err != io.ErrUnexpectedEOF {
		if err == nil {
			return nil, fmt.Errorf("features: %s grew past %d bytes while being read", path, Size)
		}
		return nil, fmt.Errorf("features: read %s: %w", path, err)
	}
	f, err := Decode(b[:n])
	if err != nil {
		return nil, fmt.Errorf("%w (in %s)", err, path)
	}
	return f, nil
}
