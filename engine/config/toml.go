package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/BurntSushi/toml"

	"github.com/dagd/dagd/dag"
	"github.com/dagd/dagd/engine"
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
	// key is the TOML key: "dag.batch_size".
	key string
	// section is the table, "" for a top-level key.
	section string
	// path is the Go path of a field of Config.Node ("DAG.BatchSize"),
	// "" for Config's own fields.
	path string
	kind kind
	v    reflect.Value
}

// kind is how a setting is written in TOML and on the command line.
type kind int

const (
	kindString   kind = iota
	kindBool          // true or false
	kindInt           // a signed integer
	kindUint          // a non-negative integer
	kindDuration      // time.Duration: "20ms", "2s"
	kindMillis        // dag.Time, milliseconds: a duration, rounded down to milliseconds
	kindSize          // a number of bytes (ByteSize, or a ",size" tag): 1024 or "1KiB"
)

// sectionOrder is the order of the tables in config.toml.
var sectionOrder = []string{"", "network", "api", "log", "keys", "storage", "engine", "dag", "content", "rpc"}

var (
	durationType = reflect.TypeFor[time.Duration]()
	sizeType     = reflect.TypeFor[ByteSize]()
	millisType   = reflect.TypeFor[dag.Time]()
	optionsType  = reflect.TypeFor[engine.Options]()
)

// fields lists the settings of c in file order: the top-level keys, then
// each table's keys; within a table, Config's own fields, then those of
// Config.Node in the order of their declaration.
func fields(c *Config) []field {
	var out []field
	rv := reflect.ValueOf(c).Elem()
	rt := rv.Type()
	for i := 0; i < rt.NumField(); i++ {
		sf := rt.Field(i)
		if !sf.IsExported() {
			continue
		}
		if sf.Type == optionsType {
			out = nodeFields(out, rv.Field(i), "", "")
			continue
		}
		tag := sf.Tag.Get("toml")
		if tag == "" {
			continue
		}
		if sf.Type.Kind() == reflect.Struct {
			sv := rv.Field(i)
			for j := 0; j < sf.Type.NumField(); j++ {
				sub := sf.Type.Field(j)
				if t := sub.Tag.Get("toml"); t != "" {
					out = append(out, field{key: tag + "." + t, section: tag, kind: kindOf(sub.Type, ""), v: sv.Field(j)})
				}
			}
			continue
		}
		out = append(out, field{key: tag, kind: kindOf(sf.Type, ""), v: rv.Field(i)})
	}
	order := func(f field) int { return slices.Index(sectionOrder, f.section) }
	slices.SortStableFunc(out, func(a, b field) int { return order(a) - order(b) })
	return out
}

// nodeFields appends the settings of an options struct v: its fields with
// a toml tag, and those of the structs it holds under a tag (the tag of
// the struct is the table of its fields, or, with a dot, their key's
// prefix).
func nodeFields(out []field, v reflect.Value, prefix, path string) []field {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		tag := sf.Tag.Get("toml")
		if tag == "" || tag == "-" || !sf.IsExported() {
			continue
		}
		name, opt, _ := strings.Cut(tag, ",")
		key := name
		if prefix != "" {
			key = prefix + "." + name
		}
		p := sf.Name
		if path != "" {
			p = path + "." + sf.Name
		}
		if sf.Type.Kind() == reflect.Struct && sf.Type != durationType {
			out = nodeFields(out, v.Field(i), key, p)
			continue
		}
		section, _, found := strings.Cut(key, ".")
		if !found {
			section = ""
		}
		out = append(out, field{key: key, section: section, path: p, kind: kindOf(sf.Type, opt), v: v.Field(i)})
	}
	return out
}

// kindOf returns the kind of a setting of type t whose tag has the option
// opt ("size" for a number of bytes).
func kindOf(t reflect.Type, opt string) kind {
	switch {
	case t == durationType:
		return kindDuration
	case t == millisType:
		return kindMillis
	case t == sizeType || opt == "size":
		return kindSize
	}
	switch t.Kind() {
	case reflect.String:
		return kindString
	case reflect.Bool:
		return kindBool
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return kindInt
	default:
		return kindUint
	}
}

func (k kind) String() string {
	return [...]string{"string", "bool", "int", "uint", "duration", "duration", "size"}[k]
}

// copySettings copies the settings (the fields with a toml tag) of src
// into dst, and nothing else.
func copySettings(dst, src *engine.Options) {
	d, s := nodeFields(nil, reflect.ValueOf(dst).Elem(), "", ""), nodeFields(nil, reflect.ValueOf(src).Elem(), "", "")
	for i := range d {
		d[i].v.Set(s[i].v)
	}
}

// nodeSettingErrors turns the errors of engine.Options.ValidateSettings
// into SettingErrors naming the keys, with the other settings they
// mention named by their keys too.
func nodeSettingErrors(err error) []error {
	if err == nil {
		return nil
	}
	keys := map[string]string{} // Go path -> key
	for _, f := range nodeFields(nil, reflect.ValueOf(&engine.Options{}).Elem(), "", "") {
		keys[f.path] = f.key
	}
	var out []error
	for _, e := range dag.OptionErrors(err) {
		key, ok := keys[e.Field]
		if !ok {
			key = e.Field // not a setting: named as the engine names it
		}
		out = append(out, &SettingError{Key: key, Err: errors.New(nameKeys(e.Err.Error(), e.Field, keys))})
	}
	if len(out) == 0 { // not an OptionError: keep it whole
		out = append(out, err)
	}
	return out
}

// goName matches a field name or path in an error message.
var goName = regexp.MustCompile(`\b[A-Z][A-Za-z]*(\.[A-Z][A-Za-z]*)*\b`)

// nameKeys replaces in msg the fields it mentions (a path, or the name of
// a field beside the one at fault, path) with their keys.
func nameKeys(msg, path string, keys map[string]string) string {
	parent := ""
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		parent = path[:i+1]
	}
	return goName.ReplaceAllStringFunc(msg, func(name string) string {
		if k, ok := keys[parent+name]; ok {
			return k
		}
		if k, ok := keys[name]; ok {
			return k
		}
		return name
	})
}

// Settings lists every setting in file order, with its default.
func Settings() []Setting {
	def := Default()
	var out []Setting
	for _, f := range fields(def) {
		out = append(out, Setting{Key: f.key, Flag: flagName(f.key), Doc: settingDocs[f.key].doc, Type: f.kind.String(),
			Default: flagValue(f), IsBool: f.kind == kindBool, IsPath: pathKeys[f.key]})
	}
	return out
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

// intValue returns a setting of an integer kind as an int64 (unsigned
// ones are at most 1<<63 in practice; larger ones saturate).
func intValue(v reflect.Value) int64 {
	if v.CanInt() {
		return v.Int()
	}
	return int64(min(v.Uint(), math.MaxInt64))
}

// flagValue formats a setting as a flag takes it.
func flagValue(f field) string {
	v := f.v
	switch f.kind {
	case kindDuration:
		return time.Duration(v.Int()).String()
	case kindMillis:
		return (time.Duration(v.Uint()) * time.Millisecond).String()
	case kindSize:
		return ByteSize(intValue(v)).String()
	case kindString:
		return v.String()
	case kindBool:
		return strconv.FormatBool(v.Bool())
	case kindInt:
		return strconv.FormatInt(v.Int(), 10)
	default:
		return strconv.FormatUint(v.Uint(), 10)
	}
}

// tomlValue formats a setting as a TOML value.
func tomlValue(f field) (string, error) {
	switch f.kind {
	case kindDuration, kindMillis, kindSize:
		return tomlString(flagValue(f))
	case kindString:
		return tomlString(f.v.String())
	}
	return flagValue(f), nil
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
		if err := setValue(f, value); err != nil {
			return &SettingError{Key: key, Err: err}
		}
		return nil
	}
	return &SettingError{Key: key, Err: errors.New("no such setting")}
}

// setValue sets a setting from a value as a flag gives it.
func setValue(f field, s string) error {
	switch f.kind {
	case kindDuration, kindMillis:
		d, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("%q: want a duration such as 20ms or 2s", s)
		}
		return setDuration(f, d)
	case kindSize:
		n, err := ParseByteSize(s)
		if err != nil {
			return err
		}
		return setInt(f.v, int64(n))
	case kindString:
		f.v.SetString(s)
	case kindBool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return fmt.Errorf("%q: want true or false", s)
		}
		f.v.SetBool(b)
	case kindInt:
		n, err := strconv.ParseInt(s, 10, f.v.Type().Bits())
		if err != nil {
			return fmt.Errorf("%q: want an integer", s)
		}
		f.v.SetInt(n)
	default:
		n, err := strconv.ParseUint(s, 10, f.v.Type().Bits())
		if err != nil {
			return fmt.Errorf("%q: want a non-negative integer below 2^%d", s, f.v.Type().Bits())
		}
		f.v.SetUint(n)
	}
	return nil
}

// setDuration sets a duration setting; milliseconds are rounded down.
func setDuration(f field, d time.Duration) error {
	if f.kind == kindDuration {
		f.v.SetInt(int64(d))
		return nil
	}
	if d < 0 {
		return fmt.Errorf("%s: must not be negative", d)
	}
	f.v.SetUint(uint64(d / time.Millisecond))
	return nil
}

// setInt sets an integer setting, signed or not, checking its range.
func setInt(v reflect.Value, n int64) error {
	if v.CanInt() {
		if v.OverflowInt(n) {
			return fmt.Errorf("%d out of range", n)
		}
		v.SetInt(n)
		return nil
	}
	if n < 0 {
		return fmt.Errorf("%d: must not be negative", n)
	}
	if v.OverflowUint(uint64(n)) {
		return fmt.Errorf("%d out of range", n)
	}
	v.SetUint(uint64(n))
	return nil
}

// fillZero copies into the zero settings of c those of def.
func fillZero(c, def *Config) {
	df := fields(def)
	for i, f := range fields(c) {
		if f.kind != kindBool && f.v.IsZero() {
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
		val, err := tomlValue(f)
		if err != nil {
			return fmt.Errorf("config: %s: %w", f.key, err)
		}
		dval, err := tomlValue(def[i])
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
		if err := assign(f, v); err != nil {
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
func assign(f field, v any) error {
	want := func(what string) error { return fmt.Errorf("want %s, got TOML %s", what, tomlType(v)) }
	dst := f.v
	switch f.kind {
	case kindDuration, kindMillis:
		s, ok := v.(string)
		if !ok {
			return want(`a duration string such as "20ms" or "2s"`)
		}
		d, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("%q: want a duration such as \"20ms\" or \"2s\"", s)
		}
		return setDuration(f, d)
	case kindSize:
		switch v := v.(type) {
		case int64:
			return setInt(dst, v)
		case string:
			n, err := ParseByteSize(v)
			if err != nil {
				return err
			}
			return setInt(dst, int64(n))
		}
		return want(`a size: bytes or a string such as "32MiB"`)
	case kindString:
		s, ok := v.(string)
		if !ok {
			return want("a string")
		}
		dst.SetString(s)
	case kindBool:
		b, ok := v.(bool)
		if !ok {
			return want("true or false")
		}
		dst.SetBool(b)
	case kindInt:
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
