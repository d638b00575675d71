// Package config is what an operator edits and keeps to run a dagd
// validator: the node's TOML configuration file, its encrypted key files,
// the committee (genesis) file it shares with the other validators, and
// the home directory that holds them. It turns them into engine.Options.
//
// # Home directory
//
// `dagd init --home DIR` (Init) writes:
//
//	DIR/config.toml                 every setting, commented, with its default
//	DIR/keys/bls.keystore.json      the validator's BLS12-381 key (EIP-2335)
//	DIR/keys/network.keystore.json  the validator's Ed25519 network key (EIP-2335)
//	DIR/validator.json              the public entry of this validator for the committee file
//
// and `dagd start` creates DIR/data (pebble and the batch log). Relative
// paths in config.toml resolve against the directory of config.toml.
//
// # Configuration file
//
// The schema is the options structs themselves. Config's own fields are
// what only a home knows (chain, committee, addresses, keys, logs, data
// directory); every other setting is a field of engine.Options (or of the
// dag.Options, content.Options, apiserver.APIOptions, apiserver.RPCOptions
// and execution.Options it holds) whose toml tag is its key, held in
// Config.Node. Their defaults are the engine's (EnsureDefaults) and their
// validation is the engine's (engine.Options.ValidateSettings), whose
// errors name the Go field: Validate turns them into SettingErrors naming
// the key. The operator's documentation of each key, written into
// config.toml, is the table in settings.go (TestEverySettingDocumented
// keeps it complete).
//
// Load reads config.toml over the defaults (Default): a setting the file
// leaves out keeps its default, a key the file has and Config does not is
// an error naming the key, and Validate names the setting of every bad
// value. Write produces the commented file; Settings lists every setting
// with its key, flag name and documentation, so that `dagd start` offers
// every setting as a flag too (Config.Set applies one).
//
// # Keys and passwords
//
// Keys are stored only encrypted, as EIP-2335 keystores (scrypt,
// AES-128-CTR) made by crypto.EncryptKeystore. The password never appears
// in config.toml: the file names where it comes from, a file
// (keys.password_file) or an environment variable (keys.password_env,
// default DAGD_PASSWORD). A wrong password and a damaged keystore are
// distinct, clear errors (ErrWrongPassword, ErrBadKeystore).
//
// # Committee file
//
// The committee (genesis) file, JSON, lists for each validator its name,
// BLS public key with proof of possession, Ed25519 network public key,
// QUIC address and stake, with the chain id and epoch. Its format is
// engine/committeefile's (cgo-free, so light clients read the same file);
// Committee, Member and HexBytes are aliases of its types. LoadCommittee
// checks every key and proof before a node uses it. AssembleCommittee
// builds one from the validator.json entries of every validator.
//
// # Local testnets
//
// GenerateTestnet writes the homes of a whole committee on loopback, the
// shared committee file, a generated password in DIR/password (mode 0600)
// that every config.toml names, and DIR/testnet.json, the list of nodes
// with their API addresses. Because the password sits beside the keys,
// such a testnet's keys protect nothing: it is for local testing only,
// and its keystores use a cheap scrypt cost accordingly.
package config
