package main

import (
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"edge/board"
)

// archFlag collects KEY=PATH pairs.
type archFlag map[string]string

func (a archFlag) String() string { return fmt.Sprint(map[string]string(a)) }

func (a archFlag) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" || v == "" {
		return fmt.Errorf("want ARCH=PATH, got %q", s)
	}
	a[k] = v
	return nil
}

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("pack", flag.ContinueOnError)
	list := fs.Bool("list", false, "print each built-in board's name, architecture key, GOARCH, GOARM and installed binary, and exit")
	version := fs.String("version", "", "release version, in the tarball names")
	mtime := fs.Int64("mtime", 0, "Unix time stamped on every entry (the commit's)")
	bins := archFlag{}
	fs.Var(bins, "bin", "ARCH=PATH: the edge binary for an architecture key (amd64, arm64, armv7); repeat")
	ortDir := fs.String("ort-dir", "third_party/onnxruntime", "folder with linux-GOARCH/libonnxruntime.so.1")
	model := fs.String("model", "models/resnet152-int8.onnx", "the int8 feature model")
	out := fs.String("out", "dist", "folder to write the tarballs and SHA256SUMS into")
	boards := fs.String("boards", strings.Join(board.Names(), ","), "boards to pack, comma separated")
	if err := fs.Parse(args); err != nil {
		return err
	}
	names := strings.Split(*boards, ",")
	if *list {
		for _, n := range names {
			p, err := board.Load(n)
			if err != nil {
				return err
			}
			goarm := p.GOARM
			if goarm == "" {
				goarm = "-"
			}
			fmt.Printf("%s %s %s %s %s\n", p.Name, ArchKey(p), p.GOARCH, goarm, p.Install.Binary)
		}
		return nil
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	done, err := packAll(*out, names, Inputs{
		Version: *version, MTime: time.Unix(*mtime, 0), Binaries: bins, ORTDir: *ortDir, Model: *model,
	})
	if err != nil {
		return err
	}
	for _, n := range slices.Sorted(slices.Values(done)) {
		fmt.Printf("%s/%s\n", *out, n)
	}
	return nil
}
