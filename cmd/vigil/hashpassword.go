package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/crypto/bcrypt"
	"golang.org/x/term"
)

func newHashPasswordCommand() *cobra.Command {
	var cost int
	var token bool
	cmd := &cobra.Command{
		Use:   "hash-password",
		Short: "Hash a password for a user block, or a token for a token block",
		Long: `Hash a password read from standard input, its first line, and print the
bcrypt hash that a user block's password_hash takes. With --token, print
the SHA-256, in hexadecimal, that a token block's sha256 takes.

On a terminal, the password is asked for without showing it:

  vigil hash-password
  echo -n "$TOKEN" | vigil hash-password --token`,
		Args: exactArgs(0),
		PreRunE: func(*cobra.Command, []string) error {
			if cost < bcrypt.MinCost || cost > bcrypt.MaxCost {
				return usageError{fmt.Errorf("--cost must be between %d and %d, got %d", bcrypt.MinCost, bcrypt.MaxCost, cost)}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			secret, err := readSecret(cmd.InOrStdin(), cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			if token {
				sum := sha256.Sum256([]byte(secret))
				fmt.Fprintln(cmd.OutOrStdout(), hex.EncodeToString(sum[:]))
				return nil
			}
			hash, err := bcrypt.GenerateFromPassword([]byte(secret), cost)
			if err != nil {
				return fmt.Errorf("cannot hash the password: %w", err)
			}
			fmt.Fprintln(cmd.OutOrStdout(), string(hash))
			return nil
		},
	}
	cmd.Flags().IntVar(&cost, "cost", bcrypt.DefaultCost, "the bcrypt cost: each step doubles the time a check takes")
	cmd.Flags().BoolVar(&token, "token", false, "print the SHA-256 of a bearer token instead")
	return cmd
}

// readSecret reads the first line of in, without its line ending; from
// a terminal, it asks for it on prompt without echoing it.
func readSecret(in io.Reader, prompt io.Writer) (string, error) {
	if f, ok := in.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(prompt, "Password: ")
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(prompt)
		if err != nil {
			return "", fmt.Errorf("cannot read the password: %w", err)
		}
		return string(b), checkSecret(string(b))
	}
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("cannot read the password from standard input: %w", err)
	}
	line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
	return line, checkSecret(line)
}

func checkSecret(s string) error {
	if s == "" {
		return errors.New("the password read from standard input is empty")
	}
	return nil
}
