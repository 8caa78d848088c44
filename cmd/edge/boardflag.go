package main

import (
	"flag"
	"fmt"
	"strings"

	"edge/board"
	"edge/internal/boardcfg"
	"edge/internal/infer"
)

// addBoardFlag registers --board once per flag set, so a command with both
// the sensor and the inference flags has one, and returns how to load the
// profile it names (nil when none is given). internal/boardcfg turns the
// profile into each driver's options.
func addBoardFlag(fs *flag.FlagSet) func() (*board.Profile, error) {
	f := fs.Lookup("board")
	if f == nil {
		fs.String("board", "", "board profile ("+strings.Join(board.Names(), ", ")+
			", or a .json file such as an installed /etc/edge/board.json): serial port, baud, GPIO pins, ONNX Runtime library, providers and model")
		f = fs.Lookup("board")
	}
	return func() (*board.Profile, error) {
		p, err := boardcfg.Load(f.Value.String())
		if err != nil {
			return nil, fmt.Errorf("%w: %v", errUsage, err)
		}
		return p, nil
	}
}

// flagSet reports whether the named flag was given on the command line.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// checkBoard fails early, before a sensor command captures prints, when the
// board named cannot infer: a clinician should not give prints for nothing.
func (f inferFlags) checkBoard() error {
	p, err := f.board()
	if err != nil {
		return err
	}
	_, err = boardcfg.Infer(p, infer.Options{ORTLib: *f.ortLib})
	return err
}
