//go:build unix

package sim

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// lockDir takes an exclusive lock on dir/lock for as long as the process
// holds it: two simulators on one state directory would tap the same cards
// at once. The kernel drops the lock if the process dies.
func lockDir(path string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("another onecard sim is using %s; wait for it or give another --state", path)
		}
		return nil, err
	}
	return func() { f.Close() }, nil
}
