package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/dagd/dagd/engine/config"
)

// settingFlags offers every setting of config.toml as a flag; the values
// given are applied, in order, over a loaded configuration.
type settingFlags struct {
	given []settingValue
}

// settingValue is one setting's flag (a pflag.Value).
type settingValue struct {
	s     config.Setting
	flags *settingFlags
	val   *string
}

func (v settingValue) String() string {
	if v.val != nil && *v.val != "" {
		return *v.val
	}
	return v.s.Default
}

func (v settingValue) Set(s string) error {
	*v.val = s
	v.flags.given = append(v.flags.given, v)
	return nil
}

func (v settingValue) Type() string { return v.s.Type }

// register adds a flag for every setting except those in skip (TOML
// keys or table prefixes ending in ".").
func (f *settingFlags) register(cmd *cobra.Command, skip ...string) {
	fs := cmd.Flags()
next:
	for _, s := range config.Settings() {
		for _, k := range skip {
			if s.Key == k || strings.HasSuffix(k, ".") && strings.HasPrefix(s.Key, k) {
				continue next
			}
		}
		doc := strings.ReplaceAll(s.Doc, "\n", " ")
		fs.Var(settingValue{s: s, flags: f, val: new(string)}, s.Flag, fmt.Sprintf("%s (config %s)", doc, s.Key))
		if s.IsBool {
			fs.Lookup(s.Flag).NoOptDefVal = "true"
		}
	}
}

// apply sets the flags given on the command line in c. A relative path
// given as a flag is relative to the working directory (in config.toml,
// to the file's directory), so it is made absolute.
func (f *settingFlags) apply(c *config.Config) error {
	for _, v := range f.given {
		val := *v.val
		if v.s.IsPath && val != "" && !filepath.IsAbs(val) {
			abs, err := filepath.Abs(val)
			if err != nil {
				return fmt.Errorf("--%s: %w", v.s.Flag, err)
			}
			val = abs
		}
		if err := c.Set(v.s.Key, val); err != nil {
			return fmt.Errorf("--%s: %w", v.s.Flag, err)
		}
	}
	return nil
}

// keystorePassword returns the keystore password as the configuration
// says (password file or environment variable) or, when neither gives
// one and standard input is a terminal, asks for it without echo
// (twice with confirm).
func keystorePassword(cmd *cobra.Command, c *config.Config, confirm bool) ([]byte, error) {
	pw, err := c.Password(os.Getenv)
	if err == nil || !errors.Is(err, config.ErrNoPassword) || c.Keys.PasswordFile != "" {
		return pw, err
	}
	fd := int(os.Stdin.Fd())
	if !term.IsTerminal(fd) {
		return nil, fmt.Errorf("%w (give --password-file FILE or set $%s)", err, c.Keys.PasswordEnv)
	}
	ask := func(prompt string) ([]byte, error) {
		fmt.Fprint(cmd.ErrOrStderr(), prompt)
		b, err := term.ReadPassword(fd)
		fmt.Fprintln(cmd.ErrOrStderr())
		if err != nil {
			return nil, fmt.Errorf("read password: %w", err)
		}
		return b, nil
	}
	pw, err = ask("Keystore password: ")
	if err != nil {
		return nil, err
	}
	if len(pw) == 0 {
		return nil, fmt.Errorf("%w: the password is empty", config.ErrNoPassword)
	}
	if confirm {
		again, err := ask("Repeat the password: ")
		if err != nil {
			return nil, err
		}
		if string(again) != string(pw) {
			return nil, errors.New("the passwords differ")
		}
	}
	return pw, nil
}
