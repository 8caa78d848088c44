package infer

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// LibName is the ONNX Runtime library's file name.
const LibName = "libonnxruntime.so.1"

// EnvLib names the environment variable consulted last for the library.
const EnvLib = "EDGE_ORT_LIB"

// LibraryPath chooses the ONNX Runtime library: an explicit path (--ort-lib,
// or the board profile's, which the application puts in Options.ORTLib) wins
// and must exist; then the project's fetched copy, third_party/onnxruntime/linux-GOARCH/, found beside or above the
// executable or the working directory (a development tree or an unpacked
// release); last $EDGE_ORT_LIB. The error lists every place looked at.
func LibraryPath(explicit string) (string, error) {
	if explicit != "" {
		if err := isFile(explicit); err != nil {
			return "", fmt.Errorf("infer: ONNX Runtime library %s: %w", explicit, err)
		}
		return explicit, nil
	}
	var tried []string
	rel := filepath.Join("third_party", "onnxruntime", "linux-"+runtime.GOARCH, LibName)
	var starts []string
	if exe, err := os.Executable(); err == nil {
		if exe, err = filepath.EvalSymlinks(exe); err == nil {
			d := filepath.Dir(exe)
			// A release unpacks the library beside the binary or in ../lib.
			for _, p := range []string{filepath.Join(d, LibName), filepath.Join(d, "..", "lib", LibName)} {
				if isFile(p) == nil {
					return p, nil
				}
				tried = append(tried, p)
			}
			starts = append(starts, d)
		}
	}
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	for _, d := range starts {
		for {
			p := filepath.Join(d, rel)
			if isFile(p) == nil {
				return p, nil
			}
			tried = append(tried, p)
			up := filepath.Dir(d)
			if up == d {
				break
			}
			d = up
		}
	}
	if p := os.Getenv(EnvLib); p != "" {
		if err := isFile(p); err != nil {
			return "", fmt.Errorf("infer: ONNX Runtime library %s (from $%s): %w", p, EnvLib, err)
		}
		return p, nil
	}
	return "", fmt.Errorf("infer: no ONNX Runtime library found (run make ort, or pass --ort-lib or set $%s); looked at %s",
		EnvLib, strings.Join(tried, ", "))
}

func isFile(p string) error {
	st, err := os.Stat(p)
	if err != nil {
		return err
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("not a regular file")
	}
	return nil
}
