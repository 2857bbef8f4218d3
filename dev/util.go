package dev

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// logger writes whole lines to w from many goroutines.
type logger struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *logger) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (l *logger) printf(format string, args ...any) {
	line := fmt.Sprintf(format, args...)
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, "%s %s\n", time.Now().Format("15:04:05.000"), line)
}
