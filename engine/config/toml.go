package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/BurntSushi/toml"
)

// maxConfigSize bounds the size of a configuration file read.
const maxConfigSize = 1 << 20

// Setting describes one configuration setting.
type Setting struct {
	// Key is the TOML key, with its table: "dag.batch_size".
	Key string
	// Flag is the name of the equivalent flag of `dagd start`, without
	// dashes: "batch-size".
	Flag string
	// Doc says what the setting does.
	Doc string
	// Type is the kind of value: string, bool, int, uint, duration or
	// size.
	Type string
	// Default is the default value as a flag would give it.
	Default string
	// IsBool says the flag needs no value (--pprof means --pprof=true).
	IsBool bool
	// IsPath says the value is a file or directory; in config.toml a
	// relative one resolves against the file's directory.
	IsPath bool
}

// field is one setting of a Config reached by reflection.
type field struct {
	key     string
	section string
	v       reflect.Value
}

var (
	durationType = reflect.TypeFor[time.Duration]()
	sizeType     = reflect.TypeFor[ByteSize]()
)

// fields lists the settings of c in file order: the top-level keys, then
// each table's keys.
func fields(c *Config) []field {
	var top, tables []field
	rv := reflect.ValueOf(c).Elem()
	rt := rv.Type()
	for i := 0; i < rt.NumField(); i++ {
		sf := rt.Field(i)
		tag := sf.Tag.Get("toml")
		if !sf.IsExported() || tag == "" {
			continue
		}
		if sf.Type.Kind() == reflect.Struct && sf.Type != durationType {
			sv := rv.Field(i)
			for j := 0; j < sf.Type.NumField(); j++ {
				sub := sf.Type.Field(j)
				if t := sub.Tag.Get("toml"); t != "" {
					tables = append(tables, field{key: tag + "." + t, section: tag, v: sv.Field(j)})
				}
			}
			continue
		}
		top = append(top, field{key: tag, v: rv.Field(i)})
	}
	return append(top, tables...)
}

func typeName(t reflect.Type) string {
	switch {
	case t == durationType:
		return "duration"
	case t == sizeType:
		return "size"
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "bool"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "int"
	default:
		return "uint"
	}
}

// flagName returns the flag of a setting.
func flagName(key string) string {
	if d, ok := settingDocs[key]; ok && d.flag != "" {
		return d.flag
	}
	_, leaf, ok := strings.Cut(key, ".")
	if !ok {
		leaf = key
	}
	return strings.ReplaceAll(leaf, "_", "-")
}

// Settings lists every setting in file order, with its default.
func Settings() []Setting {
	def := Default()
	var out []Setting
	for _, f := range fields(def) {
		out = append(out, Setting{Key: f.key, Flag: flagName(f.key), Doc: settingDocs[f.key].doc, Type: typeName(f.v.Type()),
			Default: flagValue(f.v), IsBool: f.v.Kind() == reflect.Bool, IsPath: pathKeys[f.key]})
	}
	return out
}

// flagValue formats a setting as a flag takes it.
func flagValue(v reflect.Value) string {
	switch {
	case v.Type() == durationType:
		return time.Duration(v.Int()).String()
	case v.Type() == sizeType:
		return ByteSize(v.Int()).String()
	}
	switch v.Kind() {
	case reflect.String:
		return v.String()
	case reflect.Bool:
		return strconv.FormatBool(v.Bool())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(v.Int(), 10)
	default:
		return strconv.FormatUint(v.Uint(), 10)
	}
}

// tomlValue formats a setting as a TOML value.
func tomlValue(v reflect.Value) (string, error) {
	switch {
	case v.Type() == durationType, v.Type() == sizeType:
		return tomlString(flagValue(v))
	case v.Kind() == reflect.String:
		return tomlString(v.String())
	}
	return flagValue(v), nil
}

// tomlString quotes s as a TOML basic string.
func tomlString(s string) (string, error) {
	if !utf8.ValidString(s) {
		return "", fmt.Errorf("%q is not valid UTF-8", s)
	}
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\t':
			b.WriteString(`\t`)
		case '\r':
			b.WriteString(`\r`)
		default:
			if r < 0x20 || r == 0x7f {
				fmt.Fprintf(&b, `\u%04X`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String(), nil
}

// Set sets the setting key (its TOML key, "dag.batch_size") from a value
// as a flag gives it ("100KiB", "20ms", "true"). The error names the
// setting.
func (c *Config) Set(key, value string) error {
	for _, f := range fields(c) {
		if f.key != key {
			continue
		}
		if err := setValue(f.v, value); err != nil {
			return &SettingError{Key: key, Err: err}
		}
		return nil
	}
	return &SettingError{Key: key, Err: errors.New("no such setting")}
}

func setValue(v reflect.Value, s string) error {
	switch {
	case v.Type() == durationType:
		d, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("%q: want a duration such as 20ms or 2s", s)
		}
		v.SetInt(int64(d))
		return nil
	case v.Type() == sizeType:
		n, err := ParseByteSize(s)
		if err != nil {
			return err
		}
		v.SetInt(int64(n))
		return nil
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return fmt.Errorf("%q: want true or false", s)
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(s, 10, v.Type().Bits())
		if err != nil {
			return fmt.Errorf("%q: want an integer", s)
		}
		v.SetInt(n)
	default:
		n, err := strconv.ParseUint(s, 10, v.Type().Bits())
		if err != nil {
			return fmt.Errorf("%q: want a non-negative integer below 2^%d", s, v.Type().Bits())
		}
		v.SetUint(n)
	}
	return nil
}

// fillZero copies into the zero settings of c those of def.
func fillZero(c, def *Config) {
	df := fields(def)
	for i, f := range fields(c) {
		if f.v.Kind() != reflect.Bool && f.v.IsZero() {
			f.v.Set(df[i].v)
		}
	}
}

// Write writes c as a commented TOML file: every setting with what it
// does, its flag and its default.
func (c *Config) Write(w io.Writer) error {
	var b bytes.Buffer
	b.WriteString(`# dagd node configuration.
#
# Every setting is listed with what it does and its default. A setting left
# out of this file takes its default; an unknown key is an error. Relative
# paths resolve against the directory of this file. Every setting is also a
# flag of "dagd start", which takes precedence over this file. Sizes are
# bytes or strings with a binary unit ("32MiB"); durations are strings such
# as "20ms" or "2s".
`)
	def := fields(Default())
	section := ""
	for i, f := range fields(c) {
		if f.section != section {
			section = f.section
			fmt.Fprintf(&b, "\n%s\n[%s]\n", comment(sectionDocs[section]), section)
		}
		doc, ok := settingDocs[f.key]
		if !ok {
			return fmt.Errorf("config: setting %s is not documented", f.key)
		}
		val, err := tomlValue(f.v)
		if err != nil {
			return fmt.Errorf("config: %s: %w", f.key, err)
		}
		dval, err := tomlValue(def[i].v)
		if err != nil {
			return fmt.Errorf("config: %s: %w", f.key, err)
		}
		_, leaf, found := strings.Cut(f.key, ".")
		if !found {
			leaf = f.key
		}
		fmt.Fprintf(&b, "\n%s\n# Default: %s. Flag: --%s.\n%s = %s\n", comment(doc.doc), dval, flagName(f.key), leaf, val)
	}
	_, err := w.Write(b.Bytes())
	return err
}

func comment(text string) string {
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight("# "+l, " ")
	}
	return strings.Join(lines, "\n")
}

// WriteFile writes c (see Write) to path, mode 0600, replacing the file
// atomically.
func (c *Config) WriteFile(path string) error {
	var b bytes.Buffer
	if err := c.Write(&b); err != nil {
		return err
	}
	return writeFileAtomic(path, b.Bytes(), 0o600)
}

// Load reads a configuration file over the defaults, resolves its
// relative paths against the file's directory and validates it. Errors
// name the file, the line and the setting.
func Load(path string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxConfigSize+1))
	if err != nil {
		return nil, fmt.Errorf("config: read %s: %w", path, err)
	}
	if len(data) > maxConfigSize {
		return nil, fmt.Errorf("config: %s exceeds %d bytes", path, maxConfigSize)
	}
	abs, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	c, err := parse(data, abs)
	if err != nil {
		return nil, fmt.Errorf("config: %s: %w", path, err)
	}
	return c, nil
}

// Parse reads a configuration from TOML over the defaults and validates
// it; relative paths will resolve against dir. Every unknown key, value
// of the wrong type and bad value is reported, each naming its setting.
func Parse(data []byte, dir string) (*Config, error) {
	c, err := parse(data, dir)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return c, nil
}

func parse(data []byte, dir string) (*Config, error) {
	var raw map[string]any
	if _, err := toml.Decode(string(data), &raw); err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("line %d: %s", pe.Position.Line, pe.Message)
		}
		return nil, err
	}
	c := Default()
	c.dir = dir
	byKey := map[string]field{}
	sections := map[string]bool{}
	for _, f := range fields(c) {
		byKey[f.key] = f
		if f.section != "" {
			sections[f.section] = true
		}
	}
	var errs []error
	fail := func(key string, err error) { errs = append(errs, &SettingError{Key: key, Err: err}) }
	set := func(key string, v any) {
		f, ok := byKey[key]
		if !ok {
			fail(key, errors.New("unknown setting"))
			return
		}
		if err := assign(f.v, v); err != nil {
			fail(key, err)
		}
	}
	for _, k := range sortedKeys(raw) {
		v := raw[k]
		if !sections[k] {
			set(k, v)
			continue
		}
		table, ok := v.(map[string]any)
		if !ok {
			fail(k, fmt.Errorf("want a table [%s], got TOML %s", k, tomlType(v)))
			continue
		}
		for _, sk := range sortedKeys(table) {
			set(k+"."+sk, table[sk])
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	return c, nil
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// tomlType names the TOML type of a decoded value.
func tomlType(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case bool:
		return "boolean"
	case int64:
		return "integer"
	case float64:
		return "float"
	case map[string]any:
		return "table"
	case []any, []map[string]any:
		return "array"
	default:
		return "date/time"
	}
}

// assign sets a setting from its decoded TOML value, checking its type
// and range.
func assign(dst reflect.Value, v any) error {
	want := func(what string) error { return fmt.Errorf("want %s, got TOML %s", what, tomlType(v)) }
	switch {
	case dst.Type() == durationType:
		s, ok := v.(string)
		if !ok {
			return want(`a duration string such as "20ms" or "2s"`)
		}
		d, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("%q: want a duration such as \"20ms\" or \"2s\"", s)
		}
		dst.SetInt(int64(d))
		return nil
	case dst.Type() == sizeType:
		switch v := v.(type) {
		case int64:
			dst.SetInt(v)
			return nil
		case string:
			n, err := ParseByteSize(v)
			if err != nil {
				return err
			}
			dst.SetInt(int64(n))
			return nil
		}
		return want(`a size: bytes or a string such as "32MiB"`)
	}
	switch dst.Kind() {
	case reflect.String:
		s, ok := v.(string)
		if !ok {
			return want("a string")
		}
		dst.SetString(s)
	case reflect.Bool:
		b, ok := v.(bool)
		if !ok {
			return want("true or false")
		}
		dst.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, ok := v.(int64)
		if !ok {
			return want("an integer")
		}
		if dst.OverflowInt(n) {
			return fmt.Errorf("%d out of range", n)
		}
		dst.SetInt(n)
	default:
		n, ok := v.(int64)
		if !ok {
			return want("an integer")
		}
		if n < 0 || dst.OverflowUint(uint64(n)) {
			return fmt.Errorf("%d: want 0..%d", n, uint64(1)<<dst.Type().Bits()-1)
		}
		dst.SetUint(uint64(n))
	}
	return nil
}
