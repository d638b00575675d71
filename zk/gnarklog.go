package zk

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sort"

	"github.com/consensys/gnark/logger"
	"github.com/rs/zerolog"
)

// gnark writes a log line to standard output for every compilation, setup,
// proof and verification through its own process-wide zerolog logger (it
// stays quiet only inside test binaries). A library must not print to
// standard output, and the logger is global to gnark, so only the program
// decides: cmd/dagd calls RouteGnarkLogs (or SilenceGnarkLogs) once at start.

// SilenceGnarkLogs turns gnark's process-wide logger off.
func SilenceGnarkLogs() { logger.Disable() }

// RouteGnarkLogs sends gnark's process-wide log records to l, with their
// fields as attributes. It replaces gnark's logger for the whole process;
// call it once, from main.
func RouteGnarkLogs(l *slog.Logger) {
	logger.Set(zerolog.New(slogWriter{l: l}))
}

// slogWriter turns zerolog's JSON lines into slog records.
type slogWriter struct{ l *slog.Logger }

func (w slogWriter) Write(p []byte) (int, error) {
	var fields map[string]any
	if err := json.Unmarshal(p, &fields); err != nil {
		w.l.Debug("gnark", "line", string(p))
		return len(p), nil
	}
	level := slog.LevelDebug
	switch fields[zerolog.LevelFieldName] {
	case "info":
		level = slog.LevelInfo
	case "warn":
		level = slog.LevelWarn
	case "error", "fatal", "panic":
		level = slog.LevelError
	}
	msg, _ := fields[zerolog.MessageFieldName].(string)
	delete(fields, zerolog.LevelFieldName)
	delete(fields, zerolog.MessageFieldName)
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	attrs := make([]slog.Attr, 0, len(keys)+1)
	attrs = append(attrs, slog.String("component", "gnark"))
	for _, k := range keys {
		attrs = append(attrs, slog.String(k, fmt.Sprint(fields[k])))
	}
	w.l.LogAttrs(context.Background(), level, "gnark: "+msg, attrs...)
	return len(p), nil
}
