package logfile

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for one writer and one reader.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestFollow_AcrossRotations(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fn.log")
	w := mustOpen(t, path, Options{MaxSize: 4 << 10, MaxFiles: 5})
	defer w.Close()
	var want strings.Builder
	for i := range 10 { // written before Follow starts, from offset 0
		want.WriteString(line(i))
		if _, err := w.Write([]byte(line(i))); err != nil {
			t.Fatal(err)
		}
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out syncBuffer
	done := make(chan error, 1)
	go func() { done <- Follow(ctx, path, 0, &out) }()

	// Many more rotations than files kept: the follower must find its way by identity.
	for i := 10; i < 2000; i++ {
		want.WriteString(line(i))
		if _, err := w.Write([]byte(line(i))); err != nil {
			t.Fatal(err)
		}
		if i%50 == 0 {
			time.Sleep(2 * time.Millisecond) // a writer's pace: the follower stays within MaxFiles
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for out.String() != want.String() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Follow: err = %v, want context.Canceled", err)
	}
	if got := out.String(); got != want.String() {
		t.Errorf("followed %d bytes, want the %d bytes written", len(got), want.Len())
	}
}
