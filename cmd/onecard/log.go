package main

import (
	"io"
	"log/slog"
)

// newLogger returns the process's structured logger: text on stderr, where
// service managers collect it. Nothing logs cardholder data: the store and
// the API log IDs and error causes, never names, ID numbers or PINs.
func newLogger(stderr io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
}
