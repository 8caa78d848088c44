//go:build !linux

package modality

import "log/slog"

// watchMoves has no notification to offer here: files are taken once they
// have settled.
func watchMoves(string, *slog.Logger) (<-chan string, func()) { return nil, func() {} }
