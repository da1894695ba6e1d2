//go:build !unix

package sim

// lockDir does nothing where flock does not exist: run one simulator per
// state directory.
func lockDir(string) (func(), error) { return func() {}, nil }
