// Package atrest holds the encryption at rest of Vigil's badger
// databases: the key file of `server { encryption_key_file }`, and the
// badger options that encrypt with it. Start with ReadKey, then Encrypt
// the options of each database; OpenError explains a key that does not
// match.
package atrest

import (
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/dgraph-io/badger/v4"
)

// KeySizes are the lengths of the keys accepted, in bytes: AES-128,
// AES-192 and AES-256.
var KeySizes = []int{16, 24, 32}

// ReadKey reads the key in the file at path: 32, 48 or 64 hexadecimal
// digits (16, 24 or 32 bytes), with surrounding white space, as
// `openssl rand -hex 32` writes it.
func ReadKey(path string) ([]byte, error) {
	text, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read the encryption key file %q: %w", path, err)
	}
	return ParseKey(path, string(text))
}

// ParseKey parses the text of the key file at path, as ReadKey.
func ParseKey(path, text string) ([]byte, error) {
	digits := strings.TrimSpace(text)
	key, err := hex.DecodeString(digits)
	if err != nil {
		return nil, fmt.Errorf("the encryption key file %q must hold 32, 48 or 64 hexadecimal digits (openssl rand -hex 32 writes one): %w", path, err)
	}
	for _, n := range KeySizes {
		if len(key) == n {
			return key, nil
		}
	}
	return nil, fmt.Errorf("the encryption key file %q holds %d hexadecimal digits, not 32, 48 or 64 (openssl rand -hex 32 writes one)", path, len(digits))
}

// Encrypt returns opts encrypting with key, or opts as they are for a nil
// key. An encrypted database needs caches, of its blocks and of its tables'
// indexes, which stay in memory decrypted: those of opts when set, else
// cacheBytes each.
func Encrypt(opts badger.Options, key []byte, cacheBytes int64) badger.Options {
	if key == nil {
		return opts
	}
	opts = opts.WithEncryptionKey(key)
	if opts.BlockCacheSize == 0 {
		opts = opts.WithBlockCacheSize(cacheBytes)
	}
	if opts.IndexCacheSize == 0 {
		opts = opts.WithIndexCacheSize(cacheBytes)
	}
	return opts
}

// OpenError is err, from opening the database of what in dir, explained
// when the key does not match the one the database was created with, or
// the database was created without encryption, or with it.
func OpenError(err error, what, dir string) error {
	if errors.Is(err, badger.ErrEncryptionKeyMismatch) {
		return fmt.Errorf("cannot open the %s in %q: it was created with another encryption key, or it is encrypted and no key is given, or it is not and one is: "+
			"a store is encrypted, or not, from its creation (server { encryption_key_file }): %w", what, dir, err)
	}
	return fmt.Errorf("cannot open the %s in %q: %w", what, dir, err)
}
