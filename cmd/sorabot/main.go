// Command sorabot turns chat messages into generated videos.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	m := &Main{Args: os.Args[1:], Env: os.Environ(), Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}
	if err := m.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "sorabot:", err)
		os.Exit(1)
	}
}

// Main is the program: arguments, environment and standard streams in, so
// tests can run it in-process.
type Main struct {
	Args   []string
	Env    []string
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
}
