//go:build !amd64

package channel

// pause does nothing here: a waiter polls without a spin hint.
func pause() {}
