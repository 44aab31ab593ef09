// Command vigil-notifier-email is Vigil's email notifier plugin: it
// sends each notification as an email through an SMTP server. See
// README.md; the plugin itself is in email.go.
package main

import "github.com/vigilmon/vigil/sdk"

func main() { sdk.Serve(emailPlugin) }
