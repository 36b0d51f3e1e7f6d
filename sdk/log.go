package sdk

import (
	"os"
	"sync"
	"syscall"

	"github.com/rs/zerolog"
)

// LogLevelEnv is the environment variable through which the host passes its
// log level to plugins.
const LogLevelEnv = "EBMFLOW_PLUGIN_LOG_LEVEL"

// stderr is file descriptor 2 itself: go-plugin replaces the os.Stderr
// variable of a plugin process with a pipe, but the host reads fd 2 line by
// line, which is where log lines must go.
var stderr = os.NewFile(uintptr(syscall.Stderr), "/dev/stderr")

var (
	logOnce sync.Once
	logger  zerolog.Logger
)

// Logger returns the plugin's logger. It writes JSON lines to stderr, which
// the host relays into its own log with the plugin's and stage's names and
// each line's level. Never write to stdout: it carries the plugin handshake.
func Logger() *zerolog.Logger {
	logOnce.Do(func() {
		lvl, err := zerolog.ParseLevel(os.Getenv(LogLevelEnv))
		if err != nil || os.Getenv(LogLevelEnv) == "" {
			lvl = zerolog.InfoLevel
		}
		zerolog.DurationFieldFormat = zerolog.DurationFormatString // "took":"1.5s"
		logger = zerolog.New(stderr).Level(lvl).With().Timestamp().Logger()

	})
	return &logger
}
